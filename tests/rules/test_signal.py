"""convolve and correlate against central differences and NumPy's values: every mode, either
operand longer, both operands differentiated, length 1, float32, a Hessian."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central_vjp

A = np.array([0.7, -1.2, 2.5, 0.3, -0.8])
V = np.array([1.5, -0.4, 0.9])
PAIRS = [(A, V), (V, A), (A[:2], V), (A[:4], V[:2]), (A[:1], V), (A[:4], A[1:])]
MODES = ["full", "same", "valid"]


@pytest.mark.parametrize("fn", [np.convolve, np.correlate], ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pair", range(len(PAIRS)))
def test_against_central_differences(fn, mode, pair):
    a, v = PAIRS[pair]
    y = fn(a, v, mode)
    w = np.linspace(-1.0, 2.0, y.size)
    ga, gv = ad.pullback(lambda a, v: fn(a, v, mode), a, v)[1](w)
    np.testing.assert_allclose(ga, central_vjp(lambda a: fn(a, v, mode), a, w), rtol=1e-7,
                               atol=1e-9)
    np.testing.assert_allclose(gv, central_vjp(lambda v: fn(a, v, mode), v, w), rtol=1e-7,
                               atol=1e-9)


@pytest.mark.parametrize("fn", [np.convolve, np.correlate], ids=lambda f: f.__name__)
def test_value_and_default_mode(fn):
    y, back = ad.pullback(lambda a: fn(a, V), A)
    np.testing.assert_array_equal(y, fn(A, V))  # convolve: 'full', correlate: 'valid'
    assert back(np.ones(y.size))[0].shape == A.shape


def test_analytic():
    # sum(convolve(a, v)) = sum(a) sum(v): gradient sum(v) everywhere
    (g,) = ad.gradient(lambda a: np.convolve(a, V).sum(), A)
    np.testing.assert_allclose(g, np.full(5, V.sum()), rtol=1e-15)
    # correlate(a, v, 'valid')[k] = sum_j a[k + j] v[j]
    (g,) = ad.pullback(lambda a: np.correlate(a, V, "valid"), A)[1](np.array([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 1.5, -0.4, 0.9, 0.0])


def test_float32_and_hessian():
    a32 = A.astype(np.float32)
    (g,) = ad.pullback(lambda a: np.convolve(a, V.astype(np.float32), "same"), a32)[1](
        np.ones(5, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central_vjp(lambda a: np.convolve(a, V, "same"), A,
                                              np.ones(5)), rtol=1e-5)
    # f(a) = |convolve(a, v)|^2: Hessian 2 T^T T with T the full convolution matrix
    t = np.stack([np.convolve(e, V) for e in np.eye(5)], axis=1)
    h = np.asarray(ad.hessian(lambda a: np.sum(np.convolve(a, V) ** 2), A))
    np.testing.assert_allclose(h, 2 * t.T @ t, rtol=1e-13, atol=1e-14)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        ad.gradient(lambda a: np.convolve(a, V, "bogus").sum(), A)
