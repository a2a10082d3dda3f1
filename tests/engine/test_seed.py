"""Every differentiation result of the seed notebook (Zygote in Julia), reproduced in Python.

The numbers are the ones the notebook printed; the random matrices it used are copied from its
output so that the printed gradients can be asserted exactly.
"""

from dataclasses import dataclass

import numpy as np
import pytest

import adcheck as ad

# -- simple examples ------------------------------------------------------------------------


def test_scalar_derivative_matches_notebook():
    f = lambda x: 5 * x + 3
    assert (f(10), ad.derivative(f)(10)) == (53, 5)
    assert ad.gradient(f, 10) == (5,)


def test_gradient_of_two_arguments():
    g = lambda x, y: 2 * x + 3 * y
    assert ad.gradient(g, 1, 1) == (2, 3)


# -- the neural layer -------------------------------------------------------------------------

W_SEED = np.array(
    [
        [0.12079695301991178, 0.6115448541502737, 0.09264696995665744],
        [0.8365067171503635, 0.4627129686376006, 0.8736777085385143],
    ]
)
B_SEED = np.array([0.24506599042207244, 0.4655635777856233])


def test_layer_value_and_input_gradient():
    W, b = W_SEED.copy(), B_SEED.copy()
    net = lambda x: W @ x + b
    agg = lambda n: np.sum(n)
    assert agg(net(np.array([1, 3, 2]))) == pytest.approx(6.8233560637319375, rel=1e-15)
    (gx,) = ad.gradient(lambda x: agg(net(x)), np.array([1, 2, 3]))
    np.testing.assert_allclose(
        gx, [0.9573036701702753, 1.0742578227878743, 0.9663246784951718], rtol=1e-15
    )
    np.testing.assert_allclose(gx, W.sum(axis=0), rtol=1e-15)
    assert gx.dtype == np.float64  # integer input promoted


def test_params_gradient_and_update_step():
    W, b = ad.param(W_SEED.copy()), ad.param(B_SEED.copy())
    net = lambda x: W @ x + b
    p = ad.Params([W, b])
    grads = ad.gradient(lambda: np.sum(net(np.array([1.0, 2.0, 3.0]))), p)
    np.testing.assert_array_equal(grads[W], [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(grads[b], [1.0, 1.0])
    np.testing.assert_array_equal(grads[W].ravel(order="F"), [1, 1, 2, 2, 3, 3])  # vec()
    alpha = 0.01
    W -= alpha * grads[W]
    np.testing.assert_allclose(
        W,
        [[0.110797, 0.591545, 0.062647], [0.826507, 0.442713, 0.843678]],
        atol=5e-7,
    )
    assert isinstance(W, ad.Param)  # updated in place, still a parameter


# -- under the hood: s(x) = 5 sin(x^2) --------------------------------------------------------

w1 = lambda x: x**2
w2 = lambda x: np.sin(x)
w3 = lambda x: x * 5.0


def s(x):
    y1 = w1(x)
    y2 = w2(y1)
    return w3(y2)


def test_s_value_and_gradient():
    assert s(4.0) == -1.4395165833253265
    assert ad.gradient(s, 4.0)[0] == -38.30637921293538


def test_s_pullback_and_wengert_list():
    s_val, s_back = ad.pullback(s, 4.0)
    assert s_val == -1.4395165833253265
    assert s_back(1.0) == (-38.30637921293538,)
    assert str(ad.trace(s, 4.0)).splitlines() == [
        "y1 = square(x)",
        "y2 = sin(y1)",
        "y3 = multiply(y2, 5.0)",
    ]


def test_composing_the_three_pullbacks():
    y1_val, y1_back = ad.pullback(w1, 4.0)
    y2_val, y2_back = ad.pullback(w2, y1_val)
    y3_val, y3_back = ad.pullback(w3, y2_val)
    assert y3_val == -1.4395165833253265
    assert y3_back(1.0) == (5.0,)
    assert y2_back(y3_back(1.0)[0]) == (pytest.approx(-4.788297401616923, rel=1e-15),)
    assert y1_back(y2_back(y3_back(1.0)[0])[0])[0] == -38.30637921293538


# -- vector functions: h = g(f(x)) ------------------------------------------------------------


def f_vec(x):
    return np.stack([x[0] + x[1], x[0] * x[1]])


def df_vec(x):
    return np.array([[1.0, 1.0], [x[1], x[0]]])


def g_vec(y):
    return np.stack([np.exp(y[0] + y[1]), np.log(y[0]) + np.log(y[1])])


def h_vec(x):
    return g_vec(f_vec(x))


X_VAL = np.array([1.0, 2.0])


def test_vector_pullbacks_are_rows_of_the_jacobian():
    f_val, f_back = ad.pullback(f_vec, X_VAL)
    np.testing.assert_array_equal(f_val, [3.0, 2.0])
    np.testing.assert_array_equal(f_back(np.array([1.0, 0.0]))[0], [1.0, 1.0])
    np.testing.assert_array_equal(f_back([0.0, 1.0])[0], [2.0, 1.0])


def test_composite_h_three_ways():
    h_val, h_back = ad.pullback(h_vec, X_VAL)
    np.testing.assert_allclose(h_val, [148.4131591025766, 1.791759469228055], rtol=1e-15)
    expected = [1.3333333333333333, 0.8333333333333333]
    np.testing.assert_allclose(h_back([0.0, 1.0])[0], expected, rtol=1e-15)
    y1_val, y1_back = ad.pullback(f_vec, X_VAL)
    y2_val, y2_back = ad.pullback(g_vec, y1_val)
    np.testing.assert_allclose(y1_back(y2_back([0.0, 1.0])[0])[0], expected, rtol=1e-15)
    dg = lambda y: np.array([[np.exp(y[0] + y[1])] * 2, [1 / y[0], 1 / y[1]]])
    np.testing.assert_allclose((dg(f_vec(X_VAL)) @ df_vec(X_VAL))[1], expected, rtol=1e-15)


def test_matrix_valued_layer_pullback_is_delta_transpose_w():
    rng = np.random.default_rng(0)
    W, b = rng.random((2, 3)), rng.random(2)
    n = lambda X: W @ X + b[:, None]
    X = rng.random((3, 10))
    n_val, n_back = ad.pullback(n, X)
    assert n_val.shape == (2, 10)
    delta = rng.random(n_val.shape)
    (dX,) = n_back(delta)
    assert dX.shape == (3, 10)
    np.testing.assert_allclose(dX, W.T @ delta, rtol=1e-14)


# -- custom adjoints --------------------------------------------------------------------------


def test_custom_adjoint_add_and_redefined_primal(capsys):
    @ad.primitive
    def add(a, b):
        return a + b

    with ad.scoped_rules():

        @ad.adjoint(add)
        def _(a, b):
            return add(a, b), lambda d: (d, d)

        add_val, add_back = ad.pullback(add, 2, 3)
        assert add_val == 5
        assert add_back(2) == (2, 2)

        @ad.adjoint(add)
        def _(a, b):
            print("I'll be back!?")
            return add(a, b), lambda d: (d, d)

        add_val, add_back = ad.pullback(add, 2, 3)
        assert capsys.readouterr().out == "I'll be back!?\n"
        assert add_back(1) == (1, 1)
    assert add(2, 3) == 5  # the function itself is untouched
    assert capsys.readouterr().out == ""


def test_custom_adjoint_of_vector_function_is_delta_times_jacobian():
    f = ad.primitive(f_vec)
    with ad.scoped_rules():

        @ad.adjoint(f)
        def _(x):
            return f(x), lambda d: (d @ df_vec(x),)

        f_val, f_back = ad.pullback(f, X_VAL)
        np.testing.assert_array_equal(f_back(np.array([0.0, 1.0]))[0], [2.0, 1.0])
        delta = np.array([0.16439920092321825, 0.6419096254557639])
        np.testing.assert_allclose(f_back(delta)[0], [1.44822, 0.806309], atol=5e-6)


# -- closures and callable objects ------------------------------------------------------------


def test_closure_gradient_by_variable_name():
    addg = (lambda b: (lambda a: a + b))(3)
    addg_val, addg_back = ad.pullback(addg, 4, include_fn=True)
    assert addg_val == 7
    assert addg_back(1) == ({"b": 1}, 1)


@dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return self.W @ x + self.b[:, None]


def test_callable_object_gradient_by_field():
    rng = np.random.default_rng(1)
    lin = Linear(rng.random((6, 10)), rng.random(6))
    x = rng.random((10, 5))
    l_val, l_back = ad.pullback(lin, x, include_fn=True)
    np.testing.assert_allclose(l_val, lin.W @ x + lin.b[:, None], rtol=1e-15)
    delta = rng.random((6, 5))
    dl, dx = l_back(delta)
    assert isinstance(dl, Linear)
    np.testing.assert_allclose(dl.W, delta @ x.T, rtol=1e-14)
    np.testing.assert_allclose(dl.b, delta.sum(axis=1), rtol=1e-14)
    np.testing.assert_allclose(dx, lin.W.T @ delta, rtol=1e-14)
