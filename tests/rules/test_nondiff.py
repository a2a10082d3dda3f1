"""Functions declared non-differentiable: their results are constants, with NumPy's values."""

import numpy as np
import pytest

import adcheck as ad

x0 = np.array([1.5, -0.5, 2.25, -3.0])


@pytest.mark.parametrize("fn", [
    np.sign, np.floor, np.ceil, np.round, np.around, np.trunc, np.rint, np.fix, np.spacing,
])
def test_piecewise_constant_functions_give_zero_gradient_and_numpy_values(fn):
    def f(x):
        c = fn(x)
        np.testing.assert_array_equal(c, fn(x0))  # a plain value: NumPy's own result
        return (c * x).sum()

    (g,) = ad.gradient(f, x0)
    np.testing.assert_array_equal(g, fn(x0))  # d/dx (c * x) with c constant


@pytest.mark.parametrize("fn, expect", [
    (lambda x: np.floor_divide(x, 2.0), np.floor(x0 / 2.0)),
    (lambda x: np.signbit(x) * 1.0, np.signbit(x0) * 1.0),
    (lambda x: np.isin(x, [1.5, 2.25]) * 1.0, np.array([1.0, 0.0, 1.0, 0.0])),
    (lambda x: np.isreal(x) * 1.0, np.ones(4)),
    (lambda x: np.iscomplex(x) * 1.0, np.zeros(4)),
])
def test_predicates_and_integer_parts_are_constants(fn, expect):
    (g,) = ad.gradient(lambda x: (fn(x) * x).sum(), x0)
    np.testing.assert_array_equal(g, expect)


def test_argpartition_and_array_equiv_can_be_used_on_traced_values():
    def smallest_two(x):
        assert np.array_equiv(x, x0)
        idx = np.argpartition(x, 2)[:2]
        return (x[idx] ** 2).sum()

    (g,) = ad.gradient(smallest_two, x0)
    np.testing.assert_array_equal(g, [0.0, -1.0, 0.0, -6.0])  # -0.5 and -3.0 are the smallest
