"""The linearity check: no false alarm on correct pullbacks that cancel or underflow, and
pullbacks that are not linear in Δ are still caught."""

from __future__ import annotations

import numpy as np
import pytest

import adcheck as ad


def _softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_back(dy, s, x, axis=-1):
    # the textbook pullback: cancels when one entry of s is close to 1
    return (s * (dy - np.sum(dy * s, axis=axis, keepdims=True)),)


@pytest.mark.parametrize("x", [
    [9.0, 0.0],
    [0.0, 10.0],
    [16.240858084074965, 4.3308819465228545, 0.0],
    [0.0, -24.30842726, 35.35204377],
    [-23.55158803, -183.69506908, 0.0],
    [155.97422229, 128.94953102, -8.00483048, 0.0],
])
def test_softmax_that_cancels_is_not_called_nonlinear(scoped, x):
    f = scoped(_softmax, _softmax_back, "softmax")
    for seed in range(12):
        r = ad.check_adjoint(f, np.array(x), axis=0, seed=seed, raise_exception=False)
        assert r.passed, r.report()


def test_subnormal_cotangents_are_not_called_nonlinear(scoped):
    # x**3 at 2.7e-156 is subnormal: its rounding is absolute, not relative
    f = scoped(lambda x: x * x * x, lambda dy, y, x: (dy * 3.0 * x * x,), "cube")
    x = np.full(2, 2.6996435856093015e-156)
    r = ad.check_adjoint(f, x, seed=7, raise_exception=False)
    assert r.passed, r.report()


def test_subnormal_outputs_can_be_differentiated(scoped):
    # outputs near 1e-311: the checker's output scaling must not overflow to inf
    f = scoped(lambda x: 2.2e-311 * x ** 0.5, lambda dy, y, x: (dy * 1.1e-311 * x ** -0.5,),
               "tiny_sqrt")
    r = ad.check_adjoint(f, np.array(1.0), seed=0, raise_exception=False)
    assert r.passed, r.report()
    assert r.mode == "full" and r.evaluations > 0


@pytest.mark.parametrize("back", [
    lambda dy, y, x: (dy * np.abs(dy) * np.cos(x),),
    lambda dy, y, x: (np.clip(dy, -1, 1) * np.cos(x),),
    lambda dy, y, x: (dy ** 2 * np.cos(x),),
    lambda dy, y, x: (np.maximum(dy, 0) * np.cos(x),),
], ids=["dy_abs_dy", "clip", "square", "relu"])
@pytest.mark.parametrize("mode", ["full", "fast"])
def test_nonlinear_pullbacks_are_caught(scoped, back, mode):
    f = scoped(np.sin, back, "sin_nonlinear")
    r = ad.check_adjoint(f, np.array([0.3, 1.0, -2.0]), seed=1, mode=mode,
                         raise_exception=False)
    assert "linearity" in [x.kind for x in r.failures], r.report()
