"""The Taylor-remainder test: rates 2 for right gradients, 1 for wrong ones, inconclusive
where round-off or the domain rule; and the checker's use of it (it never passes a wrong
rule)."""

from __future__ import annotations

import numpy as np
import pytest

import adcheck as ad
from adcheck.check.taylor import judge, taylor_of_problem


def _wrong(fn, dfn, factor, name="g"):
    """A fresh primitive computing ``fn`` whose rule multiplies the derivative by ``factor``."""

    def body(x):
        return fn(x)

    body.__name__ = body.__qualname__ = name
    prim = ad.primitive(body)

    @ad.adjoint(prim)
    def _(x):
        return prim(x), lambda dy: (dy * dfn(x) * factor,)

    return prim


def _rates_near(result, rate):
    last = result.window_rates[-3:]
    return len(last) == 3 and bool(np.all(np.abs(last - rate) <= 0.1))


# -- correct gradients: rate 2 ----------------------------------------------------------------


def test_a_right_gradient_converges_at_rate_2():
    x = np.array([0.5, 1.0, 2.0])
    v = np.array([1.0, -0.5, 0.25])
    r = ad.taylor_test(lambda x: np.sum(np.sin(x) * x), x, v)
    assert r.verdict == "pass" and r and _rates_near(r, 2.0)
    # the derivative it tested is the analytic one, and it holds within the bound
    exact = (np.cos(x) * x + np.sin(x)) @ v
    assert r.derivative == pytest.approx(exact, rel=1e-12)
    assert 0 < r.bound < 1e-5
    # remainders really are O(h²): R(h)/h² tends to |v'Hv|/2
    hess = (2 * np.cos(x) - x * np.sin(x)) * v**2
    k = r.window[1] - 3
    assert r.remainders[k] / r.hs[k] ** 2 == pytest.approx(abs(hess.sum()) / 2, rel=1e-3)


def test_vector_outputs_use_a_random_cotangent_and_pytrees_work():
    f = lambda p: {"a": p["w"] * p["s"], "b": np.tanh(p["w"])}  # noqa: E731
    p = {"w": np.array([0.3, -1.2]), "s": 2.0}
    r = ad.taylor_test(f, p, seed=3)
    assert r.verdict == "pass" and _rates_near(r, 2.0)
    v = {"w": np.array([1.0, 0.0]), "s": 0.0}
    w = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 0.0])}
    r = ad.taylor_test(f, p, v, cotangent=w)  # d/dw0 of w0 * s = s
    assert r.verdict == "pass" and r.derivative == pytest.approx(2.0)


def test_params_are_moved_and_restored():
    W = ad.param(np.array([[1.0, 2.0], [0.5, -1.0]]))
    b = ad.param(np.array([0.1, 0.2]))
    before = W._data.copy(), b._data.copy()
    loss = lambda: np.sum(np.tanh(W @ np.array([1.0, -1.0]) + b) ** 2)  # noqa: E731
    r = ad.taylor_test(loss, ad.Params([W, b]))
    assert r.verdict == "pass" and _rates_near(r, 2.0)
    np.testing.assert_array_equal(W._data, before[0])
    np.testing.assert_array_equal(b._data, before[1])
    r = ad.taylor_test(loss, ad.Params([W, b]), [np.zeros((2, 2)), np.array([1.0, 0.0])])
    h = np.tanh(W._data @ [1.0, -1.0] + b._data)
    assert r.derivative == pytest.approx(2 * h[0] * (1 - h[0] ** 2))


def test_float32_inputs_and_a_function_linear_along_v():
    r = ad.taylor_test(lambda x: np.sum(np.sin(x)), np.array([0.5, 1.0, 2.0], np.float32))
    assert r.verdict == "pass" and _rates_near(r, 2.0)
    # linear: the remainder is round-off at every step, which bounds the error by itself
    r = ad.taylor_test(lambda x: np.sum(3.0 * x), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    assert r.verdict == "pass" and "linear along v" in r.reason
    assert r.derivative == 6.0 and r.bound < 1e-8


# -- wrong gradients: rate 1 ------------------------------------------------------------------


@pytest.mark.parametrize("factor", [2.0, 0.0, 1.01, 1 + 1e-4])
def test_a_wrong_gradient_shrinks_at_rate_1_and_the_error_is_measured(factor):
    x = np.array([0.5, 1.0, 2.0])
    v = np.array([1.0, 2.0, -1.0])
    with ad.scoped_rules():
        g = _wrong(np.sin, np.cos, factor)
        r = ad.taylor_test(lambda x: np.sum(g(x)), x, v)
    assert r.verdict == "fail" and not r and _rates_near(r, 1.0)
    exact = np.cos(x) @ v
    assert r.derivative == pytest.approx(factor * exact, rel=1e-12)
    # derivative + error is the true directional derivative, to its uncertainty
    assert abs(r.derivative + r.error - exact) <= max(r.bound, 1e-9)
    assert r.bound < 0.1 * abs(r.error)
    assert r.minus is not None and r.minus.verdict == "fail"  # confirmed along -v


@pytest.mark.parametrize("rel", [1e-1, 1e-3, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10])
def test_a_pass_always_bounds_the_true_error(rel):
    # wrong by a relative `rel`: a fail, an inconclusive, or a pass whose bound covers it
    x = np.array([0.7, 1.3])
    v = np.array([1.0, 1.0])
    with ad.scoped_rules():
        g = _wrong(np.exp, np.exp, 1 + rel)
        r = ad.taylor_test(lambda x: np.sum(g(x)), x, v)
    true_error = abs(np.exp(x) @ v * rel)
    if r.verdict == "pass":
        assert r.bound >= true_error
    if rel >= 1e-5:
        assert r.verdict == "fail"


def test_tiny_inputs_are_judged_on_steps_that_move_the_function():
    # the issue-8 case: exp at 1e-20, a step relative to |x| does not move exp at all
    x = np.array([1e-20, 3e-20])
    assert ad.taylor_test(lambda x: np.sum(np.exp(x)), x).verdict == "pass"
    with ad.scoped_rules():
        g = _wrong(np.exp, np.exp, 2.0)
        r = ad.taylor_test(lambda x: np.sum(g(x)), x, np.array([1.0, 1.0]))
    assert r.verdict == "fail" and r.derivative + r.error == pytest.approx(2.0, rel=1e-6)


# -- round-off and domains: inconclusive, never a false verdict --------------------------------


def test_a_domain_narrower_than_round_off_is_inconclusive():
    def narrow(x):  # defined only within 3e-14 of 1
        return np.sum(np.where(np.abs(x - 1.0) < 3e-14, x, np.nan))

    r = ad.taylor_test(narrow, np.array([1.0]))
    assert r.verdict == "inconclusive" and not r


def test_a_kink_is_not_called_a_wrong_gradient():
    f = lambda x: np.sum(np.abs(x) + x**2)  # noqa: E731
    r = ad.taylor_test(f, np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    assert r.verdict == "inconclusive" and "kink" in r.reason
    # np.sign(0) = 0: the gradient gives 0 + 1 + 2 = 3 along v. Per unit step the function
    # changes by 1 + 1 + 2 = 4 along +v and by 1 - 1 - 2 = -2 along -v (|x0| grows both
    # ways), where a differentiable function would give 4 and -4
    assert r.derivative == 3.0
    assert r.derivative + r.error == pytest.approx(4.0, rel=1e-6)
    assert r.minus.derivative + r.minus.error == pytest.approx(-2.0, rel=1e-6)


def test_steps_that_never_reach_the_smooth_range_do_not_fail():
    # log at 1e-300: even 110 halvings from a unit move stay far above x
    r = ad.taylor_test(lambda x: np.sum(np.log(x)), np.array([1e-300]), np.array([1.0]))
    assert r.verdict == "inconclusive" and "smallest step tried" in r.reason


def test_a_function_varying_below_the_input_spacing_does_not_fail():
    # sin at 1e40: neighbouring floats are 1e24 apart, sin is noise there
    r = ad.taylor_test(lambda x: np.sum(np.sin(x)), np.array([1e40]), np.array([1.0]))
    assert r.verdict == "inconclusive" and "hardly changes" in r.reason


def test_an_ill_conditioned_function_quantised_by_round_off_does_not_fail():
    # sum(inv(A)) == 1 for this A, with inverse entries ~1e10: the computed sum does not
    # change at all over steps where the gradient (exact: [[-1, 0], [0, 0]]) predicts it should
    A = np.array([[1.0, 1.0], [1.0, 1.0 + 1e-10]])
    g = ad.gradient(lambda A: np.sum(np.linalg.inv(A)), A)[0]
    np.testing.assert_allclose(g, [[-1.0, 0.0], [0.0, 0.0]], atol=1e-5)
    r = ad.taylor_test(lambda A: np.sum(np.linalg.inv(A)), A)
    assert r.verdict == "inconclusive"


def test_a_rate_that_settles_at_one_and_a_half_is_inconclusive():
    r = ad.taylor_test(lambda x: np.sum(np.abs(x) ** 1.5), np.array([0.0]), np.array([1.0]))
    assert r.verdict == "inconclusive" and abs(r.order - 1.5) < 0.05


def test_the_report_lists_every_step():
    r = ad.taylor_test(lambda x: np.sum(x**3), np.array([1.0, 2.0]))
    lines = r.report().splitlines()
    assert lines[0].startswith("Taylor test: PASS")
    assert len(lines) == len(r.hs) + 2 and len(r.rates) == len(r.hs) - 1
    assert np.all(np.diff(r.hs) < 0)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="no floating entries"):
        ad.taylor_test(lambda s: 1.0, "text")
    with pytest.raises(ValueError, match="direction is zero"):
        ad.taylor_test(np.sin, 1.0, 0.0)
    with pytest.raises(ValueError, match="structure of x"):
        ad.taylor_test(lambda p: p[0] * p[1], (1.0, 2.0), (1.0,))


# -- the verdict on synthetic sequences ----------------------------------------------------------


HS = 2.0 ** -np.arange(30)
NOISE = np.full(30, 1e-18)


def test_judge_synthetic_sequences():
    ok = judge(HS, 0.5 * HS**2 + 0.1 * HS**3, NOISE, 1.0, 1.0)
    assert ok["verdict"] == "pass" and ok["bound"] < 1e-6
    bad = judge(HS, 1e-3 * HS + 0.5 * HS**2, NOISE, 1.0, 1.0)
    assert bad["verdict"] == "fail" and bad["error"] == pytest.approx(1e-3, rel=1e-6)
    # the same wrong sequence cut off by round-off before the rate-1 range: rate 2 read,
    # and the bound it gives covers the error
    cut = judge(HS, 1e-3 * HS + 0.5 * HS**2, np.full(30, 1e-9), 1.0, 1.0)
    assert cut["verdict"] != "pass" or cut["bound"] >= 1e-3
    # opposite signs: the remainder crosses 0 on the way; still a fail
    cross = judge(HS, -1e-3 * HS + 0.5 * HS**2, NOISE, 1.0, 1.0)
    assert cross["verdict"] == "fail" and cross["error"] == pytest.approx(-1e-3, rel=1e-6)
    half = judge(HS, HS**1.5, NOISE, 1.0, 1.0)
    assert half["verdict"] == "inconclusive" and abs(half["order"] - 1.5) < 1e-6
    noise = judge(HS, np.full(30, 1e-18), NOISE, 1.0, 1.0)
    assert noise["verdict"] == "pass"  # round-off everywhere from h = 1: linear along v
    far = judge(HS * 1e-12, np.full(30, 1e-18), NOISE, 1.0, 1.0)
    assert far["verdict"] == "inconclusive"  # ... but from h = 1e-12 it bounds little
    assert judge(HS, 1e-3 * HS, NOISE, 1.0, 1.0, settled=False)["verdict"] == "inconclusive"


# -- the checker ------------------------------------------------------------------------------


def test_problem_level_taylor_test_for_one_jacobian_entry():
    from adcheck.check.problem import RuleProblem

    x = np.array([0.5, 2.0])
    p = RuleProblem(np.sin, None, (x,), {})
    v, dy = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    right = taylor_of_problem(p, v, dy, np.array([0.0, np.cos(2.0)]), start=2.0)
    wrong = taylor_of_problem(p, v, dy, np.array([0.0, 0.5 * np.cos(2.0)]), start=2.0)
    assert right.verdict == "pass" and wrong.verdict == "fail"
    assert wrong.derivative + wrong.error == pytest.approx(np.cos(2.0), rel=1e-6)


@pytest.mark.parametrize("x", [[1e-12], [1e-20, 3e-20], [0.0, 1e-30]])
def test_wrong_exp_at_tiny_inputs_fails_and_the_taylor_test_confirms_it(x):
    with ad.scoped_rules():
        @ad.adjoint(np.exp)
        def _(x):
            y = np.exp(x)
            return y, lambda dy: (2 * dy * y,)

        r = ad.check_adjoint(np.exp, np.array(x), seed=0, raise_exception=False)
    assert r.verdict == "fail"
    values = [f for f in r.failures if f.kind == "value"]
    assert values and all("confirmed by the Taylor remainder test" in f.message for f in values)
    # the Taylor test's own derivative is exp'(x) = 1
    assert all("it gives 1" in f.message for f in values)


def test_an_undecidable_entry_stays_inconclusive():
    def narrow(x):
        return np.where(np.abs(x - 1.0) < 3e-14, x, np.nan)

    with ad.scoped_rules():
        f = _wrong(narrow, lambda x: 1.0, 1.0, "narrow")
        r = ad.check_adjoint(f, np.array([1.0]), seed=0, raise_exception=False)
    assert r.verdict == "inconclusive"


def _exp_problem(x, factor):
    from adcheck.check.problem import RuleProblem

    x = np.asarray(x, float)
    return RuleProblem(np.exp, None, (x,), {},
                       back=lambda dy: (factor * dy * np.exp(x),))


@pytest.mark.parametrize("factor, verdict", [(1.0, "pass"), (2.0, "fail"), (0.0, "fail")])
def test_undecided_entries_are_decided_by_the_taylor_test(factor, verdict):
    from adcheck.check.compare import Outcome
    from adcheck.check.taylor import resolve_undecided

    p = _exp_problem([1e-20, 3e-20], factor)
    rows = np.stack([p.pull(np.eye(2)[i]).flat for i in range(2)])
    undecided = np.eye(2, dtype=bool)  # as if finite differences could not decide
    out = Outcome()
    left = resolve_undecided(p, undecided, rows, out)
    assert not left.any()
    values = [f for f in out.failures if f.kind == "value"]
    if verdict == "pass":
        assert not values and "decided by the Taylor remainder test" in out.notes[0]
    else:
        assert [f.path for f in values] == ["x[0]", "x[1]"]
        assert all(f.expected == pytest.approx(1.0, rel=1e-6) for f in values)
        assert all(f.got == factor for f in values)


def test_undecided_entries_the_taylor_test_cannot_decide_stay_undecided():
    from adcheck.check.compare import Outcome
    from adcheck.check.problem import RuleProblem
    from adcheck.check.taylor import resolve_undecided

    def narrow(x):
        return np.where(np.abs(x - 1.0) < 3e-14, x, np.nan)

    p = RuleProblem(narrow, None, (np.array([1.0]),), {}, back=lambda dy: (dy,))
    out = Outcome()
    left = resolve_undecided(p, np.ones((1, 1), bool), np.ones((1, 1)), out)
    assert left.all() and not out.failures


@pytest.mark.parametrize("factor", [1.0, 3.0])
def test_an_undecided_probe_is_decided_by_the_taylor_test(factor):
    from adcheck.check.compare import Outcome
    from adcheck.check.taylor import decide_probe

    rng = np.random.default_rng(1)
    x = rng.uniform(1e-20, 3e-20, 24)
    p = _exp_problem(x, factor)
    dy = rng.standard_normal(24)
    b = p.pull(dy).flat
    v = rng.choice([-1.0, 1.0], 24) * p.scales  # a probe direction, scaled like the checker's
    out = Outcome()
    assert decide_probe(p, v, dy, b, np.zeros(24), "dense", out)
    if factor == 1.0:
        assert not out.failures and "decided by the Taylor remainder test" in out.notes[0]
    else:
        (f,) = out.failures
        assert f.kind == "value" and "'dense'" in f.message
        # the Taylor derivative along its direction is 1/3 of the adjoint's (exp'(x) ~ 1)
        assert f.expected == pytest.approx(f.got / 3.0, rel=1e-6)
