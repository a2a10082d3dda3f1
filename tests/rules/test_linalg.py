"""matmul and dot rules against central differences and analytic formulas: every pairing of
vectors and (non-square) matrices, broadcast stacks, scalars, float32, and second derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central_vjp


def operands(a_shape, b_shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=a_shape), rng.normal(size=b_shape)


def check_both_cotangents(fn, a, b, rtol=1e-6, atol=1e-8):
    y = fn(a, b)
    w = np.random.default_rng(1).normal(size=np.shape(y))
    ga, gb = ad.pullback(fn, a, b)[1](w)
    assert np.shape(ga) == np.shape(a) and np.shape(gb) == np.shape(b)
    assert ga.dtype == np.result_type(a) and gb.dtype == np.result_type(b)
    np.testing.assert_allclose(ga, central_vjp(lambda a: fn(a, b), a, w), rtol=rtol, atol=atol)
    np.testing.assert_allclose(gb, central_vjp(lambda b: fn(a, b), b, w), rtol=rtol, atol=atol)


MATMUL_SHAPES = [
    ((3,), (3,)),  # vector . vector -> scalar
    ((3,), (3, 2)),  # row vector times matrix
    ((2, 3), (3,)),  # matrix times column vector
    ((2, 3), (3, 4)),  # non-square matrices
    ((5, 2, 3), (3, 4)),  # a stack times one matrix
    ((2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),  # a unit batch axis broadcast
    ((5, 1, 2, 3), (4, 3, 1)),  # batch axes broadcast both ways
    ((3,), (5, 3, 4)),  # a vector against a stack
    ((5, 2, 3), (3,)),
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_matches_central_differences(a_shape, b_shape):
    check_both_cotangents(np.matmul, *operands(a_shape, b_shape))


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_at_operator(a_shape, b_shape):
    check_both_cotangents(lambda a, b: a @ b, *operands(a_shape, b_shape))


def test_matmul_non_square_analytic():
    # dA = dY B^T and dB = A^T dY; with a 2x3 times 3x4 a transposed factor cannot fit.
    A, B = operands((2, 3), (3, 4))
    dY = np.arange(8.0).reshape(2, 4)
    gA, gB = ad.pullback(np.matmul, A, B)[1](dY)
    np.testing.assert_allclose(gA, dY @ B.T, rtol=1e-14)
    np.testing.assert_allclose(gB, A.T @ dY, rtol=1e-14)


def test_matmul_vector_cases_analytic():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, -5.0, 6.0])
    ga, gb = ad.gradient(np.matmul, a, b)
    np.testing.assert_array_equal(ga, b)
    np.testing.assert_array_equal(gb, a)
    M = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    dy = np.array([1.0, -1.0])
    gM, gb = ad.pullback(np.matmul, M, b)[1](dy)
    np.testing.assert_array_equal(gM, np.outer(dy, b))
    np.testing.assert_array_equal(gb, M.T @ dy)
    ga, gM = ad.pullback(np.matmul, dy, M)[1](a)
    np.testing.assert_array_equal(ga, M @ a)
    np.testing.assert_array_equal(gM, np.outer(dy, a))


def test_matmul_with_a_constant_operand():
    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = np.array([1.0, -2.0])
    (gx,) = ad.gradient(lambda x: (W @ x).sum(), x)  # ndarray @ traced
    np.testing.assert_array_equal(gx, W.sum(axis=0))
    (gW,) = ad.gradient(lambda W: (W @ x).sum(), W)
    np.testing.assert_array_equal(gW, np.broadcast_to(x, (3, 2)))


def test_matmul_batch_broadcast_sums_cotangent():
    A = np.ones((2, 3))
    B = np.ones((4, 3, 2))
    gA, gB = ad.gradient(lambda A, B: (A @ B).sum(), A, B)
    # each of the 4 stacks contributes B's row sums (2) to every entry of A
    np.testing.assert_array_equal(gA, np.full((2, 3), 8.0))
    np.testing.assert_array_equal(gB, np.full((4, 3, 2), 2.0))


DOT_SHAPES = [
    ((), ()),
    ((), (2, 3)),  # scalar times array
    ((2, 3), ()),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (4, 3, 2)),  # N-D: every row of a with every stack of b
    ((3,), (2, 3, 4)),
    ((2, 4, 3), (3,)),
]


@pytest.mark.parametrize("a_shape, b_shape", DOT_SHAPES, ids=str)
def test_dot_matches_central_differences(a_shape, b_shape):
    check_both_cotangents(np.dot, *operands(a_shape, b_shape))


def test_dot_method_and_scalar_analytic():
    A, B = operands((2, 3), (3, 2))
    # the trace of A B: dA = B^T, dB = A^T
    gA, gB = ad.gradient(lambda A, B: np.sum(A.dot(B) * np.eye(2)), A, B)
    np.testing.assert_allclose(gA, B.T, rtol=1e-14)
    np.testing.assert_allclose(gB, A.T, rtol=1e-14)
    x = np.array([1.0, 2.0, 3.0])
    gs, gx = ad.gradient(lambda s, x: np.dot(s, x).sum(), 2.0, x)
    assert gs == 6.0
    np.testing.assert_array_equal(gx, [2.0, 2.0, 2.0])


def test_float32_stays_float32():
    A, B = (v.astype(np.float32) for v in operands((2, 3), (3, 4)))
    gA, gB = ad.gradient(lambda A, B: (A @ B).sum(), A, B)
    assert gA.dtype == np.float32 and gB.dtype == np.float32
    np.testing.assert_allclose(gA, np.broadcast_to(B.sum(axis=1), (2, 3)), rtol=1e-6)
    np.testing.assert_allclose(gB, np.broadcast_to(A.sum(axis=0)[:, None], (3, 4)), rtol=1e-6)
    ga, gb = ad.gradient(lambda a, b: np.dot(a, b), A[0], B[:, 0])
    assert ga.dtype == np.float32 and gb.dtype == np.float32
    np.testing.assert_array_equal(ga, B[:, 0])


def test_parameters_through_matmul():
    W = ad.param(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    x = np.array([1.0, 0.0, -1.0])
    grads = ad.gradient(lambda: np.sum((W @ x) ** 2), ad.Params([W]))
    y = W.view(np.ndarray) @ x
    np.testing.assert_array_equal(grads[W], 2 * np.outer(y, x))


def test_second_derivative_of_quadratic_form():
    # f(x) = x^T A x with a non-symmetric A: H = A + A^T
    A = np.array([[1.0, 2.0, 0.0], [-3.0, 4.0, 5.0], [0.5, 0.0, -1.0]])
    x = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(ad.hessian(lambda x: x @ A @ x, x), A + A.T, rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(lambda x: np.dot(x, np.dot(A, x)), x), A + A.T,
                               rtol=1e-14)


def test_second_derivative_of_least_squares():
    # f(x) = |W x - b|^2 with a non-square W: H = 2 W^T W
    W = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 2.0]])
    b = np.array([1.0, 0.0, -1.0])
    H = ad.hessian(lambda x: np.sum((W @ x - b) ** 2), np.array([0.5, 0.25]))
    np.testing.assert_allclose(H, 2 * W.T @ W, rtol=1e-14)


def test_second_derivative_through_a_matrix_argument():
    # f(M) = sum((M @ c)**2) for a 2x3 M: H[(i,j),(k,l)] = 2 delta_ik c_j c_l
    c = np.array([1.0, -2.0, 3.0])
    H = ad.hessian(lambda M: np.sum(np.matmul(M, c) ** 2), np.ones((2, 3)))
    expected = 2 * np.einsum("ik,j,l->ijkl", np.eye(2), c, c)
    np.testing.assert_allclose(H, expected, rtol=1e-14)


def test_dot_out_is_refused():
    with pytest.raises(ad.NotDifferentiable, match=r"np\.dot\(\.\.\., out="):
        ad.gradient(lambda a: np.dot(a, a, out=np.zeros(())), np.array([1.0, 2.0]))


def test_matmul_out_is_refused():
    with pytest.raises(ad.NotDifferentiable, match=r"np\.matmul"):
        ad.gradient(lambda a: np.matmul(a, a, out=np.zeros(())), np.array([1.0, 2.0]))


@pytest.mark.parametrize("fn", [np.matmul, np.dot], ids=["matmul", "dot"])
@settings(max_examples=20)
@given(data=st.data())
def test_rule_on_its_declared_domain(fn, data):
    (a, b), kwargs = lookup(fn).domain.draw_args(data.draw)
    assert kwargs == {}
    if a.dtype == np.float32:  # products of up to 4 terms of size 10, rounded to float32
        check_both_cotangents(fn, a, b, rtol=1e-4, atol=1e-4)
    else:
        check_both_cotangents(fn, a, b)



class CountingNumPy:
    """NumPy as the rule module sees it, counting the matrix products it computes."""

    def __init__(self):
        self.products = 0

    def matmul(self, a, b):
        self.products += 1
        return np.matmul(a, b)

    def __getattr__(self, name):
        return getattr(np, name)


@pytest.mark.parametrize("fn", [np.matmul, np.dot], ids=["matmul", "dot"])
@pytest.mark.parametrize("traced", [0, 1], ids=["left traced", "right traced"])
def test_cotangent_of_a_constant_operand_is_never_computed(fn, traced, monkeypatch):
    # Issue 11: the pullback hands back lazy cotangents and the engine calls only the traced
    # operand's, so a backward pass costs one product, not two.
    from adcheck.rules import linalg

    counting = CountingNumPy()
    monkeypatch.setattr(linalg, "np", counting)
    X, W = operands((4, 3), (3, 2))
    args = [X, W]

    def f(v):
        args[traced] = v
        return fn(args[0], args[1])

    y, back = ad.pullback(f, args[traced])
    before = counting.products
    dy = np.arange(8.0).reshape(4, 2)
    (g,) = back(dy)
    assert counting.products - before == 1
    expected = dy @ W.T if traced == 0 else X.T @ dy
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    # Both cotangents are still there for whoever asks (the checker resolves them).
    grads = ad.trace(lambda X, W: fn(X, W), X, W).entries[-1].pullback(dy)
    assert all(callable(c) for c in grads[:2])
