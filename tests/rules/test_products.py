"""Product rules (vdot, inner, outer, tensordot, kron, trace, diagonal, cross, vecdot, matvec,
vecmat, matrix_transpose, np.linalg's aliases) against central differences and analytic
derivatives: every axis argument, 0-d and size-1 operands, broadcasting, float32, Hessians."""

import warnings

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
    """Each operand's cotangent of ``f(*ops)`` against central differences."""
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


# -- vdot, inner, outer ------------------------------------------------------------------------


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (6,)), ((3, 1), (1, 3)), ((), ()),
                                    ((1,), ())], ids=str)
def test_vdot(shapes):
    check_every_operand(np.vdot, operands(*shapes))


def test_vdot_analytic():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0, 7.0, 8.0])
    ga, gb = ad.gradient(np.vdot, a, b)
    np.testing.assert_array_equal(ga, b.reshape(2, 2))
    np.testing.assert_array_equal(gb, a.ravel())


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,)),
                                    ((3,), (2, 1, 3)), ((), (2, 3)), ((2,), ()), ((), ())],
                         ids=str)
def test_inner(shapes):
    check_every_operand(np.inner, operands(*shapes))


def test_inner_analytic():
    # inner(A, B)[i, j] = A[i] . B[j]: d/dA sum(W * inner(A, B)) = W B
    A, B, W = operands((2, 3), (4, 3), (2, 4))
    gA, gB = ad.pullback(np.inner, A, B)[1](W)
    np.testing.assert_allclose(gA, W @ B, rtol=1e-13)
    np.testing.assert_allclose(gB, W.T @ A, rtol=1e-13)


@pytest.mark.parametrize("shapes", [((2,), (3,)), ((2, 2), (3,)), ((), (2,)), ((1,), (1, 1))],
                         ids=str)
def test_outer(shapes):
    check_every_operand(np.outer, operands(*shapes))
    if all(len(s) == 1 for s in shapes):
        check_every_operand(np.linalg.outer, operands(*shapes))


def test_outer_analytic_and_out_refused():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    dy = np.arange(6.0).reshape(2, 3)
    ga, gb = ad.pullback(np.outer, a, b)[1](dy)
    np.testing.assert_array_equal(ga, dy @ b)
    np.testing.assert_array_equal(gb, dy.T @ a)
    with pytest.raises(ad.NotDifferentiable, match=r"np\.outer\(\.\.\., out="):
        ad.gradient(lambda a: np.outer(a, b, out=np.zeros((2, 3))).sum(), a)


# -- tensordot, kron ------------------------------------------------------------------------


TENSORDOT = [
    ((2, 3), (3, 4), 1),
    ((2, 3, 4), (3, 4, 2), 2),
    ((2, 3), (4,), 0),  # an outer product
    ((), (2, 3), 0),
    ((3, 2, 4), (4, 3), ([0, 2], [1, 0])),  # paired axes in another order
    ((3, 2, 4), (4, 3), ([-3, -1], [-1, -2])),  # negative axes
    ((2, 3), (3, 2), (1, 0)),  # a pair of ints
    ((1, 3), (3, 1), ([0, 1], [1, 0])),
]


@pytest.mark.parametrize("a_shape, b_shape, axes", TENSORDOT, ids=str)
def test_tensordot(a_shape, b_shape, axes):
    ops = operands(a_shape, b_shape)
    check_every_operand(lambda a, b: np.tensordot(a, b, axes), ops)
    check_every_operand(lambda a, b: np.tensordot(a, b, axes=axes), ops)
    check_every_operand(lambda a, b: np.linalg.tensordot(a, b, axes=axes), ops)


def test_tensordot_default_axes_and_analytic():
    A, B = operands((2, 3, 4), (3, 4, 5))
    check_every_operand(np.tensordot, [A, B])  # axes=2
    W = np.random.default_rng(2).normal(size=(2, 5))
    gA, gB = ad.pullback(np.tensordot, A, B)[1](W)
    np.testing.assert_allclose(gA, np.einsum("ae,bce->abc", W, B), rtol=1e-13)
    np.testing.assert_allclose(gB, np.einsum("ae,abc->bce", W, A), rtol=1e-13)


@pytest.mark.parametrize("shapes", [((2,), (3,)), ((2, 2), (2, 3)), ((2,), (2, 2)),
                                    ((2, 1, 2), (1, 2)), ((), (2,)), ((2, 2), ()), ((), ())],
                         ids=str)
def test_kron(shapes):
    check_every_operand(np.kron, operands(*shapes))


def test_kron_analytic():
    # d/da sum(kron(a, b)) = sum(b) for every entry of a
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, -2.0, 5.0]])
    ga, gb = ad.gradient(lambda a, b: np.kron(a, b).sum(), a, b)
    np.testing.assert_array_equal(ga, np.full((2, 2), 4.0))
    np.testing.assert_array_equal(gb, np.full((1, 3), 10.0))


# -- trace, diagonal ------------------------------------------------------------------------


DIAGONALS = [
    ((3, 3), 0, 0, 1),
    ((2, 4), 1, 0, 1),
    ((4, 2), -2, 0, 1),
    ((2, 3), 5, 0, 1),  # off the array: an empty diagonal, a zero gradient
    ((2, 3), 0, 1, 0),  # axes swapped
    ((2, 3, 4), 1, 0, 2),
    ((2, 3, 4), -1, -1, -3),
    ((3, 2, 3), 0, 2, 0),
    ((1, 1), 0, 0, 1),
]


@pytest.mark.parametrize("fn", [np.trace, np.diagonal], ids=["trace", "diagonal"])
@pytest.mark.parametrize("shape, offset, axis1, axis2", DIAGONALS, ids=str)
def test_trace_and_diagonal(fn, shape, offset, axis1, axis2):
    (x,) = operands(shape)
    check_every_operand(lambda x: fn(x, offset, axis1, axis2), [x])
    check_every_operand(lambda x: fn(x, offset=offset, axis1=axis1, axis2=axis2), [x])


@pytest.mark.parametrize("shape, offset", [((3, 3), 0), ((2, 3, 4), 1), ((2, 4, 3), -2),
                                           ((2, 2), 3)], ids=str)
def test_linalg_trace_and_diagonal(shape, offset):
    (x,) = operands(shape)
    check_every_operand(lambda x: np.linalg.trace(x, offset=offset), [x])
    check_every_operand(lambda x: np.linalg.diagonal(x, offset=offset), [x])


def test_trace_analytic_and_methods():
    x = np.arange(12.0).reshape(3, 4)
    (g,) = ad.gradient(lambda x: np.trace(x, offset=1), x)
    np.testing.assert_array_equal(g, np.eye(3, 4, k=1))
    (g,) = ad.gradient(lambda x: x.trace(-1), x)
    np.testing.assert_array_equal(g, np.eye(3, 4, k=-1))
    w = np.array([1.0, 2.0, 3.0])
    (g,) = ad.pullback(lambda x: x.diagonal(), x)[1](w)
    np.testing.assert_array_equal(g, np.eye(3, 4) * np.append(w, 0.0)[:, None][:3])
    with pytest.raises(ad.NotDifferentiable, match=r"np\.trace\(\.\.\., dtype="):
        ad.gradient(lambda x: np.trace(x, dtype=np.float32), x)


def test_diagonal_is_a_read_only_view_as_in_numpy():
    x = np.ones((2, 2))

    def f(x):
        d = np.diagonal(x)
        d += 1.0  # NumPy refuses to write into the view; the engine refuses too
        return d.sum()

    with pytest.raises(ad.NotDifferentiable, match="view"):
        ad.gradient(f, x)
    assert not np.diagonal(x).flags.writeable


# -- cross, vecdot, matvec, vecmat, matrix_transpose ---------------------------------------


CROSS = [
    ((3,), (3,), {}),
    ((2, 3), (3,), {}),  # batch broadcast
    ((2, 1, 3), (4, 3), {}),
    ((3, 2), (2, 3), {"axisa": 0, "axisb": -1, "axisc": 0}),
    ((3, 2), (3, 2), {"axis": 0}),
    ((2, 3, 1), (3, 4), {"axisa": 1, "axisb": 0, "axisc": -2}),
]


@pytest.mark.parametrize("a_shape, b_shape, kw", CROSS, ids=str)
def test_cross(a_shape, b_shape, kw):
    check_every_operand(lambda a, b: np.cross(a, b, **kw), operands(a_shape, b_shape))


@pytest.mark.parametrize("a_shape, b_shape", [((2,), (2,)), ((2,), (3,)), ((3, 3), (3, 2))],
                         ids=str)
def test_cross_of_two_vectors_deprecated_but_accepted(a_shape, b_shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        check_every_operand(np.cross, operands(a_shape, b_shape))


def test_cross_analytic():
    # <dc, a x b> = <a, b x dc> = <b, dc x a>
    a, b, dc = operands((4, 3), (4, 3), (4, 3))
    ga, gb = ad.pullback(np.cross, a, b)[1](dc)
    np.testing.assert_allclose(ga, np.cross(b, dc), rtol=1e-13)
    np.testing.assert_allclose(gb, np.cross(dc, a), rtol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # a0 b1 - a1 b0 for 2-vectors
        ga, gb = ad.gradient(np.cross, np.array([1.0, 2.0]), np.array([3.0, 5.0]))
    np.testing.assert_array_equal(ga, [5.0, -3.0])
    np.testing.assert_array_equal(gb, [-2.0, 1.0])


@pytest.mark.parametrize("axis", [-1, 0])
def test_linalg_cross(axis):
    a, b = operands((3, 2), (3, 2)) if axis == 0 else operands((2, 3), (1, 3))
    check_every_operand(lambda a, b: np.linalg.cross(a, b, axis=axis), [a, b])


@pytest.mark.parametrize("a_shape, b_shape, axis", [((3,), (3,), -1), ((2, 3), (3,), -1),
                                                    ((2, 1, 3), (4, 3), -1),
                                                    ((3, 2), (3, 1), -2), ((1,), (2, 1), -1)],
                         ids=str)
def test_vecdot(a_shape, b_shape, axis):
    ops = operands(a_shape, b_shape)
    if axis == -1:
        check_every_operand(np.vecdot, ops)
    check_every_operand(lambda a, b: np.linalg.vecdot(a, b, axis=axis), ops)


def test_vecdot_with_axis_through_the_tracer():
    # np.vecdot is a gufunc: the tracer passes axis= to its rule. d/da sum_j a_ij a_ij = 2a
    a = np.arange(6.0).reshape(3, 2) - 2.0
    (g,) = ad.gradient(lambda a: np.vecdot(a, a, axis=0).sum(), a)
    np.testing.assert_allclose(g, 2 * a, rtol=1e-15)
    w = np.array([1.0, -2.0, 0.5])
    (g,) = ad.gradient(lambda a: np.vecdot(a, w, axis=0).sum(), a)
    np.testing.assert_allclose(g, np.broadcast_to(w[:, None], a.shape), rtol=1e-15)


@pytest.mark.parametrize("a_shape, v_shape", [((2, 3), (3,)), ((4, 2, 3), (3,)),
                                              ((2, 3), (4, 3)), ((1, 1), (1,))], ids=str)
def test_matvec_and_vecmat(a_shape, v_shape):
    A, v = operands(a_shape, v_shape)
    check_every_operand(np.matvec, [A, v])
    check_every_operand(np.vecmat, [v, np.swapaxes(A, -1, -2)])


def test_matvec_analytic():
    A, v, w = operands((2, 3), (3,), (2,))
    gA, gv = ad.pullback(np.matvec, A, v)[1](w)
    np.testing.assert_allclose(gA, np.outer(w, v), rtol=1e-14)
    np.testing.assert_allclose(gv, A.T @ w, rtol=1e-14)


def test_matrix_transpose():
    (x,) = operands((2, 3, 4))
    check_every_operand(np.matrix_transpose, [x])


# -- dtypes, Hessians, refusals ------------------------------------------------------------


@pytest.mark.parametrize("f", [np.vdot, np.inner, np.kron, np.outer,
                               lambda a, b: np.tensordot(a, b, 1), np.cross,
                               lambda a, b: np.trace(np.outer(a, b))],
                         ids=["vdot", "inner", "kron", "outer", "tensordot", "cross", "trace"])
def test_float32_stays_float32(f):
    a, b = (v.astype(np.float32) for v in operands((3,), (3,)))
    ga, gb = ad.gradient(lambda a, b: np.sum(f(a, b)), a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float32
    expected = ad.gradient(lambda a, b: np.sum(f(a, b)), a.astype(np.float64),
                           b.astype(np.float64))
    np.testing.assert_allclose(ga, expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb, expected[1], rtol=1e-5, atol=1e-6)


def test_hessians_analytic():
    x = np.array([0.5, -1.0, 2.0])
    c = np.array([1.0, 2.0, -1.0])
    # |x|^2 by vdot and inner: 2 I
    np.testing.assert_allclose(ad.hessian(lambda x: np.vdot(x, x), x), 2 * np.eye(3))
    np.testing.assert_allclose(ad.hessian(lambda x: np.inner(x, x), x), 2 * np.eye(3))
    # |x x c|^2 = |x|^2 |c|^2 - (x.c)^2: H = 2 (|c|^2 I - c c^T)
    H = ad.hessian(lambda x: np.sum(np.cross(x, c) ** 2), x)
    np.testing.assert_allclose(H, 2 * (c @ c * np.eye(3) - np.outer(c, c)), rtol=1e-13)
    # sum(outer(x, x)) = (sum x)^2: H = 2 everywhere
    np.testing.assert_allclose(ad.hessian(lambda x: np.sum(np.outer(x, x)), x), 2.0)
    # tr(kron(X, X)) = tr(X)^2: H[a,b,c,d] = 2 d[a,b] d[c,d]
    X = np.arange(4.0).reshape(2, 2)
    H = ad.hessian(lambda X: np.trace(np.kron(X, X)), X)
    np.testing.assert_array_equal(H, 2 * np.einsum("ab,cd->abcd", np.eye(2), np.eye(2)))
    # sum(diagonal(X)^3): H = 6 X[a,a] on the diagonal of the diagonal
    H = ad.hessian(lambda X: np.sum(np.diagonal(X) ** 3), X)
    expected = np.zeros((2, 2, 2, 2))
    expected[0, 0, 0, 0], expected[1, 1, 1, 1] = 6 * X[0, 0], 6 * X[1, 1]
    np.testing.assert_allclose(H, expected, rtol=1e-14)
    # x^T A x through tensordot: H = A + A^T
    A = np.array([[1.0, 2.0, 0.0], [-3.0, 4.0, 5.0], [0.5, 0.0, -1.0]])
    H = ad.hessian(lambda x: np.tensordot(x, np.tensordot(A, x, 1), 1), x)
    np.testing.assert_allclose(H, A + A.T, rtol=1e-14)


def test_complex_is_refused():
    x = np.array([1.0, 2.0])
    with pytest.raises(ad.NotDifferentiable, match="complex"):
        ad.gradient(lambda x: np.vdot(x, np.array([1j, 1.0])).real, x)
    with pytest.raises(ad.NotDifferentiable, match="complex"):
        ad.gradient(lambda x: np.kron(x, np.array([1j])).real.sum(), x)


PRODUCTS = [np.vdot, np.inner, np.outer, np.linalg.outer, np.tensordot, np.linalg.tensordot,
            np.kron, np.trace, np.diagonal, np.linalg.trace, np.linalg.diagonal, np.cross,
            np.linalg.cross, np.vecdot, np.linalg.vecdot, np.matvec, np.vecmat,
            np.matrix_transpose]


@pytest.mark.parametrize("fn", PRODUCTS, ids=lambda f: lookup(f).name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_rule_on_its_declared_domain(fn, data):
    # Independent of adcheck's checker: central differences in float64 at drawn inputs.
    args, kwargs = lookup(fn).domain.draw_args(data.draw)
    positions = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    args = [a.astype(np.float64) if i in positions else a for i, a in enumerate(args)]

    def f(*ops):
        full = list(args)
        for p, op in zip(positions, ops):
            full[p] = op
        return fn(*full, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # np.cross of 2-vectors
        check_every_operand(f, [args[p] for p in positions], rtol=1e-5, atol=1e-7)
