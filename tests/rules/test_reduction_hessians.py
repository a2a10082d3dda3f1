"""Second derivatives through every rule of the reductions-and-scans family: ``ad.hessian``
against central differences of the (separately proven) gradient, at inputs with NaN entries for
the NaN functions. Analytic Hessians of var, std, average, cumsum, cumprod, nanvar and nanstd
are in the family's own test modules."""

import numpy as np
import pytest

import adcheck as ad

X = np.array([[0.3, -1.2, 2.0], [1.1, 0.4, -0.7]])
XN = np.where(np.eye(2, 3, 1, dtype=bool), np.nan, X)  # X[0, 1] is NaN
W = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.4]])

CASES = {
    "ptp": (lambda x: np.sum(np.ptp(x, axis=1) ** 2), X),
    "average": (lambda x: np.sum(np.average(x, 1, np.abs(W) + 0.5) ** 3), X),
    "var": (lambda x: np.sum(np.var(x, axis=0, ddof=1) ** 2), X),
    "std": (lambda x: np.sum(np.std(x, axis=(0, 1)) ** 3), X),
    "nansum": (lambda x: np.sum(np.nansum(x, axis=0) ** 3), XN),
    "nanmean": (lambda x: np.sum(np.nanmean(x, axis=1) ** 3), XN),
    "nanprod": (lambda x: np.nanprod(x) ** 2, XN),
    "nanmax": (lambda x: np.sum(np.nanmax(x, axis=0) ** 3), XN),
    "nanmin": (lambda x: np.sum(np.nanmin(x, axis=1) ** 3), XN),
    "nanvar": (lambda x: np.sum(np.nanvar(x, axis=1) ** 2), XN),
    "nanstd": (lambda x: np.sum(np.nanstd(x, axis=0, keepdims=True) ** 3), XN),
    "cumsum": (lambda x: np.sum(np.cumsum(x, axis=1) ** 3), X),
    "cumprod": (lambda x: np.sum(np.cumprod(x) * W.ravel()), X),
    "nancumsum": (lambda x: np.sum(np.nancumsum(x, axis=1) ** 3), XN),
    "nancumprod": (lambda x: np.sum(np.nancumprod(x) * W.ravel()), XN),
    "cumulative_sum": (lambda x: np.sum(np.cumulative_sum(x, axis=1, include_initial=True)
                                        ** 3), X),
    "cumulative_prod": (lambda x: np.sum(np.cumulative_prod(x, axis=0) * W), X),
    "maximum.accumulate": (lambda x: np.sum(np.maximum.accumulate(x, axis=1) ** 3), X),
    "minimum.accumulate": (lambda x: np.sum(np.minimum.accumulate(x, axis=0) ** 3), X),
    "diff": (lambda x: np.sum(np.diff(x, 1, 1, x[:, :1] * 2.0) ** 3), X),
    "diff-n2": (lambda x: np.sum(np.diff(x, 2, 0, x[-1:] * 0.5, x[:1] ** 2) ** 3), X),
    "gradient": (lambda x: np.sum(np.gradient(x, 0.7, axis=1, edge_order=2) ** 3), X),
    "multiply.outer": (lambda x: np.sum(np.multiply.outer(x[0], x[1]) ** 2), X),
}


def hessian_by_differences_of_the_gradient(f, x, h=1e-5):
    """H[i, j] = d/dx_j of the gradient's entry i, column by column (NaN entries skipped)."""
    H = np.zeros(x.shape + x.shape)
    for j in np.ndindex(x.shape):
        if np.isnan(x[j]):
            continue
        e = np.zeros_like(x)
        e[j] = h
        H[(...,) + j] = (ad.gradient(f, x + e)[0] - ad.gradient(f, x - e)[0]) / (2 * h)
    return H


@pytest.mark.parametrize("name", list(CASES))
def test_hessian_matches_differences_of_the_gradient(name):
    f, x = CASES[name]
    H = ad.hessian(f, x)
    assert H.shape == x.shape + x.shape
    nan = np.isnan(x)
    # NaN entries: zero rows and columns (they get no cotangent at any order)
    assert np.all(H[nan] == 0) and np.all(np.moveaxis(H, (2, 3), (0, 1))[nan] == 0)
    expected = hessian_by_differences_of_the_gradient(f, x)
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-7)
