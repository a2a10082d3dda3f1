"""Issue 8 follow-ups: false alarms and missing reasons the rule writers found.

Each test uses the rule writers' own inputs; the wrong rules beside them show the checks
still fail what they must.
"""

from __future__ import annotations

import numpy as np
import pytest

import adcheck as ad
from adcheck.check.check_adjoint import run_rule_check
from adcheck.registry import lookup


def _register(fn, back, name):
    """A fresh primitive computing ``fn`` whose rule's pullback is ``back(dy, y, *args)``."""

    def body(*args, **kwargs):
        return fn(*args, **kwargs)

    body.__name__ = body.__qualname__ = name
    prim = ad.primitive(body)

    def rule(*args, **kwargs):
        y = fn(*args, **kwargs)
        return y, lambda dy: back(dy, y, *args, **kwargs)

    ad.adjoint(prim)(rule)
    return prim


# -- float64 inputs cast down to float32/float16 ----------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_cast_down_of_float64_is_decided_and_passes(dtype):
    r = ad.check_adjoint(np.astype, np.array(1.0), dtype, raise_exception=False)
    assert r.verdict == "pass", r.report()
    # The tolerance is the dtype's default rtol 6.7·sqrt(eps) beside the derivative 1 (0.0023
    # for float32, 0.21 for float16, plus the small FD bound), not an error bound of 213.
    assert r.tolerance <= 1.1 * 6.7 * np.sqrt(np.finfo(dtype).eps)


def test_gradcheck_through_a_float32_cast_passes():
    r = ad.gradcheck(lambda x: np.sum(x.astype(np.float32)), np.array([1.0, 2.0]),
                     raise_exception=False)
    assert r.verdict == "pass", r.report()


def test_wrong_rule_of_a_float32_cast_fails():
    f = _register(lambda x: x.astype(np.float32), lambda dy, y, x: (2.0 * dy,), "cast32x2")
    r = ad.check_adjoint(f, np.array([1.0, -3.0]), raise_exception=False)
    assert r.verdict == "fail", r.report()


# -- exact zeros on both sides ----------------------------------------------------------------


def test_all_zero_drawn_cotangent_is_decided_in_full_mode():
    r = run_rule_check(np.matmul, lookup(np.matmul).rule, (np.ones((3, 3, 3)), np.zeros((3, 3))),
                       {}, seed=0, cotangents=(np.zeros(27),), kind="verify")
    assert r.verdict == "pass", r.report()


def test_all_zero_drawn_cotangent_is_decided_in_fast_mode():
    r = run_rule_check(np.sin, lookup(np.sin).rule, (np.linspace(-1, 1, 64).reshape(4, 4, 4),),
                       {}, mode="fast", seed=0, cotangents=(np.zeros(64),), kind="verify")
    assert r.verdict == "pass", r.report()


def test_exact_zero_with_a_nonzero_cotangent_is_still_not_a_vacuous_pass():
    # exp at 1e-20 moved by a step relative to |x|: a rule returning 0 must not pass.
    f = _register(np.exp, lambda dy, y, x: (0.0 * dy,), "exp_zero_followup")
    r = ad.check_adjoint(f, np.array([1e-20]), raise_exception=False)
    assert not r.passed, r.report()


# -- reports ----------------------------------------------------------------------------------


def test_output_entries_are_named_by_their_real_index():
    def back(dy, y, x):
        g = dy * np.cos(x)
        g = g.copy()
        g[0, 1] *= 2.0  # wrong at one entry
        return (g,)

    f = _register(np.sin, back, "sin_wrong_entry")
    r = ad.check_adjoint(f, np.linspace(0.1, 0.6, 6).reshape(2, 3), mode="full",
                         raise_exception=False)
    assert not r.passed
    text = r.report()
    assert "∂y[0, 1]/∂x[0, 1]" in text, text


# -- a stencil across a kink does not swell the tolerance -------------------------------------


def test_maximum_near_a_kink_passes_with_a_small_tolerance():
    # The kink is 0.12 away; the long first stencil crossed it (error 0.0399 was excused by a
    # tolerance of 0.0399). The true derivatives are 0 and 1.
    r = ad.check_adjoint(np.maximum, np.array([9.596]), np.array([9.7148]),
                         raise_exception=False)
    assert r.verdict == "pass", r.report()
    assert r.tolerance < 1e-6 and r.max_error < 1e-6, r.report()


def test_wrong_maximum_rule_near_a_kink_fails():
    f = _register(np.maximum, lambda dy, y, a, b: (dy * 1.0, dy * 0.0), "maximum_swapped")
    r = ad.check_adjoint(f, np.array([9.596]), np.array([9.7148]), raise_exception=False)
    assert r.verdict == "fail", r.report()


def test_headline_says_when_the_error_shown_is_the_worst_ratio_not_the_largest():
    from adcheck.check.result import CheckResult, Failure

    r = CheckResult(passed=False, kind="check_adjoint", name="f", max_error=1e-3, tolerance=1e-4,
                    largest_error=0.5, worst_ratio=10.0,
                    failures=[Failure("value", "x[0]: adjoint gives 1, finite differences 1.001")])
    head = r.report().splitlines()[-1]
    assert head.startswith("  |error| 0.001 (the worst error/tolerance ratio; the largest "
                           "|error| is 0.5) against tolerance 0.0001"), head


# -- a positional float parameter is not an input ---------------------------------------------


def test_infinite_positional_parameter_is_not_refused_as_an_input():
    x = np.array([[2.0, 1.0], [0.5, 3.0]])
    r = ad.check_adjoint(np.linalg.cond, x, np.inf, raise_exception=False)
    assert r.verdict == "pass", r.report()
    # an array input that is NaN is still refused (it would blame the rule)
    with pytest.raises(ValueError, match=r"input x\[0\] is nan"):
        ad.check_adjoint(np.sin, np.array([np.nan, 1.0]))


def test_wrong_cond_rule_with_an_infinite_parameter_fails():
    f = _register(lambda x, p: np.linalg.cond(x, p),
                  lambda dy, y, x, p: (dy * np.ones_like(x), None), "cond_wrong")
    r = ad.check_adjoint(f, np.array([[2.0, 1.0], [0.5, 3.0]]), np.inf, raise_exception=False)
    assert r.verdict == "fail", r.report()
    assert any(f.kind == "value" for f in r.failures), r.report()


# -- float32 underflow and a cast of a subnormal-scale entry ----------------------------------


def test_float32_product_underflowing_is_not_called_wrong():
    a, b = np.array(0.0, np.float32), np.array(2.7790793e-30, np.float32)
    r = run_rule_check(np.multiply, lookup(np.multiply).rule, (a, b), {}, seed=0,
                       cotangents=(np.array([2.7790793e-30]),), kind="verify")
    assert r.verdict == "pass", r.report()


def test_float32_einsum_of_tiny_scalars_passes():
    r = ad.check_adjoint(np.einsum, np.float32(1e-25), [], np.float32(1e-20), [],
                         np.float32(0.5), [], raise_exception=False)
    assert r.verdict == "pass", r.report()


def test_cast_to_float16_with_a_tiny_entry_does_not_crash():
    r = ad.check_adjoint(np.astype, np.array([1.0, -3.70276959e-308, 2.0]), np.float16,
                         raise_exception=False)
    assert r.verdict == "pass", r.report()
