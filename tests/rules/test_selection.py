"""Selection rules (sort, partition, take, take_along_axis, choose, select) against central
differences and exact expectations: axes, kinds, repeated and out-of-range indices in every
mode, ties (documented subgradient), float32, second derivatives."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central_vjp, check_vjp

# distinct entries, so that sort and partition are differentiable
X = np.array([[[0.3, -1.2, 2.5, 0.9], [1.7, -0.4, 3.1, -2.2], [0.1, 2.9, -3.3, 1.1]],
              [[-0.7, 1.3, 0.6, -1.9], [2.2, -2.8, 0.8, 1.5], [-0.2, 3.6, -1.4, 2.0]]])
V = np.array([0.5, -1.5, 2.0, 0.25, -0.75])

CASES = {
    "sort": (np.sort, X),
    "sort-axis0": (lambda x: np.sort(x, axis=0), X),
    "sort-flat": (lambda x: np.sort(x, axis=None), X),
    "sort-kind": (lambda x: np.sort(x, axis=1, kind="mergesort"), X),
    "sort-stable": (lambda x: np.sort(x, stable=True), X),
    "sort-descending": (lambda x: -np.sort(-x), V),
    "partition": (lambda x: np.partition(x, 2), X),
    "partition-list": (lambda x: np.partition(x, [0, -1], axis=1), X),
    "partition-flat": (lambda x: np.partition(x, 5, axis=None), X),
    "take-flat": (lambda x: np.take(x, [0, 5, 5, -1]), X),
    "take-axis": (lambda x: np.take(x, [[2, 0], [2, 2]], axis=2), X),
    "take-scalar": (lambda x: np.take(x, 1, axis=-2), X),
    "take-wrap": (lambda x: np.take(x, [7, -9, 1], mode="wrap"), V),
    "take-clip": (lambda x: np.take(x, [7, -9, 1], axis=0, mode="clip"), V),
    "take-method": (lambda x: x.take([1, 1], axis=1), X),
    "take_along_axis": (lambda x: np.take_along_axis(x, np.argsort(x, axis=1), axis=1), X),
    "take_along_axis-broadcast": (
        lambda x: np.take_along_axis(x, np.array([[[0, 0, 3]]]), axis=-1), X),
    "take_along_axis-flat": (lambda x: np.take_along_axis(x, np.array([3, 3, 0]), None), V),
}


@pytest.mark.parametrize("f, x", CASES.values(), ids=CASES.keys())
def test_matches_central_differences(f, x):
    check_vjp(f, x)


def test_sort_sends_cotangents_to_the_sorted_entries():
    dy = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    (g,) = ad.pullback(np.sort, V)[1](dy)
    # V sorted: -1.5 (index 1), -0.75 (4), 0.25 (3), 0.5 (0), 2.0 (2)
    np.testing.assert_array_equal(g, [4.0, 1.0, 5.0, 3.0, 2.0])


def test_sort_ties_follow_a_stable_order():
    # Not differentiable at a tie; the rule gives the subgradient of the stable order: the
    # first tied entry in the input takes the first sorted position.
    (g,) = ad.pullback(np.sort, np.array([1.0, 0.0, 1.0]))[1](np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(g, [20.0, 10.0, 30.0])


def test_partition_value_and_gradient_agree():
    x = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0, 6.0])
    y, back = ad.pullback(lambda x: np.partition(x, 3), x)
    assert y[3] == np.partition(x, 3)[3] == 3.0
    (g,) = back(np.eye(8)[3])  # the cotangent of the 4th smallest entry
    np.testing.assert_array_equal(g, np.eye(8)[0])


def test_take_repeats_accumulate_and_modes_wrap_or_clip():
    (g,) = ad.pullback(lambda x: np.take(x, [0, 0, 2]), np.ones(3))[1](np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(g, [3.0, 0.0, 4.0])
    (g,) = ad.pullback(lambda x: np.take(x, [4, -4], mode="wrap"), np.ones(3))[1](
        np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 2.0])  # 4 -> 1, -4 -> 2
    (g,) = ad.pullback(lambda x: np.take(x, [4, -4], mode="clip"), np.ones(3))[1](
        np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 0.0, 1.0])  # 4 -> 2, -4 -> 0


def test_choose():
    a = np.array([[0, 1, 2], [2, 0, 1]])
    c0, c1, c2 = np.ones((2, 3)), np.ones(3), 5.0
    w = np.arange(6.0).reshape(2, 3)
    g0, g1, g2 = ad.gradient(lambda p, q, r: np.sum(np.choose(a, [p, q, r]) * w), c0, c1, c2)
    np.testing.assert_array_equal(g0, [[0.0, 0.0, 0.0], [0.0, 4.0, 0.0]])
    np.testing.assert_array_equal(g1, [0.0, 1.0, 5.0])  # broadcast over the rows: summed
    assert g2 == 2.0 + 3.0
    # choices as one array (first axis), and a clipped index
    stacked = np.arange(6.0).reshape(2, 3)
    check_vjp(lambda c: np.choose([0, 1, 5], c, mode="clip"), stacked)
    check_vjp(lambda c: np.choose([[0], [1]], [c, 2 * c]), V[:3])


def test_select():
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    f = lambda x: np.select([x < -1, x < 1], [x ** 2, np.sin(x)], x ** 3)
    check_vjp(f, x)
    (g,) = ad.gradient(lambda x: np.sum(f(x)), x)
    np.testing.assert_allclose(g, [2 * -2.0, np.cos(-0.5), np.cos(0.5), 3 * 9.0])
    # the default when it is not given is 0: no gradient there
    (g,) = ad.gradient(lambda x: np.sum(np.select([x > 0], [x * 2])), x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 2.0, 2.0])


@pytest.mark.parametrize("name", ["sort-axis0", "partition-list", "take-axis",
                                  "take_along_axis-broadcast"])
def test_float32_stays_float32(name):
    f, x = CASES[name]
    w = np.linspace(-1.0, 2.0, np.size(f(x))).reshape(np.shape(f(x)))
    (g,) = ad.pullback(f, x.astype(np.float32))[1](w.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central_vjp(f, x, w), rtol=1e-5, atol=1e-5)


def test_zero_dim_and_size_one():
    check_vjp(lambda x: np.sort(x, axis=None), np.array(0.75))
    check_vjp(np.sort, np.array([0.75]))
    check_vjp(lambda x: np.take(x, [0, 0]), np.array(0.75))
    check_vjp(lambda x: np.partition(x, 0), np.array([0.75]))


def test_second_derivatives():
    # f(x) = sum(w * sort(x) ** 3): H = diag(6 x * w[rank of x])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    H = ad.hessian(lambda x: np.sum(w * np.sort(x) ** 3), V)
    rank = np.argsort(np.argsort(V))
    np.testing.assert_allclose(H, np.diag(6 * V * w[rank]), rtol=1e-14)
    # take with repeats: f = sum(take(x, [0, 0, 2]) ** 2) = 2 x0^2 + x2^2
    H = ad.hessian(lambda x: np.sum(np.take(x, [0, 0, 2]) ** 2), V[:3])
    np.testing.assert_allclose(H, np.diag([4.0, 0.0, 2.0]), rtol=1e-14)


def test_refused_arguments():
    with pytest.raises(ad.NotDifferentiable, match=r"np\.take\(\.\.\., out="):
        ad.gradient(lambda x: np.sum(np.take(x, [0], out=np.zeros(1))), V)
