"""var, std and average against central differences and analytic derivatives: every axis form,
keepdims, ddof/correction, weights of every shape, returned=True, 0-d and size-1 inputs,
float32, zero spread, Hessians, and the keyword arguments they refuse."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central, central_vjp

# Distinct entries (std well away from 0), not symmetric in any axis.
X3 = np.sin(np.arange(24.0) * 1.7).reshape(2, 3, 4) * 3 + np.arange(24.0).reshape(2, 3, 4) / 7
AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (), (0, 1, 2)]


def vjp(f, x, w):
    return ad.pullback(f, x)[1](w)[0]


def weights_for(f, x):
    y = f(x)
    return np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))


def group_size(axis, shape):
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


# ddof 1 only where a group has two entries or more (NumPy's value is NaN otherwise)
SPREAD_CASES = [(fn, axis, keepdims, ddof) for fn in (np.var, np.std) for axis in AXES
                for keepdims in (False, True) for ddof in (0, 1)
                if ddof < group_size(axis, X3.shape)]


@pytest.mark.parametrize("fn, axis, keepdims, ddof", SPREAD_CASES,
                         ids=[f"{f.__name__}-{a}-{k}-{d}" for f, a, k, d in SPREAD_CASES])
def test_matches_central_differences(fn, axis, keepdims, ddof):
    f = lambda x: fn(x, axis=axis, keepdims=keepdims, ddof=ddof)
    w = weights_for(f, X3)
    g = vjp(f, X3, w)
    assert g.shape == X3.shape
    np.testing.assert_allclose(g, central_vjp(f, X3, w), rtol=1e-6, atol=1e-8)


def test_var_analytic():
    x = np.array([[1.0, 2.0, 6.0], [0.0, -3.0, 3.0]])
    (g,) = ad.gradient(lambda x: np.sum(np.var(x, axis=1, ddof=1) * np.array([1.0, 10.0])), x)
    m = x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(g, 2 * (x - m) / 2 * np.array([[1.0], [10.0]]), rtol=1e-15)


def test_std_analytic_and_correction_keyword():
    x = np.array([1.0, 4.0, 7.0, 0.0])
    s = np.std(x, ddof=1)
    expected = (x - x.mean()) / (3 * s)
    np.testing.assert_allclose(ad.gradient(lambda x: np.std(x, ddof=1), x)[0], expected,
                               rtol=1e-14)
    np.testing.assert_allclose(ad.gradient(lambda x: np.std(x, correction=1), x)[0], expected,
                               rtol=1e-14)


@pytest.mark.parametrize("fn", [np.var, np.std], ids=["var", "std"])
def test_axis_positional_and_methods(fn):
    w = np.arange(8.0).reshape(2, 4)
    expected = central_vjp(lambda x: fn(x, 1, ddof=1), X3, w)
    np.testing.assert_allclose(vjp(lambda x: fn(x, 1, ddof=1), X3, w), expected,
                               rtol=1e-6, atol=1e-8)
    got = vjp(lambda x: getattr(x, fn.__name__)(1, ddof=1), X3, w)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn", [np.var, np.std], ids=["var", "std"])
def test_single_entries_have_zero_gradient(fn):
    # A group of one entry: var and std are constantly 0.
    (g,) = ad.gradient(lambda x: fn(x, axis=0).sum(), np.ones((1, 3)))
    np.testing.assert_array_equal(g, np.zeros((1, 3)))
    (g,) = ad.gradient(lambda x: fn(x), np.array(2.5))
    assert np.shape(g) == () and g == 0.0


def test_zero_spread():
    # std at equal entries: a kink (a norm), the rule gives 0, never NaN.
    (g,) = ad.gradient(lambda x: np.std(x, axis=1).sum(), np.array([[0.1, 0.1, 0.1],
                                                                     [1.0, 2.0, 4.0]]))
    row = np.array([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(g[1], (row - row.mean()) / (3 * row.std()), rtol=1e-14)
    # var at equal entries: the minimum, gradient exactly 0 (not rounding noise).
    (g,) = ad.gradient(lambda x: np.var(x), np.full(3, 0.1))
    np.testing.assert_array_equal(g, np.zeros(3))


@pytest.mark.parametrize("fn", [np.var, np.std], ids=["var", "std"])
def test_float32_stays_float32(fn):
    x = X3.astype(np.float32)
    w = np.array([1.0, -2.0, 3.0])
    (g,) = ad.gradient(lambda x: (fn(x, axis=(0, -1)) * w).sum(), x)
    assert g.dtype == np.float32
    expected = central_vjp(lambda x: fn(x, axis=(0, -1)), X3, w)
    np.testing.assert_allclose(g, expected, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("ddof", [0, 1])
def test_hessian_of_var(ddof):
    # var(x) = |x - mean|^2 / (n - ddof): H = 2 (I - 11'/n) / (n - ddof).
    x = np.array([1.0, -2.0, 0.5, 4.0])
    n = 4
    H = ad.hessian(lambda x: np.var(x, ddof=ddof), x)
    expected = 2 * (np.eye(n) - np.ones((n, n)) / n) / (n - ddof)
    np.testing.assert_allclose(H, expected, rtol=1e-14, atol=1e-15)


def test_hessian_of_std():
    # s = |c| / sqrt(d), c = x - mean, d = n - ddof:
    # H = (I - 11'/n) / (d s) - c c' / (d^2 s^3).
    x = np.array([1.0, -2.0, 0.5, 4.0])
    n, ddof = 4, 1
    d = n - ddof
    c = x - x.mean()
    s = np.std(x, ddof=ddof)
    expected = (np.eye(n) - np.ones((n, n)) / n) / (d * s) - np.outer(c, c) / (d**2 * s**3)
    np.testing.assert_allclose(ad.hessian(lambda x: np.std(x, ddof=ddof), x), expected,
                               rtol=1e-13, atol=1e-15)


def test_hessian_of_var_along_an_axis():
    # sum over rows of var(row): block-diagonal, each block 2 (I - 11'/3) / 3.
    m = np.array([[1.0, 2.0, 0.0], [4.0, -1.0, 3.0]])
    H = ad.hessian(lambda m: np.var(m, axis=1).sum(), m)
    block = 2 * (np.eye(3) - np.ones((3, 3)) / 3) / 3
    expected = np.zeros((2, 3, 2, 3))
    expected[0, :, 0, :] = block
    expected[1, :, 1, :] = block
    np.testing.assert_allclose(H, expected, rtol=1e-14, atol=1e-15)


# -- average -----------------------------------------------------------------------------------

A = X3[:, :, :3]  # shape (2, 3, 3)
W_FULL = np.linspace(0.5, 2.0, A.size).reshape(A.shape)[::-1]


@pytest.mark.parametrize("keepdims", [None, False, True])
@pytest.mark.parametrize(
    "axis, w",
    [(None, None), (None, W_FULL), (1, None), (1, W_FULL), (-1, np.array([0.5, 1.0, 3.0])),
     (0, np.array([2.0, 0.7])), ((0, 2), np.array([[1.0, 2.0, 0.5], [3.0, 0.25, 1.5]])),
     ((2, 0), np.array([[1.0, 2.0], [0.5, 3.0], [0.25, 1.5]])), ((-1, 1), W_FULL)],
    ids=["none", "none-full", "1", "1-full", "-1-axis", "0-axis", "02-axes", "20-axes",
         "-11-full"],
)
def test_average_matches_central_differences(axis, w, keepdims):
    kw = {} if keepdims is None else {"keepdims": keepdims}
    f = lambda x, w: np.average(x, axis, w, **kw)
    cot = weights_for(lambda x: f(x, w), A)
    ga, gw = ad.pullback(f, A, w)[1](cot)
    np.testing.assert_allclose(ga, central_vjp(lambda x: f(x, w), A, cot), rtol=1e-6,
                               atol=1e-8)
    if w is None:
        assert gw is None
    else:
        assert gw.shape == w.shape
        np.testing.assert_allclose(gw, central_vjp(lambda v: f(A, v), w, cot), rtol=1e-6,
                                   atol=1e-8)


def test_average_analytic():
    x, w = np.array([1.0, 3.0, 8.0]), np.array([1.0, 3.0, 4.0])
    avg = np.sum(w * x) / np.sum(w)
    gx, gw = ad.gradient(lambda x, w: np.average(x, None, w), x, w)
    np.testing.assert_allclose(gx, w / 8, rtol=1e-15)
    np.testing.assert_allclose(gw, (x - avg) / 8, rtol=1e-15)
    # weights given by keyword are constants: x is still differentiated
    (gx,) = ad.gradient(lambda x: np.average(x, weights=w), x)
    np.testing.assert_allclose(gx, w / 8, rtol=1e-15)


def test_average_returned():
    x, w = A, W_FULL
    f = lambda x, w: np.average(x, 1, w, True)
    avg, total = f(x, w)
    c1 = np.linspace(-1.0, 1.0, avg.size).reshape(avg.shape)
    c2 = np.linspace(2.0, 0.5, total.size).reshape(total.shape)
    scalar = lambda x, w: np.sum(c1 * f(x, w)[0]) + np.sum(c2 * f(x, w)[1])
    gx, gw = ad.gradient(scalar, x, w)
    np.testing.assert_allclose(gx, central(lambda v: scalar(v, w), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gw, central(lambda v: scalar(x, v), w), rtol=1e-6, atol=1e-8)
    # without weights, the second output (the count) is a constant
    (gx,) = ad.gradient(lambda x: np.sum(np.average(x, 0, None, True)[0]), x)
    np.testing.assert_allclose(gx, np.full(x.shape, 0.5), rtol=1e-15)


def test_average_float32_and_0d():
    x = A.astype(np.float32)
    w = W_FULL.astype(np.float32)
    gx, gw = ad.gradient(lambda x, w: np.sum(np.average(x, 1, w) ** 2), x, w)
    assert gx.dtype == np.float32 and gw.dtype == np.float32
    s = lambda x, w: np.sum(np.average(x, 1, w) ** 2)
    np.testing.assert_allclose(gx, central(lambda v: s(v, W_FULL), A), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gw, central(lambda v: s(A, v), W_FULL), rtol=1e-4, atol=1e-4)
    gx, gw = ad.gradient(lambda x, w: np.average(x, None, w), np.array(3.0), np.array(2.0))
    assert gx == 1.0 and gw == 0.0


def test_hessian_of_average_in_the_weights():
    # a(w) = w.x / sum(w): H[i, j] = -((x_i - a) + (x_j - a)) / W^2.
    x, w = np.array([1.0, 3.0, 8.0]), np.array([1.0, 3.0, 4.0])
    H = ad.hessian(lambda w: np.average(x, None, w), w)
    a, W = np.sum(w * x) / np.sum(w), np.sum(w)
    dev = x - a
    np.testing.assert_allclose(H, -(dev[:, None] + dev[None, :]) / W**2, rtol=1e-13)


def test_traced_keyword_weights_raise():
    with pytest.raises(ad.NotDifferentiable, match=r"weights=; pass it positionally"):
        ad.gradient(lambda w: np.average(np.ones(2), weights=w), np.ones(2))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: np.var(x, out=np.zeros(())), r"np\.var\(\.\.\., out="),
        (lambda x: np.var(x, dtype=np.float32), r"np\.var\(\.\.\., dtype="),
        (lambda x: np.var(x, mean=np.array(1.5)), r"np\.var\(\.\.\., mean="),
        (lambda x: np.std(x, where=np.array([True, False])), r"np\.std\(\.\.\., where="),
    ],
    ids=["var-out", "var-dtype", "var-mean", "std-where"],
)
def test_unsupported_keywords_are_refused(call, match):
    with pytest.raises(ad.NotDifferentiable, match=match):
        ad.gradient(call, np.array([1.0, 2.0]))


def test_the_var_domain_catches_a_rule_that_ignores_ddof():
    from adcheck.registry import lookup

    def ddof_ignored(*args, **kwargs):
        a, axis = args[0], (args[1] if len(args) > 1 else kwargs.get("axis"))
        kept = np.shape(np.var(a, axis=axis, keepdims=True))
        n = np.size(a) // np.size(np.var(a, axis=axis, keepdims=True))
        back = lambda dy: (np.reshape(dy, kept) * 2 * (a - np.mean(a, axis, keepdims=True)) / n,
                           ) + (None,) * (len(args) - 1)
        return np.var(*args, **kwargs), back

    with ad.scoped_rules():
        ad.adjoint(np.var, domain=lookup(np.var).domain)(ddof_ignored)
        result = ad.verify(np.var, max_examples=50, seed=3, raise_exception=False)
    assert not result.passed
    assert any(f.kind == "value" for f in result.failures)
    assert "ddof=1" in result.smallest_input or "correction=1" in result.smallest_input
