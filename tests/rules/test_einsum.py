"""The einsum rule against central differences and analytic derivatives: explicit and implicit
outputs, ellipses, repeated labels (diagonals, traces), sums inside one operand, broadcasting,
one to four operands, the sublist form, optimize=, float32, Hessians, and typical programs
(attention, a bilinear form)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central_vjp


def operands(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in shapes]


def check_every_operand(f, ops, rtol=1e-6, atol=1e-8):
    """Each operand's cotangent of ``f(*ops)`` against central differences, for a weight
    that tells the output entries apart."""
    y = f(*ops)
    w = np.random.default_rng(1).normal(size=np.shape(y))
    grads = ad.pullback(f, *ops)[1](w)
    assert len(grads) == len(ops)
    for k, (g, op) in enumerate(zip(grads, ops)):
        def fk(x, k=k):
            return f(*ops[:k], x, *ops[k + 1:])

        assert np.shape(g) == np.shape(op)
        np.testing.assert_allclose(g, central_vjp(fk, op, w), rtol=rtol, atol=atol)
    return grads


CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),  # a matrix product
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("ji", [(2, 3)]),  # implicit transpose
    ("ij->", [(2, 3)]),  # a full sum
    ("ij->j", [(2, 3)]),
    ("ii", [(3, 3)]),  # trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("iij->j", [(2, 2, 3)]),  # a diagonal over a stack
    ("iii->", [(2, 2, 2)]),  # a label three times
    ("ii,ij->j", [(3, 3), (3, 2)]),  # repeated within one operand and across
    ("i,j->ij", [(2,), (3,)]),  # outer product
    ("ij,k->ik", [(2, 3), (4,)]),  # j summed inside the first operand only
    ("i,i", [(3,), (3,)]),
    (",i->i", [(), (3,)]),  # a 0-d operand
    (",", [(), ()]),
    ("i,i", [(1,), (3,)]),  # a labelled axis of length 1 broadcast
    ("ij,ij->i", [(2, 3), (1, 3)]),
    ("ij,ij->ij", [(2, 1), (1, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),  # batched, ellipsis broadcast
    ("...i,...i", [(3, 1, 2), (4, 2)]),  # implicit output with an ellipsis
    ("i...j->j...i", [(2, 3, 4)]),  # an ellipsis in the middle
    ("...,...->...", [(2, 3), (3,)]),
    ("...i->i", [(3,)]),  # an ellipsis of no axes
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),  # three operands
    ("i,ij,jk,k->", [(2,), (2, 3), (3, 2), (2,)]),  # four operands
    ("ab,bc,ca", [(2, 3), (3, 2), (2, 2)]),  # a trace of a triple product
    ("Ba,aC", [(2, 3), (3, 4)]),  # uppercase labels: implicit output in NumPy's order
    ("bi,ia,ab->", [(1, 1), (1, 1), (1, 1)]),  # size-1 everything
]


@pytest.mark.parametrize("subscripts, shapes", CASES, ids=[c[0] for c in CASES])
def test_matches_central_differences(subscripts, shapes):
    check_every_operand(lambda *ops: np.einsum(subscripts, *ops), operands(*shapes))


def test_sublist_form_matches_string_form():
    A, B = operands((2, 3), (3, 4))
    grads = check_every_operand(lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), [A, B])
    w = np.random.default_rng(1).normal(size=(2, 4))
    expected = ad.pullback(lambda a, b: np.einsum("ij,jk->ik", a, b), A, B)[1](w)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g, e, rtol=1e-14)
    # implicit output, an ellipsis and a repeated label in the sublist form
    (X,) = operands((3, 2, 3))
    check_every_operand(lambda x: np.einsum(x, [0, Ellipsis, 0]), [X])


@pytest.mark.parametrize("optimize", [True, "greedy", "optimal", False])
def test_optimize_is_accepted(optimize):
    A, B, C = operands((2, 3), (3, 4), (4, 2))
    f = lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c, optimize=optimize)
    check_every_operand(f, [A, B, C])


def test_einsum_path_result_can_be_passed_as_optimize():
    A, B, C = operands((2, 3), (3, 4), (4, 2))

    def f(a, b, c):
        path, _ = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")
        return np.einsum("ij,jk,kl->il", a, b, c, optimize=path)

    check_every_operand(f, [A, B, C])


def test_bilinear_form_analytic_and_gradcheck():
    # f(x, W, y) = x^T W y: df/dx = W y, df/dW = x y^T, df/dy = W^T x
    x, W, y = operands((3,), (3, 4), (4,))
    gx, gW, gy = ad.gradient(lambda x, W, y: np.einsum("i,ij,j", x, W, y), x, W, y)
    np.testing.assert_allclose(gx, W @ y, rtol=1e-13)
    np.testing.assert_allclose(gW, np.outer(x, y), rtol=1e-13)
    np.testing.assert_allclose(gy, W.T @ x, rtol=1e-13)
    assert ad.gradcheck(lambda x, W, y: np.einsum("i,ij,j->", x, W, y), x, W, y)


def test_trace_and_diagonal_analytic():
    A = np.arange(9.0).reshape(3, 3)
    (g,) = ad.gradient(lambda a: np.einsum("ii", a), A)
    np.testing.assert_array_equal(g, np.eye(3))
    w = np.array([1.0, -2.0, 3.0])
    (g,) = ad.pullback(lambda a: np.einsum("ii->i", a), A)[1](w)
    np.testing.assert_array_equal(g, np.diag(w))


def test_quadratic_form_hessian():
    # f(x) = x^T A x with a non-symmetric A: gradient (A + A^T) x, Hessian A + A^T
    A = np.array([[1.0, 2.0, 0.0], [-3.0, 4.0, 5.0], [0.5, 0.0, -1.0]])
    x = np.array([0.3, -1.0, 2.0])
    f = lambda x: np.einsum("i,ij,j->", x, A, x)
    np.testing.assert_allclose(ad.gradient(f, x)[0], (A + A.T) @ x, rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(f, x), A + A.T, rtol=1e-14)


def test_hessian_of_a_trace_of_products():
    # f(X) = tr(X M X) = einsum("ij,jk,ki", X, M, X): H[a,b,c,d] = M[b,c] d[a,d] + d[b,c] M[d,a]
    M = np.array([[1.0, 2.0], [-1.0, 3.0]])
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    H = ad.hessian(lambda X: np.einsum("ij,jk,ki", X, M, X), X)
    eye = np.eye(2)
    expected = np.einsum("bc,ad->abcd", M, eye) + np.einsum("bc,da->abcd", eye, M)
    np.testing.assert_allclose(H, expected, rtol=1e-14)


def test_hessian_through_repeated_labels():
    # f(A) = tr(A)^2 = einsum("ii,jj", A, A): H[a,b,c,d] = 2 d[a,b] d[c,d]
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    H = ad.hessian(lambda A: np.einsum("ii,jj", A, A), A)
    np.testing.assert_array_equal(H, 2 * np.einsum("ab,cd->abcd", np.eye(3), np.eye(3)))


def test_hessian_with_broadcast_ellipsis():
    # f(X) = sum_b (x_b . c)^2 for rows x_b of X, c broadcast: H = 2 I_b (x) c c^T
    c = np.array([1.0, -2.0, 0.5])
    X = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 2.0]])
    H = ad.hessian(lambda X: np.sum(np.einsum("...i,...i->...", X, c) ** 2), X)
    expected = 2 * np.einsum("ab,i,j->aibj", np.eye(2), c, c)
    np.testing.assert_allclose(H, expected, rtol=1e-14)


def test_float32_stays_float32():
    A, B = (v.astype(np.float32) for v in operands((2, 3), (3, 4)))
    gA, gB = ad.gradient(lambda a, b: np.einsum("ij,jk->", a, b), A, B)
    assert gA.dtype == np.float32 and gB.dtype == np.float32
    np.testing.assert_allclose(gA, np.broadcast_to(B.sum(axis=1), (2, 3)), rtol=1e-6)
    np.testing.assert_allclose(gB, np.broadcast_to(A.sum(axis=0)[:, None], (3, 4)), rtol=1e-6)


def test_mixed_float32_and_float64_operands():
    a = np.array([1.0, 2.0], dtype=np.float32)
    b = np.array([3.0, -4.0])
    ga, gb = ad.gradient(lambda a, b: np.einsum("i,i", a, b), a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float64
    np.testing.assert_array_equal(ga, b.astype(np.float32))
    np.testing.assert_array_equal(gb, a.astype(np.float64))


def softmax(s, axis=-1):
    e = np.exp(s - np.max(s, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def attention(Q, K, V):
    """Scaled dot-product attention over a batch: softmax(Q K^T / sqrt(d)) V."""
    d = Q.shape[-1]
    scores = np.einsum("bqd,bkd->bqk", Q, K) / np.sqrt(d)
    return np.einsum("bqk,bkv->bqv", softmax(scores), V)


def test_attention_gradcheck():
    Q, K, V = operands((2, 3, 4), (2, 5, 4), (2, 5, 3), seed=2)
    assert ad.gradcheck(lambda Q, K, V: np.sum(attention(Q, K, V) ** 2), Q, K, V)
    check_every_operand(attention, [Q, K, V])


def test_attention_value_gradient_analytic():
    # d/dV sum(attention * W) = P^T W, with P the attention weights
    Q, K, V, W = operands((1, 2, 3), (1, 4, 3), (1, 4, 2), (1, 2, 2), seed=3)
    (gV,) = ad.gradient(lambda V: np.sum(attention(Q, K, V) * W), V)
    P = softmax(np.einsum("bqd,bkd->bqk", Q, K) / np.sqrt(3))
    np.testing.assert_allclose(gV, np.einsum("bqk,bqv->bkv", P, W), rtol=1e-13)


def test_out_and_dtype_are_refused():
    x = np.array([1.0, 2.0])
    with pytest.raises(ad.NotDifferentiable, match=r"np\.einsum\(\.\.\., out="):
        ad.gradient(lambda x: np.einsum("i,i", x, x, out=np.zeros(())), x)
    with pytest.raises(ad.NotDifferentiable, match=r"np\.einsum\(\.\.\., dtype="):
        ad.gradient(lambda x: np.einsum("i,i", x, x, dtype=np.float32), x)


def test_complex_operand_is_refused():
    x = np.array([1.0, 2.0])
    with pytest.raises(ad.NotDifferentiable, match="complex"):
        ad.gradient(lambda x: np.einsum("i,i", x, np.array([1j, 1.0])).real, x)


def test_wrong_subscripts_raise_numpys_error():
    with pytest.raises(ValueError):
        ad.gradient(lambda x: np.einsum("ij", x), np.ones(3))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_rule_on_its_declared_domain(data):
    # Independent of adcheck's checker: central differences in float64 at drawn subscripts.
    args, kwargs = lookup(np.einsum).domain.draw_args(data.draw)
    positions = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    args = [a.astype(np.float64) if i in positions else a for i, a in enumerate(args)]

    def f(*ops):
        full = list(args)
        for p, op in zip(positions, ops):
            full[p] = op
        return np.einsum(*full, **kwargs)

    check_every_operand(f, [args[p] for p in positions], rtol=1e-5, atol=1e-7)
