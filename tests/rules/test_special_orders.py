"""The integer orders of polygamma and iv are not differentiated: a traced float order raises
instead of getting a silent zero (``ad.gradient(lambda n: polygamma(n, 1.5), 1.0)`` gave 0)."""

import numpy as np
import pytest
import scipy.special as sp
from adcheck.rules.special import polygamma

import adcheck as ad


def test_a_differentiated_polygamma_order_raises():
    with pytest.raises(ad.NotDifferentiable, match="order n is an integer"):
        ad.gradient(lambda n: polygamma(n, 1.5), 1.0)


def test_polygamma_in_x_with_an_integer_order():
    (g,) = ad.gradient(lambda x: polygamma(1, x), 1.5)
    assert g == pytest.approx(float(sp.polygamma(2, 1.5)), rel=1e-14)
    (g,) = ad.gradient(lambda x: np.sum(polygamma(np.array([1, 2]), x)), np.array([1.5, 2.0]))
    np.testing.assert_allclose(g, sp.polygamma(np.array([2, 3]), np.array([1.5, 2.0])),
                               rtol=1e-14)


def test_a_differentiated_iv_order_raises():
    with pytest.raises(ad.NotDifferentiable, match="order v"):
        ad.gradient(lambda v: sp.iv(v, 1.5), 1.0)
