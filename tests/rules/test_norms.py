"""np.linalg.norm, vector_norm and matrix_norm: every order, axis and keepdims against central
differences; analytic gradients; ties; float32; Hessians."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central, central_vjp

INF = np.inf
VECTOR_ORDS = [None, 2, 1, INF, -INF, 0, 3, 0.5, -1, -2, 1.5]
MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, INF, -INF]
X = np.random.default_rng(0).normal(size=(3, 4, 2))


def check(f, x):
    y = f(x)
    w = np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))
    (g,) = ad.pullback(f, x)[1](w)
    assert np.shape(g) == np.shape(x)
    np.testing.assert_allclose(g, central_vjp(f, x, w), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
@pytest.mark.parametrize("axis", [0, 1, -1, (2,)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norms_along_an_axis(ord, axis, keepdims):
    check(lambda x: np.linalg.norm(x, ord, axis, keepdims), X)


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
def test_vector_norms_of_a_vector(ord):
    check(lambda x: np.linalg.norm(x, ord), X[:, 0, 0])


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("axis", [(0, 1), (1, 0), (2, 0), (-1, 1)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norms_over_two_axes(ord, axis, keepdims):
    check(lambda x: np.linalg.norm(x, ord, axis, keepdims), X)


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (1, 1), (1, 3)], ids=str)
def test_matrix_norms_of_a_matrix(ord, shape):
    check(lambda x: np.linalg.norm(x, ord), X.reshape(-1)[:np.prod(shape)].reshape(shape))


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (3, 4, 2)], ids=str)
def test_norm_of_every_entry(shape):
    check(np.linalg.norm, X.reshape(-1)[:int(np.prod(shape))].reshape(shape) + 0.1)


@pytest.mark.parametrize("ord", VECTOR_ORDS[1:], ids=str)
@pytest.mark.parametrize("axis", [None, 0, (0, 2), (-1, 0, 1)], ids=str)
def test_vector_norm(ord, axis):
    check(lambda x: np.linalg.vector_norm(x, axis=axis, ord=ord, keepdims=True), X)
    check(lambda x: np.linalg.vector_norm(x, axis=axis, ord=ord), X)


@pytest.mark.parametrize("ord", MATRIX_ORDS[1:], ids=str)
def test_matrix_norm_of_a_stack(ord):
    check(lambda x: np.linalg.matrix_norm(x, ord=ord), X)
    check(lambda x: np.linalg.matrix_norm(x, ord=ord, keepdims=True), X)


def test_analytic_gradients():
    x = np.array([3.0, -4.0])
    np.testing.assert_allclose(ad.gradient(np.linalg.norm, x)[0], [0.6, -0.8], rtol=1e-15)
    np.testing.assert_array_equal(ad.gradient(lambda x: np.linalg.norm(x, 1), x)[0], [1, -1])
    np.testing.assert_array_equal(ad.gradient(lambda x: np.linalg.norm(x, INF), x)[0], [0, -1])
    np.testing.assert_array_equal(ad.gradient(lambda x: np.linalg.norm(x, -INF), x)[0], [1, 0])
    np.testing.assert_array_equal(ad.gradient(lambda x: np.linalg.norm(x, 0), x)[0], [0, 0])
    # p = 3: sign(x) |x|^2 / |x|_3^2
    n3 = (27 + 64) ** (1 / 3)
    np.testing.assert_allclose(ad.gradient(lambda x: np.linalg.norm(x, 3), x)[0],
                               [9 / n3 ** 2, -16 / n3 ** 2], rtol=1e-14)
    A = np.array([[1.0, -2.0], [3.0, 4.0]])
    # 1-norm: the largest absolute column sum is column 1 (6): sign of that column
    np.testing.assert_array_equal(ad.gradient(lambda A: np.linalg.norm(A, 1), A)[0],
                                  [[0, -1], [0, 1]])
    # inf-norm: the largest absolute row sum is row 1 (7)
    np.testing.assert_array_equal(ad.gradient(lambda A: np.linalg.norm(A, INF), A)[0],
                                  [[0, 0], [1, 1]])
    u, s, vt = np.linalg.svd(A)
    np.testing.assert_allclose(ad.gradient(lambda A: np.linalg.norm(A, "nuc"), A)[0], u @ vt,
                               rtol=1e-12)
    np.testing.assert_allclose(ad.gradient(lambda A: np.linalg.norm(A, 2), A)[0],
                               np.outer(u[:, 0], vt[0]), rtol=1e-12)
    np.testing.assert_allclose(ad.gradient(lambda A: np.linalg.norm(A, -2), A)[0],
                               np.outer(u[:, 1], vt[1]), rtol=1e-12)


def test_ties_split_the_cotangent_evenly():
    x = np.array([2.0, -2.0, 1.0])
    np.testing.assert_array_equal(ad.gradient(lambda x: np.linalg.norm(x, INF), x)[0],
                                  [0.5, -0.5, 0.0])
    A = np.array([[1.0, -1.0], [1.0, 1.0]])  # both column sums are 2
    np.testing.assert_array_equal(ad.gradient(lambda A: np.linalg.norm(A, 1), A)[0],
                                  [[0.5, -0.5], [0.5, 0.5]])


def test_float32_stays_float32():
    x = X.astype(np.float32)
    for f in (lambda x: np.linalg.norm(x), lambda x: np.linalg.norm(x, INF, axis=1).sum(),
              lambda x: np.linalg.norm(x, "nuc", axis=(0, 1)).sum(),
              lambda x: np.linalg.vector_norm(x, ord=3)):
        (g,) = ad.gradient(f, x)
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, central(f, x.astype(np.float64)), rtol=1e-3, atol=1e-4)


def test_hessian_of_the_two_norm_analytic():
    # H = (I - x x^T / |x|^2) / |x|
    x = np.array([1.0, -2.0, 2.0])
    n = 3.0
    np.testing.assert_allclose(ad.hessian(np.linalg.norm, x),
                               (np.eye(3) - np.outer(x, x) / n ** 2) / n, rtol=1e-14)
    A = np.array([[1.0, 2.0], [-2.0, 4.0]])
    H = ad.hessian(lambda A: np.linalg.norm(A, "fro"), A)
    a = A.reshape(-1)
    expected = (np.eye(4) - np.outer(a, a) / 25.0) / 5.0
    np.testing.assert_allclose(H.reshape(4, 4), expected, rtol=1e-14)


@pytest.mark.parametrize("ord", [3, 0.5, "nuc", 2, -2, 1], ids=str)
def test_hessians_against_differences_of_the_gradient(ord):
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    if ord in (3, 0.5):
        f = lambda x: np.linalg.norm(x.reshape(-1), ord)  # noqa: E731
    else:
        f = lambda x: np.linalg.norm(x, ord)  # noqa: E731
    H = ad.hessian(f, x)
    Hd = np.empty((2, 2, 2, 2))
    for i in np.ndindex(2, 2):
        e = np.zeros((2, 2))
        e[i] = 1e-5
        Hd[..., i[0], i[1]] = (ad.gradient(f, x + e)[0] - ad.gradient(f, x - e)[0]) / 2e-5
    np.testing.assert_allclose(H, Hd, rtol=1e-5, atol=1e-7)


@settings(max_examples=60, database=None)
@given(data=st.data())
def test_the_norm_domain_keeps_away_from_ties_and_zeros(data):
    (x,), kwargs = lookup(np.linalg.norm).domain.draw_args(data.draw)
    ord, axis = kwargs.get("ord"), kwargs.get("axis")
    x = x.astype(np.float64)
    if isinstance(axis, tuple) and len(axis) == 2 or (axis is None and ord is not None
                                                     and x.ndim == 2):
        rows, cols = axis if axis is not None else (0, 1)
        a = np.moveaxis(x, (rows, cols), (-2, -1))
        if ord in (1, -1, INF, -INF):
            sums = np.sort(np.abs(a).sum(axis=-2 if ord in (1, -1) else -1), axis=-1)
            if sums.shape[-1] > 1:
                top = ord in (1, INF)
                gap = sums[..., -1] - sums[..., -2] if top else sums[..., 1] - sums[..., 0]
                assert np.all(gap > 0.2)
        if ord in (2, -2, "nuc"):
            s = np.linalg.svd(a, compute_uv=False)
            assert np.all(s > 0.45) and np.all(-np.diff(s, axis=-1) > 0.25)
    else:
        assert np.all(np.abs(x) >= 0.25)
