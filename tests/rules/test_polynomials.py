"""polyval, trapezoid and interp against central differences, NumPy's values and analytic
derivatives: every argument differentiated, 0-d points, float32, Hessians, outside points."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central, central_vjp, check_vjp

P = np.array([0.5, -1.0, 2.0, 3.0])
XS = np.array([[-1.3, 0.2], [0.7, 1.9]])


def test_polyval_against_central_differences():
    check_vjp(lambda x: np.polyval(P, x), XS)
    check_vjp(lambda p: np.polyval(p, XS), P)


def test_polyval_analytic():
    x = 1.5
    gp, gx = ad.gradient(lambda p, x: np.polyval(p, x), P, x)
    np.testing.assert_allclose(gp, [x**3, x**2, x, 1.0], rtol=1e-15)
    assert gx == pytest.approx(3 * 0.5 * x**2 - 2 * x + 2.0, rel=1e-15)


def test_polyval_constant_and_hessian():
    gp, gx = ad.gradient(lambda p, x: np.polyval(p, x), np.array([4.0]), 2.0)
    np.testing.assert_array_equal(gp, [1.0])
    assert gx == 0.0
    h = np.asarray(ad.hessian(lambda x: np.polyval(P, x).sum(), np.array([0.3, -2.0])))
    np.testing.assert_allclose(h, np.diag(6 * 0.5 * np.array([0.3, -2.0]) - 2.0), atol=1e-14)


def test_polyval_float32():
    x = XS.astype(np.float32)
    (g,) = ad.pullback(lambda x: np.polyval(P.astype(np.float32), x), x)[1](np.ones((2, 2)))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.polyval(np.polyder(P), XS), rtol=1e-5)


Y3 = np.sin(np.arange(24.0) * 1.7).reshape(2, 3, 4)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_trapezoid_y_against_central_differences(axis):
    check_vjp(lambda y: np.trapezoid(y, axis=axis), Y3)
    check_vjp(lambda y: np.trapezoid(y, dx=0.3, axis=axis), Y3)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_trapezoid_x_against_central_differences(axis):
    n = Y3.shape[axis]
    x1 = np.cumsum(np.linspace(0.5, 1.5, n))
    check_vjp(lambda x: np.trapezoid(Y3, x, axis=axis), x1)
    check_vjp(lambda y: np.trapezoid(y, x1, axis=axis), Y3)
    xfull = np.cumsum(np.abs(Y3) + 0.5, axis=axis)
    check_vjp(lambda x: np.trapezoid(Y3, x, axis=axis), xfull)


def test_trapezoid_analytic():
    y = np.array([1.0, 5.0, 2.0, 4.0])
    x = np.array([0.0, 1.0, 3.0, 3.5])
    gy, gx = ad.gradient(lambda y, x: np.trapezoid(y, x), y, x)
    np.testing.assert_allclose(gy, [0.5, 1.5, 1.25, 0.25], rtol=1e-15)
    # inside: (y[i-1] - y[i+1]) / 2; ends: -(y0 + y1) / 2 and (y2 + y3) / 2
    np.testing.assert_allclose(gx, [-3.0, -0.5, 0.5, 3.0], rtol=1e-15)
    (gdx,) = ad.gradient(lambda h: np.trapezoid(y, None, h), 0.5)
    assert gdx == pytest.approx(np.trapezoid(y), rel=1e-15)


def test_trapezoid_single_sample_is_zero():
    (g,) = ad.gradient(lambda y: np.trapezoid(y), np.array([3.0]))
    np.testing.assert_array_equal(g, [0.0])


XP = np.array([-1.0, 0.0, 1.5, 2.0])
FP = np.array([2.0, -1.0, 0.5, 3.0])
XQ = np.array([-2.0, -0.4, 0.3, 1.7, 1.99, 2.5])  # outside, inside each interval, outside


def test_interp_against_central_differences():
    check_vjp(lambda x: np.interp(x, XP, FP), XQ)
    check_vjp(lambda fp: np.interp(XQ, XP, fp), FP)
    check_vjp(lambda xp: np.interp(XQ, xp, FP), XP)
    check_vjp(lambda fp: np.interp(XQ, XP, fp, left=7.0, right=-2.0), FP)


def test_interp_analytic():
    x = np.array([0.3, -3.0, 5.0])
    gx, gfp = ad.pullback(lambda x, fp: np.interp(x, XP, fp), x, FP)[1](np.array([1.0, 2.0,
                                                                                    3.0]))
    slope = (0.5 - -1.0) / 1.5
    np.testing.assert_allclose(gx, [slope, 0.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(gfp, [2.0, 0.8, 0.2, 3.0], rtol=1e-15)  # t = 0.2 in [0, 1.5]


def test_interp_positional_left_right_and_scalar():
    # (NumPy hands interp to adcheck only when x, xp or fp is traced)
    x = np.array([-5.0, 0.5, 9.0, 9.5])
    gx, gl, gr = ad.gradient(lambda x, lo, hi: np.interp(x, XP, FP, lo, hi).sum(), x, 1.0, 2.0)
    assert (gl, gr) == (1.0, 2.0)
    np.testing.assert_allclose(gx, [0.0, 1.0, 0.0, 0.0], rtol=1e-15)
    (g,) = ad.gradient(lambda x: np.interp(x, XP, FP), 0.75)
    assert g == pytest.approx(1.0, rel=1e-15)


def test_interp_float32_and_hessian_in_fp_x():
    x = XQ.astype(np.float32)
    (g,) = ad.pullback(lambda x: np.interp(x, XP, FP), x)[1](np.ones(6))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central_vjp(lambda x: np.interp(x, XP, FP), XQ, 1.0),
                               rtol=1e-5)
    f = lambda fp: np.interp(0.3, XP, fp) ** 2
    h = np.asarray(ad.hessian(f, FP))
    w = np.array([0.0, 0.8, 0.2, 0.0])
    np.testing.assert_allclose(h, 2 * np.outer(w, w), atol=1e-15)
    hx = ad.hessian(lambda x: np.interp(x, XP, FP) ** 2, 0.3)
    assert float(hx) == pytest.approx(2 * 1.0**2, rel=1e-12)
    assert central(lambda x: ad.gradient(lambda z: np.interp(z, XP, FP) ** 2, x[0])[0],
                   np.array([0.3]))[0] == pytest.approx(float(hx), rel=1e-6)


def test_interp_period_refused():
    with pytest.raises(ad.NotDifferentiable, match=r"np.interp\(..., period=...\)"):
        ad.gradient(lambda x: np.interp(x, XP, FP, period=3.0), 0.5)
