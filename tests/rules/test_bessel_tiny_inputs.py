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


# Leading terms of I_v'' near 0, from I_v = Σ_k (x/2)**(2k+v) / (k! (k+v)!)
SECOND = {0: lambda t: 0.5, 1: lambda t: 0.375 * t, 2: lambda t: 0.25, 3: lambda t: 0.125 * t}


@pytest.mark.parametrize("v", [0, 1, 2, 3])
@pytest.mark.parametrize("x", [0.0, 1e-200, -1e-200, 3e-160, -1e-151])
def test_iv_second_derivative_at_zero_and_tiny_inputs(v, x):
    # verify --builtin --order 2 --seed 402: iv(0, x)'' at x = 0 came out 0 (the series was
    # written with |x|, whose slope at 0 is 0), and iv(1, x)'' at 1e-200 a third of 3x/8
    # (one term of I0's series is a constant, with no slope)
    h = float(np.squeeze(ad.hessian(lambda t: sp.iv(v, t), x)))
    assert h == pytest.approx(SECOND[v](x), rel=1e-12, abs=1e-320)


@pytest.mark.parametrize("v", [0, 1, 2, 3])
def test_iv_second_derivative_where_scipy_is_accurate(v):
    for x in (1.0, -2.0, 1e-100):
        expected = (sp.iv(v - 2, x) + 2 * sp.iv(v, x) + sp.iv(v + 2, x)) / 4
        h = float(np.squeeze(ad.hessian(lambda t: sp.iv(v, t), x)))
        assert h == pytest.approx(expected, rel=1e-12, abs=1e-300)
