"""Modified Bessel functions at the smallest inputs, where scipy's ``iv`` gives NaN or 0.

``adcheck verify --builtin --seed 102`` drew ``i1`` at 2.2250738585072014e-308: its pullback
``(i0 + iv(2, x)) / 2`` was NaN there because ``scipy.special.iv(2, 2.2e-308)`` is NaN.
"""

import numpy as np
import pytest
import scipy.special as sp

import adcheck as ad

TINY = [2.2250738585072014e-308, 1e-300, 1e-160]


@pytest.mark.parametrize("x", TINY)
def test_i1_derivative_at_tiny_inputs_is_one_half(x):
    (g,) = ad.gradient(lambda t: sp.i1(t), x)
    assert g == pytest.approx(0.5, rel=1e-12)
    assert ad.check_adjoint(sp.i1, np.array(x)).passed


@pytest.mark.parametrize(("v", "expected"), [(0, 0.0), (1, 0.5), (2, 0.0)])
def test_iv_derivative_at_a_tiny_input(v, expected):
    # I0' = I1 ~ x/2, I1' = (I0 + I2)/2 ~ 1/2, I2' = (I1 + I3)/2 ~ x/4
    (g,) = ad.gradient(lambda t: sp.iv(v, t), 1e-300)
    assert g == pytest.approx(expected, abs=1e-299)


def test_second_derivative_of_i1_at_a_tiny_input():
    # I1'' = (I1 + (I1 + I3)/2) / 2 ~ 3x/8
    h = ad.hessian(lambda t: sp.i1(t), 1e-300)
    assert float(np.squeeze(h)) == pytest.approx(3.75e-301, rel=1e-9)
