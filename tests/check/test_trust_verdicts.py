"""Issue 8, the value verdict: no vacuous pass, no false alarm on a correct rule.

Each test uses the issue's own inputs. Wrong rules must fail (or be inconclusive, which
fails by default), correct rules must pass, and the reason must be the right one.
"""

from __future__ import annotations

import numpy as np
import pytest

import adcheck as ad
from adcheck.check.tolerance import Tolerance

SMALL_INPUTS = [[1e-12], [1e-20, 3e-20], [0.0, 1e-30]]


def _register(fn, back, name, domain=None):
    """A fresh primitive computing ``fn`` whose rule's pullback is ``back(dy, y, *args)``."""

    def body(*args, **kwargs):
        return fn(*args, **kwargs)

    body.__name__ = body.__qualname__ = name
    prim = ad.primitive(body)

    def rule(*args, **kwargs):
        y = fn(*args, **kwargs)
        return y, lambda dy: back(dy, y, *args, **kwargs)

    ad.adjoint(prim, domain=domain)(rule)
    return prim


# -- 1. vacuous passes ------------------------------------------------------------------------


@pytest.mark.parametrize("x", SMALL_INPUTS)
@pytest.mark.parametrize("mode", ["full", "fast"])
def test_factor_two_wrong_exp_fails_at_tiny_inputs(x, mode):
    x = np.array(x * (20 if mode == "fast" else 1))
    with ad.scoped_rules():
        @ad.adjoint(np.exp)
        def _(x):
            y = np.exp(x)
            return y, lambda dy: (2 * dy * y,)

        r = ad.check_adjoint(np.exp, x, mode=mode, seed=0, raise_exception=False)
        g = ad.gradcheck(lambda x: np.sum(np.exp(x)), x, mode=mode, seed=0,
                         raise_exception=False)
    for result in (r, g):
        assert not result.passed
        assert result.verdict == "fail"
        # decided on a step that resolves exp: the tolerance is small beside exp' = 1
        assert result.tolerance < 1e-3
        value = [f for f in result.failures if f.kind == "value"]
        assert value
        if mode == "full":
            assert abs(value[0].got - 2 * value[0].expected) < 1e-6 * abs(value[0].got)


@pytest.mark.parametrize("x", SMALL_INPUTS)
def test_correct_exp_passes_at_tiny_inputs_with_a_small_tolerance(x):
    r = ad.check_adjoint(np.exp, np.array(x), seed=0)
    assert r.verdict == "pass" and r.tolerance < 1e-6


def test_wrong_rule_returning_zero_is_not_passed_vacuously():
    with ad.scoped_rules():
        @ad.adjoint(np.exp)
        def _(x):
            return np.exp(x), lambda dy: (0 * dy,)

        r = ad.check_adjoint(np.exp, np.array([1e-20]), seed=0, raise_exception=False)
    assert not r.passed
    assert r.failures[0].kind == "value" and r.failures[0].expected == pytest.approx(1.0)


def test_logsumexp_near_the_smallest_normal_has_a_sane_tolerance():
    def logsumexp(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    def back(dy, y, x):
        return (dy * np.exp(x - y),)

    with ad.scoped_rules():
        f = _register(logsumexp, back, "logsumexp")
        x = np.array([2.2e-308, 3.1e-308, 2.5e-308])
        r = ad.check_adjoint(f, x, seed=0)
    assert r.passed and r.tolerance < 1e-6  # was 2.8e295


def test_undecidable_comparison_is_inconclusive_and_warn_downgrades_it():
    # defined only within 3e-14 of 1 (NaN outside): every step that fits moves f = x by
    # about 1e-14, where its rounding (2e-16) is 2% of the change: no step decides
    def narrow(x):
        return np.where(np.abs(x - 1.0) < 3e-14, x, np.nan)

    def back(dy, y, x):
        return (dy * 1.0,)

    with ad.scoped_rules():
        f = _register(narrow, back, "narrow")
        failed = ad.check_adjoint(f, np.array([1.0]), seed=0, raise_exception=False)
        warned = ad.check_adjoint(f, np.array([1.0]), seed=0, inconclusive="warn")
        with pytest.raises(ValueError, match="inconclusive must be one of"):
            ad.check_adjoint(f, np.array([1.0]), inconclusive="ignore")
    assert failed.verdict == "inconclusive" and not failed.passed
    reason = failed.inconclusive[0].message
    assert "cannot decide" in reason and "not small beside the values compared" in reason
    assert warned.passed and warned.verdict == "inconclusive" and warned.inconclusive
    assert failed.to_dict()["verdict"] == "inconclusive"


# -- 2. integer inputs ------------------------------------------------------------------------


@pytest.mark.parametrize("x", [np.array([1, 2, 3]), 2])
def test_integer_inputs_are_promoted_and_a_wrong_square_fails(x):
    with ad.scoped_rules():
        sq = _register(lambda x: x * x, lambda dy, y, x: (dy * x,), "sq")  # should be 2x
        r = ad.check_adjoint(sq, x, seed=0, raise_exception=False)
        ok = _register(lambda x: x * x, lambda dy, y, x: (2.0 * dy * x,), "sq_ok")
        good = ad.check_adjoint(ok, x, seed=0)
    assert not r.passed
    assert [f.kind for f in r.failures] and all(f.kind == "value" for f in r.failures)
    assert r.failures[0].expected == pytest.approx(2 * r.failures[0].got)
    assert any("promoted to float64" in n for n in r.notes)
    assert not any("nothing to compare" in n for n in r.notes)
    assert good.passed and any("promoted to float64" in n for n in good.notes)


def test_integer_axis_is_not_promoted():
    r = ad.check_adjoint(np.sum, np.ones((2, 3)), 0, seed=0)
    assert r.passed and not any("promoted" in n for n in r.notes)


# -- 3. pytree arguments and outputs ----------------------------------------------------------


def test_rule_swapping_two_leaves_of_a_dict_input_fails():
    def f(p):
        return 2.0 * p["a"] + 3.0 * p["b"]

    with ad.scoped_rules():
        g = _register(f, lambda dy, y, p: ({"a": 3.0 * dy, "b": 2.0 * dy},), "dict_swap")
        ok = _register(f, lambda dy, y, p: ({"b": 3.0 * dy, "a": 2.0 * dy},), "dict_ok")
        p = {"a": np.ones(2), "b": np.ones(2)}
        r = ad.check_adjoint(g, p, seed=0, raise_exception=False)
        good = ad.check_adjoint(ok, p, seed=0)  # keys in another order are fine
    assert not r.passed
    paths = {f.path for f in r.failures if f.kind == "value"}
    assert {"x['a'][0]", "x['b'][0]"} <= paths
    assert good.passed


def test_dict_output_is_checkable_and_a_mishandled_dict_cotangent_fails():
    def f(x):
        return {"s": np.sin(x), "c": np.cos(x)}

    with ad.scoped_rules():
        ok = _register(f, lambda dy, y, x: (dy["s"] * np.cos(x) - dy["c"] * np.sin(x),),
                       "sincos")
        bad = _register(f, lambda dy, y, x: (dy["s"] * np.cos(x) + dy["c"] * np.sin(x),),
                        "sincos_bad")
        x = np.array([0.3, 1.2])
        good = ad.check_adjoint(ok, x, seed=0)
        r = ad.check_adjoint(bad, x, seed=0, raise_exception=False)
    assert good.passed and good.mode == "full"
    assert not r.passed
    wrong = [f for f in r.failures if f.kind == "value"]
    assert wrong and wrong[0].expected == pytest.approx(-np.sin(x[wrong[0].index[0]]), 1e-6)


def test_namedtuple_and_tuple_leaves_are_checked_one_by_one():
    from collections import namedtuple

    Pair = namedtuple("Pair", "u w")

    def f(p, t):
        return p.u * p.w + t[0]

    def back(dy, y, p, t):
        return Pair(dy * p.w, dy * p.u), (dy, None)

    with ad.scoped_rules():
        g = _register(f, back, "pair")
        r = ad.check_adjoint(g, Pair(np.array(2.0), np.array(3.0)), (np.array(1.0), 4), seed=0)
    assert r.passed and r.mode == "full"


# -- 4. a pullback returning a reused scratch buffer -------------------------------------------


def test_pullback_returning_a_reused_buffer_fails():
    buf = np.zeros(3)

    def back(dy, y, x):
        np.multiply(dy, np.cos(x), out=buf)
        return (buf,)

    with ad.scoped_rules():
        g = _register(np.sin, back, "sin_scratch")
        r = ad.check_adjoint(g, np.array([0.1, 0.5, 2.0]), seed=0, raise_exception=False)
    assert not r.passed
    assert any(f.kind == "mutation" and "stay valid after later calls" in f.message
               for f in r.failures)


# -- 5. false alarms on correct rules ---------------------------------------------------------


def test_float32_underflow_to_zero_is_allowed():
    t = Tolerance.for_dtypes([np.float32])
    slack = t.entry_slack(np.array([-0.0]))[0]
    assert 1e-49 < slack < 1e-43  # -0 against -1e-49 is rounding; 1e-42 is not
    x1 = np.array([3.6e-25, 1.18e-38], np.float32)
    x2 = np.array([3.0e12, 7.0e10], np.float32)
    assert ad.check_adjoint(np.divide, x1, x2, seed=0).passed


def test_amin_axis0_with_entries_half_apart_passes_in_fast_mode():
    x = np.round(np.random.default_rng(0).uniform(-1, 1, (6, 8)) * 2) / 4
    for seed in range(3):
        assert ad.check_adjoint(np.amin, x, axis=0, mode="fast", seed=seed).passed
        assert ad.check_adjoint(np.min, x, axis=0, mode="fast", seed=seed).passed


def _huber(x, delta):
    return np.where(np.abs(x) <= delta, 0.5 * x * x, delta * (np.abs(x) - 0.5 * delta))


def _huber_back(dy, y, x, delta):
    inside = np.abs(x) <= delta
    return (dy * np.where(inside, x, delta * np.sign(x)),
            np.sum(dy * np.where(inside, 0.0, np.abs(x) - delta)))


@pytest.mark.parametrize("offset", [0.0, 1e-8, -1e-8, 1e-7, 1e-6, -1e-6, 1e-5])
def test_huber_at_and_near_the_branch_point_passes(offset):
    with ad.scoped_rules():
        h = _register(_huber, _huber_back, "huber")
        r = ad.check_adjoint(h, np.array([1.0 + offset]), 1.0, seed=0)
    assert r.passed


def test_wrong_huber_is_still_caught_at_the_branch_point():
    def back(dy, y, x, delta):  # the outer slope is 0.9·delta instead of delta
        inside = np.abs(x) < delta
        return (dy * np.where(inside, x, 0.9 * delta * np.sign(x)), 0.0 * np.sum(dy))

    with ad.scoped_rules():
        h = _register(_huber, back, "huber_wrong")
        r = ad.check_adjoint(h, np.array([1.0 + 1e-6, 2.0]), 1.0, seed=0,
                             raise_exception=False)
    assert not r.passed
    assert any(f.kind == "value" and f.path == "x[1]" for f in r.failures)


def test_inputs_close_to_a_domain_edge_pass():
    def arccosh_back(dy, y, x):
        return (dy / np.sqrt(x * x - 1),)

    with ad.scoped_rules():
        ach = _register(np.arccosh, arccosh_back, "arccosh")
        assert ad.check_adjoint(ach, np.array([1 + 1e-9]), seed=0).passed
    assert ad.check_adjoint(np.arcsin, np.array([1 - 1e-10]), seed=0).passed
    assert ad.check_adjoint(np.log1p, np.array([-1 + 1e-10]), seed=0).passed


def test_wrong_rule_close_to_a_domain_edge_fails():
    with ad.scoped_rules():
        @ad.adjoint(np.arcsin)
        def _(x):
            return np.arcsin(x), lambda dy: (dy / np.sqrt(1 - x) ,)  # missing (1 + x)

        r = ad.check_adjoint(np.arcsin, np.array([1 - 1e-10]), seed=0, raise_exception=False)
    assert not r.passed and r.failures[0].kind == "value"
    assert r.failures[0].expected == pytest.approx(1 / np.sqrt(1 - (1 - 1e-10) ** 2), 1e-3)


@pytest.mark.parametrize("fn", [np.exp, np.sinh, np.cosh])
def test_arrays_mixing_huge_and_tiny_outputs(fn):
    rule = ad.registry.lookup(fn)
    from adcheck.check.check_adjoint import run_rule_check

    for x in ([-43.0, 0.0], [-52.0, 0.0], [-19.0, 23.0], [60.0, 0.1, -3.0, 1e-3]):
        for seed in range(4):
            d = np.random.default_rng(seed).standard_normal(len(x))
            r = run_rule_check(fn, rule.rule, (np.array(x),), {}, cotangents=(d,), seed=seed)
            assert r.passed, r.report()
    x32 = np.array([85.0, 0.1, -3.0, 1e-3], np.float32)
    assert ad.check_adjoint(np.exp, x32, seed=0).passed


def test_eigvalsh_with_a_gap_of_1e_5():
    def back(dy, w, a):
        _, v = np.linalg.eigh(a)
        g = (v * dy) @ v.T
        return (np.tril(2 * g) - np.diag(np.diag(g)),)  # eigvalsh reads the lower triangle

    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
    a = q @ np.diag([1.0, 1.0 + 1e-5, 3.0]) @ q.T
    a = (a + a.T) / 2
    with ad.scoped_rules():
        e = _register(np.linalg.eigvalsh, back, "eigvalsh")
        assert ad.check_adjoint(e, a, seed=0).passed


def test_float32_softmax_with_a_constant_cotangent_and_std_offset_by_3000():
    from adcheck.check.check_adjoint import run_rule_check

    def softmax(x):
        e = np.exp(x - np.max(x))
        return e / np.sum(e)

    def std_back(dy, s, x):
        return (dy * (x - np.mean(x)) / (x.size * s),)

    with ad.scoped_rules():
        s = _register(softmax, lambda dy, y, x: (y * (dy - np.sum(dy * y)),), "softmax")
        x = np.array([0.3, -1.2, 2.0, 0.5], np.float32)
        rule = ad.registry.lookup(s)
        r = run_rule_check(rule.fn, rule.rule, (x,), {}, cotangents=(np.ones(4),), seed=0)
        assert r.passed, r.report()
        st = _register(np.std, std_back, "std")
        data = (3000 + np.array([0.3, -1.2, 2.0, 0.5, 0.7])).astype(np.float32)
        assert ad.check_adjoint(st, data, seed=0).passed


def test_float32_softmax_sign_error_is_still_caught():
    def softmax(x):
        e = np.exp(x - np.max(x))
        return e / np.sum(e)

    with ad.scoped_rules():
        s = _register(softmax, lambda dy, y, x: (y * (dy + np.sum(dy * y)),), "softmax_bad")
        x = np.array([0.3, -1.2, 2.0, 0.5], np.float32)
        assert not ad.check_adjoint(s, x, seed=0, raise_exception=False).passed


def test_matmul_pullback_summing_in_a_random_order():
    rng = np.random.default_rng(3)

    def back(dy, y, a, b):
        def rsum(terms):
            return np.sum(terms[..., rng.permutation(terms.shape[-1])], axis=-1)

        return (rsum(dy[:, None, :] * b[None, :, :]),
                rsum(a.T[:, None, :] * dy.T[None, :, :]))

    a = np.random.default_rng(1).standard_normal((3, 16)) * 10
    b = np.random.default_rng(2).standard_normal((16, 4)) * 10
    with ad.scoped_rules():
        m = _register(np.matmul, back, "matmul_random_order")
        assert ad.check_adjoint(m, a, b, seed=0).passed
        strict = ad.check_adjoint(m, a, b, seed=0, nondet_tol=0.0, raise_exception=False)
    assert not strict.passed
    assert any(f.kind == "mutation" and "twice" in f.message for f in strict.failures)


# -- 6. the worst ratio -----------------------------------------------------------------------


def test_worst_ratio_and_largest_error_are_exposed():
    x = np.array([0.5, 3.0, -20.0])
    r = ad.check_adjoint(np.exp, x, seed=0)
    assert 0 <= r.worst_ratio <= 1
    assert r.worst_ratio == pytest.approx(r.max_error / r.tolerance)
    assert r.largest_error >= r.max_error
    d = r.to_dict()
    assert d["worst_ratio"] == r.worst_ratio and d["largest_error"] == r.largest_error
    with ad.scoped_rules():
        @ad.adjoint(np.exp)
        def _(x):
            return np.exp(x), lambda dy: (1.5 * dy * np.exp(x),)

        bad = ad.check_adjoint(np.exp, x, seed=0, raise_exception=False)
    assert bad.worst_ratio > 1e3
    # the largest error is that of exp(3), whatever the ratios
    assert bad.largest_error == pytest.approx(0.5 * np.exp(3.0), 1e-6)
