"""cov and corrcoef against central differences, NumPy's values and analytic derivatives:
rowvar both ways, bias, ddof, y=, one variable (0-d results), float32, a Hessian, and the
weights they refuse."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central, central_vjp, check_vjp

X = np.sin(np.arange(15.0) * 1.3).reshape(3, 5) * 2 + np.arange(15.0).reshape(3, 5) / 9
Y = np.cos(np.arange(10.0) * 0.7).reshape(2, 5)


@pytest.mark.parametrize("rowvar", [True, False])
@pytest.mark.parametrize("bias, ddof", [(False, None), (True, None), (False, 0), (True, 2)])
def test_cov_matches_central_differences(rowvar, bias, ddof):
    x = X if rowvar else X.T
    check_vjp(lambda x: np.cov(x, rowvar=rowvar, bias=bias, ddof=ddof), x)


@pytest.mark.parametrize("fn", [np.cov, np.corrcoef], ids=lambda f: f.__name__)
@pytest.mark.parametrize("rowvar", [True, False])
def test_cov_and_corrcoef_with_y(fn, rowvar):
    x, y = (X, Y) if rowvar else (X.T, Y.T)
    f = lambda x, y: fn(x, y, rowvar=rowvar)
    w = np.linspace(-1.0, 2.0, 25).reshape(5, 5)
    gx, gy = ad.pullback(f, x, y)[1](w)
    np.testing.assert_allclose(gx, central_vjp(lambda x: f(x, y), x, w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gy, central_vjp(lambda y: f(x, y), y, w), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("rowvar", [True, False])
def test_corrcoef_matches_central_differences(rowvar):
    check_vjp(lambda x: np.corrcoef(x, rowvar=rowvar), X if rowvar else X.T)


def test_values_are_numpys():
    y, _ = ad.pullback(lambda x: np.cov(x, ddof=0), X)
    np.testing.assert_array_equal(y, np.cov(X, ddof=0))
    y, _ = ad.pullback(lambda x: np.corrcoef(x), X)
    np.testing.assert_array_equal(y, np.corrcoef(X))


def test_cov_analytic_one_variable():
    x = np.array([1.0, 2.0, 6.0, -1.0])  # cov of a 1-d array: var with ddof 1, a 0-d result
    (g,) = ad.gradient(lambda x: np.cov(x), x)
    np.testing.assert_allclose(g, 2 * (x - x.mean()) / 3, rtol=1e-14)


def test_cov_analytic_off_diagonal():
    # d cov(a, b) / d a = (b - mean b) / (N - 1)
    a, b = X[0], X[1]
    (g,) = ad.gradient(lambda a: np.cov(np.stack([a, b]))[0, 1], a)
    np.testing.assert_allclose(g, (b - b.mean()) / 4, rtol=1e-13)


def test_corrcoef_of_one_variable_has_zero_gradient():
    (g,) = ad.gradient(lambda x: np.corrcoef(x), np.array([1.0, 2.0, 6.0]))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_corrcoef_analytic_two_variables():
    a, b = X[0], X[2]
    ac, bc = a - a.mean(), b - b.mean()
    r = ac @ bc / np.sqrt((ac @ ac) * (bc @ bc))
    expected = (bc / np.sqrt((ac @ ac) * (bc @ bc)) - r * ac / (ac @ ac))
    (g,) = ad.gradient(lambda a: np.corrcoef(a, b)[0, 1], a)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_float32():
    x = X.astype(np.float32)
    w = np.linspace(-1.0, 2.0, 9).reshape(3, 3)
    (g,) = ad.pullback(lambda x: np.cov(x), x)[1](w)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central_vjp(lambda x: np.cov(x), X, w), rtol=1e-4, atol=1e-5)


def test_hessian_of_cov_entry():
    # f = cov(x)[0, 0] = |x - mean|^2 / (N - 1): Hessian (I - 11^T / N) * 2 / (N - 1)
    x = X[0]
    n = x.size
    h = ad.hessian(lambda x: np.cov(x), x)
    np.testing.assert_allclose(np.asarray(h), (np.eye(n) - 1.0 / n) * 2 / (n - 1), atol=1e-14)


def test_hessian_of_corrcoef_against_differences():
    b = X[1]
    f = lambda a: np.corrcoef(a, b)[0, 1]
    h = np.asarray(ad.hessian(f, X[0]))
    g = lambda a: ad.gradient(f, a)[0]
    expected = np.stack([central(lambda a, i=i: g(a)[i], X[0]) for i in range(5)])
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-7)


def test_weights_are_refused():
    with pytest.raises(ad.NotDifferentiable, match=r"np.cov\(..., aweights=...\)"):
        ad.gradient(lambda x: np.cov(x, aweights=np.ones(5)).sum(), X)
    with pytest.raises(ad.NotDifferentiable, match=r"np.cov\(..., fweights=...\)"):
        ad.gradient(lambda x: np.cov(x, fweights=np.ones(5, int)).sum(), X)
