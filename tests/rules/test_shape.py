"""Shape rules (reshape, transpose, swapaxes, moveaxis, expand_dims, squeeze, concatenate,
stack, ravel, broadcast_to) and the non-differentiable functions, against central differences
and exact expectations: orders, negative axes, list arguments, float32, 0-d, second
derivatives, and refused arguments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central_vjp, check_vjp

X = np.arange(24.0).reshape(2, 3, 4) / 7 - 1  # non-square in every pair of axes

SINGLE = {
    "reshape-C": lambda x: np.reshape(x, (4, 6)),
    "reshape-F": lambda x: np.reshape(x, (4, -1), order="F"),
    "reshape-keyword": lambda x: np.reshape(x, shape=(6, 2, 2)),
    "reshape-method": lambda x: x.reshape(3, 8),
    "reshape-method-tuple": lambda x: x.reshape((24,)),
    "transpose": np.transpose,
    "transpose-axes": lambda x: np.transpose(x, (1, 2, 0)),
    "transpose-negative": lambda x: np.transpose(x, (-1, 0, -2)),
    "transpose-method": lambda x: x.transpose(2, 0, 1),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "swapaxes": lambda x: np.swapaxes(x, 0, 2),
    "swapaxes-negative": lambda x: np.swapaxes(x, -1, 1),
    "swapaxes-method": lambda x: x.swapaxes(0, 1),
    "moveaxis": lambda x: np.moveaxis(x, 0, -1),
    "moveaxis-lists": lambda x: np.moveaxis(x, [0, 2], [1, 0]),
    "expand_dims": lambda x: np.expand_dims(x, 1),
    "expand_dims-tuple": lambda x: np.expand_dims(x, (0, -1)),
    "squeeze": lambda x: np.squeeze(np.expand_dims(x, (0, 3))),
    "squeeze-axis": lambda x: np.squeeze(np.expand_dims(x, (0, 3)), axis=-2),
    "squeeze-method": lambda x: np.expand_dims(x, 0).squeeze(0),
    "ravel": np.ravel,
    "ravel-F": lambda x: np.ravel(x, order="F"),
    "ravel-method": lambda x: x.ravel(),
    "flatten": lambda x: x.flatten(),
    "broadcast_to": lambda x: np.broadcast_to(x, (5, 2, 3, 4)),
    "broadcast_to-unit": lambda x: np.broadcast_to(x[:, :1, :], (3, 2, 3, 4)),
    "concatenate-self": lambda x: np.concatenate([x, 2 * x], axis=1),
    "concatenate-array": lambda x: np.concatenate(x, axis=-1),
    "stack-self": lambda x: np.stack([x, x * x], axis=-1),
    "stack-array": lambda x: np.stack(x, axis=1),
}


@pytest.mark.parametrize("f", SINGLE.values(), ids=SINGLE.keys())
def test_matches_central_differences(f):
    check_vjp(f, X)


def test_transpose_pullback_is_the_inverse_permutation():
    # x[i, j, k] -> y[j, k, i]; dy's entry (j, k, i) must land at x's (i, j, k).
    dy = np.arange(24.0).reshape(3, 4, 2)
    (g,) = ad.pullback(lambda x: np.transpose(x, (1, 2, 0)), X)[1](dy)
    np.testing.assert_array_equal(g, np.transpose(dy, (2, 0, 1)))
    (g,) = ad.pullback(lambda x: np.moveaxis(x, -1, 0), X)[1](np.arange(24.0).reshape(4, 2, 3))
    np.testing.assert_array_equal(g, np.moveaxis(np.arange(24.0).reshape(4, 2, 3), 0, -1))


def test_reshape_order_F_round_trip():
    dy = np.arange(6.0).reshape(3, 2)
    (g,) = ad.pullback(lambda x: np.reshape(x, (3, 2), order="F"), np.zeros((2, 3)))[1](dy)
    np.testing.assert_array_equal(g, [[0.0, 4.0, 3.0], [2.0, 1.0, 5.0]])


def test_broadcast_to_sums_over_new_and_stretched_axes():
    (g,) = ad.gradient(lambda x: np.sum(np.broadcast_to(x, (4, 2, 3)) * 0.5), np.ones((2, 1)))
    np.testing.assert_array_equal(g, [[6.0], [6.0]])
    (g,) = ad.gradient(lambda x: np.broadcast_to(x, (2, 3)).sum(), np.array(1.5))
    assert np.shape(g) == () and g == 6.0


def test_concatenate_list_gets_one_cotangent_per_array():
    a, b = np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    const = np.array([10.0, 20.0])
    f = lambda a, b: np.sum(np.concatenate([a, const, b], axis=None) * w)
    ga, gb = ad.gradient(f, a, b)
    np.testing.assert_array_equal(ga, [[1.0, 2.0]])
    np.testing.assert_array_equal(gb, [[5.0], [6.0]])


def test_concatenate_axes():
    a, b = np.ones((2, 3)), np.ones((2, 1))
    w = np.arange(8.0).reshape(2, 4)
    ga, gb = ad.gradient(lambda a, b: np.sum(np.concatenate((a, b), -1) * w), a, b)
    np.testing.assert_array_equal(ga, w[:, :3])
    np.testing.assert_array_equal(gb, w[:, 3:])
    c = np.ones((1, 3))
    w = np.arange(9.0).reshape(3, 3)
    ga, gc = ad.gradient(lambda a, c: np.sum(np.concatenate([a, c], axis=0) * w), a, c)
    np.testing.assert_array_equal(ga, w[:2])
    np.testing.assert_array_equal(gc, w[2:])


def test_stack_axes():
    a, b = np.ones((2, 3)), np.ones((2, 3))
    for axis in (0, 1, 2, -1, -3):
        w = np.arange(12.0).reshape(np.stack([a, b], axis=axis).shape)
        f = lambda a, b, axis=axis, w=w: np.sum(np.stack([a, b], axis=axis) * w)
        ga, gb = ad.gradient(f, a, b)
        np.testing.assert_array_equal(ga, np.take(w, 0, axis=axis))
        np.testing.assert_array_equal(gb, np.take(w, 1, axis=axis))


def test_stack_of_scalars():
    gx, gy = ad.gradient(lambda x, y: np.sum(np.stack([x, y, x]) * [1.0, 2.0, 3.0]), 0.5, 1.5)
    assert (gx, gy) == (4.0, 2.0)


@pytest.mark.parametrize("name", ["transpose-axes", "reshape-F", "broadcast_to", "stack-self",
                                  "concatenate-self", "moveaxis-lists", "ravel"])
def test_float32_stays_float32(name):
    f = SINGLE[name]
    x = X.astype(np.float32)
    w = np.linspace(-1.0, 2.0, np.size(f(X))).reshape(np.shape(f(X)))
    (g,) = ad.pullback(f, x)[1](w.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central_vjp(f, X, w), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.reshape(x, (1, 1)),
        lambda x: np.expand_dims(x, (0, 1)),
        lambda x: np.squeeze(x),
        lambda x: np.ravel(x),
        lambda x: np.transpose(x),
        lambda x: np.stack([x, x]),
        lambda x: np.broadcast_to(x, (2,)),
        lambda x: np.concatenate([x, x], axis=None),
    ],
    ids=["reshape", "expand_dims", "squeeze", "ravel", "transpose", "stack", "broadcast_to",
         "concatenate"],
)
def test_zero_dim_input(f):
    g = check_vjp(f, np.array(0.75))
    assert np.shape(g) == ()


def test_second_derivative_through_shape_functions():
    # f(x) = sum(C * transpose(reshape(x, (2, 3)))**2): H = diag(2 C^T, raveled)
    C = np.arange(1.0, 7.0).reshape(3, 2)
    f = lambda x: np.sum(C * np.transpose(np.reshape(x, (2, 3))) ** 2)
    H = ad.hessian(f, np.linspace(-1.0, 1.0, 6))
    np.testing.assert_allclose(H, np.diag(2 * C.T.ravel()), rtol=1e-14)


def test_second_derivative_through_concatenate_and_stack():
    # f(x) = sum(concatenate([x, x*x])**2) + sum(stack([x, x])**2) = 3 sum(x^2) + sum(x^4)
    f = lambda x: np.sum(np.concatenate([x, x * x]) ** 2) + np.sum(np.stack([x, x], 1) ** 2)
    x = np.array([0.5, -2.0, 1.0])
    H = ad.hessian(f, x)
    np.testing.assert_allclose(H, np.diag(6.0 + 12 * x**2), rtol=1e-14)


def test_second_derivative_through_broadcast_to():
    # f(x) = sum(broadcast_to(x, (3, 2)) ** 3) = 3 sum(x^3): H = diag(18 x)
    x = np.array([0.5, -2.0])
    H = ad.hessian(lambda x: np.sum(np.broadcast_to(x, (3, 2)) ** 3), x)
    np.testing.assert_allclose(H, np.diag(18 * x), rtol=1e-14)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: np.reshape(x, (2, 2), order="A"), r"np\.reshape\(\.\.\., order='A'\)"),
        (lambda x: np.ravel(x, order="K"), r"np\.ravel\(\.\.\., order='K'\)"),
        (lambda x: np.concatenate([x, x], out=np.zeros(8)), r"np\.concatenate\(\.\.\., out="),
        (lambda x: np.concatenate([x, x], dtype=np.float32), r"np\.concatenate\(\.\.\., dtype="),
        (lambda x: np.stack([x, x], out=np.zeros((2, 4))), r"np\.stack\(\.\.\., out="),
    ],
    ids=["reshape-A", "ravel-K", "concatenate-out", "concatenate-dtype", "stack-out"],
)
def test_unsupported_arguments_are_refused(call, match):
    with pytest.raises(ad.NotDifferentiable, match=match):
        ad.gradient(lambda x: np.sum(call(x)), np.arange(4.0))


# -- non-differentiable functions ---------------------------------------------------------


def test_rounding_functions_are_constants():
    x = np.array([1.5, -3.2, 2.25])
    f = lambda x: np.sum(np.floor(x) * x + np.ceil(x) + np.round(x) + np.sign(x) * x
                         + (x // 2) + np.trunc(x) * x)
    (g,) = ad.gradient(f, x)
    np.testing.assert_array_equal(g, np.floor(x) + np.sign(x) + np.trunc(x))


def test_indices_and_comparisons_are_constants():
    x = np.array([1.0, 3.0, 2.0])
    (g,) = ad.gradient(lambda x: x[np.argmax(x)] - 2 * x[np.argmin(x)], x)
    np.testing.assert_array_equal(g, [-2.0, 1.0, 0.0])
    (g,) = ad.gradient(lambda x: np.sum(x[np.argsort(x)] * [1.0, 2.0, 3.0]), x)
    np.testing.assert_array_equal(g, [1.0, 3.0, 2.0])
    mask = lambda x: np.logical_and(np.greater(x, 1.5), np.logical_not(np.equal(x, 3.0)))
    (g,) = ad.gradient(lambda x: np.sum(np.where(mask(x), x, 0.0) * 5.0), x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 5.0])
    (g,) = ad.gradient(lambda x: np.sum((x > 1.5) * x + (x <= 2.0) * 2 * x), x)
    np.testing.assert_array_equal(g, [2.0, 1.0, 3.0])


def test_like_constructors_and_predicates_are_constants():
    x = np.array([1.0, -2.0])
    f = lambda x: np.sum(np.zeros_like(x) + np.ones_like(x) * x + np.isfinite(x) * x
                         + np.isnan(x) + np.isinf(x) + np.empty_like(x) * 0.0)
    (g,) = ad.gradient(f, x)
    np.testing.assert_array_equal(g, [2.0, 2.0])


@pytest.mark.parametrize(
    "fn",
    [np.reshape, np.transpose, np.swapaxes, np.moveaxis, np.expand_dims, np.squeeze,
     np.concatenate, np.stack, np.ravel, np.broadcast_to],
    ids=lambda f: f.__name__,
)
@settings(max_examples=10)
@given(data=st.data())
def test_rule_on_its_declared_domain(fn, data):
    args, kwargs = lookup(fn).domain.draw_args(data.draw)
    if isinstance(args[0], list):  # concatenate/stack: differentiate each array in the list
        for i in range(len(args[0])):
            def f(xi, i=i):
                arrays = list(args[0])
                arrays[i] = xi
                return fn(arrays, *args[1:], **kwargs)

            check_vjp(f, args[0][i])
    else:
        check_vjp(lambda x: fn(x, *args[1:], **kwargs), args[0])
