"""Float32 rules: correct ones pass despite float32 rounding, wrong ones are still caught.

A correct float32 rule may cancel (``1 - y*y`` for tanh, ``y*(1 - y)`` for sigmoid,
``s*(dy - Σ dy*s)`` for softmax) and be off by far more than ``rtol·|B|``; the checker allows
``|∂B/∂y|·ulp(y)`` for that (adcheck.check.rounding). These tests pin both sides: no false
alarm over a sweep of inputs, and the classic bugs are still found and named.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adcheck as ad

F32 = np.float32
SWEEP = np.unique(np.concatenate([np.linspace(-12, 12, 200), [5.875, 8.3, 9.0, 11.9]])
                  ).astype(F32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# name -> (function, correct pullback back(dy, y, x, **kw), domain)
CORRECT = {
    "tanh": (np.tanh, lambda dy, y, x: (dy * (1 - y * y),), ad.domains.real(-12, 12)),
    "sigmoid": (_sigmoid, lambda dy, y, x: (dy * y * (1 - y),), ad.domains.real(-12, 12)),
    "softmax": (_softmax,
                lambda dy, y, x, axis=-1: (y * (dy - np.sum(dy * y, axis=axis, keepdims=True)),),
                ad.domains.real(-12, 12)),
    "log1p": (np.log1p, lambda dy, y, x: (dy / (1 + x),), ad.domains.interval(-0.99, 10.0)),
    "exp": (np.exp, lambda dy, y, x: (dy * y,), ad.domains.real(-12, 12)),
    "sqrt": (np.sqrt, lambda dy, y, x: (dy * 0.5 / y,), ad.domains.interval(1e-30, 1e-20)),
    "cube": (lambda x: x**3, lambda dy, y, x: (dy * 3 * x * x,), ad.domains.real(-12, 12)),
}

# Points for the scalar sweeps: tanh/sigmoid/exp/cube over [-12, 12], the others near their
# delicate spots.
POINTS = {
    "tanh": SWEEP, "sigmoid": SWEEP, "exp": SWEEP[::4], "cube": SWEEP[::4],
    "log1p": np.array([-0.99, -0.989, -0.98, -0.9, -0.5, 0.0, 3.0], F32),
    "sqrt": np.array([1e-30, 3e-30, 1e-29, 1e-25], F32),
}


@pytest.fixture
def prim(scoped):
    def make(name, back=None):
        fn, good, domain = CORRECT[name]
        return scoped(fn, back or good, f"{name}32", domain=domain)
    return make


@pytest.mark.parametrize("name", sorted(POINTS))
def test_correct_float32_rules_pass_over_a_sweep(prim, name):
    f = prim(name)
    failed = []
    for x in POINTS[name]:
        r = ad.check_adjoint(f, np.array(x, F32), seed=0, raise_exception=False)
        if not r.passed:
            failed.append(r.report())
    assert not failed, f"{len(failed)} false alarms; first:\n{failed[0]}"


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softmax"])
def test_correct_float32_rules_pass_on_arrays(prim, name, mode):
    f = prim(name)
    x = SWEEP.reshape(-1, 4) if name == "softmax" else SWEEP
    r = ad.check_adjoint(f, x[:8] if mode == "full" else x, mode=mode, seed=1,
                         raise_exception=False)
    assert r.passed, r.report()


def test_the_reported_case_passes_and_says_how_much_was_rounding(prim):
    r = ad.check_adjoint(prim("tanh"), np.array(5.875, F32), seed=0)
    assert r.passed and 0 < r.rounding < r.tolerance
    assert "incl. float32 rounding" in r.report()


def test_float64_checks_get_no_rounding_allowance(prim):
    r = ad.check_adjoint(prim("tanh"), np.array(5.875), seed=0)
    assert r.rounding == 0 and "rounding" not in r.report()


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softmax", "log1p", "exp", "cube"])
def test_correct_float32_rules_pass_verify(prim, name):
    fn, _, domain = CORRECT[name]
    low, high = max(domain.low, -12.0), min(domain.high, 12.0)
    low, high = (float(np.nextafter(F32(a), F32(b))) for a, b in ((low, high), (high, low)))
    arrays = hnp.arrays(F32, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
                        elements=st.floats(low, high, width=32))
    r = ad.verify(prim(name), inputs=(arrays,), max_examples=25, seed=3,
                  raise_exception=False)
    assert r.passed, r.report()
    r = ad.verify(prim(name), max_examples=25, seed=4, raise_exception=False)  # its domain
    assert r.passed, r.report()


def test_sqrt_near_1e_30_passes_verify(prim):
    arrays = hnp.arrays(F32, hnp.array_shapes(min_dims=0, max_dims=1, max_side=4),
                        elements=st.floats(float(F32(2e-30)), float(F32(1e-28)), width=32))
    r = ad.verify(prim("sqrt"), inputs=(arrays,), max_examples=25, seed=3,
                  raise_exception=False)
    assert r.passed, r.report()


WRONG = {
    "sign": lambda dy, y, x: (-dy * (1 - y * y),),
    "factor 2": lambda dy, y, x: (2 * dy * (1 - y * y),),
    "1e-2 relative": lambda dy, y, x: (dy * (1 - y * y) * F32(1.01),),
    "1 - y": lambda dy, y, x: (dy * (1 - y),),
}


@pytest.mark.parametrize("x", [0.3, 2.0, 5.875])
@pytest.mark.parametrize("bug", sorted(WRONG))
def test_wrong_float32_tanh_rules_are_caught(prim, bug, x):
    r = ad.check_adjoint(prim("tanh", WRONG[bug]), np.array(x, F32), seed=0,
                         raise_exception=False)
    assert not r.passed, r.report()
    assert [f.path for f in r.failures if f.kind == "value"] == ["x"], r.report()


def test_a_1e_2_error_on_one_entry_is_named(prim):
    def back(dy, y, x):
        return (dy * (1 - y * y) * np.where(x > 5, F32(1.01), F32(1)),)

    x = np.array([0.3, -2.0, 5.875, 2.0], F32)
    r = ad.check_adjoint(prim("tanh", back), x, mode="full", seed=0, raise_exception=False)
    assert [f.path for f in r.failures if f.kind == "value"] == ["x[2]"], r.report()
    assert "incl. float32 rounding" in r.report()


def test_a_1e_2_error_everywhere_is_caught_in_fast_mode(prim):
    # (one wrong entry among 60 of its size is below a float32 dot product's resolution,
    # rounding allowance or not: z·sqrt(n)·rtol·|B| alone exceeds 1e-2·|B|)
    back = WRONG["1e-2 relative"]
    x = np.linspace(5.5, 6.5, 60).astype(F32)
    r = ad.check_adjoint(prim("tanh", back), x, mode="fast", seed=0, raise_exception=False)
    assert not r.passed and any(f.kind == "value" for f in r.failures), r.report()


def test_wrong_float32_sigmoid_and_softmax_rules_are_caught(prim):
    r = ad.check_adjoint(prim("sigmoid", lambda dy, y, x: (dy * y * (1 + y),)),
                         np.array([0.5, 3.0], F32), seed=0, raise_exception=False)
    assert not r.passed and {f.path for f in r.failures} >= {"x[0]", "x[1]"}, r.report()
    r = ad.check_adjoint(prim("softmax", lambda dy, y, x, axis=-1: (y * dy,)),
                         np.array([[0.5, 3.0, -1.0]], F32), seed=0, raise_exception=False)
    assert not r.passed and any(f.kind == "value" for f in r.failures), r.report()


# -- gradcheck of float32 composites -------------------------------------------------------


@pytest.mark.parametrize("x", [0.3, 2.0, 5.875, 8.3, 9.0, 11.9])
def test_gradcheck_float32_composite_passes_and_says_when_rounding_was_accepted(x):
    f = lambda v: (np.tanh(v) * np.float32(2.0)).sum()
    r = ad.gradcheck(f, np.array([x, -x], np.float32), seed=0, raise_exception=False)
    assert r.passed, r.report()
    exact = 2 / np.cosh(x) ** 2
    if r.max_error > 1e-3 * exact and r.tolerance < exact:
        # float32 lost digits the finite differences resolve: the report must say it
        # accepted that as rounding
        assert r.rounding_dtype == "float32" and "accepted as float32 rounding" in r.report()
    elif r.max_error > 1e-3 * exact:
        # tanh(11.9) is 1 to the last float32 bit, and the rule's 1 - y**2 is 0: the finite
        # differences' own bound (their steps reach where tanh < 1) is above the slope itself
        assert r.max_error <= r.tolerance and r.tolerance > exact, r.report()
    else:
        assert r.rounding == 0.0


def test_gradcheck_float64_gets_no_rounding_allowance():
    r = ad.gradcheck(lambda v: np.tanh(v).sum(), np.array([9.0]), seed=0, raise_exception=False)
    assert r.passed and r.rounding == 0.0 and r.tolerance < 1e-9


@pytest.mark.parametrize("x", [0.3, 2.0, 5.875, 9.0])
def test_gradcheck_float32_wrong_rule_is_still_caught(x):
    with ad.scoped_rules():

        @ad.adjoint(np.tanh)
        def _(v):
            y = np.tanh(v)
            return y, lambda dy: (dy * (1 - y),)  # wrong: 1 - y**2

        r = ad.gradcheck(lambda v: np.tanh(v).sum(), np.array([x], np.float32), seed=0,
                         raise_exception=False)
    assert not r.passed
    assert r.localisation is not None and r.localisation.rule == "tanh"
