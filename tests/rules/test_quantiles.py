"""median, percentile and quantile against central differences, NumPy's values and analytic
weights: every axis form, keepdims, scalar and array q, the four methods, ties split evenly,
0-d and size-1 inputs, float32, and what they refuse."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central_vjp, check_vjp

# Distinct entries, no symmetry.
X3 = np.sin(np.arange(24.0) * 1.7).reshape(2, 3, 4) * 3 + np.arange(24.0).reshape(2, 3, 4) / 7
AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


def weights_for(y):
    return np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_median_matches_central_differences(axis, keepdims):
    check_vjp(lambda x: np.median(x, axis=axis, keepdims=keepdims), X3)


CASES = [(fn, q, method) for fn, scale in ((np.percentile, 100.0), (np.quantile, 1.0))
         for q in (0.3, np.array([0.0, 0.55, 1.0]), np.array([[0.25], [0.9]]))
         for method in ("linear", "lower", "higher", "midpoint")]


@pytest.mark.parametrize("fn, q, method", CASES,
                         ids=[f"{f.__name__}-{np.ndim(q)}-{m}" for f, q, m in CASES])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
def test_quantiles_match_central_differences(fn, q, method, axis):
    q = q * (100.0 if fn is np.percentile else 1.0)
    f = lambda x: fn(x, q, axis=axis, method=method, keepdims=True)
    y = f(X3)
    w = weights_for(y)
    (g, _) = ad.pullback(lambda x: fn(x, q=q, axis=axis, method=method, keepdims=True),
                         X3)[1](w) + (None,)
    np.testing.assert_allclose(g, central_vjp(f, X3, w), rtol=1e-6, atol=1e-8)


def test_value_is_numpys():
    y, _ = ad.pullback(lambda x: np.quantile(x, q=[0.2, 0.7], axis=(0, 2)), X3)
    np.testing.assert_array_equal(y, np.quantile(X3, [0.2, 0.7], axis=(0, 2)))


def test_analytic_weights():
    x = np.array([3.0, 1.0, 4.0, 2.0, 10.0])  # sorted: 1 2 3 4 10
    np.testing.assert_array_equal(ad.gradient(lambda x: np.median(x), x)[0],
                                  [1.0, 0.0, 0.0, 0.0, 0.0])
    # q = 0.3: position 1.2 -> 0.8 * s[1] + 0.2 * s[2]: 0.8 to the 2, 0.2 to the 3
    np.testing.assert_allclose(ad.gradient(lambda x: np.quantile(x, q=0.3), x)[0],
                               [0.2, 0.0, 0.0, 0.8, 0.0], rtol=1e-14)
    np.testing.assert_array_equal(
        ad.gradient(lambda x: np.percentile(x, q=30.0, method="higher"), x)[0],
        [1.0, 0.0, 0.0, 0.0, 0.0])


def test_ties_are_split_evenly():
    g = ad.gradient(lambda x: np.median(x), np.array([1.0, 2.0, 2.0, 5.0]))[0]
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
    g = ad.gradient(lambda x: np.median(x), np.array([2.0, 7.0, 2.0]))[0]
    # sorted 2 2 7: the middle position's weight 1 is shared by both 2s
    np.testing.assert_array_equal(g, [0.5, 0.0, 0.5])
    g = ad.gradient(lambda x: np.median(x), np.full(3, 4.0))[0]
    np.testing.assert_allclose(g, np.full(3, 1 / 3), rtol=1e-15)


def test_zero_d_and_size_one():
    assert ad.gradient(lambda x: np.median(x), np.float64(2.5))[0] == 1.0
    (g,) = ad.gradient(lambda x: np.quantile(x, q=0.7, axis=0).sum(), np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(g, [[1.0, 1.0]])


def test_float32():
    x = X3.astype(np.float32)
    (g,) = ad.pullback(lambda x: np.median(x, axis=1), x)[1](np.ones((2, 4), np.float32))
    assert g.dtype == np.float32
    expected = central_vjp(lambda x: np.median(x, axis=1), X3, np.ones((2, 4)))
    np.testing.assert_allclose(g, expected, atol=1e-6)


def test_second_derivative_is_zero():
    x = np.array([3.0, 1.0, 4.0, 2.0])
    h = ad.hessian(lambda x: np.percentile(x, q=40.0) * np.median(x), x)
    # product rule: H = g_p g_m^T + g_m g_p^T, both gradients constant weight vectors
    # sorted 1 2 3 4 sit at indices 1 3 0 2
    g_p = np.array([0.2, 0.0, 0.0, 0.8])  # position 1.2: 0.8 * x[3] + 0.2 * x[0]
    g_m = np.array([0.5, 0.0, 0.0, 0.5])  # median: (x[3] + x[0]) / 2
    np.testing.assert_allclose(np.asarray(h), np.outer(g_p, g_m) + np.outer(g_m, g_p),
                               atol=1e-15)


def test_traced_q_is_refused():
    with pytest.raises(ad.NotDifferentiable, match="np.quantile: the quantile q is not"):
        ad.gradient(lambda x, q: np.quantile(x, q), np.array([1.0, 2.0]), 0.5)


def test_other_methods_and_keywords_are_refused():
    with pytest.raises(ad.NotDifferentiable, match=r"method='weibull'"):
        ad.gradient(lambda x: np.quantile(x, q=0.5, method="weibull"), np.array([1.0, 2.0]))
    with pytest.raises(ad.NotDifferentiable, match=r"np.median\(..., out=...\)"):
        ad.gradient(lambda x: np.median(x, out=np.zeros(())), np.array([1.0, 2.0]))


XN = X3.copy()
XN[0, 1, 2] = XN[1, 0, 0] = XN[1, 2, 3] = XN[0, 0, 1] = np.nan


def _finite_vjp(f, x, w):
    """Central differences over the non-NaN entries (NaN entries: 0, as the rule gives)."""
    holes = np.isnan(x)
    filled = np.where(holes, 0.0, x)
    g = central_vjp(lambda z: f(np.where(holes, np.nan, z)), filled, w)
    return np.where(holes, 0.0, g)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("fn, q", [(np.nanmedian, None), (np.nanquantile, [0.1, 0.8]),
                                   (np.nanpercentile, 35.0)],
                         ids=["nanmedian", "nanquantile", "nanpercentile"])
def test_nan_forms_match_central_differences(fn, q, axis):
    kwargs = {"axis": axis} if q is None else {"q": q, "axis": axis}
    f = lambda x: fn(x, **kwargs)
    y = f(XN)
    w = weights_for(y)
    (g,) = ad.pullback(f, XN)[1](w)
    np.testing.assert_allclose(g, _finite_vjp(f, XN, w), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(y, fn(XN, **kwargs))


def test_nanmedian_analytic():
    x = np.array([4.0, np.nan, 1.0, 3.0, np.nan])  # non-NaN sorted: 1 3 4
    np.testing.assert_array_equal(ad.gradient(lambda x: np.nanmedian(x), x)[0],
                                  [0.0, 0.0, 0.0, 1.0, 0.0])
