"""The engine's behaviour: structures, dtypes, broadcasting, control flow, levels, parameters."""

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central

# -- structures -------------------------------------------------------------------------------

Point = namedtuple("Point", "x y")


@dataclass
class Pair:
    a: np.ndarray
    b: float


def test_pytree_inputs_come_back_in_the_same_structure():
    def f(params, scale):
        return (params["w"] * params["v"][0]).sum() * scale + params["v"][1] ** 2

    params = {"w": np.array([1.0, 2.0]), "v": [np.array([3.0, 4.0]), 5.0]}
    gp, gs = ad.gradient(f, params, 2.0)
    assert set(gp) == {"w", "v"} and isinstance(gp["v"], list)
    np.testing.assert_array_equal(gp["w"], [6.0, 8.0])
    np.testing.assert_array_equal(gp["v"][0], [2.0, 4.0])
    assert gp["v"][1] == 10.0
    assert gs == 11.0


def test_namedtuple_and_dataclass_inputs_and_outputs():
    g = ad.gradient(lambda p: p.x * p.y**3, Point(2.0, 3.0))[0]
    assert isinstance(g, Point) and g == Point(27.0, 54.0)
    g = ad.gradient(lambda p: (p.a * p.b).sum(), Pair(np.array([1.0, 2.0]), 3.0))[0]
    assert isinstance(g, Pair)
    np.testing.assert_array_equal(g.a, [3.0, 3.0])
    assert g.b == 3.0
    y, back = ad.pullback(lambda x: Point(x * 2, x**2), 3.0)
    assert y == Point(6.0, 9.0)
    assert back(Point(1.0, 1.0)) == (8.0,)


def test_non_differentiable_inputs_get_none():
    def f(x, flag, name, n):
        return (x * 2).sum() if flag and name == "a" else x.sum()

    g = ad.gradient(f, np.ones(2), True, "a", None)
    np.testing.assert_array_equal(g[0], [2.0, 2.0])
    assert g[1:] == (None, None, None)


def test_unused_input_gets_zeros_of_its_shape():
    g = ad.gradient(lambda x, y: x.sum(), np.ones(2), np.ones((2, 3)))
    np.testing.assert_array_equal(g[1], np.zeros((2, 3)))


def test_integer_arrays_are_promoted():
    (g,) = ad.gradient(lambda x: (x * x).sum(), np.array([1, 2, 3]))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [2.0, 4.0, 6.0])


# -- dtypes and broadcasting ------------------------------------------------------------------


def test_float32_stays_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    (g,) = ad.gradient(lambda x: (np.sin(x) * 2.0).sum(), x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * np.cos(x), rtol=1e-6)


def test_float32_input_with_float64_constant_gets_float32_cotangent():
    x = np.array([1.0, 2.0], dtype=np.float32)
    c = np.array([0.1, 0.2])  # float64: the product is float64
    (g,) = ad.gradient(lambda x: (x * c).sum(), x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, c.astype(np.float32))


@pytest.mark.parametrize(
    "xs, ys",
    [((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 2)), ((1,), (4,)), ((2, 1, 3), (4, 1))],
)
def test_binary_rules_unbroadcast(xs, ys):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=xs) + 3, rng.normal(size=ys) + 3
    w = rng.normal(size=np.broadcast_shapes(xs, ys))
    f = lambda x, y: ((x * y + x / y - y) * w).sum()
    gx, gy = ad.gradient(f, x, y)
    assert np.shape(gx) == xs and np.shape(gy) == ys
    np.testing.assert_allclose(gx, central(lambda a: f(a, y), x), rtol=1e-6)
    np.testing.assert_allclose(gy, central(lambda b: f(x, b), y), rtol=1e-6)


def test_zero_dimensional_arrays():
    x = np.array(0.7)
    (g,) = ad.gradient(lambda x: np.exp(x) * x, x)
    assert isinstance(g, np.ndarray) and g.shape == ()
    assert g == pytest.approx(np.exp(0.7) * 1.7, rel=1e-15)


# -- Python control flow ----------------------------------------------------------------------


def test_if_and_for_on_traced_values():
    def f(x):
        y = x
        for _ in range(3):
            if (y > 1.0).all():
                y = y * 0.5
            else:
                y = y * y + 1.0
        return y.sum()

    x = np.array([3.0])
    np.testing.assert_allclose(ad.gradient(f, x)[0], central(f, x), rtol=1e-7)
    x = np.array([0.5])
    np.testing.assert_allclose(ad.gradient(f, x)[0], central(f, x), rtol=1e-7)


def test_iteration_and_len_and_methods():
    def f(x):
        total = 0.0
        for row in x:
            total = total + row.max() * len(row)
        return total + x.T.dot(x).sum() + x.reshape(-1).mean()

    x = np.array([[1.0, 4.0, 2.0], [3.0, -1.0, 0.5]])
    np.testing.assert_allclose(ad.gradient(f, x)[0], central(f, x), rtol=1e-6)


def test_reflected_operators():
    f = lambda x: (2.0 - x) * 3.0 + 1.0 / x + 2.0**x + np.array([1.0, 2.0]) @ x
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(
        ad.gradient(lambda x: f(x).sum(), x)[0], central(lambda x: f(x).sum(), x), rtol=1e-7
    )


# -- higher order -----------------------------------------------------------------------------


def test_hessian_of_cubic_sum():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ad.hessian(lambda x: (x**3).sum(), x), np.diag(6 * x))


def test_hessian_of_quadratic_form():
    A = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, 4.0, 1.0]])
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ad.hessian(lambda x: x @ A @ x, x), A + A.T, rtol=1e-15)


def test_hessian_of_rosenbrock():
    def rosen(v):
        return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2

    x, y = 1.2, 0.7
    expected = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])
    np.testing.assert_allclose(ad.hessian(rosen, np.array([x, y])), expected, rtol=1e-13)


def test_hessian_of_log_sum_exp():
    x = np.array([0.1, -0.3, 0.7])
    lse = lambda x: np.log(np.exp(x).sum())
    p = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(ad.hessian(lse, x), np.diag(p) - np.outer(p, p), rtol=1e-12)


def test_third_derivative_by_nesting():
    d = ad.derivative
    f = lambda x: np.sin(x) * x
    x = 0.3
    expected = -3 * np.sin(x) - x * np.cos(x)  # (x sin x)''' = -3 sin x - x cos x
    assert d(d(d(f)))(x) == pytest.approx(expected, rel=1e-13)


def test_gradient_of_a_function_calling_gradient():
    inner = lambda x, y: ad.gradient(lambda a: (a * y) ** 2, x)[0]  # 2 a y^2
    g = ad.gradient(lambda x, y: inner(x, y), 3.0, 2.0)
    assert g == (8.0, 24.0)  # d/dx 2 x y^2 = 2 y^2, d/dy = 4 x y


def test_jacobian_by_reverse_sweeps():
    f = lambda x: np.stack([x[0] * x[1], np.sin(x[0]), x[1] ** 2])
    x = np.array([0.5, 2.0])
    (J,) = ad.jacobian(f, x)
    np.testing.assert_allclose(J, [[2.0, 0.5], [np.cos(0.5), 0.0], [0.0, 4.0]])


# -- parameters and closures ------------------------------------------------------------------


def test_params_with_transposed_and_indexed_uses():
    W = ad.param(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    v = ad.param(np.array([0.5, -1.0]))
    x = np.array([1.0, 2.0, 3.0])
    grads = ad.gradient(lambda: (W.T @ x * v).sum() + W[0].sum() * v[1], ad.Params([W, v]))
    gW = np.outer(x, [0.5, -1.0])
    gW[0] += -1.0
    np.testing.assert_allclose(grads[W], gW)
    np.testing.assert_allclose(grads[v], W.T.view(np.ndarray) @ x + [0.0, 3.0])


def test_param_outside_gradient_is_a_plain_array():
    W = ad.param(np.ones((2, 2)))
    y = W @ np.ones(2)
    assert type(y) is np.ndarray and list(y) == [2.0, 2.0]


def test_param_not_listed_is_a_constant():
    W, b = ad.param(np.ones(2)), ad.param(np.full(2, 2.0))
    grads = ad.gradient(lambda: (W * b).sum(), ad.Params([W]))
    np.testing.assert_array_equal(grads[W], [2.0, 2.0])
    with pytest.raises(KeyError):
        grads[b]


def test_closure_with_array_and_nested_function():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    scale = 2.0

    def f(x):
        return (W @ x).sum() * scale

    y, back = ad.pullback(f, np.array([1.0, 1.0]), include_fn=True)
    df, dx = back(1.0)
    assert set(df) == {"W", "scale"}
    np.testing.assert_array_equal(df["W"], [[2.0, 2.0], [2.0, 2.0]])
    assert df["scale"] == 10.0
    np.testing.assert_array_equal(dx, [8.0, 12.0])
    assert type(W) is np.ndarray and scale == 2.0  # cells restored


def test_plain_callable_object_gradient():
    class Scale:
        def __init__(self, k):
            self.k = k
            self.name = "scale"

        def __call__(self, x):
            return (self.k * x).sum()

    obj = Scale(np.array([1.0, 2.0]))
    _, back = ad.pullback(obj, np.array([3.0, 4.0]), include_fn=True)
    d_obj, dx = back(1.0)
    assert isinstance(d_obj, Scale) and d_obj.name is None
    np.testing.assert_array_equal(d_obj.k, [3.0, 4.0])
    np.testing.assert_array_equal(obj.k, [1.0, 2.0])


# -- inputs are never changed, pullbacks can be called again ----------------------------------


def test_inputs_not_mutated_and_back_reusable():
    x = np.array([1.0, 2.0, 3.0])
    saved = x.copy()
    y, back = ad.pullback(lambda x: np.sin(x) * x, x)
    first = back(np.ones(3))[0]
    second = back(np.ones(3))[0]
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(x, saved)
    expected = [0.0, 2 * (np.cos(2) * 2 + np.sin(2)), 0.0]
    np.testing.assert_allclose(back(np.array([0.0, 2.0, 0.0]))[0], expected)


def test_functional_helpers():
    from adcheck import numpy as anp

    def f(x):
        y = anp.set_at(x, 1, x[0] * 3.0)
        return (y * np.array([1.0, 10.0, 100.0])).sum() + anp.full((2, 2), x[2]).sum()

    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ad.gradient(f, x)[0], [31.0, 0.0, 104.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(
        ad.gradient(lambda a, b: anp.array([[a, b], [b, 1.0]]).sum() * a, 2.0, 3.0), (11.0, 4.0)
    )


def test_ravel_and_flatten_orders():
    x = np.arange(6.0).reshape(2, 3)
    w = np.arange(6.0)
    for method in ("ravel", "flatten"):
        (g,) = ad.gradient(lambda x, m=method: (getattr(x, m)("F") * w).sum(), x)
        np.testing.assert_array_equal(g, w.reshape(3, 2).T)


def test_primitive_with_namedtuple_and_list_outputs():
    SinCos = namedtuple("SinCos", "s c")

    @ad.primitive
    def sincos(x):
        return SinCos(np.sin(x), np.cos(x))

    @ad.primitive
    def pair(x):
        return [x * 2.0, x * 3.0]

    with ad.scoped_rules():

        @ad.adjoint(sincos)
        def _(x):
            return sincos(x), lambda dy: (dy.s * np.cos(x) - dy.c * np.sin(x),)

        @ad.adjoint(pair)
        def _(x):
            return pair(x), lambda dy: (dy[0] * 2.0 + dy[1] * 3.0,)

        out = ad.pullback(sincos, 0.3)[0]
        assert isinstance(out, SinCos)
        assert ad.gradient(lambda x: sincos(x).s, 0.3)[0] == pytest.approx(np.cos(0.3))
        assert ad.gradient(lambda x: sincos(x).c * sincos(x).s, 0.3)[0] == pytest.approx(
            np.cos(0.6), rel=1e-14
        )
        assert ad.gradient(lambda x: pair(x)[1] * pair(x)[0], 0.5)[0] == pytest.approx(6.0)


@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda W: np.asarray(W, float)])
def test_parameter_converted_to_a_plain_array_raises_instead_of_becoming_a_constant(convert):
    W = ad.param(np.ones(2))
    with pytest.raises(ad.NotDifferentiable, match="np.asarray / np.array of a parameter"):
        ad.gradient(lambda: (convert(W) ** 2).sum(), ad.Params([W]))
    np.testing.assert_array_equal(convert(W), [1.0, 1.0])  # outside a gradient it is allowed


def test_parameter_behaves_as_its_array_outside_gradients():
    data = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = ad.param(data)
    assert W.shape == (2, 2) and W.dtype == np.float64 and len(W) == 2
    np.testing.assert_array_equal(W.T, data.T)
    np.testing.assert_array_equal(W @ np.ones(2), [3.0, 7.0])
    np.testing.assert_array_equal(2.0 * W - W, data)
    W[0, 0] = 10.0
    W *= 0.5
    assert isinstance(W, ad.Param) and data[0, 0] == 5.0  # in place, memory shared
    assert ad.param(W) is W
