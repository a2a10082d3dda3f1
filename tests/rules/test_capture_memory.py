"""What the rules' pullbacks hold: only the arrays their derivative reads.

Since the tape no longer keeps call arguments, a gradient's memory is what the pullback
closures capture; an array captured needlessly stays alive for the whole sweep.
"""

import numpy as np
import pytest

import adcheck as ad
from adcheck.registry import lookup
from tests.finite import central


def held(obj, seen=None) -> list:
    """Every array reachable from a pullback through closure cells, tuples and lists."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    out = []
    if isinstance(obj, (tuple, list)):
        for item in obj:
            out += held(item, seen)
    for cell in getattr(obj, "__closure__", None) or ():
        out += held(cell.cell_contents, seen)
    return out


def holds(back, a) -> bool:
    return any(np.shares_memory(h, a) for h in held(back))


X = np.linspace(0.1, 0.9, 12).reshape(3, 4)


@pytest.mark.parametrize("fn", [np.tanh, np.exp, np.sqrt, np.tan])
def test_unary_rules_of_the_output_hold_only_the_output(fn):
    y, back = lookup(fn).rule(X)
    assert [h for h in held(back) if h is y] == [y]
    assert not holds(back, X)


@pytest.mark.parametrize("fn", [np.sin, np.log, np.arcsin])
def test_unary_rules_of_the_input_hold_only_the_input(fn):
    y, back = lookup(fn).rule(X)
    assert holds(back, X)
    assert not holds(back, y)


def test_constant_derivative_holds_nothing():
    _, back = lookup(np.negative).rule(X)
    assert held(back) == []


@pytest.mark.parametrize("fn", [np.add, np.subtract])
def test_add_and_subtract_hold_neither_operand(fn):
    b = np.linspace(-1.0, 1.0, 4)
    _, back = lookup(fn).rule(X, b)
    assert not holds(back, X) and not holds(back, b)
    # what they hold instead: stand-ins of one entry each
    assert all(h.strides == (0,) * h.ndim for h in held(back))


@pytest.mark.parametrize("fn, args", [
    (np.sum, (X, 0)), (np.mean, (X, 1)), (np.reshape, (X, (4, 3))), (np.transpose, (X,)),
    (np.broadcast_to, (X[:1], (2, 3, 4))), (np.expand_dims, (X, 0)),
])
def test_shape_and_sum_rules_do_not_hold_their_input(fn, args):
    _, back = lookup(fn).rule(*args)
    assert not holds(back, args[0])


def test_add_with_broadcasting_and_float32_projects_through_the_stand_ins():
    # d/dx and d/db of sum(w * (x - b)) with b broadcast over rows: w and -(column sums of w)
    x = np.ones((3, 4), np.float32)
    b = np.ones((1, 4), np.float32)
    w = np.arange(12.0).reshape(3, 4)
    gx, gb = ad.gradient(lambda x, b: np.sum(w * (x - b)), x, b)
    assert gx.dtype == gb.dtype == np.float32 and gb.shape == (1, 4)
    np.testing.assert_array_equal(gx, w)
    np.testing.assert_array_equal(gb, -w.sum(0, keepdims=True))


def test_sum_gradient_is_a_writable_array_of_ones():
    g = ad.gradient(np.sum, X)[0]
    assert g.flags.writeable and g.shape == X.shape
    g[0, 0] = 5.0  # the caller's own array, not a broadcast view
    np.testing.assert_array_equal(ad.gradient(np.sum, X)[0], np.ones_like(X))


def test_second_derivative_of_tanh_through_its_output():
    # d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2)
    x = np.linspace(-2.0, 2.0, 5)
    d2 = ad.gradient(lambda x: np.sum(ad.gradient(lambda z: np.sum(np.tanh(z)), x)[0]), x)[0]
    t = np.tanh(x)
    np.testing.assert_allclose(d2, -2 * t * (1 - t * t), rtol=1e-12)


def test_second_derivative_through_add_subtract_sin_and_sum():
    # f(x) = sum(sin(x + c) - x), with c broadcast: f'' = -sin(x + c) on the diagonal
    c = np.linspace(0.0, 1.0, 4)
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)

    def grad_sum(x):
        return np.sum(ad.gradient(lambda z: np.sum(np.sin(z + c) - z), x)[0])

    d2 = ad.gradient(grad_sum, x)[0]
    np.testing.assert_allclose(d2, -np.sin(x + c), rtol=1e-12)
    np.testing.assert_allclose(d2, central(grad_sum, x), rtol=1e-6, atol=1e-8)
