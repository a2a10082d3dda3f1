"""Scans and differences against central differences and analytic derivatives: cumsum,
cumprod (zeros exact, every length), their NaN versions and NumPy 2's cumulative_sum/prod,
running max/min (ties split evenly), diff (n, axis, prepend/append), gradient (axis,
edge_order, spacing), the ufunc methods accumulate and outer, float32, 0-d inputs, Hessians."""

import itertools

import numpy as np
import pytest
from adcheck.rules.scans import maximum_accumulate, minimum_accumulate

import adcheck as ad
from tests.finite import central, central_vjp

X3 = np.sin(np.arange(24.0) * 1.3).reshape(2, 3, 4) * 1.5 + 0.2


def vjp(f, x, w):
    return ad.pullback(f, x)[1](w)[0]


def weights_for(y):
    return np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))


def check(f, x, rtol=1e-6, atol=1e-8):
    w = weights_for(f(x))
    g = vjp(f, x, w)
    assert np.shape(g) == np.shape(x)
    np.testing.assert_allclose(g, central_vjp(f, x, w), rtol=rtol, atol=atol)
    return g


# -- cumsum, cumprod, nancumsum, nancumprod ------------------------------------------------

SCANS = [np.cumsum, np.cumprod, np.nancumsum, np.nancumprod]
SCAN_IDS = [f.__name__ for f in SCANS]


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, -3], ids=str)
@pytest.mark.parametrize("fn", SCANS, ids=SCAN_IDS)
def test_scan_matches_central_differences(fn, axis):
    check(lambda x: fn(x, axis=axis), X3)
    check(lambda x: fn(x, axis), X3)


@pytest.mark.parametrize("fn", SCANS, ids=SCAN_IDS)
def test_scan_of_0d_and_size_one(fn):
    (g,) = ad.gradient(lambda x: fn(x).sum() * 3.0, np.array(-1.5))
    assert np.shape(g) == () and g == 3.0
    check(lambda x: fn(x, axis=0), np.array([[2.0, -0.5]]))
    check(lambda x: fn(x, axis=1), np.array([[2.0], [-0.5]]))


def test_cumsum_analytic_and_methods():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = np.array([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]])
    np.testing.assert_array_equal(vjp(lambda x: np.cumsum(x, axis=1), x, w),
                                  [[111.0, 110.0, 100.0], [222.0, 220.0, 200.0]])
    np.testing.assert_array_equal(vjp(lambda x: x.cumsum(axis=1), x, w),
                                  [[111.0, 110.0, 100.0], [222.0, 220.0, 200.0]])
    # axis None runs over the raveled array
    np.testing.assert_array_equal(vjp(lambda x: x.cumsum(), x, np.arange(6.0)),
                                  [[15.0, 15.0, 14.0], [12.0, 9.0, 5.0]])


def cumprod_vjp_by_hand(x, w):
    """sum_i w_i d(prod_{k<=i} x_k)/dx_j, from the definition (no division)."""
    n = len(x)
    g = np.zeros(n)
    for j in range(n):
        for i in range(j, n):
            g[j] += w[i] * np.prod([x[k] for k in range(i + 1) if k != j])
    return g


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 2.0], [1.5, -2.0, 0.0],
                               [0.0], [3.0, 0.5, 0.0, 0.0, 2.0, -1.0]], ids=str)
def test_cumprod_with_zeros_is_exact(x):
    x = np.array(x)
    w = np.arange(1.0, len(x) + 1)
    np.testing.assert_allclose(vjp(np.cumprod, x, w), cumprod_vjp_by_hand(x, w), rtol=1e-15)
    np.testing.assert_allclose(vjp(lambda x: x.cumprod(), x, w), cumprod_vjp_by_hand(x, w),
                               rtol=1e-15)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17])
def test_cumprod_of_every_length(n):
    # The suffix scan doubles its step: lengths around powers of two.
    x = np.linspace(0.6, 1.5, n) * np.where(np.arange(n) % 3 == 1, -1.0, 1.0)
    w = np.cos(np.arange(n))
    np.testing.assert_allclose(vjp(np.cumprod, x, w), cumprod_vjp_by_hand(x, w), rtol=1e-13)


def test_nan_scans_give_nan_entries_zero():
    x = np.array([1.0, np.nan, 2.0, 3.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    np.testing.assert_array_equal(vjp(np.nancumsum, x, w), [1111.0, 0.0, 1100.0, 1000.0])
    # nancumprod = cumprod with NaN read as 1: [1, 1, 2, 6]
    np.testing.assert_array_equal(vjp(np.nancumprod, x, w), [1.0 + 10 + 200 + 6000, 0.0,
                                                              100.0 + 3000.0, 2000.0])


@pytest.mark.parametrize("fn", SCANS, ids=SCAN_IDS)
def test_scan_float32_stays_float32(fn):
    x = X3.astype(np.float32)
    (g,) = ad.gradient(lambda x: (fn(x, axis=1) * weights_for(X3)).sum(), x)
    assert g.dtype == np.float32
    expected = central_vjp(lambda x: fn(x, axis=1), X3, weights_for(X3))
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("include_initial", [False, True])
@pytest.mark.parametrize("fn", [np.cumulative_sum, np.cumulative_prod],
                         ids=["cumulative_sum", "cumulative_prod"])
def test_cumulative_sum_and_prod(fn, include_initial, axis):
    x = X3[0, 0] if axis is None else X3[0]  # axis=None only for 1-d arrays
    check(lambda x: fn(x, axis=axis, include_initial=include_initial), x)


def test_hessian_of_cumsum():
    # f = sum(cumsum(x)^2) = |L x|^2, L lower triangular ones: H = 2 L'L.
    x = np.array([1.0, -2.0, 0.5, 3.0])
    L = np.tril(np.ones((4, 4)))
    np.testing.assert_allclose(ad.hessian(lambda x: np.sum(np.cumsum(x) ** 2), x),
                               2 * L.T @ L, rtol=1e-15)


def test_hessian_of_cumprod_with_a_zero():
    # f = sum_i prod_{k<=i} x_k: H[a, b] = sum_{i >= max(a, b)} prod_{k<=i, k not in {a, b}} x_k
    # for a != b, 0 on the diagonal.
    x = np.array([2.0, 0.0, 3.0, -1.5, 0.5])
    n = len(x)
    expected = np.zeros((n, n))
    for a, b in itertools.permutations(range(n), 2):
        expected[a, b] = sum(np.prod([x[k] for k in range(i + 1) if k not in (a, b)])
                             for i in range(max(a, b), n))
    np.testing.assert_allclose(ad.hessian(lambda x: np.sum(np.cumprod(x)), x), expected,
                               rtol=1e-14, atol=1e-15)


# -- running maxima and minima --------------------------------------------------------------


def test_maximum_accumulate_ties_split_evenly():
    x = np.array([1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 5.0])
    w = np.arange(1.0, 8.0)
    # runs of the running max: [1], [3, 3, 3], [5, 5, 5]; the cotangent of output i is split
    # among the entries so far equal to it: 2 -> x1; 3 -> x1, x2; 4 -> x1, x2; ...
    expected = [1.0, 2 + 1.5 + 2, 1.5 + 2, 0.0, 5 + 3 + 7 / 3, 3 + 7 / 3, 7 / 3]
    np.testing.assert_allclose(vjp(lambda x: np.maximum.accumulate(x), x, w), expected,
                               rtol=1e-15)
    np.testing.assert_allclose(vjp(maximum_accumulate, x, w), expected, rtol=1e-15)


def test_minimum_accumulate_analytic():
    x = np.array([[3.0, 1.0, 2.0, 0.5], [0.0, 4.0, -1.0, -1.0]])
    w = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    g = vjp(lambda x: np.minimum.accumulate(x, axis=1), x, w)
    np.testing.assert_allclose(g, [[1.0, 5.0, 0.0, 4.0], [11.0, 0.0, 11.0, 4.0]], rtol=1e-15)
    np.testing.assert_allclose(vjp(lambda x: minimum_accumulate(x, 1), x, w), g, rtol=1e-15)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum], ids=["maximum", "minimum"])
def test_running_extremum_matches_central_differences(ufunc, axis):
    check(lambda x: ufunc.accumulate(x, axis=axis), X3)


# -- ufunc methods ---------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_add_and_multiply_accumulate_are_cumsum_and_cumprod(axis):
    w = weights_for(X3)
    np.testing.assert_allclose(vjp(lambda x: np.add.accumulate(x, axis), X3, w),
                               central_vjp(lambda x: np.cumsum(x, axis), X3, w), rtol=1e-6)
    np.testing.assert_allclose(vjp(lambda x: np.multiply.accumulate(x, axis=axis), X3, w),
                               central_vjp(lambda x: np.cumprod(x, axis), X3, w),
                               rtol=1e-6, atol=1e-8)


def test_accumulate_default_axis_is_0():
    w = weights_for(X3)
    np.testing.assert_allclose(vjp(np.add.accumulate, X3, w),
                               central_vjp(lambda x: np.cumsum(x, 0), X3, w), rtol=1e-6)


@pytest.mark.parametrize(
    "ufunc, da, db",
    [
        (np.add, lambda a, b, w: w.sum(1), lambda a, b, w: w.sum(0)),
        (np.subtract, lambda a, b, w: w.sum(1), lambda a, b, w: -w.sum(0)),
        (np.multiply, lambda a, b, w: w @ b, lambda a, b, w: a @ w),
        (np.divide, lambda a, b, w: w @ (1 / b), lambda a, b, w: -(a @ w) / b**2),
        (np.maximum, lambda a, b, w: (w * (a[:, None] > b)).sum(1),
         lambda a, b, w: (w * (a[:, None] < b)).sum(0)),
    ],
    ids=["add", "subtract", "multiply", "divide", "maximum"],
)
def test_outer_analytic(ufunc, da, db):
    a, b = np.array([1.0, -2.0]), np.array([0.5, 3.0, -1.0])
    w = np.arange(6.0).reshape(2, 3) - 2
    ga, gb = ad.pullback(lambda a, b: ufunc.outer(a, b), a, b)[1](w)
    np.testing.assert_allclose(ga, da(a, b, w), rtol=1e-15)
    np.testing.assert_allclose(gb, db(a, b, w), rtol=1e-15)


def test_outer_of_matrices_and_scalars():
    a, b = X3[0, :2, :2], X3[1, 0, :3]
    f = lambda a: np.multiply.outer(a, b)
    assert f(a).shape == (2, 2, 3)
    check(f, a)
    check(lambda b: np.subtract.outer(a, b), b)
    (g,) = ad.gradient(lambda s: np.add.outer(s, b).sum(), 2.0)
    assert g == 3.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: np.add.accumulate(x, dtype=np.float32), r"add\.accumulate\(\.\.\., dtype="),
        (lambda x: np.subtract.accumulate(x), r"np\.subtract\.accumulate is not differentiable"),
        (lambda x: np.multiply.outer(x, x, dtype=np.float32), r"np\.multiply\.outer with dtype="),
        (lambda x: np.cumsum(x, dtype=np.float32), r"np\.cumsum\(\.\.\., dtype="),
        (lambda x: np.gradient(np.ones(3), x), r"coordinate arrays given as spacing"),
    ],
    ids=["accumulate-dtype", "subtract-accumulate", "outer-dtype", "cumsum-dtype",
         "gradient-coordinates"],
)
def test_refused(call, match):
    with pytest.raises(ad.NotDifferentiable, match=match):
        ad.gradient(lambda x: call(x).sum(), np.array([1.0, 2.0, 4.0]))


# -- diff ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("axis", [0, 1, -1, -3])
def test_diff_matches_central_differences(n, axis):
    check(lambda x: np.diff(x, n=n, axis=axis), X3)


def test_diff_analytic():
    # y = (x1 - x0, x2 - x1): dx = (-w0, w0 - w1, w1)
    np.testing.assert_array_equal(vjp(np.diff, np.zeros(3), np.array([1.0, 10.0])),
                                  [-1.0, -9.0, 10.0])
    # second difference y = x0 - 2 x1 + x2
    np.testing.assert_array_equal(vjp(lambda x: np.diff(x, 2), np.zeros(3), np.array([1.0])),
                                  [1.0, -2.0, 1.0])
    # n beyond the length: an empty output, a zero gradient
    (g,) = ad.gradient(lambda x: np.diff(x, 3).sum(), np.ones(2))
    np.testing.assert_array_equal(g, [0.0, 0.0])


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("axis", [0, -1])
def test_diff_prepend_and_append(n, axis):
    x = X3[0]
    side = list(x.shape)
    side[axis] = 2
    pre = np.linspace(-1.0, 1.0, np.prod(side)).reshape(side)
    app = 0.7
    f = lambda x, p, a: np.diff(x, n, axis, p, a)
    w = weights_for(f(x, pre, app))
    gx, gp, ga = ad.pullback(f, x, pre, app)[1](w)
    np.testing.assert_allclose(gx, central_vjp(lambda v: f(v, pre, app), x, w), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(gp, central_vjp(lambda v: f(x, v, app), pre, w), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(ga, central(lambda v: np.sum(w * f(x, pre, v)), np.array(app)),
                               rtol=1e-6, atol=1e-8)
    # by keyword: constants, x still differentiated
    gx2 = vjp(lambda v: np.diff(v, n, axis, prepend=pre, append=app), x, w)
    np.testing.assert_allclose(gx2, gx, rtol=1e-15)


# -- gradient --------------------------------------------------------------------------------


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("axis", [None, 0, -1, (1, 0), (0, 2)], ids=str)
def test_gradient_matches_central_differences(axis, edge_order):
    f = np.concatenate([X3, X3[:1] * -0.3])  # (3, 3, 4): long enough for edge_order 2
    out = np.gradient(f, axis=axis, edge_order=edge_order)
    outs = out if isinstance(out, tuple) else (out,)
    ws = [weights_for(o) * (k + 1) for k, o in enumerate(outs)]

    def scalar(v):
        o = np.gradient(v, axis=axis, edge_order=edge_order)
        o = o if isinstance(o, tuple) else (o,)
        return sum(np.sum(w * oi) for w, oi in zip(ws, o))

    (g,) = ad.gradient(scalar, f)
    np.testing.assert_allclose(g, central(scalar, f), rtol=1e-6, atol=1e-8)


def test_gradient_analytic_1d():
    # unit spacing, edge_order 1: y0 = f1 - f0, yi = (f[i+1] - f[i-1]) / 2, y_last = f4 - f3
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    g = vjp(np.gradient, np.zeros(5), w)
    # g_j = sum_i w_i dy_i/df_j
    np.testing.assert_allclose(g, [-1 - 2 / 2, 1 - 3 / 2, 2 / 2 - 4 / 2, 3 / 2 - 5, 4 / 2 + 5],
                               rtol=1e-15)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_spacing_is_differentiated(edge_order):
    f = X3[0]  # (3, 4)

    def scalar(h, k):
        gy, gx = np.gradient(f, h, k, edge_order=edge_order)
        return np.sum(weights_for(gy) * gy) - 2.0 * np.sum(gx ** 2)

    gh, gk = ad.gradient(scalar, 0.5, 1.5)
    np.testing.assert_allclose(gh, central(lambda v: scalar(float(v), 1.5), np.array(0.5)),
                               rtol=1e-6)
    np.testing.assert_allclose(gk, central(lambda v: scalar(0.5, float(v)), np.array(1.5)),
                               rtol=1e-6)
    # one spacing shared by every axis
    shared = lambda h: np.sum(np.gradient(f, h, edge_order=edge_order)[1] ** 2) + np.sum(
        np.gradient(f, h, edge_order=edge_order)[0])
    (gh,) = ad.gradient(shared, 0.8)
    np.testing.assert_allclose(gh, central(lambda v: shared(float(v)), np.array(0.8)),
                               rtol=1e-6)


def test_gradient_float32():
    f = X3[0].astype(np.float32)
    (g,) = ad.gradient(lambda f: np.sum(np.gradient(f, axis=1, edge_order=2) ** 2), f)
    assert g.dtype == np.float32
    expected = central(lambda f: np.sum(np.gradient(f, axis=1, edge_order=2) ** 2), X3[0])
    np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize(
    "spacing, axis",
    [((np.array([0.0, 0.5, 1.7, 2.0]),), 1), ((np.array([0, 1, 3]), np.array([0.0, 0.5, 1.7, 2.0])),
                                              None),
     ((np.array([0, 1, 3]), 0.7), None), ((2.0, np.arange(4) * 3), None)],
    ids=["float-coords", "int-and-float-coords", "coords-and-scalar", "scalar-and-even-coords"],
)
def test_gradient_on_coordinates_matches_central_differences(spacing, axis, edge_order):
    f = X3[0]  # (3, 4)
    kw = {"edge_order": edge_order} if axis is None else {"edge_order": edge_order,
                                                           "axis": axis}

    def scalar(v):
        out = np.gradient(v, *spacing, **kw)
        out = out if isinstance(out, tuple) else (out,)
        return sum(np.sum(weights_for(o) * (k + 1) * o) for k, o in enumerate(out))

    (g,) = ad.gradient(scalar, f)
    np.testing.assert_allclose(g, central(scalar, f), rtol=1e-6, atol=1e-8)


def test_gradient_on_coordinates_analytic():
    # x = (0, 1, 3): interior row 1 has dx1 = 1, dx2 = 2, a = -2/3, b = 1/2, c = 1/6
    x = np.array([0.0, 1.0, 3.0])
    g = vjp(lambda f: np.gradient(f, x), np.zeros(3), np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(g, [-2 / 3, 1 / 2, 1 / 6], rtol=1e-15)


def test_the_cumprod_domain_catches_a_rule_that_divides_by_x():
    from adcheck.registry import lookup

    def divides(*args, **kwargs):
        a, axis = args[0], (args[1] if len(args) > 1 else kwargs.get("axis"))
        y = np.cumprod(a, axis=axis)

        def back(dy):
            x, ax = (np.ravel(a), 0) if axis is None or np.ndim(a) == 0 else (a, axis)
            d = np.reshape(dy, np.shape(x)) * np.reshape(y, np.shape(x))
            g = np.flip(np.cumsum(np.flip(d, ax), ax), ax) / np.where(x == 0, 1, x)
            return (np.reshape(g, np.shape(a)).astype(a.dtype),) + (None,) * (len(args) - 1)

        return y, back

    with ad.scoped_rules():
        ad.adjoint(np.cumprod, domain=lookup(np.cumprod).domain)(divides)
        result = ad.verify(np.cumprod, max_examples=50, seed=3, raise_exception=False)
    assert not result.passed
    assert any(f.kind == "value" for f in result.failures)
    assert "0." in result.smallest_input  # found at a zero entry
