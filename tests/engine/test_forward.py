"""jvp, hvp and jacobian(mode="fwd"): the double-vjp trick against analytic derivatives and
independent central differences."""

import numpy as np
import pytest

import adcheck as ad
from adcheck.engine.forward import hvp, jvp, linearize
from tests.finite import central


def _directional(f, x, v, h=1e-6):
    """``(f(x + h v) - f(x - h v)) / 2h``: J·v by a central difference (no adcheck)."""
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


def _f(x):
    return np.stack([np.sin(x[0]) * x[1], x[0] ** 2 * np.exp(x[1]), np.log(x[1]) / x[0]])


def _jac_f(x):
    a, b = x
    return np.array([
        [np.cos(a) * b, np.sin(a)],
        [2 * a * np.exp(b), a**2 * np.exp(b)],
        [-np.log(b) / a**2, 1 / (a * b)],
    ])


@pytest.mark.parametrize("v", [[1.0, 0.0], [0.0, 1.0], [0.3, -2.0]])
def test_jvp_is_the_jacobian_times_v(v):
    x, v = np.array([0.7, 1.3]), np.array(v)
    got = jvp(_f, x, v)
    np.testing.assert_allclose(got, _jac_f(x) @ v, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got, _directional(_f, x, v), rtol=1e-7, atol=1e-8)


def test_jvp_through_broadcasting_and_reductions():
    A = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])

    def f(x):  # x: (3,) broadcast against (2, 3), reduced over the last axis
        return np.tanh(A * x).sum(axis=1) + np.max(A * x, axis=1)

    x, v = np.array([0.2, -0.4, 0.9]), np.array([1.0, 2.0, -0.5])
    np.testing.assert_allclose(jvp(f, x, v), _directional(f, x, v), rtol=1e-7, atol=1e-8)


def test_jvp_of_pytrees_in_and_out():
    def f(p):
        return {"s": p["w"] * p["b"], "t": (np.sum(p["w"] ** 2),)}

    p = {"w": np.array([1.0, -2.0]), "b": 3.0}
    v = {"w": np.array([0.5, 1.0]), "b": -1.0}
    out = jvp(f, p, v)
    # d(w b) = dw b + w db; d(sum w^2) = 2 w . dw
    np.testing.assert_allclose(out["s"], v["w"] * 3.0 + p["w"] * -1.0)
    assert isinstance(out["t"], tuple)
    assert out["t"][0] == pytest.approx(2 * (1.0 * 0.5 + -2.0 * 1.0))


def test_jvp_keeps_float32_and_goes_through_a_custom_rule():
    calls = []
    with ad.scoped_rules():
        @ad.primitive
        def cube(x):
            return x**3

        @ad.adjoint(cube)
        def _(x):
            calls.append(1)
            return cube(x), lambda dy: (3 * dy * x**2,)

        x = np.array([1.0, 2.0], np.float32)
        v = np.array([1.0, -1.0], np.float32)
        out = jvp(lambda z: cube(z) * 2, x, v)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 6 * x**2 * v, rtol=1e-6)
    assert len(calls) == 1


def test_jvp_raises_when_a_pullback_cannot_be_differentiated():
    with ad.scoped_rules():
        @ad.primitive
        def opaque(x):
            return 2 * x

        @ad.adjoint(opaque)
        def _(x):
            return opaque(x), lambda dy: (np.array(float(dy) * 2.0),)  # leaves the tape

        assert ad.gradient(opaque, 1.5) == (2.0,)  # fine in reverse mode
        with pytest.raises(ad.NotDifferentiable):
            jvp(opaque, 1.5, 1.0)


def test_linearize_records_once_and_takes_one_tangent_per_argument():
    y, jv = linearize(lambda a, b: np.sin(a) * b, np.array([0.5, 1.0]), 2.0)
    np.testing.assert_allclose(y, np.sin([0.5, 1.0]) * 2.0)
    np.testing.assert_allclose(jv(np.array([1.0, 0.0]), None), [np.cos(0.5) * 2.0, 0.0])
    np.testing.assert_allclose(jv(None, 1.0), np.sin([0.5, 1.0]))
    with pytest.raises(TypeError, match="one tangent per argument"):
        jv(np.ones(2))


# -- hvp -----------------------------------------------------------------------------------


def _rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _rosenbrock_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def test_hvp_is_the_hessian_times_v():
    x = np.array([0.3, -1.2, 0.8, 1.5])
    v = np.array([1.0, 0.5, -2.0, 0.25])
    got = hvp(_rosenbrock, x, v)
    np.testing.assert_allclose(got, _rosenbrock_hessian(x) @ v, rtol=1e-12)
    # and against central differences of the analytic-free gradient of <grad, v>
    np.testing.assert_allclose(
        got, central(lambda z: ad.gradient(_rosenbrock, z)[0] @ v, x), rtol=1e-6)


def test_hvp_of_a_dict_argument():
    def f(p):
        return np.sum(p["w"] ** 2 * p["b"]) + np.sin(p["b"])

    p = {"w": np.array([1.0, 2.0]), "b": 0.5}
    v = {"w": np.array([1.0, 0.0]), "b": 2.0}
    out = hvp(f, p, v)
    # f_ww = 2b I, f_wb = 2w, f_bb = -sin(b)
    np.testing.assert_allclose(out["w"], 2 * 0.5 * v["w"] + 2 * p["w"] * v["b"])
    assert out["b"] == pytest.approx(2 * p["w"] @ v["w"] - np.sin(0.5) * v["b"])


# -- jacobian(mode="fwd") --------------------------------------------------------------------


def test_forward_jacobian_matches_the_analytic_one_and_reverse_mode():
    x = np.array([0.7, 1.3])
    fwd = ad.jacobian(_f, x, mode="fwd")[0]
    np.testing.assert_allclose(fwd, _jac_f(x), rtol=1e-13)
    np.testing.assert_allclose(fwd, ad.jacobian(_f, x)[0], rtol=1e-13)


def test_forward_jacobian_of_two_arguments_and_matrix_shapes():
    def f(A, b):
        return np.tanh(A * b[:, None])  # (2, 3) out

    A, b = np.arange(6.0).reshape(2, 3) / 5, np.array([0.5, -1.0])
    jA, jb = ad.jacobian(f, A, b, mode="fwd")
    rA, rb = ad.jacobian(f, A, b)
    assert jA.shape == (2, 3, 2, 3) and jb.shape == (2, 3, 2)
    np.testing.assert_allclose(jA, rA, rtol=1e-13)
    np.testing.assert_allclose(jb, rb, rtol=1e-13)
    s = 1 - np.tanh(A * b[:, None]) ** 2
    np.testing.assert_allclose(jb[1, 2, 1], s[1, 2] * A[1, 2])
    np.testing.assert_allclose(jA[0, 1, 0, 1], s[0, 1] * b[0])
    assert jA[0, 1, 1, 1] == 0.0


def test_forward_jacobian_takes_one_pullback_for_many_outputs():
    calls = []
    with ad.scoped_rules():
        @ad.primitive
        def spread(x):
            return np.outer(np.arange(1.0, 51.0), x).ravel()  # 100 outputs of 2 inputs

        @ad.adjoint(spread)
        def _(x):
            def back(dy):
                calls.append(1)
                return (np.arange(1.0, 51.0) @ dy.reshape(50, 2),)
            return spread(x), back

        x = np.array([1.0, -1.0])
        fwd = ad.jacobian(spread, x, mode="fwd")[0]
        n_fwd = len(calls)
        rev = ad.jacobian(spread, x)[0]
    assert n_fwd == 1 and len(calls) - n_fwd == 100
    np.testing.assert_array_equal(fwd, rev)
    column = np.repeat(np.arange(1.0, 51.0), 2) * np.tile([1.0, 0.0], 50)
    np.testing.assert_array_equal(fwd[:, 0], column)


def test_forward_jacobian_promotes_integers_and_refuses_bad_modes():
    jac = ad.jacobian(lambda x: x**2, np.array([1, 2]), mode="fwd")[0]
    np.testing.assert_array_equal(jac, [[2.0, 0.0], [0.0, 4.0]])
    assert jac.dtype == np.float64
    with pytest.raises(ValueError, match="mode must be 'rev' or 'fwd'"):
        ad.jacobian(np.sin, np.ones(2), mode="forward")
    with pytest.raises(TypeError, match="array or number arguments"):
        ad.jacobian(lambda p: p["a"], {"a": np.ones(2)}, mode="fwd")
