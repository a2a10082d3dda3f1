"""Typical numerical programs, written as a user writes them with ``import numpy as np``, run
unchanged through adcheck. Each gradient is checked twice: by ``ad.gradcheck`` and against
independent central differences (``tests/finite.py``, not ``adcheck.fd``); each primal value is
checked against NumPy or SciPy computing the same quantity another way.

Programs that use a NumPy function adcheck has no rule for assert the clear
``NotDifferentiable`` message that names it, next to a hand-written version that differentiates.
"""

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats

import adcheck as ad
from tests.finite import central
from tests.integration.snippets import SNIPPETS, _leaves, central_grads

RNG = np.random.default_rng(20261201)


def grads_match_central(f, *args, rtol=1e-6, atol=1e-7):
    """``ad.gradient`` of ``f`` at ``args`` (flat float arrays) against central differences of
    each argument with the others held fixed; returns adcheck's gradients."""
    got = ad.gradient(f, *args)
    for i, (g, a) in enumerate(zip(got, args)):
        def fi(v, i=i):
            return f(*args[:i], v, *args[i + 1:])
        np.testing.assert_allclose(g, central(fi, a), rtol=rtol, atol=atol)
    return got


def checked(f, *args, **tol):
    """Both checks: ``ad.gradcheck`` (raises on a mismatch) and independent central differences."""
    assert ad.gradcheck(f, *args, seed=0).passed
    return grads_match_central(f, *args, **tol)


# -- logistic regression -------------------------------------------------------------------

XLOG = RNG.normal(size=(8, 3))
YLOG = (RNG.random(8) < 0.5).astype(float)
WLOG = np.array([0.4, -0.8, 1.1])


def log_loss_log1p(w, X=XLOG, y=YLOG):
    z = X @ w
    return np.mean(y * np.log1p(np.exp(-z)) + (1 - y) * np.log1p(np.exp(z)))


def log_loss_logaddexp(w, X=XLOG, y=YLOG):
    z = X @ w
    return np.mean(np.logaddexp(0.0, -(2 * y - 1) * z))


@pytest.mark.parametrize("loss", [log_loss_log1p, log_loss_logaddexp])
def test_logistic_regression_gradient_is_the_textbook_one(loss):
    p = 1 / (1 + np.exp(-XLOG @ WLOG))
    assert loss(WLOG) == pytest.approx(-np.mean(YLOG * np.log(p) + (1 - YLOG) * np.log(1 - p)))
    (g,) = checked(loss, WLOG)
    np.testing.assert_allclose(g, XLOG.T @ (p - YLOG) / len(YLOG), rtol=1e-12, atol=1e-15)


def test_logistic_regression_hessian_is_x_t_s_x():
    p = 1 / (1 + np.exp(-XLOG @ WLOG))
    want = XLOG.T @ (XLOG * (p * (1 - p))[:, None]) / len(YLOG)
    np.testing.assert_allclose(ad.hessian(log_loss_logaddexp, WLOG), want, rtol=1e-10)


# -- softmax cross-entropy -----------------------------------------------------------------

XSM = RNG.normal(size=(5, 3))
LABELS = np.array([0, 3, 1, 3, 2])


def softmax_xent(W, X=XSM, labels=LABELS):
    z = X @ W
    z = z - z.max(axis=1, keepdims=True)          # the max shift
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def test_softmax_cross_entropy():
    W = RNG.normal(size=(3, 4))
    z = XSM @ W
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert softmax_xent(W) == pytest.approx(-np.mean(np.log(p[np.arange(5), LABELS])))
    (g,) = checked(softmax_xent, W)
    onehot = np.eye(4)[LABELS]
    np.testing.assert_allclose(g, XSM.T @ (p - onehot) / 5, rtol=1e-10, atol=1e-14)


def test_softmax_cross_entropy_with_an_inplace_max_shift():
    def f(W):
        z = XSM @ W
        z -= z.max(axis=1, keepdims=True)
        return -np.mean((z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(5), LABELS])

    W = RNG.normal(size=(3, 4))
    np.testing.assert_allclose(ad.gradient(f, W)[0], central(f, W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ad.gradient(f, W)[0], ad.gradient(softmax_xent, W)[0], rtol=1e-12)


# -- a small MLP ---------------------------------------------------------------------------

XMLP = RNG.normal(size=(6, 3))
YMLP = RNG.normal(size=(6, 2))


def mlp_loss(params, X=XMLP, Y=YMLP):
    h = np.tanh(X @ params["W1"] + params["b1"])
    h = np.maximum(h @ params["W2"] + params["b2"], 0.0)        # relu
    out = h @ params["W3"]
    return np.mean((out - Y) ** 2)


def test_mlp_with_tanh_and_relu():
    params = {"W1": RNG.normal(size=(3, 4)), "b1": RNG.normal(size=4) * 0.1,
              "W2": RNG.normal(size=(4, 4)), "b2": np.array([0.3, -0.2, 0.25, 0.1]),
              "W3": RNG.normal(size=(4, 2))}
    assert ad.gradcheck(mlp_loss, params, seed=0).passed
    (g,) = ad.gradient(mlp_loss, params)
    assert set(g) == set(params)
    for name, value in params.items():
        def f(v, name=name):
            return mlp_loss({**params, name: v})
        np.testing.assert_allclose(g[name], central(f, value), rtol=1e-6, atol=1e-8)
    h1 = np.tanh(XMLP @ params["W1"] + params["b1"])
    pre = h1 @ params["W2"] + params["b2"]
    assert np.any(pre < 0) and np.any(pre > 0)               # relu is on both sides
    h2 = np.maximum(pre, 0.0)
    dout = 2 * (h2 @ params["W3"] - YMLP) / YMLP.size
    np.testing.assert_allclose(g["W3"], h2.T @ dout, rtol=1e-12)
    np.testing.assert_allclose(g["b2"], ((dout @ params["W3"].T) * (pre > 0)).sum(axis=0),
                               rtol=1e-12, atol=1e-15)


# -- least squares three ways --------------------------------------------------------------

XLS = RNG.normal(size=(7, 3))
YLS = RNG.normal(size=7)


def ls_by_solve(X, y):
    w = np.linalg.solve(X.T @ X, X.T @ y)
    return np.sum(w ** 2) + np.sum(w)


def ls_by_lstsq(X, y):
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    return np.sum(w ** 2) + np.sum(w)


def ls_by_pinv(X, y):
    w = np.linalg.pinv(X) @ y
    return np.sum(w ** 2) + np.sum(w)


@pytest.mark.parametrize("f", [ls_by_solve, ls_by_lstsq, ls_by_pinv])
def test_least_squares(f):
    w = scipy.linalg.lstsq(XLS, YLS)[0]
    assert f(XLS, YLS) == pytest.approx(np.sum(w ** 2) + np.sum(w), rel=1e-12)
    gX, gy = checked(f, XLS, YLS)
    # the three routes compute one function, so one gradient: compare with the solve route
    want = ad.gradient(ls_by_solve, XLS, YLS)
    np.testing.assert_allclose(gX, want[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gy, want[1], rtol=1e-9, atol=1e-12)
    # analytic gradient in y: w = X^+ y, d(sum w^2 + sum w)/dy = X^+^T (2w + 1)
    np.testing.assert_allclose(gy, np.linalg.pinv(XLS).T @ (2 * w + 1), rtol=1e-9)


# -- Gaussian log-likelihood: Cholesky and slogdet ------------------------------------------

XG = RNG.normal(size=3)


def gauss_ll_cholesky(A, mu, x=XG):
    sigma = A @ A.T + 0.5 * np.eye(len(x))
    L = np.linalg.cholesky(sigma)
    alpha = np.linalg.solve(L, x - mu)
    return -0.5 * alpha @ alpha - np.sum(np.log(np.diag(L))) - 0.5 * len(x) * np.log(2 * np.pi)


def gauss_ll_slogdet(A, mu, x=XG):
    sigma = A @ A.T + 0.5 * np.eye(len(x))
    r = x - mu
    sign, logdet = np.linalg.slogdet(sigma)
    return -0.5 * (logdet + r @ np.linalg.solve(sigma, r) + len(x) * np.log(2 * np.pi))


@pytest.mark.parametrize("f", [gauss_ll_cholesky, gauss_ll_slogdet])
def test_gaussian_log_likelihood(f):
    A = RNG.normal(size=(3, 3))
    mu = RNG.normal(size=3)
    sigma = A @ A.T + 0.5 * np.eye(3)
    assert f(A, mu) == pytest.approx(scipy.stats.multivariate_normal(mu, sigma).logpdf(XG),
                                     rel=1e-12)
    gA, gmu = checked(f, A, mu)
    np.testing.assert_allclose(gmu, np.linalg.solve(sigma, XG - mu), rtol=1e-10)
    # d ll / d sigma = 0.5 (S^-1 r r^T S^-1 - S^-1); sigma = A A^T gives 2 (d ll/d sigma) A
    si = np.linalg.inv(sigma)
    r = si @ (XG - mu)
    np.testing.assert_allclose(gA, (np.outer(r, r) - si) @ A, rtol=1e-9, atol=1e-12)


def test_logdet_hessian_is_minus_the_inverse_transposed_kronecker():
    A = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
    H = ad.hessian(lambda a: np.linalg.slogdet(a)[1], A)
    Ai = np.linalg.inv(A)
    # d^2 log|det A| / dA_ij dA_kl = -Ai_jk Ai_li
    want = -np.einsum("jk,li->ijkl", Ai, Ai)
    np.testing.assert_allclose(H, want, rtol=1e-9, atol=1e-12)


# -- Gaussian-process marginal likelihood --------------------------------------------------

XGP = RNG.uniform(-2, 2, size=(6, 2))
YGP = np.sin(XGP[:, 0]) + 0.1 * RNG.normal(size=6)


def gp_marginal_ll(theta, X=XGP, y=YGP):
    lengthscale, signal, noise = np.exp(theta)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = signal ** 2 * np.exp(-0.5 * d2 / lengthscale ** 2) + noise ** 2 * np.eye(len(y))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return -0.5 * y @ alpha - np.sum(np.log(np.diag(L))) - 0.5 * len(y) * np.log(2 * np.pi)


def test_gaussian_process_marginal_likelihood():
    theta = np.array([0.2, -0.1, np.log(0.3)])
    ell, s, n = np.exp(theta)
    d2 = ((XGP[:, None, :] - XGP[None, :, :]) ** 2).sum(-1)
    K = s ** 2 * np.exp(-0.5 * d2 / ell ** 2) + n ** 2 * np.eye(6)
    assert gp_marginal_ll(theta) == pytest.approx(
        scipy.stats.multivariate_normal(np.zeros(6), K).logpdf(YGP), rel=1e-12)
    (g,) = checked(gp_marginal_ll, theta)
    # analytic: 0.5 tr((a a^T - K^-1) dK/dtheta)
    Ki = np.linalg.inv(K)
    a = Ki @ YGP
    kse = s ** 2 * np.exp(-0.5 * d2 / ell ** 2)
    dK = [kse * d2 / ell ** 2, 2 * kse, 2 * n ** 2 * np.eye(6)]
    want = [0.5 * np.trace((np.outer(a, a) - Ki) @ dk) for dk in dK]
    np.testing.assert_allclose(g, want, rtol=1e-9)


def test_gaussian_process_hessian_against_central_differences_of_the_gradient():
    theta = np.array([0.2, -0.1, np.log(0.3)])
    H = ad.hessian(gp_marginal_ll, theta)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    for i in range(3):
        def gi(t, i=i):
            return ad.gradient(gp_marginal_ll, t)[0][i]
        np.testing.assert_allclose(H[i], central(gi, theta), rtol=1e-5, atol=1e-7)


def test_gaussian_process_gradient_in_the_inputs():
    theta = np.array([0.2, -0.1, np.log(0.3)])

    def f(X):
        return gp_marginal_ll(theta, X=X)

    (g,) = checked(f, XGP, rtol=1e-5, atol=1e-7)
    assert g.shape == XGP.shape


# -- RK4 ODE loop --------------------------------------------------------------------------


def lotka_volterra(state, p):
    x, y = state[0], state[1]
    return np.stack([p[0] * x - p[1] * x * y, p[1] * x * y - p[2] * y])


def rk4_final(p, y0, steps=12, dt=0.08):
    y = y0
    trajectory = [y]
    for _ in range(steps):
        k1 = lotka_volterra(y, p)
        k2 = lotka_volterra(y + dt / 2 * k1, p)
        k3 = lotka_volterra(y + dt / 2 * k2, p)
        k4 = lotka_volterra(y + dt * k3, p)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        trajectory.append(y)
    path = np.concatenate(trajectory)
    return np.sum(path ** 2) / len(path) + y[0] * y[1]


def test_rk4_ode_loop():
    p = np.array([1.1, 0.4, 0.9])
    y0 = np.array([1.5, 0.8])
    checked(rk4_final, p, y0, rtol=1e-6, atol=1e-8)


def test_rk4_one_step_of_linear_ode_has_the_taylor_gradient():
    # y' = -k y: one RK4 step multiplies y by 1 - h + h^2/2 - h^3/6 + h^4/24 with h = k dt
    def step(k, dt=0.1):
        y0 = np.array([2.0])
        f = lambda y: -k * y
        k1 = f(y0)
        k2 = f(y0 + dt / 2 * k1)
        k3 = f(y0 + dt / 2 * k2)
        k4 = f(y0 + dt * k3)
        return np.sum(y0 + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4))

    k = 1.3
    h = k * 0.1
    (g,) = ad.gradient(step, k)
    assert g == pytest.approx(2.0 * 0.1 * (-1 + h - h ** 2 / 2 + h ** 3 / 6), rel=1e-12)


# -- attention with einsum -----------------------------------------------------------------

XATT = RNG.normal(size=(4, 3))


def attention(Wq, Wk, Wv, X=XATT):
    Q = np.einsum("td,de->te", X, Wq)
    K = np.einsum("td,de->te", X, Wk)
    V = np.einsum("td,de->te", X, Wv)
    scores = np.einsum("se,te->st", Q, K) / np.sqrt(Q.shape[-1])
    scores = scores - scores.max(axis=-1, keepdims=True)
    A = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    out = np.einsum("st,te->se", A, V)
    return np.sum(np.tanh(out) * np.arange(out.size).reshape(out.shape))


def test_attention_with_einsum():
    Wq, Wk, Wv = (RNG.normal(size=(3, 2)) for _ in range(3))
    Q, K, Vv = XATT @ Wq, XATT @ Wk, XATT @ Wv
    s = Q @ K.T / np.sqrt(2)
    A = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    want = np.sum(np.tanh(A @ Vv) * np.arange(8).reshape(4, 2))
    assert attention(Wq, Wk, Wv) == pytest.approx(want, rel=1e-12)
    gq, gk, gv = checked(attention, Wq, Wk, Wv)
    # out is linear in Wv: d/dWv = X^T A^T (dL/dout)
    dout = (1 - np.tanh(A @ Vv) ** 2) * np.arange(8).reshape(4, 2)
    np.testing.assert_allclose(gv, XATT.T @ A.T @ dout, rtol=1e-10)


# -- layer norm and batch norm -------------------------------------------------------------


def layer_norm(x, g, b, eps=1e-5):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def batch_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return g * (x - mu) / np.sqrt(var + eps) + b


WNORM = RNG.normal(size=(3, 4))


@pytest.mark.parametrize("norm", [layer_norm, batch_norm])
def test_normalisation_layers(norm):
    x = RNG.normal(size=(3, 4))
    g = RNG.normal(size=4)
    b = RNG.normal(size=4)
    y = norm(x, g, b)
    axis = -1 if norm is layer_norm else 0
    z = (y - b) / g
    np.testing.assert_allclose(z.mean(axis=axis), 0.0, atol=1e-12)
    v = x.var(axis=axis)
    np.testing.assert_allclose(z.var(axis=axis), v / (v + 1e-5), rtol=1e-12)

    def loss(x, g, b):
        return np.sum(np.sin(norm(x, g, b)) * WNORM)

    gx, gg, gb = checked(loss, x, g, b)
    np.testing.assert_allclose(gb, np.sum(np.cos(y) * WNORM, axis=0), rtol=1e-12)
    # normalisation is invariant to a shift along the normalised axis: the gradient sums to 0
    np.testing.assert_allclose(gx.sum(axis=axis), 0.0, atol=1e-9)


def test_layer_norm_hessian_against_central_differences_of_the_gradient():
    x = RNG.normal(size=4)
    g = np.ones(4)
    b = np.zeros(4)

    def f(v):
        return np.sum(layer_norm(v, g, b) * np.array([1.0, -2.0, 0.5, 3.0]))

    H = ad.hessian(f, x)
    for i in range(4):
        def gi(v, i=i):
            return ad.gradient(f, v)[0][i]
        np.testing.assert_allclose(H[i], central(gi, x), rtol=1e-5, atol=1e-6)


# -- cumulative sums -----------------------------------------------------------------------


def discounted_returns_loss(r, gamma=0.9):
    n = len(r)
    powers = gamma ** np.arange(n)
    returns = np.cumsum((r * powers)[::-1])[::-1] / powers    # G_t = sum_k gamma^(k-t) r_k
    return np.sum(returns ** 2)


def test_cumulative_sum_discounted_returns():
    r = RNG.normal(size=5)
    G = [sum(0.9 ** (k - t) * r[k] for k in range(t, 5)) for t in range(5)]
    assert discounted_returns_loss(r) == pytest.approx(np.sum(np.square(G)), rel=1e-12)
    (g,) = checked(discounted_returns_loss, r)
    # G = T r with T upper triangular T_tk = 0.9^(k-t): gradient 2 T^T G
    T = np.triu(0.9 ** (np.arange(5)[None, :] - np.arange(5)[:, None]).astype(float))
    np.testing.assert_allclose(g, 2 * T.T @ np.array(G), rtol=1e-10)


def test_cumulative_trapezoid_integral():
    def f(y, dx=0.25):
        area = np.concatenate([np.zeros(1), np.cumsum((y[1:] + y[:-1]) * dx / 2)])
        return np.sum(np.sin(area))

    y = RNG.normal(size=6)
    checked(f, y)


# -- polynomials and convolutions: the built-in rules agree with hand-written versions --------


def horner(c, x):
    out = c[0] * np.ones_like(x)
    for ci in c[1:]:
        out = out * x + ci
    return out


def test_polyval_and_a_horner_loop_give_the_analytic_gradient():
    c = np.array([0.5, -1.0, 2.0, 0.3])
    x = np.array([0.2, 1.7, -0.4])
    np.testing.assert_allclose(horner(c, x), np.polyval(c, x), rtol=1e-14)
    for poly in (horner, np.polyval):
        gc, gx = checked(lambda c, x, poly=poly: np.sum(poly(c, x)), c, x)
        np.testing.assert_allclose(gc, np.vander(x, 4).sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(gx, np.polyval(np.polyder(c), x), rtol=1e-12)


def conv_full(x, k):
    """``np.convolve(x, k)`` ('full') written with pad and stack."""
    n, m = len(x), len(k)
    xp = np.pad(x, m - 1)
    windows = np.stack([xp[i:i + m] for i in range(n + m - 1)])
    return windows @ k[::-1]


def test_convolve_and_a_windowed_convolution_give_the_analytic_gradient():
    x = RNG.normal(size=5)
    k = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(conv_full(x, k), np.convolve(x, k), rtol=1e-14)
    for conv in (conv_full, np.convolve):
        gx, gk = checked(lambda x, k, conv=conv: np.sum(conv(x, k) ** 2), x, k)
        # d/dx sum(conv(x,k)^2) = 2 correlate(conv(x,k), k, 'valid')
        np.testing.assert_allclose(gx, 2 * np.correlate(np.convolve(x, k), k, "valid"),
                                   rtol=1e-12)
        np.testing.assert_allclose(gk, 2 * np.correlate(np.convolve(x, k), x, "valid"),
                                   rtol=1e-12)


# -- regularisation and robust losses ------------------------------------------------------


def regularised_loss(w, W, X=XLS, y=YLS):
    r = X @ w - y
    return 0.5 * r @ r + 0.1 * np.linalg.norm(w) + 0.01 * np.linalg.norm(W, "fro") ** 2 \
        + 0.05 * np.linalg.norm(W, ord=1) + 0.02 * np.linalg.norm(w, ord=1)


def test_norm_regularisation():
    w = np.array([0.3, -0.7, 1.2])
    W = RNG.normal(size=(3, 2))
    gw, gW = checked(regularised_loss, w, W)
    want_w = XLS.T @ (XLS @ w - YLS) + 0.1 * w / np.linalg.norm(w) + 0.02 * np.sign(w)
    np.testing.assert_allclose(gw, want_w, rtol=1e-12)
    col = np.argmax(np.abs(W).sum(axis=0))                  # ord=1: the largest column sum
    want_W = 0.02 * W
    want_W[:, col] += 0.05 * np.sign(W[:, col])
    np.testing.assert_allclose(gW, want_W, rtol=1e-12)


def huber(r, delta=1.0):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))


def test_huber_and_clipped_losses():
    r = np.array([-2.5, -0.7, 0.1, 0.9, 1.6, 3.0])
    np.testing.assert_allclose(huber(r), scipy.special.huber(1.0, r), rtol=1e-14)
    (g,) = checked(lambda r: np.sum(huber(r)), r)
    np.testing.assert_allclose(g, np.clip(r, -1.0, 1.0), rtol=1e-14)
    (g,) = checked(lambda r: np.sum(np.clip(r, -1.0, 2.0) ** 2), r)
    np.testing.assert_allclose(g, np.where((r > -1) & (r < 2), 2 * r, 0.0), rtol=1e-14)


# -- everyday snippets (tests/integration/snippets.py), each against central differences ----

PASSING = [
    "sum_axis0", "sum_axis1_keepdims", "mean_axis_tuple", "prod", "prod_axis", "max_axis",
    "method_max", "var", "var_ddof_axis", "std_axis_keepdims", "x.std()", "average_weights",
    "ptp", "nansum", "nanmean", "abs", "maximum_relu", "minimum_pair", "clip", "where_mask",
    "power_array_exp", "arctan2", "hypot", "logaddexp", "logaddexp2", "arcsin_arccos",
    "arccosh_arctanh", "sinc", "fmax_fmin", "mod", "float_power", "fancy_index", "fancy_2d",
    "bool_mask", "slice_step", "reverse", "ellipsis_newaxis", "ix_", "take_axis",
    "take_along_axis", "argmax_pick", "transpose", "reshape", "swapaxes_moveaxis",
    "concatenate", "stack_axis1", "vstack_hstack", "column_stack", "dstack", "split",
    "array_split", "pad_constant", "pad_edge", "pad_reflect", "pad_wrap", "pad_symmetric",
    "tile_2d", "repeat_axis", "roll_axis", "roll_2d_tuple", "fliplr_rot90", "tril_triu",
    "diag_extract", "diag_build", "diagonal_offset", "broadcast_to", "append", "astype_f64",
    "meshgrid", "sort", "sort_axis", "argsort_index", "partition", "linspace_endpoint",
    "vdot", "outer", "kron", "trace", "tensordot", "cross", "einsum_trace", "einsum_ellipsis",
    "einsum_three", "einsum_implicit", "einsum_repeated_out", "einsum_same_operand_twice",
    "inv", "det", "slogdet", "solve_mat", "solve_batched", "cholesky", "eigh_vals", "eigvalsh",
    "eigh_vecs", "svd_vals", "svd_U", "qr_R", "pinv", "lstsq", "lstsq_matrix_rhs", "norm_vec",
    "norm_ord1", "norm_inf", "norm_axis", "norm_nuc", "norm_2_matrix", "norm_matrix_neg2",
    "norm_axis_tuple", "matrix_power", "multi_dot", "cond", "eigh_nonsymmetric_input",
    "eigh_upper", "cholesky_nonsymmetric", "cholesky_upper", "slogdet_negative", "det_batched",
    "matmul_batched_broadcast", "matmul_vec_batched", "cumsum", "cumsum_axis", "cumprod",
    "cumprod_axis_zero", "prod_with_zero", "prod_two_zeros", "diff", "diff_n2_axis",
    "gradient_fn", "gradient_edge2", "ufunc_accumulate", "ufunc_outer", "maximum_accumulate",
    "erf_erfc", "erfinv", "gammaln_digamma", "expit_logit", "xlogy", "xlog1py", "log_ndtr_ndtr",
    "gamma", "float32_input", "float32_matmul", "zero_d_array", "python_float",
    "int_input_promoted", "dict_input", "tuple_input", "list_input", "inplace_add_intermediate",
    "inplace_mul_intermediate", "python_loop_accumulate", "while_loop_newton",
    "sum_builtin_over_rows", "choose", "where_broadcast", "clip_array_bounds", "max_ties",
    "remainder_traced_divisor", "pow_traced_exp_zero_base", "std_ddof_all", "nanstd",
    "sum_positional_axis", "method_spellings", "method_spellings_2", "hstack_scalars",
    "concatenate_with_list_const", "stack_0d", "dot_3d", "triu_indices", "tril_indices_k",
    "inv_1x1", "det_1x1", "eigh_batched", "solve_float32", "cholesky_float32",
    "mixed_f32_f64_const", "namedtuple_input", "max_keepdims_bcast", "argmax_take_along",
    "einsum_bcast_size1", "linalg_solve_bcast", "matmul_1d_2d_3d", "softmax_temperature",
    "reshape_view_then_op", "x_T_inplace_like", "iadd_broadcast", "isub_self_slice",
    "idiv_intermediate", "ipow_intermediate", "svd_batched_vals", "svdvals", "qr_mode_r",
    "lstsq_wide_min_norm", "matrix_power_neg", "maximum_tie_two_arrays", "einsum_iij",
    "einsum_ii_ii", "einsum_permute_output", "tensordot_negative_axes", "kron_3d",
    "trace_3d_default", "diagonal_neg_offset_wide", "pad_reflect_big", "pad_symmetric_big",
    "pad_wrap_big", "pad_reflect_2d", "take_mode_wrap", "take_mode_clip", "fancy_chain",
    "fancy_2d_index_array", "fancy_bcast_index", "fancy_separated_by_slice", "moveaxis_multi",
    "linspace_both_traced", "linspace_array_endpoints", "gradient_coordinates",
    "average_returned", "nanmean_axis", "nanprod", "nanmin_axis", "gammaln_negative",
    "log_expit", "erfcinv", "betaln", "sp_ndtri", "np_matvec", "np_vecmat", "linalg_cross",
    "cumulative_sum_initial", "unstack", "matrix_norm_ord_2", "norm_fro_3d_axes",
    "norm_2_batched",
]


@pytest.mark.parametrize("name", PASSING)
def test_everyday_snippet_matches_central_differences(name):
    f, args = SNIPPETS[name]
    leaves = _leaves(ad.gradient(f, *args))
    want = central_grads(f, args)
    low = any(np.asarray(a).dtype == np.float32 for a in _leaves(args))
    tol = dict(rtol=2e-3, atol=2e-4) if low else dict(rtol=1e-5, atol=1e-6)
    assert len(leaves) == len(want)
    for g, w in zip(leaves, want):
        assert np.shape(g) == w.shape
        np.testing.assert_allclose(g, w, **tol)


@pytest.mark.parametrize("name, function", [
    ("eig_general", "np.linalg.eigvals"), ("divmod_quot", "np.divmod"), ("unique", "np.unique"),
])
def test_functions_without_a_rule_are_named(name, function):
    f, args = SNIPPETS[name]
    with pytest.raises(ad.NotDifferentiable) as info:
        ad.gradient(f, *args)
    message = str(info.value)
    assert message.startswith(f"{function} has no adjoint rule")
    assert f"@adcheck.adjoint({function})" in message
