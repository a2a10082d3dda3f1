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
    (np.fabs, np.sign, lambda x: 0 * x, [0.3, -1.2]),
    (np.arcsinh, lambda x: 1 / np.sqrt(x**2 + 1), lambda x: -x / (x**2 + 1) ** 1.5, [0.3, -1.2]),
    (np.arccosh, lambda x: 1 / np.sqrt(x**2 - 1), lambda x: -x / (x**2 - 1) ** 1.5, [1.3, 2.5]),
    (np.deg2rad, lambda x: np.pi / 180 + 0 * x, lambda x: 0 * x, [30.0, -1.2]),
    (np.radians, lambda x: np.pi / 180 + 0 * x, lambda x: 0 * x, [30.0, -1.2]),
    (np.rad2deg, lambda x: 180 / np.pi + 0 * x, lambda x: 0 * x, [0.3, -1.2]),
    (np.degrees, lambda x: 180 / np.pi + 0 * x, lambda x: 0 * x, [0.3, -1.2]),
    # sinc(x) = sin(pi x) / (pi x); both sides of the switch to the series at |x| = 0.25
    (np.sinc, lambda x: (np.cos(np.pi * x) - np.sinc(x)) / x,
     lambda x: -np.pi**2 * np.sinc(x) - 2 * (np.cos(np.pi * x) - np.sinc(x)) / x**2,
     [0.3, -1.2, 0.2, 0.26]),
    (np.real, np.ones_like, lambda x: 0 * x, [0.3, -1.2]),
    (np.imag, np.zeros_like, lambda x: 0 * x, [0.3, -1.2]),
    (np.conjugate, np.ones_like, lambda x: 0 * x, [0.3, -1.2]),
    (np.real_if_close, np.ones_like, lambda x: 0 * x, [0.3, -1.2]),
    (np.angle, np.zeros_like, lambda x: 0 * x, [0.3, -1.2]),
    (np.nan_to_num, np.ones_like, lambda x: 0 * x, [0.3, -1.2]),
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
    (np.float_power, lambda x, y: (y * x ** (y - 1), x**y * np.log(x))),
    (np.fmax, lambda x, y: ((x > y) * 1.0, (x < y) * 1.0)),
    (np.fmin, lambda x, y: ((x < y) * 1.0, (x > y) * 1.0)),
    (np.logaddexp, lambda x, y: (np.exp(x) / (np.exp(x) + np.exp(y)),
                                 np.exp(y) / (np.exp(x) + np.exp(y)))),
    (np.logaddexp2, lambda x, y: (2**x / (2**x + 2**y), 2**y / (2**x + 2**y))),
    (np.arctan2, lambda y, x: (x / (x**2 + y**2), -y / (x**2 + y**2))),
    (np.hypot, lambda x, y: (x / np.sqrt(x**2 + y**2), y / np.sqrt(x**2 + y**2))),
    (np.remainder, lambda x, y: (1 + 0 * x, -np.floor(x / y))),
    (np.fmod, lambda x, y: (1 + 0 * x, -np.trunc(x / y))),
    (np.copysign, lambda x, y: (np.sign(x) * np.sign(y), 0 * y)),
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


def test_divide_and_mod_are_aliases_with_rules():
    assert np.divide is np.true_divide and np.mod is np.remainder
    gx, gy = ad.gradient(lambda x, y: np.mod(x, y) + np.divide(x, y), 7.5, 2.0)
    assert gx == pytest.approx(1 + 1 / 2.0) and gy == pytest.approx(-3.0 - 7.5 / 4.0)


# -- power: second derivatives, also where a branch is special-cased (issue 9, item 8) ------


def _power_hessian(x, p):
    return np.array([
        [p * (p - 1) * x ** (p - 2), x ** (p - 1) * (1 + p * np.log(x))],
        [x ** (p - 1) * (1 + p * np.log(x)), x**p * np.log(x) ** 2],
    ])


@pytest.mark.parametrize("fn", [np.power, np.float_power])
@pytest.mark.parametrize("x, p", [(2.0, 0.0), (2.0, 1.5), (0.7, -2.0), (3.0, 1.0)])
def test_power_hessian_in_base_and_exponent(fn, x, p):
    H = ad.hessian(lambda v: fn(v[0], v[1]), np.array([x, p]))
    np.testing.assert_allclose(H, _power_hessian(x, p), rtol=1e-13, atol=1e-15)


def test_power_hessian_at_exponent_zero_has_the_mixed_term():
    # d/dx x**p = p x**(p-1), whose p-derivative at p = 0 is 1/x.
    H = ad.hessian(lambda v: v[0] ** v[1], np.array([2.0, 0.0]))
    np.testing.assert_allclose(H, [[0.0, 0.5], [0.5, np.log(2.0) ** 2]], rtol=1e-14)


def test_power_at_zero_base_and_zero_exponent_is_finite_at_every_order():
    # x ** 0 is the constant 1 even at x = 0: derivatives in x are 0, and nothing is NaN.
    assert ad.derivative(lambda x: x**0.0)(0.0) == 0.0
    assert ad.derivative(ad.derivative(lambda x: x**0.0))(0.0) == 0.0
    H = ad.hessian(lambda v: v[0] ** v[1], np.array([0.0, 0.0]))
    assert np.all(np.isfinite(H)) and H[0, 0] == 0.0


def test_power_second_derivative_in_the_base_through_zero():
    # x**3 at 0: 3 x**2 -> 6 x -> 6; the inner x ** 2 and x ** 1 at x = 0 are not special.
    d3 = ad.derivative(ad.derivative(ad.derivative(lambda x: x**3.0)))
    assert d3(0.0) == 6.0
    assert ad.derivative(ad.derivative(lambda x: x**1.0))(0.0) == 0.0


def test_float_power_keeps_the_argument_dtype_of_the_cotangent():
    x = np.array([1.5, 2.0], dtype=np.float32)
    (g,) = ad.gradient(lambda x: np.float_power(x, 3).sum(), x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 3 * x.astype(np.float64) ** 2, rtol=1e-7)


# -- sinc through 0 --------------------------------------------------------------------------


def test_sinc_derivatives_at_and_near_zero():
    # Taylor series of sin(pi x) / (pi x) = 1 - a x^2 / 3! + a^2 x^4 / 5! - ..., a = pi^2.
    a = np.pi**2
    d = ad.derivative
    assert d(np.sinc)(0.0) == 0.0
    assert d(d(np.sinc))(0.0) == pytest.approx(-a / 3, rel=1e-15)
    assert d(d(d(np.sinc)))(0.0) == 0.0
    assert d(d(d(d(np.sinc))))(0.0) == pytest.approx(a**2 / 5, rel=1e-13)
    x = -0.01
    slope = -a * x / 3 + a**2 * x**3 / 30 - a**3 * x**5 / 840 + a**4 * x**7 / 45360
    curvature = -a / 3 + a**2 * x**2 / 10 - a**3 * x**4 / 168 + a**4 * x**6 / 6480
    assert d(np.sinc)(x) == pytest.approx(slope, rel=1e-14)
    assert d(d(np.sinc))(x) == pytest.approx(curvature, rel=1e-14)


# -- fmax / fmin with NaN, ties of the extrema -------------------------------------------------


def test_fmax_and_fmin_send_the_cotangent_past_a_nan():
    x = np.array([np.nan, 1.0, 3.0])
    y = np.array([2.0, np.nan, 1.0])
    for fn, expect_x in ((np.fmax, [0.0, 1.0, 1.0]), (np.fmin, [0.0, 1.0, 0.0])):
        gx, gy = ad.gradient(lambda x, y, fn=fn: fn(x, y).sum(), x, y)
        np.testing.assert_array_equal(gx, expect_x)
        np.testing.assert_array_equal(gy, 1.0 - np.array(expect_x))


# -- clip --------------------------------------------------------------------------------------


def test_clip_with_scalar_bounds():
    x = np.array([-2.0, 0.5, 3.0])
    (g,) = ad.gradient(lambda x: (np.clip(x, -1.0, 1.0) * np.array([1.0, 2.0, 3.0])).sum(), x)
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0])


@pytest.mark.parametrize("call", [
    lambda x: np.clip(x, None, 1.0), lambda x: np.clip(x, a_min=None, a_max=1.0),
    lambda x: np.clip(x, max=1.0), lambda x: x.clip(None, 1.0),
])
def test_clip_with_one_bound_any_spelling(call):
    x = np.array([-2.0, 0.5, 3.0])
    (g,) = ad.gradient(lambda x: call(x).sum(), x)
    np.testing.assert_array_equal(g, [1.0, 1.0, 0.0])


def test_clip_gradient_reaches_traced_array_bounds_with_broadcasting():
    x = np.array([[-2.0, 0.5, 3.0], [0.0, 0.2, 0.9]])
    low = np.array([-1.0, 0.0, 0.0])
    high = np.array([[1.0], [0.5]])
    w = np.arange(1.0, 7.0).reshape(2, 3)
    gx, glow, ghigh = ad.gradient(lambda x, lo, hi: (np.clip(x, lo, hi) * w).sum(), x, low, high)
    inside = (x > low) & (x < high)
    np.testing.assert_array_equal(gx, w * inside)
    np.testing.assert_array_equal(glow, (w * (x < low)).sum(axis=0))
    np.testing.assert_array_equal(ghigh, (w * (x > high)).sum(axis=1, keepdims=True))


def test_clip_at_a_bound_splits_the_cotangent_and_refuses_out():
    gx, glow = ad.gradient(lambda x, lo: np.clip(x, lo, 5.0).sum(), np.array([1.0]), 1.0)
    assert gx[0] == 0.5 and glow == 0.5
    with pytest.raises(ad.NotDifferentiable, match=r"np.clip\(..., out=...\)"):
        ad.gradient(lambda x: np.clip(x, 0, 1, out=np.zeros(2)).sum(), np.ones(2))


def test_clip_second_derivative_is_that_of_the_taken_piece():
    H = ad.hessian(lambda x: (np.clip(x, -1.0, 1.0) ** 2).sum(), np.array([0.5, 2.0]))
    np.testing.assert_array_equal(H, np.diag([2.0, 0.0]))


# -- nan_to_num, real / imag / conj, heaviside, ldexp, copysign ---------------------------------


def test_nan_to_num_cotangent_goes_to_finite_entries_and_to_a_positional_fill():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    gx, gnan, gpos, gneg = ad.gradient(
        lambda x, *fill: (np.nan_to_num(x, True, *fill) * w).sum(), x, 7.0, 8.0, -9.0)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 0.0, 0.0, 5.0])
    assert (gnan, gpos, gneg) == (2.0, 3.0, 4.0)
    (g,) = ad.gradient(lambda x: (np.nan_to_num(x, nan=1.0, posinf=9.0, neginf=-1.0) * w).sum(), x)
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 5.0])
    with pytest.raises(ad.NotDifferentiable, match="copy=False"):
        ad.gradient(lambda x: np.nan_to_num(x, copy=False).sum(), x)


@pytest.mark.parametrize("fn", [np.real, np.imag, np.conj, np.conjugate, np.angle])
def test_complex_values_are_refused_by_name(fn):
    with pytest.raises(ad.NotDifferentiable, match="complex"):
        ad.gradient(lambda x: fn(x * 1j).sum(), np.ones(2))


def test_real_imag_conj_of_a_real_array():
    x = np.array([1.5, -2.0])
    (g,) = ad.gradient(lambda x: (np.real(x) * 3 + np.imag(x) * 5 + np.conj(x) * x).sum(), x)
    np.testing.assert_array_equal(g, 3 + 2 * x)


def test_heaviside_differentiates_its_value_at_zero():
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    gx, gh = ad.gradient(lambda x, h: (np.heaviside(x, h) * np.arange(1.0, 5.0)).sum(), x, 0.5)
    np.testing.assert_array_equal(gx, 0.0)
    assert gh == 2.0 + 4.0


def test_ldexp_and_copysign():
    x = np.array([1.5, -3.0, 0.25])
    e = np.array([2, -1, 0])
    (g,) = ad.gradient(lambda x: np.ldexp(x, e).sum(), x)
    np.testing.assert_array_equal(g, 2.0**e)
    gx, gs = ad.gradient(lambda x, s: np.copysign(x, s).sum(), x, np.array([-1.0, -2.0, 3.0]))
    np.testing.assert_array_equal(gx, [-1.0, 1.0, 1.0])
    np.testing.assert_array_equal(gs, 0.0)


@pytest.mark.parametrize("fn, hess", [
    (np.logaddexp, lambda x, y: np.exp(x + y) / (np.exp(x) + np.exp(y)) ** 2
     * np.array([[1.0, -1.0], [-1.0, 1.0]])),
    (np.hypot, lambda x, y: np.array([[y * y, -x * y], [-x * y, x * x]]) / np.hypot(x, y) ** 3),
    (np.arctan2, lambda y, x: np.array([[-2 * x * y, y * y - x * x],
                                        [y * y - x * x, 2 * x * y]]) / (x * x + y * y) ** 2),
])
def test_binary_hessians(fn, hess):
    x, y = 0.7, -1.3
    H = ad.hessian(lambda v: fn(v[0], v[1]), np.array([x, y]))
    np.testing.assert_allclose(H, hess(x, y), rtol=1e-13, atol=1e-15)
