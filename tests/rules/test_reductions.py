"""Reduction rules (sum, mean, prod, max/amax, min/amin, ptp) against central differences and
analytic derivatives: axes (negative, tuples, none), keepdims, zeros in prod, ties in max,
float32, 0-d arrays, second derivatives, and the keyword arguments they refuse."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central_vjp

REDUCTIONS = [np.sum, np.mean, np.prod, np.max, np.amax, np.min, np.amin]
IDS = [f.__name__ for f in REDUCTIONS]


def vjp(f, x, w):
    return ad.pullback(f, x)[1](w)[0]


# Distinct entries (no ties) between 0.5 and 2.2 in magnitude, so that prod's derivative is
# well scaled and max/min are smooth.
X3 = (np.arange(1, 25, dtype=np.float64).reshape(2, 3, 4) * 0.07 + 0.5)[:, ::-1, :]
X3 = X3 * np.where(np.arange(24).reshape(2, 3, 4) % 3 == 0, -1.0, 1.0)

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("fn", REDUCTIONS, ids=IDS)
def test_matches_central_differences(fn, axis, keepdims):
    f = lambda x: fn(x, axis=axis, keepdims=keepdims)
    w = np.random.default_rng(0).normal(size=np.shape(f(X3)))
    g = vjp(f, X3, w)
    assert g.shape == X3.shape
    np.testing.assert_allclose(g, central_vjp(f, X3, w), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn", REDUCTIONS, ids=IDS)
def test_axis_given_positionally_and_as_method(fn):
    w = np.array([[1.0, -2.0, 0.5, 3.0], [0.25, 1.0, -1.0, 2.0]])
    expected = central_vjp(lambda x: fn(x, 1), X3, w)
    np.testing.assert_allclose(vjp(lambda x: fn(x, 1), X3, w), expected, rtol=1e-6, atol=1e-8)
    name = {"amax": "max", "amin": "min"}.get(fn.__name__, fn.__name__)
    method = lambda x: getattr(x, name)(1)
    np.testing.assert_allclose(vjp(method, X3, w), expected, rtol=1e-6, atol=1e-8)


def test_sum_and_mean_analytic():
    x = np.arange(6.0).reshape(2, 3)
    (g,) = ad.gradient(lambda x: (np.sum(x, axis=0) * np.array([1.0, 2.0, 3.0])).sum(), x)
    np.testing.assert_array_equal(g, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    (g,) = ad.gradient(lambda x: (np.mean(x, axis=-1, keepdims=True) * [[1.0], [4.0]]).sum(), x)
    np.testing.assert_allclose(g, [[1 / 3] * 3, [4 / 3] * 3], rtol=1e-15)
    (g,) = ad.gradient(lambda x: np.mean(x, axis=(0, 1)), x)
    np.testing.assert_allclose(g, np.full((2, 3), 1 / 6), rtol=1e-15)


def test_broadcast_argument_gets_summed_cotangent():
    b = np.array([1.0, 2.0, 3.0])
    x = np.ones((4, 3))
    # d/db sum(x * b) = column sums of x; d/db mean((x + b)**2) = 2 (x + b) averaged over rows / 3
    gx, gb = ad.gradient(lambda x, b: np.sum(x * b), x, b)
    np.testing.assert_array_equal(gb, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(gx, np.broadcast_to(b, (4, 3)))
    (gb,) = ad.gradient(lambda b: np.mean((x + b) ** 2), b)
    np.testing.assert_allclose(gb, 2 * (1 + b) / 3, rtol=1e-15)


def test_gradient_is_a_writable_array():
    (g,) = ad.gradient(lambda x: np.sum(x), np.ones((2, 3)))
    g *= 2  # a read-only broadcast view would raise here
    np.testing.assert_array_equal(g, np.full((2, 3), 2.0))


def test_prod_with_one_zero_is_exact():
    x = np.array([2.0, 0.0, 5.0, 3.0])
    (g,) = ad.gradient(np.prod, x)
    np.testing.assert_array_equal(g, [0.0, 30.0, 0.0, 0.0])


def test_prod_with_two_zeros_has_zero_gradient():
    (g,) = ad.gradient(np.prod, np.array([0.0, 4.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_prod_with_zeros_along_an_axis():
    x = np.array([[1.0, 0.0, 3.0], [2.0, 5.0, 7.0], [0.0, 0.0, 4.0]])
    (g,) = ad.gradient(lambda x: (np.prod(x, axis=1) * np.array([1.0, 10.0, 100.0])).sum(), x)
    np.testing.assert_array_equal(g, [[0.0, 3.0, 0.0], [350.0, 140.0, 100.0], [0.0, 0.0, 0.0]])
    (g,) = ad.gradient(lambda x: np.prod(x, axis=0).sum(), x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 28.0], [0.0, 0.0, 12.0], [2.0, 0.0, 21.0]])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_prod_of_every_length(n):
    # Group lengths that are and are not powers of two (the rule pads to one).
    x = np.linspace(0.5, 1.7, n) * np.where(np.arange(n) % 2, -1.0, 1.0)
    (g,) = ad.gradient(np.prod, x)
    expected = [np.prod(np.delete(x, i)) for i in range(n)]
    np.testing.assert_allclose(g, expected, rtol=1e-14)


def test_max_ties_split_the_cotangent_evenly():
    (g,) = ad.gradient(np.max, np.array([1.0, 5.0, 5.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
    x = np.array([[3.0, 3.0, 3.0], [1.0, 7.0, 2.0]])
    (g,) = ad.gradient(lambda x: (np.max(x, axis=1) * np.array([6.0, 1.0])).sum(), x)
    np.testing.assert_array_equal(g, [[2.0, 2.0, 2.0], [0.0, 1.0, 0.0]])


def test_min_goes_to_the_argmin_per_column():
    x = np.array([[3.0, -1.0, 4.0], [1.0, 5.0, 4.0]])
    (g,) = ad.gradient(lambda x: (np.amin(x, axis=0, keepdims=True) * [[1.0, 2.0, 3.0]]).sum(), x)
    np.testing.assert_array_equal(g, [[0.0, 2.0, 1.5], [1.0, 0.0, 1.5]])


def test_ufunc_reduce_uses_the_reduction_rules():
    x = np.array([[1.0, 4.0], [3.0, 2.0]])
    (g,) = ad.gradient(lambda x: (np.add.reduce(x, axis=1) * [1.0, 2.0]).sum(), x)
    np.testing.assert_array_equal(g, [[1.0, 1.0], [2.0, 2.0]])
    (g,) = ad.gradient(lambda x: np.maximum.reduce(x, axis=0).sum(), x)
    np.testing.assert_array_equal(g, [[0.0, 1.0], [1.0, 0.0]])
    (g,) = ad.gradient(lambda x: np.multiply.reduce(x, axis=None), x)
    np.testing.assert_array_equal(g, [[24.0, 6.0], [8.0, 12.0]])


@pytest.mark.parametrize("fn", REDUCTIONS, ids=IDS)
def test_float32_gradient_stays_float32(fn):
    x = X3.astype(np.float32)
    (g,) = ad.gradient(lambda x: (fn(x, axis=(0, -1)) * np.array([1.0, -2.0, 3.0])).sum(), x)
    assert g.dtype == np.float32
    w = np.array([1.0, -2.0, 3.0])
    expected = central_vjp(lambda x: fn(x, axis=(0, -1)), X3, w)
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6)


ZERO_DIM_CASES = [
    (fn, axis)
    for fn in REDUCTIONS
    for axis in [None, 0, -1, ()]
    if not (fn is np.mean and axis in (0, -1))  # NumPy's mean itself rejects them for 0-d
]


@pytest.mark.parametrize("fn, axis", ZERO_DIM_CASES,
                         ids=[f"{f.__name__}-{a}" for f, a in ZERO_DIM_CASES])
def test_zero_dim_input(fn, axis):
    f = lambda x: fn(x, axis=axis) * 3.0
    (g,) = ad.gradient(f, np.array(-1.5))
    assert np.shape(g) == ()
    assert g == 3.0


def test_second_derivative_of_sum_and_mean():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ad.hessian(lambda x: np.sum(x) ** 2, x), np.full((3, 3), 2.0))
    # mean(x)**3: H = 6 mean(x) / n**2
    H = ad.hessian(lambda x: np.mean(x) ** 3, x)
    np.testing.assert_allclose(H, np.full((3, 3), 6 * np.mean(x) / 9), rtol=1e-14)
    # sum over an axis, then squares: block-diagonal Hessian
    M = np.arange(6.0).reshape(2, 3)
    H = ad.hessian(lambda m: (np.sum(m, axis=-1) ** 2).sum(), M)
    expected = np.zeros((2, 3, 2, 3))
    expected[0, :, 0, :] = 2.0
    expected[1, :, 1, :] = 2.0
    np.testing.assert_array_equal(H, expected)


def test_second_derivative_of_prod_with_a_zero():
    # H[i, j] = prod of the entries other than i and j (0 on the diagonal).
    x = np.array([2.0, 0.0, 3.0, -1.5, 0.5])
    H = ad.hessian(np.prod, x)
    expected = np.zeros((5, 5))
    for i in range(5):
        for j in range(5):
            if i != j:
                expected[i, j] = np.prod(np.delete(x, [i, j]))
    np.testing.assert_allclose(H, expected, rtol=1e-14, atol=1e-15)


def test_second_derivative_of_max():
    # (max over rows)**2: 2 on the diagonal at each column's arg-max, 0 elsewhere.
    x = np.array([[1.0, 4.0], [3.0, 2.0]])
    H = ad.hessian(lambda x: (np.max(x, axis=0) ** 2).sum(), x)
    expected = np.zeros((2, 2, 2, 2))
    expected[1, 0, 1, 0] = 2.0
    expected[0, 1, 0, 1] = 2.0
    np.testing.assert_array_equal(H, expected)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: np.sum(x, out=np.zeros(())), r"np\.sum\(\.\.\., out="),
        (lambda x: np.sum(x, dtype=np.float32), r"np\.sum\(\.\.\., dtype="),
        (lambda x: np.sum(x, where=np.array([True, False])), r"np\.sum\(\.\.\., where="),
        (lambda x: np.sum(x, initial=1.0), r"np\.sum\(\.\.\., initial="),
        (lambda x: np.mean(x, dtype=np.float64), r"np\.mean\(\.\.\., dtype="),
        (lambda x: np.prod(x, initial=2.0), r"np\.prod\(\.\.\., initial="),
        (lambda x: np.max(x, initial=0.0), r"np\.max\(\.\.\., initial="),
        (lambda x: np.amin(x, where=np.array([True, False]), initial=9.0), r"np\.amin\(\.\.\."),
    ],
    ids=["sum-out", "sum-dtype", "sum-where", "sum-initial", "mean-dtype", "prod-initial",
         "max-initial", "amin-where"],
)
def test_unsupported_keywords_are_refused(call, match):
    with pytest.raises(ad.NotDifferentiable, match=match):
        ad.gradient(call, np.array([1.0, 2.0]))


def test_where_true_is_accepted():
    (g,) = ad.gradient(lambda x: np.sum(x * x, where=True), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 4.0])


@pytest.mark.parametrize("fn", [np.sum, np.prod, np.max], ids=["sum", "prod", "max"])
@settings(max_examples=15)
@given(data=st.data())
def test_rule_on_its_declared_domain(fn, data):
    args, kwargs = lookup(fn).domain.draw_args(data.draw)
    x = args[0]
    f = lambda x: fn(x, *args[1:], **kwargs)
    y = f(x)
    w = np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))
    g = vjp(f, x, w)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, central_vjp(f, x, w), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
def test_ptp_matches_central_differences(axis, keepdims):
    f = lambda x: np.ptp(x, axis=axis, keepdims=keepdims)
    w = np.random.default_rng(1).normal(size=np.shape(f(X3)))
    np.testing.assert_allclose(vjp(f, X3, w), central_vjp(f, X3, w), rtol=1e-6, atol=1e-8)


def test_ptp_analytic_ties_and_single_entries():
    (g,) = ad.gradient(np.ptp, np.array([1.0, 4.0, -2.0, 4.0, -2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, -0.5, 0.5, -0.5])
    x = np.array([[3.0, -1.0, 4.0], [1.0, 5.0, 4.0]])
    (g,) = ad.gradient(lambda x: (np.ptp(x, axis=0) * np.array([1.0, 2.0, 3.0])).sum(), x)
    np.testing.assert_array_equal(g, [[1.0, -2.0, 0.0], [-1.0, 2.0, 0.0]])
    # a group of one entry: ptp is constantly 0
    (g,) = ad.gradient(lambda x: np.ptp(x, axis=1).sum(), np.ones((3, 1)))
    np.testing.assert_array_equal(g, np.zeros((3, 1)))
    (g,) = ad.gradient(np.ptp, np.array(2.0))
    assert g == 0.0


def test_ptp_float32_and_refused_out():
    x = X3.astype(np.float32)
    (g,) = ad.gradient(lambda x: (np.ptp(x, axis=-1) * np.arange(6.0).reshape(2, 3)).sum(), x)
    assert g.dtype == np.float32
    expected = central_vjp(lambda x: np.ptp(x, axis=-1), X3, np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ad.NotDifferentiable, match=r"np\.ptp\(\.\.\., out="):
        ad.gradient(lambda x: np.ptp(x, out=np.zeros(())), np.array([1.0, 2.0]))
