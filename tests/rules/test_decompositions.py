"""cholesky, eigh, eigvalsh, svd, svdvals and qr against central differences and analytic
formulas: stacks, 1x1, float32, the triangle NumPy reads, the refusals, second derivatives,
and a Gaussian log-likelihood and a Gaussian-process marginal likelihood."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central, central_vjp


def check_vjp(f, a, rtol=1e-6, atol=1e-8):
    y = f(a)
    ws = [np.random.default_rng(i).normal(size=np.shape(v)) for i, v in
          enumerate(y if isinstance(y, tuple) else (y,))]
    w = tuple(ws) if isinstance(y, tuple) else ws[0]
    (g,) = ad.pullback(f, a)[1](w)
    assert np.shape(g) == np.shape(a)

    def weighted(v):
        out = f(v)
        out = out if isinstance(out, tuple) else (out,)
        return sum(np.sum(wi * o) for wi, o in zip(ws, out))

    np.testing.assert_allclose(g, central(weighted, a), rtol=rtol, atol=atol)
    return g


def spd(shape, seed=0):
    n = np.random.default_rng(seed).normal(size=shape)
    return n @ np.swapaxes(n, -1, -2) + np.eye(shape[-1])


def junk_triangle(a, upper, seed=9):
    """``a`` with arbitrary values in the triangle a function reading the other ignores."""
    noise = np.random.default_rng(seed).normal(size=np.shape(a))
    return a + (np.triu(noise, 1) if upper else np.tril(noise, -1))


SQUARE = [(1, 1), (2, 2), (3, 3), (2, 3, 3)]


# -- Cholesky --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SQUARE, ids=str)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_central_differences(shape, upper):
    a = junk_triangle(spd(shape), upper=not upper)  # NumPy reads one triangle only
    g = check_vjp(lambda a: np.linalg.cholesky(a, upper=upper), a)
    unread = np.triu(g, 1) if not upper else np.tril(g, -1)
    np.testing.assert_array_equal(unread, 0.0)


def test_cholesky_one_by_one_and_float32():
    # L = sqrt(a): dL/da = 1 / (2 sqrt(a))
    assert ad.gradient(lambda a: np.linalg.cholesky(a).sum(), np.array([[9.0]]))[0] == 1 / 6
    a = spd((2, 3, 3)).astype(np.float32)
    (g,) = ad.gradient(lambda a: np.linalg.cholesky(a).sum(), a)
    assert g.dtype == np.float32
    g64 = central(lambda a: np.linalg.cholesky(a).sum(), a.astype(np.float64))
    np.testing.assert_allclose(g, g64, rtol=1e-3, atol=1e-4)


# -- eigh / eigvalsh -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SQUARE, ids=str)
@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("output", ["values", "vectors", "both"])
def test_eigh_matches_central_differences(shape, uplo, output):
    a = junk_triangle(spd(shape, seed=1), upper=uplo == "L")
    pick = {"values": lambda r: r[0], "vectors": lambda r: r[1], "both": tuple}[output]
    g = check_vjp(lambda a: pick(np.linalg.eigh(a, uplo)), a)
    unread = np.triu(g, 1) if uplo == "L" else np.tril(g, -1)
    np.testing.assert_array_equal(unread, 0.0)


@pytest.mark.parametrize("shape", SQUARE, ids=str)
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigvalsh_matches_central_differences(shape, uplo):
    a = junk_triangle(spd(shape, seed=2), upper=uplo == "L")
    check_vjp(lambda a: np.linalg.eigvalsh(a, UPLO=uplo), a)


def test_eigenvalue_gradient_analytic():
    # dw_k = v_k^T dS v_k for the symmetric matrix S that NumPy reads from the lower triangle
    a = np.array([[2.0, 0.0], [1.0, 3.0]])
    w, v = np.linalg.eigh(a)
    (g,) = ad.gradient(lambda a: np.linalg.eigvalsh(a)[1], a)
    vk = v[:, 1]
    np.testing.assert_allclose(g, [[vk[0] ** 2, 0.0], [2 * vk[0] * vk[1], vk[1] ** 2]],
                               rtol=1e-12)


# -- SVD -------------------------------------------------------------------------------------


SHAPES = [(1, 1), (3, 3), (4, 2), (2, 4), (2, 3, 2), (1, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_singular_values_match_central_differences(shape):
    a = np.random.default_rng(3).normal(size=shape)
    check_vjp(lambda a: np.linalg.svd(a, compute_uv=False), a)
    check_vjp(np.linalg.svdvals, a)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("output", [0, 1, 2, "all"])
def test_reduced_svd_matches_central_differences(shape, output):
    a = np.random.default_rng(4).normal(size=shape)
    pick = tuple if output == "all" else (lambda r: r[output])
    check_vjp(lambda a: pick(np.linalg.svd(a, full_matrices=False)), a)


def test_square_svd_with_numpys_default_full_matrices():
    a = np.random.default_rng(5).normal(size=(3, 3))
    check_vjp(lambda a: tuple(np.linalg.svd(a)), a)


def test_singular_value_gradient_analytic():
    a = np.array([[3.0, 0.0], [0.0, -1.0]])
    (g,) = ad.gradient(lambda a: np.linalg.svd(a, compute_uv=False)[1], a)
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.0, -1.0]], atol=1e-15)  # u_2 v_2^T


def test_svd_refusals_name_the_way_out():
    with pytest.raises(ad.NotDifferentiable, match=r"np\.linalg\.svd of a 3x2 matrix with "
                       r"full_matrices=True .* Call np\.linalg\.svd\(a, full_matrices=False\)"):
        ad.gradient(lambda a: np.linalg.svd(a)[0].sum(), np.ones((3, 2)))
    with pytest.raises(ad.NotDifferentiable, match=r"svd\(\.\.\., hermitian=True\)"):
        ad.gradient(lambda a: np.linalg.svd(a, hermitian=True)[1].sum(), np.eye(2))


# -- QR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (4, 2), (3, 1), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("mode", ["reduced", "r", "q only", "r only"])
def test_qr_matches_central_differences(shape, mode):
    a = np.random.default_rng(6).normal(size=shape)
    f = {"reduced": lambda a: tuple(np.linalg.qr(a)),
         "r": lambda a: np.linalg.qr(a, mode="r"),
         "q only": lambda a: np.linalg.qr(a).Q,
         "r only": lambda a: np.linalg.qr(a).R}[mode]
    check_vjp(f, a)


def test_qr_refusals():
    with pytest.raises(ad.NotDifferentiable, match=r"np\.linalg\.qr of a wide 2x3 matrix"):
        ad.gradient(lambda a: np.linalg.qr(a)[1].sum(), np.ones((2, 3)))
    with pytest.raises(ad.NotDifferentiable, match=r"mode='complete'\) .* for a non-square"):
        ad.gradient(lambda a: np.linalg.qr(a, mode="complete")[1].sum(), np.ones((3, 2)))
    with pytest.raises(ad.NotDifferentiable, match=r"mode='raw'"):
        ad.gradient(lambda a: np.linalg.qr(a, mode="raw")[1].sum(), np.eye(2))


def test_decompositions_keep_float32():
    a = spd((3, 3)).astype(np.float32)
    for f in (lambda a: np.linalg.eigh(a)[1].sum() + np.linalg.eigh(a)[0].sum(),
              lambda a: np.linalg.eigvalsh(a).sum(),
              lambda a: np.linalg.svd(a)[0].sum(), lambda a: np.linalg.qr(a)[1].sum()):
        (g,) = ad.gradient(f, a)
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, central(f, a.astype(np.float64)), rtol=2e-3, atol=2e-3)


# -- second derivatives and typical code -----------------------------------------------------


def gaussian_loglik(mu, S, y):
    """log N(y; mu, S) with a Cholesky solve for the quadratic form and slogdet for log|S|."""
    L = np.linalg.cholesky(S)
    z = np.linalg.solve(L, y - mu)
    return -0.5 * (z @ z) - 0.5 * np.linalg.slogdet(S)[1] - 0.5 * len(y) * np.log(2 * np.pi)


def test_gaussian_log_likelihood_gradients_analytic_and_gradcheck():
    S = spd((3, 3))
    mu, y = np.array([0.1, -0.2, 0.3]), np.array([1.0, 0.5, -1.0])
    gmu, gS = ad.gradient(lambda mu, S: gaussian_loglik(mu, S, y), mu, S)
    P = np.linalg.inv(S)
    r = y - mu
    np.testing.assert_allclose(gmu, P @ r, rtol=1e-10)
    # the quadratic form goes through cholesky, which reads the lower triangle: its
    # symmetric gradient Q = P r r^T P / 2 lands there as Q + Q^T off the diagonal;
    # slogdet reads every entry: -P^T / 2
    Q = 0.5 * np.outer(P @ r, P @ r)
    expected = np.tril(Q + Q.T) - np.diag(np.diag(Q)) - 0.5 * P.T
    np.testing.assert_allclose(gS, expected, rtol=1e-8, atol=1e-12)
    assert ad.gradcheck(lambda mu, S: gaussian_loglik(mu, S, y), mu, S, seed=3)
    # the Hessian in mu is -S^-1
    np.testing.assert_allclose(ad.hessian(lambda mu: gaussian_loglik(mu, S, y), mu), -P,
                               rtol=1e-10)


def test_gaussian_log_likelihood_hessian_in_the_covariance():
    S = spd((2, 2), seed=3)
    mu, y = np.zeros(2), np.array([1.0, -0.5])

    def loglik(S):
        return gaussian_loglik(mu, S, y)

    H = ad.hessian(loglik, S)
    x = S.copy()
    expected = np.empty((2, 2, 2, 2))
    for i in np.ndindex(2, 2):
        e = np.zeros((2, 2))
        e[i] = 1e-5
        expected[:, :, i[0], i[1]] = (central(loglik, x + e) - central(loglik, x - e)) / 2e-5
    np.testing.assert_allclose(H, expected, rtol=1e-4, atol=1e-5)


def gp_negative_log_marginal_likelihood(params, x, y):
    log_length, log_scale, log_noise = params[0], params[1], params[2]
    d2 = (x[:, None] - x[None, :]) ** 2
    K = np.exp(2 * log_scale) * np.exp(-0.5 * d2 / np.exp(2 * log_length))
    K = K + np.exp(2 * log_noise) * np.eye(len(x))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    log_det = 2 * np.sum(np.log(np.sum(L * np.eye(len(x)), axis=1)))
    return 0.5 * (y @ alpha) + 0.5 * log_det + 0.5 * len(x) * np.log(2 * np.pi)


def test_gaussian_process_marginal_likelihood():
    x = np.linspace(0.0, 3.0, 6)
    y = np.sin(x) + 0.1 * np.cos(5 * x)
    params = np.array([0.2, 0.1, -1.0])
    f = lambda p: gp_negative_log_marginal_likelihood(p, x, y)  # noqa: E731
    assert ad.gradcheck(f, params, seed=4)
    np.testing.assert_allclose(ad.gradient(f, params)[0], central(f, params), rtol=1e-6)

    # the same likelihood by slogdet and solve of K: equal gradients
    def by_slogdet(p):
        d2 = (x[:, None] - x[None, :]) ** 2
        K = np.exp(2 * p[1]) * np.exp(-0.5 * d2 / np.exp(2 * p[0])) + np.exp(2 * p[2]) * np.eye(6)
        return 0.5 * (y @ np.linalg.solve(K, y)) + 0.5 * np.linalg.slogdet(K)[1] + (
            0.5 * 6 * np.log(2 * np.pi))

    np.testing.assert_allclose(ad.gradient(by_slogdet, params)[0],
                               ad.gradient(f, params)[0], rtol=1e-9)
    # and its Hessian against differences of the gradient
    H = ad.hessian(f, params)
    Hd = np.stack([(ad.gradient(f, params + e)[0] - ad.gradient(f, params - e)[0]) / 2e-5
                   for e in 1e-5 * np.eye(3)])
    np.testing.assert_allclose(H, Hd, rtol=1e-5, atol=1e-7)


def test_hessian_of_eigenvalues_and_singular_values():
    # Hessians through eigh and svd vectors, against central differences of the gradient
    a = spd((2, 2), seed=5)
    for f in (lambda a: np.linalg.eigvalsh(a)[1], lambda a: np.linalg.svdvals(a)[0],
              lambda a: np.linalg.eigh(a)[1][0, 0] ** 2,
              lambda a: np.sum(np.linalg.qr(a)[1] ** 2 * np.array([[1.0, 2.0], [0.0, 3.0]])),
              lambda a: np.linalg.cholesky(a)[1, 1]):
        H = ad.hessian(f, a)
        Hd = np.empty((2, 2, 2, 2))
        for i in np.ndindex(2, 2):
            e = np.zeros((2, 2))
            e[i] = 1e-5
            Hd[..., i[0], i[1]] = (ad.gradient(f, a + e)[0] - ad.gradient(f, a - e)[0]) / 2e-5
        np.testing.assert_allclose(H, Hd, rtol=1e-5, atol=1e-7)
        # and the gradient itself against central differences
        np.testing.assert_allclose(ad.gradient(f, a)[0], central(f, a), rtol=1e-6, atol=1e-9)


def test_vjp_of_whole_outputs_on_stacks():
    a = spd((2, 3, 3), seed=6)
    w = np.random.default_rng(0).normal(size=(2, 3, 3))
    (g,) = ad.pullback(np.linalg.cholesky, a)[1](w)
    np.testing.assert_allclose(g, central_vjp(np.linalg.cholesky, a, w), rtol=1e-6, atol=1e-8)


# -- the domains draw what they promise ------------------------------------------------------


@settings(max_examples=40, database=None)
@given(data=st.data())
def test_symmetric_domains_have_separated_eigenvalues_and_junk_in_the_unread_triangle(data):
    for fn in (np.linalg.eigh, np.linalg.eigvalsh, np.linalg.cholesky):
        (a,), kwargs = lookup(fn).domain.draw_args(data.draw)
        upper = kwargs.get("UPLO") == "U" or kwargs.get("upper") is True
        read = np.triu(a) if upper else np.tril(a)
        sym = read + np.swapaxes(read, -1, -2) - read * np.eye(a.shape[-1])
        w = np.linalg.eigvalsh(sym.astype(np.float64))
        if fn is np.linalg.cholesky:
            assert np.all(w > 0.4)
        else:
            assert np.all(np.diff(w, axis=-1) > 0.25)


@settings(max_examples=40, database=None)
@given(data=st.data())
def test_svd_and_qr_domains_have_separated_singular_values(data):
    for fn in (np.linalg.svd, np.linalg.svdvals, np.linalg.qr):
        (a,), kwargs = lookup(fn).domain.draw_args(data.draw)
        s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
        assert np.all(s > 0.45) and np.all(-np.diff(s, axis=-1) > 0.25)
        if fn is np.linalg.qr:
            assert a.shape[-2] >= a.shape[-1]


def test_vectors_at_repeated_values_are_refused_values_are_not():
    with pytest.raises(ad.NotDifferentiable, match=r"the eigenvectors of np\.linalg\.eigh are "
                       r"not differentiable where eigenvalues coincide"):
        ad.gradient(lambda a: np.linalg.eigh(a)[1][0, 0], np.eye(3))
    with pytest.raises(ad.NotDifferentiable, match=r"singular vectors of np\.linalg\.svd .* "
                       r"coincide or vanish"):
        ad.gradient(lambda a: np.linalg.svd(a, full_matrices=False)[0][0, 0],
                    np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]))
    # a symmetric function of the eigenvalues is fine at repeated ones: d trace = I
    np.testing.assert_allclose(ad.gradient(lambda a: np.linalg.eigh(a)[0].sum(), np.eye(3))[0],
                               np.eye(3), atol=1e-15)
