"""adcheck.numpy: array, full, full_like, set_at, add_at, r_, c_ give NumPy's values (shape
and dtype too) and the right gradients; the idioms NumPy cannot trace name them."""

import numpy as np
import pytest

import adcheck as ad
from adcheck import numpy as anp
from tests.finite import central, check_vjp

X = np.array([0.5, -1.5, 2.0])


def same(a, b):
    """Equal values, shape and dtype."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_array_equal(a, b)


# -- values: what NumPy gives, with and without traced items --------------------------------

BUILDERS = {
    "array-nested": (lambda x: anp.array([[x[0], 1.0], (x[1], x[2])]),
                     lambda x: np.array([[x[0], 1.0], (x[1], x[2])])),
    "array-rows": (lambda x: anp.array([x, 2 * x, [1, 2, 3]]),
                   lambda x: np.array([x, 2 * x, [1, 2, 3]])),
    "array-of-array": (lambda x: anp.array(x), lambda x: np.array(x)),
    "full": (lambda x: anp.full((2, 3), x[0]), lambda x: np.full((2, 3), x[0])),
    "full-int-shape": (lambda x: anp.full(4, x[1]), lambda x: np.full(4, x[1])),
    "full-broadcast": (lambda x: anp.full((2, 3), x), lambda x: np.full((2, 3), x)),
    "full_like": (lambda x: anp.full_like(np.zeros((2, 2)), x[2]),
                  lambda x: np.full_like(np.zeros((2, 2)), x[2])),
    "r_": (lambda x: anp.r_[x, 0.0, x[1], 3:5], lambda x: np.r_[x, 0.0, x[1], 3:5]),
    "r_-linspace-slice": (lambda x: anp.r_[x[0], -1:1:5j], lambda x: np.r_[x[0], -1:1:5j]),
    "r_-axis": (lambda x: anp.r_["1", np.reshape(x, (1, 3)), np.ones((1, 2))],
                lambda x: np.r_["1", np.reshape(x, (1, 3)), np.ones((1, 2))]),
    "r_-ndmin": (lambda x: anp.r_["0,2", x, x], lambda x: np.r_["0,2", x, x]),
    "r_-trans1d": (lambda x: anp.r_["0,2,0", x, x], lambda x: np.r_["0,2,0", x, x]),
    "r_-3d": (lambda x: anp.r_["-1,3,1", x, x * x], lambda x: np.r_["-1,3,1", x, x * x]),
    "c_": (lambda x: anp.c_[x, x * x, [7.0, 8.0, 9.0]], lambda x: np.c_[x, x * x, [7, 8, 9]]),
    "c_-matrix": (lambda x: anp.c_[np.diag(x), x], lambda x: np.c_[np.diag(x), x]),
    "c_-scalars": (lambda x: anp.c_[x[0], 2.0, x[2]], lambda x: np.c_[x[0], 2.0, x[2]]),
    "block-flat": (lambda x: anp.block([x, 1.0, x[0]]), lambda x: np.block([x, 1.0, x[0]])),
    "block-2d": (lambda x: anp.block([[np.diag(x), x[:, None]], [x[None, :], np.ones((1, 1))]]),
                 lambda x: np.block([[np.diag(x), x[:, None]], [x[None, :], np.ones((1, 1))]])),
    "block-deep": (lambda x: anp.block([[[x]], [[x * x]]]),
                   lambda x: np.block([[[x]], [[x * x]]])),
}


@pytest.mark.parametrize("ours, numpys", BUILDERS.values(), ids=BUILDERS.keys())
def test_values_are_numpys(ours, numpys):
    same(ours(X), numpys(X))  # nothing traced: NumPy itself
    y, _ = ad.pullback(ours, X)  # traced: the same values, shape and dtype
    same(y, numpys(X))
    y32, _ = ad.pullback(ours, X.astype(np.float32))
    same(y32, numpys(X.astype(np.float32)))


@pytest.mark.parametrize("ours", [f for f, _ in BUILDERS.values()], ids=BUILDERS.keys())
def test_gradients_match_central_differences(ours):
    check_vjp(ours, X)


def test_gradients_exact():
    ga, gb = ad.gradient(lambda a, b: np.sum(anp.array([[a, b], [b, 1.0]]) * [[1, 2], [3, 4]]),
                         2.0, 3.0)
    assert (ga, gb) == (1.0, 5.0)
    (g,) = ad.gradient(lambda t: np.sum(anp.full((2, 3), t) * np.arange(6.0).reshape(2, 3)), 1.0)
    assert g == 15.0
    (g,) = ad.gradient(lambda x: np.sum(anp.c_[x, 3 * x] * [[1.0, 10.0]]), np.ones(3))
    np.testing.assert_array_equal(g, [31.0, 31.0, 31.0])


def test_zero_dim_and_float32():
    (g,) = ad.gradient(lambda t: np.sum(anp.array([t, t * t])), np.float32(3.0))
    assert np.asarray(g).dtype == np.float32 and g == 7.0
    (g,) = ad.gradient(lambda t: np.sum(anp.r_[t]), np.array(2.0))
    assert np.shape(g) == () and g == 1.0
    y, _ = ad.pullback(lambda t: anp.array([t, 1.0], dtype=np.float32), 2.0)
    assert y.dtype == np.float32


def test_second_derivative_through_array_and_r_():
    # f(a) = sum(array([a, a^2])^2) + sum(r_[a, a]^3) = a^2 + a^4 + 2 a^3
    f = lambda a: np.sum(anp.array([a, a * a]) ** 2) + np.sum(anp.r_[a, a] ** 3)
    assert ad.derivative(lambda a: ad.derivative(f)(a))(1.5) == pytest.approx(
        2 + 12 * 1.5**2 + 12 * 1.5, rel=1e-14)


# -- functional writes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "index, value",
    [(1, 5.0), (slice(0, 2), np.array([5.0, 6.0])), (slice(None), 7.0),
     (np.array([True, False, True]), np.array([5.0, 6.0])), ([2, 0], np.array([5.0, 6.0]))],
    ids=["int", "slice", "slice-broadcast", "mask", "ints"],
)
def test_set_at_values_and_gradients(index, value):
    expected = X.copy()
    expected[index] = value
    same(anp.set_at(X, index, value), expected)
    check_vjp(lambda x: anp.set_at(x, index, value), X)
    check_vjp(lambda v: anp.set_at(X, index, v), value)


def test_set_at_repeated_index_last_write_wins():
    # x[[0, 0]] = [a, b] leaves b in x[0]: a gets no gradient
    y, back = ad.pullback(lambda x, v: anp.set_at(x, [0, 0, 1], v), np.ones(3),
                          np.array([5.0, 6.0, 7.0]))
    same(y, np.array([6.0, 7.0, 1.0]))
    gx, gv = back(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(gx, [0.0, 0.0, 4.0])
    np.testing.assert_array_equal(gv, [0.0, 1.0, 2.0])


def test_set_at_2d_rows_and_float32():
    M = np.arange(6.0).reshape(2, 3)
    f = lambda m, row: np.sum(anp.set_at(m, 1, row) ** 2 * [1.0, 2.0, 3.0])
    gm, grow = ad.gradient(f, M.astype(np.float32), np.array([1.0, -1.0, 2.0], np.float32))
    assert gm.dtype == grow.dtype == np.float32
    np.testing.assert_allclose(gm, [[0.0, 4.0, 12.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(grow, [2.0, -4.0, 12.0])


def test_add_at_accumulates():
    gx, gv = ad.gradient(lambda x, v: np.sum(anp.add_at(x, [0, 0, 2], v) * [1.0, 2.0, 3.0]),
                         np.zeros(3), np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(gx, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(gv, [1.0, 1.0, 3.0])
    same(anp.add_at(np.zeros(3), [0, 0, 2], np.array([1.0, 2.0, 4.0])), np.array([3.0, 0, 4]))


def test_set_at_in_a_loop_matches_differences():
    # a recurrence written with writes: x[i] = x[i - 1] * a + 1
    def f(a):
        x = np.zeros(5)
        for i in range(1, 5):
            x = anp.set_at(x, i, x[i - 1] * a + 1.0)
        return np.sum(x)

    (g,) = ad.gradient(f, 0.7)
    assert g == pytest.approx(central(lambda a: f(a[()]), np.array(0.7)), rel=1e-7)


# -- the idioms NumPy cannot trace name the helpers -----------------------------------------


@pytest.mark.parametrize(
    "call",
    [lambda t: np.array([t, t]), lambda t: np.r_[t, t], lambda t: np.c_[t, t],
     lambda t: np.full((2,), t)],
    ids=["np.array", "np.r_", "np.c_", "np.full"],
)
def test_untraceable_idioms_name_adcheck_numpy(call):
    with pytest.raises(ad.NotDifferentiable, match=r"adcheck\.numpy"):
        ad.gradient(lambda t: np.sum(call(t)), 1.0)
