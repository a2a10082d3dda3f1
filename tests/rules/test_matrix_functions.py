"""np.linalg inv, det, slogdet, solve, pinv, lstsq, matrix_power, multi_dot against analytic
derivatives and independent central differences: stacks, 1x1 matrices, float32, second
derivatives, typical least-squares code, and the refusals at rank-deficient inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central, central_vjp


def well_conditioned(shape, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    n = shape[-1]
    return a + 3 * np.eye(n) if shape[-2] == n else a


def check_all(f, *args, rtol=1e-6, atol=1e-8):
    """Every argument's cotangent against central differences, for a weight that tells the
    output entries apart."""
    y = f(*args)
    w = np.random.default_rng(7).normal(size=np.shape(y))
    grads = ad.pullback(f, *args)[1](w)
    for i, (a, g) in enumerate(zip(args, grads)):
        assert np.shape(g) == np.shape(a)

        def fi(v, i=i):
            return f(*[v if j == i else b for j, b in enumerate(args)])

        np.testing.assert_allclose(g, central_vjp(fi, a, w), rtol=rtol, atol=atol)


SQUARE_SHAPES = [(1, 1), (2, 2), (3, 3), (2, 3, 3), (2, 1, 2, 2)]


@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
@pytest.mark.parametrize("fn", [np.linalg.inv, np.linalg.det,
                                lambda a: np.linalg.slogdet(a).logabsdet,
                                lambda a: np.linalg.slogdet(a)[0] + 0 * a.sum()],
                         ids=["inv", "det", "logabsdet", "sign"])
def test_inverse_and_determinants_match_central_differences(fn, shape):
    check_all(fn, well_conditioned(shape))


def test_inverse_and_determinant_analytic():
    A = np.array([[2.0, 1.0], [-1.0, 3.0]])
    B = np.linalg.inv(A)
    C = np.array([[1.0, 2.0], [3.0, 4.0]])
    (g,) = ad.pullback(np.linalg.inv, A)[1](C)
    np.testing.assert_allclose(g, -B.T @ C @ B.T, rtol=1e-14)
    (g,) = ad.gradient(np.linalg.det, A)
    np.testing.assert_allclose(g, [[3.0, 1.0], [-1.0, 2.0]], rtol=1e-14)  # the cofactors
    (g,) = ad.gradient(lambda A: np.linalg.slogdet(A)[1], -A)
    np.testing.assert_allclose(g, -B.T, rtol=1e-14)  # negative det: d log|det| = A^-T still


def test_one_by_one_matrices():
    a = np.array([[-4.0]])
    assert ad.gradient(lambda a: np.linalg.inv(a).sum(), a)[0] == -1 / 16
    assert ad.gradient(np.linalg.det, a)[0] == 1.0
    assert ad.gradient(lambda a: np.linalg.slogdet(a).logabsdet, a)[0] == -0.25
    assert ad.gradient(lambda a: np.linalg.solve(a, np.array([2.0])).sum(), a)[0] == -2 / 16


SOLVE_SHAPES = [
    ((3, 3), (3,)),  # vector right-hand side
    ((3, 3), (3, 2)),  # matrix
    ((2, 3, 3), (3,)),  # a stack against one vector
    ((2, 3, 3), (3, 1)),
    ((3, 3), (4, 3, 2)),  # one matrix against a stack of right-hand sides
    ((2, 1, 3, 3), (4, 3, 2)),  # batch axes broadcast both ways
    ((1, 1), (1,)),
]


@pytest.mark.parametrize("a_shape, b_shape", SOLVE_SHAPES, ids=str)
def test_solve_matches_central_differences(a_shape, b_shape):
    a = well_conditioned(a_shape)
    b = np.random.default_rng(3).normal(size=b_shape)
    check_all(np.linalg.solve, a, b)


def test_solve_analytic():
    A = np.array([[3.0, 1.0], [0.5, 2.0]])
    b = np.array([1.0, -2.0])
    w = np.array([0.5, 1.5])
    x = np.linalg.solve(A, b)
    gA, gb = ad.pullback(np.linalg.solve, A, b)[1](w)
    z = np.linalg.solve(A.T, w)
    np.testing.assert_allclose(gb, z, rtol=1e-14)
    np.testing.assert_allclose(gA, -np.outer(z, x), rtol=1e-14)


@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (3, 3), (2, 4, 3), (1, 1), (1, 3)], ids=str)
def test_pinv_matches_central_differences(shape):
    check_all(np.linalg.pinv, np.random.default_rng(5).normal(size=shape))


def test_pinv_hermitian_reads_the_lower_triangle():
    rng = np.random.default_rng(2)
    n = rng.normal(size=(3, 3))
    spd = n @ n.T + np.eye(3)
    a = spd + np.triu(rng.normal(size=(3, 3)), 1)  # the upper triangle is never read
    check_all(lambda a: np.linalg.pinv(a, hermitian=True), a)
    g = ad.pullback(lambda a: np.linalg.pinv(a, hermitian=True), a)[1](np.ones((3, 3)))[0]
    np.testing.assert_array_equal(np.triu(g, 1), 0.0)


def test_pinv_of_a_full_rank_tall_matrix_is_the_normal_equations():
    # For full column rank, pinv(A) = (A^T A)^-1 A^T: its gradient by the rules of inv and
    # matmul is an independent derivation.
    A = np.random.default_rng(1).normal(size=(4, 2))
    C = np.random.default_rng(2).normal(size=(2, 4))
    (g1,) = ad.gradient(lambda A: np.sum(np.linalg.pinv(A) * C), A)
    (g2,) = ad.gradient(lambda A: np.sum(np.linalg.inv(A.T @ A) @ A.T * C), A)
    np.testing.assert_allclose(g1, g2, rtol=1e-10)


def test_pinv_of_a_rank_deficient_matrix_is_refused():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ad.NotDifferentiable, match=r"np\.linalg\.pinv of a rank-deficient "
                       r"matrix .* is not differentiable"):
        ad.gradient(lambda a: np.linalg.pinv(a).sum(), a)
    # a cutoff that removes a singular value: also a different, non-smooth function
    with pytest.raises(ad.NotDifferentiable, match="rank-deficient"):
        ad.gradient(lambda a: np.linalg.pinv(a, rcond=0.5).sum(), np.diag([1.0, 0.1]))


LSTSQ_SHAPES = [((4, 2), (4,)), ((4, 2), (4, 3)), ((3, 3), (3, 2)), ((2, 4), (2,)),
                ((2, 4), (2, 2)), ((1, 1), (1,))]


@pytest.mark.parametrize("a_shape, b_shape", LSTSQ_SHAPES, ids=str)
@pytest.mark.parametrize("output", [0, 1, 3], ids=["x", "residuals", "singular values"])
def test_lstsq_outputs_match_central_differences(a_shape, b_shape, output):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    if output == 1 and a_shape[0] <= a_shape[1]:
        assert np.linalg.lstsq(a, b)[1].size == 0  # no residuals to differentiate
        return
    check_all(lambda a, b: np.linalg.lstsq(a, b)[output], a, b)


def test_lstsq_residuals_analytic():
    # residual r = b - A x is orthogonal to A's columns: d|r|^2/db = 2 r, d|r|^2/dA = -2 r x^T
    A = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, 0.0, 2.0])
    x = np.linalg.lstsq(A, b)[0]
    r = b - A @ x
    gA, gb = ad.gradient(lambda A, b: np.linalg.lstsq(A, b)[1][0], A, b)
    np.testing.assert_allclose(gb, 2 * r, rtol=1e-12)
    np.testing.assert_allclose(gA, -2 * np.outer(r, x), rtol=1e-12)


def test_lstsq_rank_and_float32():
    a = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    b = np.ones(4, np.float32)
    x, res, rank, s = np.linalg.lstsq(a, b)
    ga, gb = ad.gradient(lambda a, b: np.linalg.lstsq(a, b)[0].sum(), a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float32
    p = np.linalg.pinv(a.astype(np.float64))
    np.testing.assert_allclose(gb, p.T @ np.ones(2), rtol=1e-5)
    assert rank == 2


def test_lstsq_of_a_rank_deficient_matrix_is_refused():
    a = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(ad.NotDifferentiable, match=r"np\.linalg\.lstsq of a rank-deficient"):
        ad.gradient(lambda a: np.linalg.lstsq(a, np.ones(3))[0].sum(), a)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -3])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 3, 3)], ids=str)
def test_matrix_power_matches_central_differences(n, shape):
    check_all(lambda a: np.linalg.matrix_power(a, n), well_conditioned(shape) / 3)


def test_matrix_power_analytic():
    A = np.array([[1.0, 2.0], [0.0, 1.0]])
    C = np.array([[1.0, 0.0], [2.0, -1.0]])
    (g,) = ad.pullback(lambda A: np.linalg.matrix_power(A, 2), A)[1](C)
    np.testing.assert_allclose(g, C @ A.T + A.T @ C, rtol=1e-14)  # d(A A) = dA A + A dA
    (g,) = ad.pullback(lambda A: np.linalg.matrix_power(A, 0), A)[1](C)
    np.testing.assert_array_equal(g, np.zeros((2, 2)))
    B = np.linalg.inv(A)
    (g,) = ad.pullback(lambda A: np.linalg.matrix_power(A, -1), A)[1](C)
    np.testing.assert_allclose(g, -B.T @ C @ B.T, rtol=1e-14)


@pytest.mark.parametrize("shapes", [[(3,), (3, 2)], [(2, 3), (3,)], [(3,), (3,)],
                                    [(2, 3), (3, 4), (4, 1)], [(3,), (3, 2), (2, 4), (4,)]],
                         ids=str)
def test_multi_dot_matches_central_differences(shapes):
    rng = np.random.default_rng(6)
    arrays = [rng.normal(size=s) for s in shapes]
    check_all(lambda *a: np.linalg.multi_dot(list(a)), *arrays)


def test_multi_dot_out_is_refused():
    a = np.ones((2, 2))
    with pytest.raises(ad.NotDifferentiable, match=r"np\.linalg\.multi_dot\(\.\.\., out="):
        ad.gradient(lambda a: np.linalg.multi_dot([a, a, a], out=np.zeros((2, 2))).sum(), a)


def test_linalg_matmul_alias():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 2))
    ga, gb = ad.gradient(lambda a, b: np.linalg.matmul(a, b).sum(), a, b)
    np.testing.assert_array_equal(ga, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(gb, np.broadcast_to(a.sum(axis=0)[:, None], (3, 2)))


def test_matrix_rank_is_a_constant():
    (g,) = ad.gradient(lambda a: np.linalg.matrix_rank(a) * a.sum(), np.eye(2))
    np.testing.assert_array_equal(g, np.full((2, 2), 2.0))


def test_float32_stays_float32():
    a = well_conditioned((2, 3, 3)).astype(np.float32)
    for f in (lambda a: np.linalg.inv(a).sum(), lambda a: np.linalg.det(a).sum(),
              lambda a: np.linalg.slogdet(a)[1].sum(), lambda a: np.linalg.pinv(a).sum(),
              lambda a: np.linalg.solve(a, np.ones(3, np.float32)).sum(),
              lambda a: np.linalg.matrix_power(a, 2).sum()):
        (g,) = ad.gradient(f, a)
        assert g.dtype == np.float32
        g64 = central(f, a.astype(np.float64))
        np.testing.assert_allclose(g, g64, rtol=2e-3, atol=2e-4)


# -- second derivatives ----------------------------------------------------------------------


def hessian_of(grad, x, h=1e-5):
    """The Jacobian of an analytic gradient by central differences, shape x.shape * 2."""
    x = np.asarray(x, float)
    H = np.empty(x.shape + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        H[(...,) + i] = (grad(x + e) - grad(x - e)) / (2 * h)
    return np.moveaxis(H.reshape(x.shape + (-1,)), -1, 0).reshape(x.shape + x.shape)


def test_hessian_of_logdet_analytic():
    # d^2 log det A / dA_ij dA_kl = -B_jk B_li with B = A^-1
    A = well_conditioned((3, 3))
    B = np.linalg.inv(A)
    H = ad.hessian(lambda A: np.linalg.slogdet(A).logabsdet, A)
    np.testing.assert_allclose(H, -np.einsum("jk,li->ijkl", B, B), rtol=1e-10, atol=1e-12)


def test_hessian_of_det_against_differences_of_the_analytic_gradient():
    A = well_conditioned((2, 2), seed=3)
    H = ad.hessian(np.linalg.det, A)
    np.testing.assert_allclose(
        H, hessian_of(lambda A: np.linalg.det(A) * np.linalg.inv(A).T, A), rtol=1e-6,
        atol=1e-8)


def test_hessian_of_a_quadratic_form_through_solve():
    # f(x) = x^T A^-1 x: H = A^-1 + A^-T
    A = well_conditioned((3, 3), seed=2)
    x = np.array([1.0, -2.0, 0.5])
    B = np.linalg.inv(A)
    H = ad.hessian(lambda x: x @ np.linalg.solve(A, x), x)
    np.testing.assert_allclose(H, B + B.T, rtol=1e-12)


def test_hessian_through_solve_with_respect_to_the_matrix():
    A = well_conditioned((2, 2), seed=4)
    b = np.array([1.0, 2.0])
    c = np.array([0.5, -1.0])

    def grad(A):  # f = c^T A^-1 b: df/dA = -(A^-T c)(A^-1 b)^T
        return -np.outer(np.linalg.solve(A.T, c), np.linalg.solve(A, b))

    H = ad.hessian(lambda A: c @ np.linalg.solve(A, b), A)
    np.testing.assert_allclose(H, hessian_of(grad, A), rtol=1e-6, atol=1e-8)


def test_hessian_through_inv():
    A = well_conditioned((2, 2), seed=5)
    C = np.array([[1.0, -1.0], [2.0, 0.5]])

    def grad(A):
        B = np.linalg.inv(A)
        return -B.T @ C @ B.T

    H = ad.hessian(lambda A: np.sum(np.linalg.inv(A) * C), A)
    np.testing.assert_allclose(H, hessian_of(grad, A), rtol=1e-6, atol=1e-8)


def test_hessian_through_pinv_and_matrix_power():
    A = np.random.default_rng(3).normal(size=(3, 2))
    C = np.random.default_rng(4).normal(size=(2, 3))

    def f(A):
        return np.sum(np.linalg.pinv(A) * C)

    H = ad.hessian(f, A)
    np.testing.assert_allclose(H, hessian_of(lambda A: ad.gradient(f, A)[0], A), rtol=1e-5,
                               atol=1e-7)
    M = well_conditioned((2, 2)) / 3
    H = ad.hessian(lambda M: np.linalg.matrix_power(M, -2).sum(), M)
    np.testing.assert_allclose(
        H, hessian_of(lambda M: central(lambda M: np.linalg.matrix_power(M, -2).sum(), M), M,
                      h=1e-4), rtol=1e-4, atol=1e-5)


# -- typical code ----------------------------------------------------------------------------


def design(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=8)
    return X, y


def test_least_squares_by_solve_by_lstsq_and_by_pinv_agree_and_pass_gradcheck():
    X, y = design()

    def by_solve(X, y):
        w = np.linalg.solve(X.T @ X, X.T @ y)
        return np.sum((X @ w - y) ** 2)

    def by_lstsq(X, y):
        w = np.linalg.lstsq(X, y)[0]
        return np.sum((X @ w - y) ** 2)

    def by_pinv(X, y):
        return np.sum((X @ (np.linalg.pinv(X) @ y) - y) ** 2)

    def by_residuals(X, y):
        return np.linalg.lstsq(X, y)[1][0]

    grads = [ad.gradient(f, X, y) for f in (by_solve, by_lstsq, by_pinv, by_residuals)]
    for f in (by_solve, by_lstsq, by_pinv, by_residuals):
        assert ad.gradcheck(f, X, y, seed=1)
    for g in grads[1:]:
        np.testing.assert_allclose(g[0], grads[0][0], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(g[1], grads[0][1], rtol=1e-8, atol=1e-10)
    # the envelope theorem: d(min residual)/dy = 2 r
    w = np.linalg.lstsq(X, y)[0]
    np.testing.assert_allclose(grads[0][1], 2 * (y - X @ w), rtol=1e-8)


def test_ridge_regression_weights_gradcheck():
    X, y = design(1)

    def loss(lam, X):
        w = np.linalg.solve(X.T @ X + lam * np.eye(3), X.T @ y)
        return np.sum(w ** 2)

    assert ad.gradcheck(loss, 0.3, X, seed=2)


# -- condition numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf], ids=str)
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (1, 1)], ids=str)
def test_cond_matches_central_differences(p, shape):
    check_all(lambda a: np.linalg.cond(a, p), well_conditioned(shape, seed=8))


def test_cond_of_a_non_square_matrix_and_analytic():
    check_all(np.linalg.cond, np.random.default_rng(1).normal(size=(4, 2)))
    # cond = s1 / s2 of diag(4, 2): d/dA = e1 e1^T / s2 - s1 e2 e2^T / s2^2
    np.testing.assert_allclose(ad.gradient(np.linalg.cond, np.diag([4.0, 2.0]))[0],
                               [[0.5, 0.0], [0.0, -1.0]], atol=1e-15)
    # at a multiple of an orthogonal matrix cond is at its minimum 1: the gradient is 0
    q = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))[0]
    for p in ("fro", "nuc"):  # (2 is not differentiable there: s1 = s3)
        np.testing.assert_allclose(ad.gradient(lambda a, p=p: np.linalg.cond(a, p), 2 * q)[0],
                                   0.0, atol=1e-12)
    g32 = ad.gradient(lambda a: np.linalg.cond(a, "fro"), (2 * q).astype(np.float32))[0]
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, 0.0, atol=1e-6)


def test_hessian_through_cond():
    A = well_conditioned((2, 2), seed=9)
    for p in (None, "fro"):
        def f(A, p=p):
            return np.linalg.cond(A, p)

        H = ad.hessian(f, A)
        np.testing.assert_allclose(H, hessian_of(lambda A: ad.gradient(f, A)[0], A),
                                   rtol=1e-5, atol=1e-7)


# -- the domains draw what they promise ------------------------------------------------------


@settings(max_examples=40, database=None)
@given(data=st.data())
def test_domains_are_well_conditioned_and_full_rank(data):
    for fn in (np.linalg.inv, np.linalg.det, np.linalg.solve, np.linalg.pinv, np.linalg.lstsq,
               np.linalg.matrix_power, np.linalg.cond):
        args, kwargs = lookup(fn).domain.draw_args(data.draw)
        a = np.asarray(args[0], np.float64)
        if kwargs.get("hermitian"):  # only the lower triangle is read
            a = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
        s = np.linalg.svd(a, compute_uv=False)
        assert np.all(s > 0.2), (fn, s)
        if fn is np.linalg.lstsq:  # its singular values are an output: apart
            assert np.all(-np.diff(s) > 0.25)
