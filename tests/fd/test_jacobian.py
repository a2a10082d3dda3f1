"""Jacobians, jvp and vjp by finite differences, over arrays, floats and pytrees."""

import numpy as np
import pytest

from adcheck.fd import FiniteDifferenceError, central_fdm, forward_fdm, jacobian, jvp, vjp

DELTA = np.array([0.16439920092321825, 0.6419096254557639])


def seed_f(x):
    return np.array([x[0] + x[1], x[0] * x[1]])


# --- the seed notebook -------------------------------------------------------------------


def test_seed_jacobian():
    (jac,) = jacobian(central_fdm(4, 1), seed_f, np.array([1.0, 2.0]))
    np.testing.assert_allclose(jac, [[1.0, 1.0], [2.0, 1.0]], rtol=0, atol=1e-12)


def test_seed_vjp():
    (grad,) = vjp(central_fdm(4, 1), seed_f, DELTA, np.array([1.0, 2.0]))
    exact = [DELTA[0] + 2 * DELTA[1], DELTA[0] + DELTA[1]]
    np.testing.assert_allclose(grad, exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grad, [1.44822, 0.806309], rtol=1e-5)


def test_seed_jvp_is_one_directional_difference():
    calls = []

    def f(x):
        calls.append(x)
        return seed_f(x)

    out = jvp(central_fdm(5, 1), f, (np.array([1.0, 2.0]),), (DELTA,))
    np.testing.assert_allclose(out, [[1.0, 1.0], [2.0, 1.0]] @ DELTA, rtol=0, atol=1e-12)
    assert len(calls) == 13  # as for one scalar derivative, whatever the input size


# --- analytic Jacobians ------------------------------------------------------------------


def test_elementwise_function_has_diagonal_jacobian():
    x = np.linspace(-1.0, 2.0, 7)
    (jac,), (err,) = jacobian(central_fdm(5, 1), np.tanh, x, return_error=True)
    exact = np.diag(1 - np.tanh(x) ** 2)
    assert np.max(np.abs(jac - exact)) < 1e-12
    assert np.all(np.abs(jac - exact) <= err)
    assert np.all(jac[~np.eye(7, dtype=bool)] == 0.0)  # untouched outputs: exactly zero


def test_matrix_square():
    a = np.random.default_rng(0).standard_normal((3, 3))
    (jac,), (err,) = jacobian(central_fdm(5, 1), lambda m: m @ m, a, return_error=True)
    eye = np.eye(3)
    # d(AA)_ij / dA_kl = δ_ik A_lj + A_ik δ_jl
    exact = np.einsum("ik,lj->ijkl", eye, a) + np.einsum("ik,jl->ijkl", a, eye)
    assert jac.shape == (3, 3, 3, 3)
    assert np.max(np.abs(jac - exact)) < 1e-12
    assert np.all(np.abs(jac - exact) <= err)


def test_matrix_inverse():
    a = np.array([[2.0, 0.5], [0.3, 1.5]])
    inv = np.linalg.inv(a)
    (jac,), (err,) = jacobian(central_fdm(5, 1), np.linalg.inv, a, return_error=True)
    # d(A⁻¹)_ij / dA_kl = -(A⁻¹)_ik (A⁻¹)_lj
    exact = -np.einsum("ik,lj->ijkl", inv, inv)
    assert np.max(np.abs(jac - exact)) < 1e-11
    assert np.all(np.abs(jac - exact) <= err)


def test_two_arguments_scalar_output():
    def f(w, b):
        return float(np.sum(np.sin(w) * b))

    w, b = np.array([0.1, 0.2, 0.3]), 2.0
    jw, jb = jacobian(forward_fdm(5, 1), f, w, b)
    assert jw.shape == (3,) and np.shape(jb) == ()
    np.testing.assert_allclose(jw, 2.0 * np.cos(w), rtol=1e-10)
    np.testing.assert_allclose(jb, np.sum(np.sin(w)), rtol=1e-10)


def test_jvp_and_vjp_agree_with_jacobian():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 2))
    v, dy = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))
    m = central_fdm(5, 1)
    (jac,) = jacobian(m, lambda x: x.T @ x, a)
    forward = jvp(m, lambda x: x.T @ x, (a,), (v,))
    (backward,) = vjp(m, lambda x: x.T @ x, dy, a)
    np.testing.assert_allclose(forward, a.T @ v + v.T @ a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(forward, np.einsum("ijkl,kl->ij", jac, v), rtol=0, atol=1e-12)
    np.testing.assert_allclose(backward, a @ (dy + dy.T), rtol=0, atol=1e-12)


def test_error_estimates_of_jvp_and_vjp_are_honest():
    x = np.array([0.5, 1.5])
    v = np.array([1e-3, -2.0])  # a direction of any size is rescaled to unit size
    m = central_fdm(5, 1)
    value, error = jvp(m, np.exp, (x,), (v,), return_error=True)
    assert np.all(np.abs(value - np.exp(x) * v) <= error)
    assert np.all(error < 1e-11)
    (grad,), (grad_err,) = vjp(m, np.exp, np.array([1.0, -1.0]), x, return_error=True)
    assert np.all(np.abs(grad - np.exp(x) * [1.0, -1.0]) <= grad_err)


def test_zero_tangent_gives_zero():
    out = jvp(central_fdm(5, 1), np.sin, (np.ones(3),), (np.zeros(3),))
    assert np.array_equal(out, np.zeros(3))


# --- pytrees -----------------------------------------------------------------------------


def layer(params, scale):
    return {
        "y": params["w"] * scale,
        "z": (np.sum(params["b"] ** 2),),
    }


PARAMS = {"w": np.array([1.0, 2.0]), "b": np.array([3.0])}


def test_pytree_arguments_and_outputs():
    jp, js = jacobian(central_fdm(5, 1), layer, PARAMS, 2.0)
    # The output pytree is read as a vector [y0, y1, z0]: n_out = 3.
    assert set(jp) == {"w", "b"}
    assert jp["w"].shape == (3, 2) and jp["b"].shape == (3, 1) and js.shape == (3,)
    np.testing.assert_allclose(jp["w"], [[2, 0], [0, 2], [0, 0]], atol=1e-12)
    np.testing.assert_allclose(jp["b"], [[0], [0], [6]], atol=1e-11)
    np.testing.assert_allclose(js, [1, 2, 0], atol=1e-12)


def test_vjp_has_the_structure_of_args():
    dy = {"y": np.array([1.0, -1.0]), "z": (0.5,)}
    gp, gs = vjp(central_fdm(5, 1), layer, dy, PARAMS, 2.0)
    assert isinstance(gs, float)
    np.testing.assert_allclose(gp["w"], [2.0, -2.0], atol=1e-12)
    np.testing.assert_allclose(gp["b"], [3.0], atol=1e-11)
    assert abs(gs - (1.0 - 2.0)) < 1e-12


def test_jvp_has_the_structure_of_the_output():
    tangents = ({"w": np.array([1.0, 0.0]), "b": np.array([1.0])}, 0.5)
    out = jvp(central_fdm(5, 1), layer, (PARAMS, 2.0), tangents)
    assert set(out) == {"y", "z"} and isinstance(out["z"], tuple)
    np.testing.assert_allclose(out["y"], [2.0 + 0.5, 1.0], atol=1e-12)
    assert abs(out["z"][0] - 6.0) < 1e-10


def test_tuple_argument():
    def f(pair):
        a, b = pair
        return a * b

    ((ja, jb),) = jacobian(central_fdm(5, 1), f, (np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    np.testing.assert_allclose(ja, np.diag([3.0, 4.0]), atol=1e-12)
    np.testing.assert_allclose(jb, np.diag([1.0, 2.0]), atol=1e-12)


# --- vectorized evaluation ---------------------------------------------------------------


def test_vectorized_equals_unvectorized_in_few_calls():
    batch_sizes = []

    def batched(params, scale):
        batch_sizes.append(len(scale))
        return {"y": params["w"] * scale[:, None], "z": (np.sum(params["b"] ** 2, axis=1),)}

    m = central_fdm(5, 1)
    plain = jacobian(m, layer, PARAMS, 2.0, return_error=True)
    stacked = jacobian(m, batched, PARAMS, 2.0, vectorized=True, return_error=True)
    for a, b in zip(_leaves(plain), _leaves(stacked), strict=True):
        assert np.array_equal(a, b)
    # The point itself, then one call per stage for all 4 columns at once.
    assert batch_sizes[0] == 1
    assert len(batch_sizes) <= 4
    assert max(batch_sizes) >= 4 * 4


def test_vectorized_function_must_keep_the_batch_axis():
    with pytest.raises(ValueError, match="leading batch axis of size 1"):
        jacobian(central_fdm(5, 1), lambda x: np.sum(x), np.ones(2), vectorized=True)


def _leaves(tree):
    from adcheck.tree import flatten

    return flatten(tree)[0]


# --- dtypes and copies -------------------------------------------------------------------


def test_integer_inputs_are_promoted_to_float64():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return x**2

    (jac,) = jacobian(central_fdm(5, 1), f, np.array([1, 2, 3]))
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_allclose(jac, np.diag([2.0, 4.0, 6.0]), atol=1e-12)


def test_float32_inputs_stay_float32():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return np.sin(x) * x[::-1]

    x = np.array([1.0, 2.0], dtype=np.float32)
    (jac,), (err,) = jacobian(central_fdm(5, 1), f, x, return_error=True)
    x64 = x.astype(np.float64)
    exact = np.array(
        [[np.cos(x64[0]) * x64[1], np.sin(x64[0])], [np.sin(x64[1]), np.cos(x64[1]) * x64[0]]]
    )
    assert set(seen) == {np.dtype(np.float32)}
    assert np.all(np.abs(jac - exact) <= err)
    assert 1e-8 < np.max(err) < 1e-4


def test_inputs_are_not_mutated_and_outputs_may_alias_inputs():
    def doubles_in_place(x):
        x *= 2.0
        return x  # the output is the input array itself

    x = np.array([1.0, 2.0])
    (jac,) = jacobian(central_fdm(5, 1), doubles_in_place, x)
    assert np.array_equal(x, [1.0, 2.0])
    np.testing.assert_allclose(jac, 2.0 * np.eye(2), atol=1e-12)


def test_dict_argument_is_not_mutated():
    params = {"w": np.array([1.0, 2.0]), "b": np.array([3.0])}
    jacobian(central_fdm(3, 1), layer, params, 2.0)
    assert params["w"].tolist() == [1.0, 2.0] and params["b"].tolist() == [3.0]


# --- bad input ---------------------------------------------------------------------------


def test_nan_names_the_coordinate():
    def f(x):
        return np.log(x)

    with np.errstate(invalid="ignore"):
        with pytest.raises(FiniteDifferenceError, match=r"argument leaf 0 at index \(1,\)"):
            jacobian(central_fdm(5, 1), f, np.array([1.0, 1e-4]))


def test_jvp_args_must_be_a_tuple():
    with pytest.raises(TypeError, match=r"args must be the tuple of f's positional arguments"):
        jvp(central_fdm(5, 1), np.sin, np.ones(2), (np.ones(2),))


def test_tangents_must_match_args():
    with pytest.raises(ValueError, match="tangents must have the structure of args"):
        jvp(central_fdm(5, 1), lambda a, b: a * b, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match=r"tangent leaf 0 has shape \(3,\)"):
        jvp(central_fdm(5, 1), np.sin, (np.ones(2),), (np.ones(3),))


def test_dy_must_match_the_output():
    with pytest.raises(ValueError, match="dy must have the structure and shapes of f's output"):
        vjp(central_fdm(5, 1), seed_f, np.ones(3), np.array([1.0, 2.0]))


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("abc", "not a number"),
        (np.array([1 + 1j]), "complex"),
        (np.array([True]), "boolean"),
    ],
)
def test_arguments_must_be_real_numbers(arg, message):
    with pytest.raises(TypeError, match=message):
        jacobian(central_fdm(5, 1), lambda x: 1.0, arg)


def test_f_must_be_callable():
    with pytest.raises(TypeError, match="f must be callable"):
        jacobian(central_fdm(5, 1), "sin", 1.0)
