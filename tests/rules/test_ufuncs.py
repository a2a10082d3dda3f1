"""Elementwise rules against analytic derivatives: values, float32, 0-d, second derivatives."""

import numpy as np
import pytest

import adcheck as ad

# (function, analytic derivative, analytic second derivative, a point inside the domain)
UNARY = [
    (np.negative, lambda x: -np.ones_like(x), lambda x: 0 * x, [0.3, -1.2]),
    (np.positive, lambda x: np.ones_like(x), lambda x: 0 * x, [0.3, -1.2]),
    (np.square, lambda x: 2 * x, lambda x: 2 + 0 * x, [0.3, -1.2]),
    (np.reciprocal, lambda x: -1 / x**2, lambda x: 2 / x**3, [0.3, -1.2]),
    (np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x**-1.5, [0.3, 2.5]),
    (np.cbrt, lambda x: x ** (-2 / 3) / 3, lambda x: -2 / 9 * x ** (-5 / 3), [0.3, 2.5]),
    (np.exp, np.exp, np.exp, [0.3, -1.2]),
    (np.exp2, lambda x: np.log(2) * 2**x, lambda x: np.log(2) ** 2 * 2**x, [0.3, -1.2]),
    (np.expm1, np.exp, np.exp, [0.3, -1.2]),
    (np.log, lambda x: 1 / x, lambda x: -1 / x**2, [0.3, 2.5]),
    (np.log2, lambda x: 1 / (x * np.log(2)), lambda x: -1 / (x**2 * np.log(2)), [0.3, 2.5]),
    (np.log10, lambda x: 1 / (x * np.log(10)), lambda x: -1 / (x**2 * np.log(10)), [0.3, 2.5]),
    (np.log1p, lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2, [0.3, -0.5]),
    (np.sin, np.cos, lambda x: -np.sin(x), [0.3, -1.2]),
    (np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), [0.3, -1.2]),
    (np.tan, lambda x: 1 / np.cos(x) ** 2, lambda x: 2 * np.tan(x) / np.cos(x) ** 2, [0.3, -1.2]),
    (np.arcsin, lambda x: 1 / np.sqrt(1 - x**2), lambda x: x / (1 - x**2) ** 1.5, [0.3, -0.7]),
    (np.arccos, lambda x: -1 / np.sqrt(1 - x**2), lambda x: -x / (1 - x**2) ** 1.5, [0.3, -0.7]),
    (np.arctan, lambda x: 1 / (1 + x**2), lambda x: -2 * x / (1 + x**2) ** 2, [0.3, -1.2]),
    (np.sinh, np.cosh, np.sinh, [0.3, -1.2]),
    (np.cosh, np.sinh, np.cosh, [0.3, -1.2]),
    (np.tanh, lambda x: 1 / np.cosh(x) ** 2, lambda x: -2 * np.tanh(x) / np.cosh(x) ** 2,
     [0.3, -1.2]),
    (np.arctanh, lambda x: 1 / (1 - x**2), lambda x: 2 * x / (1 - x**2) ** 2, [0.3, -0.7]),
    (np.absolute, np.sign, lambda x: 0 * x, [0.3, -1.2]),
]
IDS = [u[0].__name__ for u in UNARY]


@pytest.mark.parametrize("fn, d1, d2, point", UNARY, ids=IDS)
def test_unary_first_derivative(fn, d1, d2, point):
    x = np.array(point)
    (g,) = ad.gradient(lambda x: fn(x).sum(), x)
    np.testing.assert_allclose(g, d1(x), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("fn, d1, d2, point", UNARY, ids=IDS)
def test_unary_second_derivative(fn, d1, d2, point):
    x = np.array(point)
    H = ad.hessian(lambda x: fn(x).sum(), x)
    np.testing.assert_allclose(H, np.diag(d2(x)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fn, d1, d2, point", UNARY, ids=IDS)
def test_unary_float32_and_zero_dim(fn, d1, d2, point):
    x32 = np.array(point, dtype=np.float32)
    (g,) = ad.gradient(lambda x: fn(x).sum(), x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, d1(x32.astype(np.float64)), rtol=2e-6, atol=1e-7)
    x0 = np.array(point[0])
    (g0,) = ad.gradient(fn, x0)
    assert g0.shape == ()
    assert g0 == pytest.approx(d1(x0), rel=1e-13)


BINARY = [
    (np.add, lambda x, y: (1 + 0 * x, 1 + 0 * y)),
    (np.subtract, lambda x, y: (1 + 0 * x, -1 + 0 * y)),
    (np.multiply, lambda x, y: (y, x)),
    (np.true_divide, lambda x, y: (1 / y, -x / y**2)),
    (np.power, lambda x, y: (y * x ** (y - 1), x**y * np.log(x))),
    (np.maximum, lambda x, y: ((x > y) * 1.0, (x < y) * 1.0)),
    (np.minimum, lambda x, y: ((x < y) * 1.0, (x > y) * 1.0)),
]


@pytest.mark.parametrize("fn, d", BINARY, ids=[b[0].__name__ for b in BINARY])
@pytest.mark.parametrize("xs, ys", [((3,), (3,)), ((2, 3), (3,)), ((), (2, 2)), ((2, 1), (1, 3))])
def test_binary_with_broadcasting(fn, d, xs, ys):
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 2.0, size=xs)
    y = rng.uniform(0.5, 2.0, size=ys) + 0.05  # no ties for maximum / minimum
    w = rng.normal(size=np.broadcast_shapes(xs, ys))
    gx, gy = ad.gradient(lambda x, y: (fn(x, y) * w).sum(), x, y)
    dx, dy = d(np.broadcast_to(x, w.shape), np.broadcast_to(y, w.shape))
    expect_x = _unbroadcast(dx * w, xs)
    expect_y = _unbroadcast(dy * w, ys)
    assert np.shape(gx) == xs and np.shape(gy) == ys
    np.testing.assert_allclose(gx, expect_x, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gy, expect_y, rtol=1e-13, atol=1e-15)


def _unbroadcast(g, shape):
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    for axis, n in enumerate(shape):
        if n == 1:
            g = g.sum(axis=axis, keepdims=True)
    return g.reshape(shape)


def test_maximum_tie_splits_the_cotangent():
    x, y = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    gx, gy = ad.gradient(lambda x, y: np.maximum(x, y).sum(), x, y)
    np.testing.assert_array_equal(gx, [0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0])


def test_power_with_constant_negative_base_exponent_gradient_is_not_nan():
    # d/dx of x**3 at negative x is fine; the exponent is a constant so its log never matters.
    (g,) = ad.gradient(lambda x: np.power(x, 3.0).sum(), np.array([-2.0, 1.5]))
    np.testing.assert_allclose(g, [12.0, 6.75])


def test_where_routes_the_cotangent_to_the_taken_branch():
    cond = np.array([True, False, True])
    gx, gy = ad.gradient(
        lambda x, y: (np.where(cond, x * 2.0, y**2)).sum(), np.array([1.0, 2.0, 3.0]), 4.0
    )
    np.testing.assert_array_equal(gx, [2.0, 0.0, 2.0])
    assert gy == 8.0  # y broadcast to the one False slot: 2 * y


def test_where_with_one_argument_is_not_differentiable_but_usable():
    def f(x):
        (idx,) = np.where(x > 0)
        return (x[idx] ** 2).sum()

    np.testing.assert_array_equal(ad.gradient(f, np.array([-1.0, 2.0, 3.0]))[0], [0.0, 4.0, 6.0])
