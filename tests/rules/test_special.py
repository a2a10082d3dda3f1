"""scipy.special rules against analytic derivatives: values, float32, 0-d, second derivatives."""

import math

import numpy as np
import pytest
from adcheck.rules.special import logsumexp, polygamma
from scipy import special as sp

import adcheck as ad
from tests.finite import central, check_vjp

SQRT_PI = math.sqrt(math.pi)


def _phi(x):
    return np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


# (function, analytic derivative, analytic second derivative, points inside the domain)
UNARY = [
    (sp.erf, lambda x: 2 / SQRT_PI * np.exp(-x * x),
     lambda x: -4 * x / SQRT_PI * np.exp(-x * x), [0.3, -1.2]),
    (sp.erfc, lambda x: -2 / SQRT_PI * np.exp(-x * x),
     lambda x: 4 * x / SQRT_PI * np.exp(-x * x), [0.3, -1.2]),
    # erfinv' = 1 / erf'(erfinv(x)); erfinv'' = 2 y erfinv'^2 with y = erfinv(x)
    (sp.erfinv, lambda x: SQRT_PI / 2 * np.exp(sp.erfinv(x) ** 2),
     lambda x: 2 * sp.erfinv(x) * (SQRT_PI / 2 * np.exp(sp.erfinv(x) ** 2)) ** 2, [0.3, -0.8]),
    (sp.erfcinv, lambda x: -SQRT_PI / 2 * np.exp(sp.erfcinv(x) ** 2),
     lambda x: 2 * sp.erfcinv(x) * (SQRT_PI / 2 * np.exp(sp.erfcinv(x) ** 2)) ** 2, [0.3, 1.6]),
    (sp.gammaln, sp.digamma, lambda x: sp.polygamma(1, x), [0.3, 2.5, -0.5, -2.7]),
    (sp.digamma, lambda x: sp.polygamma(1, x), lambda x: sp.polygamma(2, x), [0.3, 2.5, -1.5]),
    (sp.gamma, lambda x: sp.gamma(x) * sp.digamma(x),
     lambda x: sp.gamma(x) * (sp.digamma(x) ** 2 + sp.polygamma(1, x)), [0.3, 2.5, -0.5]),
    (sp.expit, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
     lambda x: np.exp(-x) * (np.exp(-x) - 1) / (1 + np.exp(-x)) ** 3, [0.3, -1.2]),
    (sp.log_expit, lambda x: 1 / (1 + np.exp(x)),
     lambda x: -np.exp(x) / (1 + np.exp(x)) ** 2, [0.3, -1.2]),
    (sp.logit, lambda x: 1 / (x * (1 - x)), lambda x: (2 * x - 1) / (x * (1 - x)) ** 2,
     [0.3, 0.85]),
    (sp.ndtr, _phi, lambda x: -x * _phi(x), [0.3, -1.2]),
    (sp.log_ndtr, lambda x: _phi(x) / sp.ndtr(x),
     lambda x: -x * _phi(x) / sp.ndtr(x) - (_phi(x) / sp.ndtr(x)) ** 2, [0.3, -1.2, -15.0]),
    # ndtri' = 1 / phi(ndtri(x)); ndtri'' = y ndtri'^2
    (sp.ndtri, lambda x: 1 / _phi(sp.ndtri(x)), lambda x: sp.ndtri(x) / _phi(sp.ndtri(x)) ** 2,
     [0.3, 0.9]),
]
IDS = [u[0].__name__ for u in UNARY]


@pytest.mark.parametrize("fn, d1, d2, point", UNARY, ids=IDS)
def test_first_derivative(fn, d1, d2, point):
    x = np.array(point)
    (g,) = ad.gradient(lambda x: fn(x).sum(), x)
    np.testing.assert_allclose(g, d1(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn, d1, d2, point", UNARY, ids=IDS)
def test_second_derivative(fn, d1, d2, point):
    x = np.array(point)
    H = ad.hessian(lambda x: fn(x).sum(), x)
    np.testing.assert_allclose(H, np.diag(d2(x)), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("fn, d1, d2, point", UNARY, ids=IDS)
def test_float32_and_zero_dim(fn, d1, d2, point):
    x32 = np.array(point, dtype=np.float32)
    (g,) = ad.gradient(lambda x: fn(x).sum(), x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, d1(x32.astype(np.float64)), rtol=2e-5, atol=1e-7)
    (g0,) = ad.gradient(fn, np.array(point[0]))
    assert g0.shape == ()
    assert g0 == pytest.approx(d1(point[0]), rel=1e-12)


def test_psi_is_digamma():
    assert sp.psi is sp.digamma
    assert ad.derivative(sp.psi)(1.0) == pytest.approx(math.pi**2 / 6, rel=1e-14)


BINARY = [
    (sp.xlogy, lambda x, y: (np.log(y), x / y)),
    (sp.xlog1py, lambda x, y: (np.log1p(y), x / (1 + y))),
    (sp.betaln, lambda a, b: (sp.digamma(a) - sp.digamma(a + b),
                              sp.digamma(b) - sp.digamma(a + b))),
    (sp.beta, lambda a, b: (sp.beta(a, b) * (sp.digamma(a) - sp.digamma(a + b)),
                            sp.beta(a, b) * (sp.digamma(b) - sp.digamma(a + b)))),
]


@pytest.mark.parametrize("fn, d", BINARY, ids=[b[0].__name__ for b in BINARY])
@pytest.mark.parametrize("xs, ys", [((3,), (3,)), ((2, 3), (3,)), ((), (2, 2))])
def test_binary_with_broadcasting(fn, d, xs, ys):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 2.0, size=xs)
    y = rng.uniform(0.5, 2.0, size=ys)
    w = rng.normal(size=np.broadcast_shapes(xs, ys))
    gx, gy = ad.gradient(lambda x, y: (fn(x, y) * w).sum(), x, y)
    dx, dy = d(np.broadcast_to(x, w.shape), np.broadcast_to(y, w.shape))
    np.testing.assert_allclose(gx, np.sum(dx * w, axis=tuple(range(w.ndim - len(xs)))),
                               rtol=1e-12)
    np.testing.assert_allclose(gy, np.sum(dy * w, axis=tuple(range(w.ndim - len(ys)))),
                               rtol=1e-12)


def test_xlogy_at_zero_weight_and_its_hessian():
    # xlogy(0, y) = 0: d/dy is 0 / y = 0, and d/dx is log(y); nothing is NaN at y = 0.
    with np.errstate(divide="ignore"):  # log(0)
        gx, gy = ad.gradient(sp.xlogy, 0.0, 0.0)
    assert gy == 0.0 and gx == -np.inf
    H = ad.hessian(lambda v: sp.xlogy(v[0], v[1]), np.array([1.5, 2.0]))
    np.testing.assert_allclose(H, [[0.0, 0.5], [0.5, -1.5 / 4.0]], rtol=1e-14)
    H = ad.hessian(lambda v: sp.xlog1py(v[0], v[1]), np.array([1.5, 1.0]))
    np.testing.assert_allclose(H, [[0.0, 0.5], [0.5, -1.5 / 4.0]], rtol=1e-14)


# -- polygamma and logsumexp: adcheck's primitives for scipy's Python functions --------------


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_derivatives(n):
    x = np.array([0.4, 2.5, -1.5])
    (g,) = ad.gradient(lambda x: polygamma(n, x).sum(), x)
    np.testing.assert_allclose(g, sp.polygamma(n + 1, x), rtol=1e-12)
    H = ad.hessian(lambda x: polygamma(n, x).sum(), x)
    np.testing.assert_allclose(H, np.diag(sp.polygamma(n + 2, x)), rtol=1e-11)
    assert np.all(polygamma(n, x) == sp.polygamma(n, x))


def test_polygamma_first_is_trigamma_against_its_series():
    # polygamma(1, 1) = pi^2 / 6, its derivative polygamma(2, 1) = -2 zeta(3)
    assert ad.derivative(lambda x: polygamma(0, x))(1.0) == pytest.approx(math.pi**2 / 6)
    assert ad.derivative(lambda x: polygamma(1, x))(1.0) == pytest.approx(-2 * 1.2020569031595942)


def _softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_gradient_is_the_softmax(axis, keepdims):
    a = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -0.5]])
    value = logsumexp(a, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(value, sp.logsumexp(a, axis=axis, keepdims=keepdims))
    w = np.linspace(1.0, 2.0, np.size(value)).reshape(np.shape(value))
    (g,) = ad.gradient(lambda a: (logsumexp(a, axis=axis, keepdims=keepdims) * w).sum(), a)
    ax = (0, 1) if axis is None else axis
    w_kept = w if keepdims else np.expand_dims(w, ax)
    np.testing.assert_allclose(g, w_kept * _softmax(a, ax), rtol=1e-13)


def test_logsumexp_with_weights_and_positional_b():
    a = np.array([0.5, -1.0, 2.0])
    b = np.array([1.0, 2.0, 0.5])
    ga, gb = ad.gradient(lambda a, b: logsumexp(a, None, b), a, b)
    s = np.sum(b * np.exp(a))
    np.testing.assert_allclose(ga, b * np.exp(a) / s, rtol=1e-14)
    np.testing.assert_allclose(gb, np.exp(a) / s, rtol=1e-14)
    (g,) = ad.gradient(lambda a: logsumexp(a, b=b), a)
    np.testing.assert_allclose(g, ga, rtol=1e-15)


def test_logsumexp_hessian_and_float32():
    a = np.array([0.5, -1.0, 2.0])
    p = np.exp(a) / np.exp(a).sum()
    np.testing.assert_allclose(ad.hessian(logsumexp, a), np.diag(p) - np.outer(p, p),
                               rtol=1e-12, atol=1e-15)
    (g,) = ad.gradient(logsumexp, a.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, p, rtol=1e-6)
    # weights -1 and 2 on the two columns, each spread evenly over its two equal entries
    g = check_vjp(lambda a: logsumexp(a, axis=0), np.ones((2, 2)))
    np.testing.assert_allclose(g, [[-0.5, 1.0], [-0.5, 1.0]], rtol=1e-14)


def test_logsumexp_refuses_return_sign_and_scipy_s_own_is_refused_clearly():
    with pytest.raises(ad.NotDifferentiable, match="return_sign"):
        ad.gradient(lambda a: logsumexp(a, return_sign=True)[0], np.ones(2))
    with pytest.raises(ad.NotDifferentiable, match="converted to a plain NumPy array"):
        ad.gradient(sp.logsumexp, np.ones(2))


def test_a_composite_with_special_functions_against_central_differences():
    def f(x):
        return (sp.gammaln(x + 2) * sp.expit(x) + sp.erf(x / 3) * sp.xlogy(x, x + 1.5)).sum()

    x = np.array([0.3, -0.4, 1.7])
    (g,) = ad.gradient(f, x)
    np.testing.assert_allclose(g, central(f, x), rtol=1e-7, atol=1e-9)


def test_gammasgn_is_a_constant():
    (g,) = ad.gradient(lambda x: (sp.gammasgn(x) * x).sum(), np.array([-0.5, -1.5, 2.0]))
    np.testing.assert_array_equal(g, [-1.0, 1.0, 1.0])  # gamma(-0.5) < 0 < gamma(-1.5)


def test_logsumexp_weights_that_broadcast_a_and_zero_dim_input():
    # b of shape (3,) broadcasts a of shape (1,): log(sum(b) * e^a), so d/da = 1 and
    # d/db_i = 1 / sum(b)
    b = np.array([1.0, 2.0, 3.0])
    ga, gb = ad.gradient(lambda a, b: logsumexp(a, 0, b), np.array([0.5]), b)
    np.testing.assert_allclose(ga, [1.0], rtol=1e-15)
    np.testing.assert_allclose(gb, [1 / 6.0] * 3, rtol=1e-14)
    # a 0-d input is one entry; keepdims gives shape (1,) as scipy does
    y, back = ad.pullback(lambda a: logsumexp(a, keepdims=True), np.array(0.3))
    assert np.shape(y) == (1,)
    assert back(np.array([2.0]))[0] == pytest.approx(2.0)
