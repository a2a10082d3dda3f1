"""Joining and splitting rules (vstack, hstack, dstack, column_stack, row_stack, append,
split, array_split, hsplit, vsplit, dsplit, unstack, atleast_*d, broadcast_arrays) against
central differences and exact expectations; unused split pieces; an RK4 ODE loop."""

import warnings

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central, central_vjp, check_vjp

A = np.array([0.5, -1.0, 2.0])
B = np.array([1.5, 0.25, -3.0])
M = np.arange(12.0).reshape(3, 4) / 5 - 1
X = np.arange(24.0).reshape(2, 3, 4) / 7 - 1

JOINS = {
    "vstack-vectors": lambda x: np.vstack([x, 2 * x, A]),
    "vstack-matrix-and-row": lambda x: np.vstack((np.reshape(x, (1, 3)), np.diag(x))),
    "vstack-array": lambda x: np.vstack(np.reshape(x, (3, 1))),
    "vstack-scalars": lambda x: np.vstack([x[0], x[1]]),
    "hstack-vectors": lambda x: np.hstack([x, B, x * x]),
    "hstack-matrices": lambda x: np.hstack([np.diag(x), np.reshape(x, (3, 1))]),
    "hstack-scalars": lambda x: np.hstack((x[0], 1.0, x[2])),
    "dstack": lambda x: np.dstack([x, B]),
    "dstack-matrices": lambda x: np.dstack((np.diag(x), np.diag(x) * 2)),
    "column_stack": lambda x: np.column_stack([x, B, x]),
    "column_stack-matrix": lambda x: np.column_stack((np.diag(x), x)),
    "append-flat": lambda x: np.append(np.diag(x), x),
    "append-axis": lambda x: np.append(np.diag(x), np.reshape(x, (1, 3)), axis=0),
    "append-scalar": lambda x: np.append(x, x[1]),
    "atleast_1d": lambda x: np.atleast_1d(x[0]),
    "atleast_2d": lambda x: np.atleast_2d(x),
    "atleast_3d": lambda x: np.atleast_3d(np.diag(x)),
    "atleast_3d-several": lambda x: np.concatenate(
        [np.ravel(a) for a in np.atleast_3d(x, x[1], np.diag(x))]),
    "broadcast_arrays": lambda x: np.stack(np.broadcast_arrays(np.reshape(x, (3, 1)), x)),
    "broadcast_arrays-scalar": lambda x: np.concatenate(np.broadcast_arrays(x[0], x)),
}


@pytest.mark.parametrize("f", JOINS.values(), ids=JOINS.keys())
def test_joins_match_central_differences(f):
    check_vjp(f, A)


def test_row_stack_is_vstack():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        check_vjp(lambda x: np.row_stack([x, 2 * x]), A)


def test_vstack_cuts_the_cotangent():
    dy = np.arange(9.0).reshape(3, 3)
    ga, gb = ad.pullback(lambda a, b: np.vstack([a, b]), A, np.ones((2, 3)))[1](dy)
    np.testing.assert_array_equal(ga, dy[0])
    np.testing.assert_array_equal(gb, dy[1:])
    # column_stack puts a vector in a column: it gets that column back
    ga, gb = ad.pullback(lambda a, b: np.column_stack([a, b]), A, np.ones((3, 2)))[1](dy)
    np.testing.assert_array_equal(ga, dy[:, 0])
    np.testing.assert_array_equal(gb, dy[:, 1:])


SPLITS = {
    "split-sections": lambda x: np.split(x, 2, axis=2),
    "split-cuts": lambda x: np.split(x, [1, 3], axis=-1),
    "split-cuts-out-of-range": lambda x: np.split(x, [2, 7], axis=2),
    "split-unsorted-cuts": lambda x: np.split(x, [3, 1], axis=2),  # pieces overlap
    "split-negative-cuts": lambda x: np.split(x, [-1], axis=1),
    "array_split": lambda x: np.array_split(x, 3, axis=2),
    "array_split-more-than-length": lambda x: np.array_split(x, 5, axis=1),
    "hsplit": lambda x: np.hsplit(x, [1]),
    "vsplit": lambda x: np.vsplit(x, 2),
    "dsplit": lambda x: np.dsplit(x, [1, 2]),
    "unstack": lambda x: np.unstack(x, axis=1),
}


@pytest.mark.parametrize("f", SPLITS.values(), ids=SPLITS.keys())
def test_splits_match_central_differences(f):
    # every piece used, each with its own weights
    def g(x):
        return sum(np.sum(p * (i + 1) * np.sin(np.arange(p.size).reshape(p.shape)))
                   for i, p in enumerate(f(x)))

    (grad,) = ad.gradient(g, X)
    np.testing.assert_allclose(grad, central(g, X), rtol=1e-6, atol=1e-7)


def test_unused_pieces_get_zero():
    # Only the middle piece is used: the others' cotangents are zeros the engine fills in.
    (g,) = ad.gradient(lambda x: np.sum(np.split(x, [1, 3])[1] * [2.0, 3.0]), np.ones(4))
    np.testing.assert_array_equal(g, [0.0, 2.0, 3.0, 0.0])
    (g,) = ad.gradient(lambda x: np.sum(np.hsplit(x, 2)[0]), np.ones((2, 4)))
    np.testing.assert_array_equal(g, [[1.0, 1.0, 0.0, 0.0]] * 2)


def test_overlapping_pieces_accumulate():
    # np.split(x, [3, 1]) = [x[:3], x[3:1] (empty), x[1:]]: x[1] and x[2] are in two pieces
    (g,) = ad.gradient(lambda x: sum(np.sum(p) for p in np.split(x, [3, 1])), np.ones(4))
    np.testing.assert_array_equal(g, [1.0, 2.0, 2.0, 1.0])


def test_split_of_size_one_and_float32():
    (g,) = ad.gradient(lambda x: np.sum(np.split(x, 1)[0] * 3.0), np.array([0.5]))
    np.testing.assert_array_equal(g, [3.0])
    x = X.astype(np.float32)
    f = lambda x: np.sum(np.array_split(x, 2, axis=0)[1] ** 2) + np.sum(np.vstack([x, x]))
    (g,) = ad.gradient(f, x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central(f, X), rtol=1e-5, atol=1e-5)


def test_second_derivative_through_split_and_stack():
    # f(x) = sum(a^3) + sum(b^2 * a) with a, b = split(x, 2): Hessian by hand
    x = np.array([0.5, -1.0, 2.0, 1.5])
    f = lambda x: (lambda a, b: np.sum(a ** 3) + np.sum(b ** 2 * a))(*np.split(x, 2))
    H = ad.hessian(f, x)
    a, b = x[:2], x[2:]
    expected = np.zeros((4, 4))
    expected[[0, 1], [0, 1]] = 6 * a
    expected[[2, 3], [2, 3]] = 2 * a
    expected[[0, 1], [2, 3]] = expected[[2, 3], [0, 1]] = 2 * b
    np.testing.assert_allclose(H, expected, rtol=1e-14)
    g = lambda x: np.sum(np.hstack([x, x * x]) ** 2) + np.sum(np.column_stack([x, x]) ** 3)
    np.testing.assert_allclose(ad.hessian(g, A), np.diag(2 + 12 * A**2 + 12 * A), rtol=1e-14)


# -- an explicit RK4 loop ------------------------------------------------------------------


def lotka_volterra(state, p):
    # dx/dt = a x - b x y, dy/dt = c x y - d y, written with np.stack
    x, y = state[0], state[1]
    return np.stack([p[0] * x - p[1] * x * y, p[2] * x * y - p[3] * y])


def rk4(f, y0, p, dt, steps):
    ys = [y0]
    y = y0
    for _ in range(steps):
        k1 = f(y, p)
        k2 = f(y + dt / 2 * k1, p)
        k3 = f(y + dt / 2 * k2, p)
        k4 = f(y + dt * k3, p)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return np.vstack(ys)  # the trajectory, one row per time


def loss(y0, p):
    trajectory = rk4(lotka_volterra, y0, p, 0.1, 20)
    prey, predators = np.hsplit(trajectory, 2)
    return np.sum(prey ** 2) + np.mean(predators)


def test_rk4_ode_loop_differentiates():
    y0, p = np.array([1.0, 0.5]), np.array([1.1, 0.4, 0.1, 0.4])
    assert ad.gradcheck(loss, y0, p)
    g0, gp = ad.gradient(loss, y0, p)
    np.testing.assert_allclose(g0, central(lambda y: loss(y, p), y0), rtol=1e-6)
    np.testing.assert_allclose(gp, central(lambda q: loss(y0, q), p), rtol=1e-6)


def test_rk4_second_derivative():
    y0, p = np.array([1.0, 0.5]), np.array([1.1, 0.4, 0.1, 0.4])
    H = ad.hessian(lambda q: loss(y0, q), p)
    grad = lambda q: ad.gradient(lambda r: loss(y0, r), q)[0]
    expected = np.stack([central_vjp(grad, p, e) for e in np.eye(4)])
    np.testing.assert_allclose(H, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: np.vstack([x, x], dtype=np.float32), r"np\.vstack\(\.\.\., dtype=\.\.\.\)"),
        (lambda x: np.hstack([x, x], dtype=np.float32), r"np\.hstack\(\.\.\., dtype=\.\.\.\)"),
    ],
    ids=["vstack-dtype", "hstack-dtype"],
)
def test_refused_arguments(call, match):
    with pytest.raises(ad.NotDifferentiable, match=match):
        ad.gradient(lambda x: np.sum(call(x)), A)
