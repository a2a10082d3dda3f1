"""Indexing (``x[key]``) and its pullback ``scatter_add``: basic keys, integer arrays whose
repeated indices must accumulate, boolean masks, float32, 0-d, and second derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcheck as ad
from adcheck.engine.tracer import getitem
from adcheck.registry import lookup
from tests.finite import check_vjp

scatter_add = ad.rules.indexing.scatter_add


X = np.arange(24.0).reshape(2, 3, 4) / 5 - 2

KEYS = {
    "int": 1,
    "negative-int": -1,
    "tuple-of-ints": (1, 2),
    "slice": slice(None, None, -1),
    "slice-step": (slice(None), slice(0, 3, 2)),
    "none-ellipsis": (None, Ellipsis, 1),
    "ellipsis-int": (Ellipsis, -2),
    "empty-tuple": (),
    "int-array-repeats": np.array([1, 1, 0, -1]),
    "int-array-2d": (slice(None), np.array([[0, 2], [2, 2]])),
    "two-int-arrays": (np.array([0, 0, 1]), np.array([2, 2, 0])),
    "int-list": [0, 0],
    "mixed-int-slice-array": (1, slice(1, None), np.array([3, 3, 0])),
    "mask-1d": np.array([True, False]),
    "mask-full": X > 0.3,
    "mask-2d-leading": np.array([[True, False, True], [False, False, True]]),
    "mask-all-false": np.zeros(2, dtype=bool),
    "mask-and-slice": (slice(None), np.array([False, True, True]), slice(None, 2)),
}


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_matches_central_differences(key):
    check_vjp(lambda x: x[key], X)


def test_repeated_indices_accumulate():
    x = np.array([10.0, 20.0, 30.0])
    (g,) = ad.gradient(lambda x: np.sum(x[[0, 2, 0, 0]] * [1.0, 2.0, 3.0, 4.0]), x)
    np.testing.assert_array_equal(g, [8.0, 0.0, 2.0])
    M = np.zeros((2, 3))
    (g,) = ad.gradient(lambda m: m[np.array([1, 1, -1]), np.array([2, 2, 2])].sum(), M)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    (g,) = ad.gradient(lambda m: m[:, [0, 0]].sum() + m[[1, 1]].sum(), M)
    np.testing.assert_array_equal(g, [[2.0, 0.0, 0.0], [4.0, 2.0, 2.0]])


def test_boolean_mask_gets_cotangent_only_where_true():
    x = np.array([[1.0, -2.0], [3.0, -4.0]])
    (g,) = ad.gradient(lambda x: np.sum(x[x > 0] ** 2), x)
    np.testing.assert_array_equal(g, [[2.0, 0.0], [6.0, 0.0]])
    (g,) = ad.gradient(lambda x: np.sum(x[np.array([False, True])] * 3.0), x)
    np.testing.assert_array_equal(g, [[0.0, 0.0], [3.0, 3.0]])


def test_iterating_over_rows():
    x = np.arange(6.0).reshape(3, 2)
    (g,) = ad.gradient(lambda x: sum(i * row[1] for i, row in enumerate(x)), x)
    np.testing.assert_array_equal(g, [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0]])


def test_float32_stays_float32():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    (g,) = ad.gradient(lambda x: np.sum(x[[2, 2, 0]] * np.float32(1.5)) + x[1], x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.array([1.5, 1.0, 3.0], dtype=np.float32))


@pytest.mark.parametrize("key", [(), Ellipsis, None, (None, None)], ids=str)
def test_zero_dim_input(key):
    (g,) = ad.gradient(lambda x: np.sum(x[key]) * 4.0, np.array(-0.5))
    assert np.shape(g) == () and g == 4.0


def test_scatter_add_values_and_pullback():
    dy = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(scatter_add(dy, np.array([0, 2, 0]), (3,)), [4.0, 0.0, 2.0])
    np.testing.assert_array_equal(scatter_add(dy, slice(1, None), (4,)), [0.0, 1.0, 2.0, 3.0])
    mask = np.array([True, False, True, True])
    np.testing.assert_array_equal(scatter_add(dy, mask, (4,)), [1.0, 0.0, 2.0, 3.0])
    # scatter_add is linear in dy; its pullback gathers with the same key
    J = ad.jacobian(lambda d: scatter_add(d, [1, 1, 0], (2,)), dy)[0]
    np.testing.assert_array_equal(J, [[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    # a scalar dy broadcasts over the indexed entries: out = [2 d, d, 0]
    (g,) = ad.gradient(lambda d: np.sum(scatter_add(d, [0, 0, 1], (3,)) * [1.0, 2.0, 3.0]), 2.0)
    assert g == 4.0


def test_second_derivative_through_repeated_indices():
    # f(x) = sum(x[[0, 0, 1]]**2 * c) = (c0 + c1) x0^2 + c2 x1^2: H = diag(2(c0+c1), 2 c2, 0)
    c = np.array([1.0, 2.0, 5.0])
    H = ad.hessian(lambda x: np.sum(x[[0, 0, 1]] ** 2 * c), np.array([0.5, -1.0, 2.0]))
    np.testing.assert_array_equal(H, np.diag([6.0, 10.0, 0.0]))


def test_second_derivative_of_products_of_entries():
    # f(x) = x0 x2 + sum of neighbours' products, x0 x1 + x1 x2 + x2 x3
    x = np.array([0.5, -1.0, 2.0, 3.0])
    H = ad.hessian(lambda x: x[0] * x[2] + np.sum(x[:-1] * x[1:]), x)
    expected = np.array([
        [0.0, 1.0, 1.0, 0.0],
        [1.0, 0.0, 1.0, 0.0],
        [1.0, 1.0, 0.0, 1.0],
        [0.0, 0.0, 1.0, 0.0],
    ])
    np.testing.assert_array_equal(H, expected)


def test_second_derivative_through_a_mask_and_a_matrix():
    # f(M) = sum(M[mask]**3): H = diag(6 M) on the masked entries, 0 elsewhere
    M = np.array([[1.0, -2.0], [3.0, 0.5]])
    mask = np.array([[True, False], [True, True]])
    H = ad.hessian(lambda m: np.sum(m[mask] ** 3), M)
    expected = np.diag(np.where(mask, 6 * M, 0.0).ravel()).reshape(2, 2, 2, 2)
    np.testing.assert_allclose(H, expected, rtol=1e-15)


def test_writing_into_a_traced_array_is_refused():
    def f(x):
        x[0] = 1.0
        return x.sum()

    with pytest.raises(ad.NotDifferentiable, match=r"x\[i\] = v"):
        ad.gradient(f, np.ones(2))


@pytest.mark.parametrize("fn", [getitem, scatter_add], ids=["getitem", "scatter_add"])
@settings(max_examples=25)
@given(data=st.data())
def test_rule_on_its_declared_domain(fn, data):
    args, kwargs = lookup(fn).domain.draw_args(data.draw)
    check_vjp(lambda v: fn(v, *args[1:], **kwargs), args[0])
