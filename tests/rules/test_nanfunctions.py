"""nansum, nanmean, nanprod, nanmax, nanmin, nanvar, nanstd against central differences and
analytic values: NaN entries get exactly zero cotangent, every axis form and keepdims, ties,
zeros in nanprod, all-NaN groups, float32, Hessians."""

import warnings

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central_vjp

NANFUNCS = [np.nansum, np.nanmean, np.nanprod, np.nanmax, np.nanmin, np.nanvar, np.nanstd]
IDS = [f.__name__ for f in NANFUNCS]

# Distinct entries 0.5..2.2 in magnitude (prod well scaled, no ties), with NaN holes that
# leave at least two numbers in every group of every axis choice below.
X3 = (np.arange(1, 25, dtype=np.float64).reshape(2, 3, 4) * 0.07 + 0.5)[:, ::-1, :]
X3 = X3 * np.where(np.arange(24).reshape(2, 3, 4) % 3 == 0, -1.0, 1.0)
HOLES = np.zeros((2, 3, 4), bool)
HOLES[0, 0, 1] = HOLES[1, 2, 3] = HOLES[0, 1, 0] = True
XN = np.where(HOLES, np.nan, X3)

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


def vjp(f, x, w):
    return ad.pullback(f, x)[1](w)[0]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("fn", NANFUNCS, ids=IDS)
def test_matches_central_differences(fn, axis, keepdims):
    f = lambda x: fn(x, axis=axis, keepdims=keepdims)
    y = f(XN)
    assert np.all(np.isfinite(y))
    w = np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))
    g = vjp(f, XN, w)
    assert g.shape == XN.shape
    np.testing.assert_array_equal(g[HOLES], 0.0)
    np.testing.assert_allclose(g, central_vjp(f, XN, w), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn, plain", [(np.nansum, np.sum), (np.nanmean, np.mean),
                                       (np.nanprod, np.prod), (np.nanmax, np.max),
                                       (np.nanvar, np.var), (np.nanstd, np.std)],
                         ids=["sum", "mean", "prod", "max", "var", "std"])
def test_equal_to_the_plain_rule_on_the_numbers(fn, plain):
    # A row with one NaN: its gradient is the plain function's gradient of the other entries.
    x = np.array([1.5, np.nan, -0.5, 2.0])
    (g,) = ad.gradient(fn, x)
    (expected,) = ad.gradient(plain, x[[0, 2, 3]])
    np.testing.assert_allclose(g[[0, 2, 3]], expected, rtol=1e-14)
    assert g[1] == 0.0


def test_nanmean_and_nansum_analytic():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0]])
    (g,) = ad.gradient(lambda x: (np.nanmean(x, axis=1) * np.array([1.0, 6.0])).sum(), x)
    np.testing.assert_array_equal(g, [[0.5, 0.0, 0.5], [0.0, 0.0, 6.0]])
    (g,) = ad.gradient(lambda x: (np.nansum(x, axis=0) * np.array([1.0, 2.0, 3.0])).sum(), x)
    np.testing.assert_array_equal(g, [[1.0, 0.0, 3.0], [0.0, 0.0, 3.0]])


def test_nanprod_with_zeros_is_exact():
    x = np.array([2.0, np.nan, 0.0, 5.0])
    (g,) = ad.gradient(np.nanprod, x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 10.0, 0.0])


def test_nanmax_ties_split_evenly():
    (g,) = ad.gradient(np.nanmax, np.array([1.0, 5.0, np.nan, 5.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.0, 0.5])
    (g,) = ad.gradient(np.nanmin, np.array([[np.nan, -1.0, -1.0, -1.0]]))
    np.testing.assert_allclose(g, [[0.0, 1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


@pytest.mark.parametrize("fn", NANFUNCS, ids=IDS)
def test_all_nan_group_gets_zero_cotangent(fn):
    x = np.array([[np.nan, np.nan], [1.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y, back = ad.pullback(lambda x: fn(x, axis=1), x)
        (g,) = back(np.array([1.0, 1.0]))
        expected = fn(x, axis=1)  # NaN, except nansum's 0 and nanprod's 1
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(g[0], [0.0, 0.0])
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("fn", NANFUNCS, ids=IDS)
def test_float32_stays_float32(fn):
    x = XN.astype(np.float32)
    w = np.array([1.0, -2.0, 3.0])
    (g,) = ad.gradient(lambda x: (fn(x, axis=(0, -1)) * w).sum(), x)
    assert g.dtype == np.float32
    expected = central_vjp(lambda x: fn(x, axis=(0, -1)), XN, w)
    np.testing.assert_allclose(g, expected, rtol=2e-5, atol=1e-5)


def test_nanvar_ddof_and_hessian():
    x = np.array([1.0, np.nan, -2.0, 0.5, 4.0])
    numbers = x[[0, 2, 3, 4]]
    n, ddof = 4, 1
    (g,) = ad.gradient(lambda x: np.nanvar(x, ddof=ddof), x)
    np.testing.assert_allclose(g[[0, 2, 3, 4]], 2 * (numbers - numbers.mean()) / (n - ddof),
                               rtol=1e-14)
    H = ad.hessian(lambda x: np.nanvar(x, ddof=ddof), x)
    expected = np.zeros((5, 5))
    keep = [0, 2, 3, 4]
    expected[np.ix_(keep, keep)] = 2 * (np.eye(n) - np.ones((n, n)) / n) / (n - ddof)
    np.testing.assert_allclose(H, expected, rtol=1e-14, atol=1e-15)


def test_nanstd_hessian():
    x = np.array([1.0, np.nan, -2.0, 0.5])
    c = x[[0, 2, 3]] - np.nanmean(x)
    s = np.nanstd(x)
    n = 3
    block = (np.eye(n) - np.ones((n, n)) / n) / (n * s) - np.outer(c, c) / (n**2 * s**3)
    expected = np.zeros((4, 4))
    expected[np.ix_([0, 2, 3], [0, 2, 3])] = block
    np.testing.assert_allclose(ad.hessian(np.nanstd, x), expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: np.nansum(x, dtype=np.float32), r"np\.nansum\(\.\.\., dtype="),
        (lambda x: np.nanmax(x, initial=0.0), r"np\.nanmax\(\.\.\., initial="),
        (lambda x: np.nanmean(x, where=np.array([True, False])), r"np\.nanmean\(\.\.\., where="),
        (lambda x: np.nanvar(x, mean=np.array(1.0)), r"np\.nanvar\(\.\.\., mean="),
    ],
    ids=["nansum-dtype", "nanmax-initial", "nanmean-where", "nanvar-mean"],
)
def test_unsupported_keywords_are_refused(call, match):
    with pytest.raises(ad.NotDifferentiable, match=match):
        ad.gradient(call, np.array([1.0, 2.0]))


def test_the_nanmean_domain_catches_a_rule_that_counts_nans():
    from adcheck.registry import lookup

    def counts_nans(*args, **kwargs):
        a = args[0]
        y = np.nanmean(*args, **kwargs)
        n = np.size(a) // max(np.size(y), 1)
        kept = np.shape(np.nanmean(a, axis=kwargs.get("axis"), keepdims=True))
        back = lambda dy: (np.where(np.isnan(a), 0.0, np.reshape(dy, kept) / n).astype(a.dtype),
                           ) + (None,) * (len(args) - 1)
        return y, back

    with ad.scoped_rules():
        ad.adjoint(np.nanmean, domain=lookup(np.nanmean).domain)(counts_nans)
        result = ad.verify(np.nanmean, max_examples=50, seed=3, raise_exception=False)
    assert not result.passed
    assert any(f.kind == "value" for f in result.failures)
    assert "nan" in result.smallest_input
