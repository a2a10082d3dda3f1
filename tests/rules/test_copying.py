"""Copying rules (flip, fliplr, flipud, rot90, roll, rollaxis, triu, tril, tile, repeat, pad,
diag, diagflat, resize, delete, insert) against central differences and exact expectations:
every keyword form, 0-d and size-1 inputs, float32, second derivatives, refused modes."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central_vjp, check_vjp

X = np.arange(24.0).reshape(2, 3, 4) / 7 - 1
M = np.arange(12.0).reshape(3, 4) / 5 - 1
V = np.array([0.5, -1.5, 2.0, 0.25])

CASES = {
    "flip-all": (lambda x: np.flip(x), X),
    "flip-axis": (lambda x: np.flip(x, 1), X),
    "flip-negative": (lambda x: np.flip(x, axis=-1), X),
    "flip-tuple": (lambda x: np.flip(x, (0, 2)), X),
    "fliplr": (np.fliplr, X),
    "flipud": (np.flipud, V),
    "rot90": (np.rot90, M),
    "rot90-k": (lambda x: np.rot90(x, 3), M),
    "rot90-negative-k": (lambda x: np.rot90(x, -1), M),
    "rot90-axes": (lambda x: np.rot90(x, k=2, axes=(2, 0)), X),
    "rot90-negative-axes": (lambda x: np.rot90(x, 1, (-1, -3)), X),
    "roll-flat": (lambda x: np.roll(x, 5), X),
    "roll-axis": (lambda x: np.roll(x, -1, axis=1), X),
    "roll-tuple": (lambda x: np.roll(x, (1, 2), axis=(0, 2)), X),
    "roll-one-shift-two-axes": (lambda x: np.roll(x, 1, axis=(1, 2)), X),
    "roll-repeated-axis": (lambda x: np.roll(x, (1, 1), axis=(2, 2)), X),
    "rollaxis": (lambda x: np.rollaxis(x, 2), X),
    "rollaxis-start": (lambda x: np.rollaxis(x, 0, 3), X),
    "rollaxis-negative": (lambda x: np.rollaxis(x, -1, 1), X),
    "triu": (np.triu, M),
    "triu-k": (lambda x: np.triu(x, 1), M),
    "tril-negative-k": (lambda x: np.tril(x, k=-1), M),
    "tril-batched": (lambda x: np.tril(x, 1), X),
    "triu-vector": (lambda x: np.triu(x), V),  # a 1-D input becomes a square
    "tile-int": (lambda x: np.tile(x, 3), M),
    "tile-tuple": (lambda x: np.tile(x, (2, 1, 2)), M),
    "tile-short-reps": (lambda x: np.tile(x, (2, 1)), X),
    "repeat-flat": (lambda x: np.repeat(x, 2), M),
    "repeat-axis": (lambda x: np.repeat(x, 3, axis=1), M),
    "repeat-per-entry": (lambda x: np.repeat(x, [0, 2, 1], axis=0), M),
    "repeat-per-entry-flat": (lambda x: np.repeat(x, [1, 0, 3, 2]), V),
    "repeat-method": (lambda x: x.repeat(2, axis=-1), M),
    "pad-constant": (lambda x: np.pad(x, 1), M),
    "pad-constant-values": (lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=3.0), M),
    "pad-edge": (lambda x: np.pad(x, (2, 1), mode="edge"), M),
    "pad-reflect": (lambda x: np.pad(x, 3, mode="reflect"), V),
    "pad-reflect-long": (lambda x: np.pad(x, ((0, 0), (5, 6)), mode="reflect"), M),
    "pad-symmetric": (lambda x: np.pad(x, ((1, 2),), mode="symmetric"), X),
    "pad-wrap": (lambda x: np.pad(x, ((1, 1), (0, 5)), "wrap"), M),
    "diag-build": (np.diag, V),
    "diag-build-k": (lambda x: np.diag(x, -2), V),
    "diag-extract": (np.diag, M),
    "diag-extract-k": (lambda x: np.diag(x, k=1), M),
    "diagflat": (np.diagflat, M),
    "diagflat-k": (lambda x: np.diagflat(x, 2), V),
    "resize-larger": (lambda x: np.resize(x, (3, 5)), V),
    "resize-smaller": (lambda x: np.resize(x, 5), M),
    "delete-flat": (lambda x: np.delete(x, [0, 5, 11]), M),
    "delete-axis": (lambda x: np.delete(x, 1, axis=1), M),
    "delete-slice": (lambda x: np.delete(x, slice(0, None, 2), axis=-1), X),
    "delete-mask": (lambda x: np.delete(x, [True, False, True, False]), V),
    "insert-constant": (lambda x: np.insert(x, 1, 9.0), V),
}


@pytest.mark.parametrize("f, x", CASES.values(), ids=CASES.keys())
def test_matches_central_differences(f, x):
    check_vjp(f, x)


def test_tile_and_repeat_sum_the_copies():
    # tile([a, b], 3) = [a, b, a, b, a, b]: a gets w0 + w2 + w4, b gets w1 + w3 + w5
    w = np.arange(6.0)
    (g,) = ad.pullback(lambda x: np.tile(x, 3), np.ones(2))[1](w)
    np.testing.assert_array_equal(g, [6.0, 9.0])
    (g,) = ad.pullback(lambda x: np.repeat(x, [2, 0, 1]), np.ones(3))[1](np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(g, [3.0, 0.0, 4.0])


def test_pad_edge_collects_the_padded_copies():
    # pad([a, b], (2, 1), "edge") = [a, a, a, b, b]
    (g,) = ad.pullback(lambda x: np.pad(x, (2, 1), mode="edge"), np.ones(2))[1](
        np.array([1.0, 2.0, 4.0, 8.0, 16.0]))
    np.testing.assert_array_equal(g, [7.0, 24.0])
    # constants get nothing; constant_values does not enter the gradient
    (g,) = ad.pullback(lambda x: np.pad(x, 1, constant_values=5.0), np.ones(1))[1](
        np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(g, [2.0])


def test_roll_and_rot90_are_undone():
    dy = np.arange(12.0).reshape(3, 4)
    (g,) = ad.pullback(lambda x: np.roll(x, (1, -2), axis=(0, 1)), M)[1](dy)
    np.testing.assert_array_equal(g, np.roll(dy, (-1, 2), axis=(0, 1)))
    # rot90(x) = x.T[::-1], so x's cotangent is dy[::-1].T
    dy = np.arange(12.0).reshape(4, 3)
    (g,) = ad.pullback(lambda x: np.rot90(x), M)[1](dy)
    np.testing.assert_array_equal(g, dy[::-1].T)


def test_insert_values_get_their_own_gradient():
    # insert(x, [1, 1], v) on a 2-vector = [x0, v0, v1, x1]
    w = np.array([1.0, 2.0, 3.0, 4.0])
    gx, gv = ad.gradient(lambda x, v: np.sum(np.insert(x, [1, 1], v) * w), np.ones(2),
                         np.ones(2))
    np.testing.assert_array_equal(gx, [1.0, 4.0])
    np.testing.assert_array_equal(gv, [2.0, 3.0])
    # a broadcast value collects every copy: insert a column of one value
    gx, gv = ad.gradient(lambda x, v: np.sum(np.insert(x, 2, v, axis=1) * 2.0), M, 0.5)
    np.testing.assert_array_equal(gx, np.full((3, 4), 2.0))
    assert gv == 6.0


def test_diag_round_trip():
    # diag(diag(v)) = v: the gradient of sum(w * diag(diag(v))) is w
    w = np.array([1.0, -2.0, 3.0, 0.5])
    (g,) = ad.gradient(lambda v: np.sum(w * np.diag(np.diag(v))), V)
    np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize(
    "f",
    [np.flip, lambda x: np.roll(x, 2), lambda x: np.tile(x, (2, 3)), lambda x: np.repeat(x, 3),
     lambda x: np.diagflat(x, 1), lambda x: np.resize(x, (2, 2)), lambda x: np.flip(x, ())],
    ids=["flip", "roll", "tile", "repeat", "diagflat", "resize", "flip-empty-axes"],
)
def test_zero_dim_and_size_one(f):
    g = check_vjp(f, np.array(0.75))
    assert np.shape(g) == ()
    check_vjp(f, np.array([0.75]))


@pytest.mark.parametrize("name", ["flip-tuple", "rot90-axes", "tile-tuple", "repeat-per-entry",
                                  "pad-reflect-long", "diag-build", "triu-k", "insert-constant"])
def test_float32_stays_float32(name):
    f, x = CASES[name]
    w = np.linspace(-1.0, 2.0, np.size(f(x))).reshape(np.shape(f(x)))
    (g,) = ad.pullback(f, x.astype(np.float32))[1](w.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central_vjp(f, x, w), rtol=1e-5, atol=1e-5)


def test_second_derivatives():
    # f(x) = sum(c * pad(x, 1, "reflect") ** 3): H = diag(6 * x * (sum of c over each copy))
    x = np.array([0.5, -1.0, 2.0])
    c = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # padded: [x1, x0, x1, x2, x1]
    H = ad.hessian(lambda x: np.sum(c * np.pad(x, 1, mode="reflect") ** 3), x)
    np.testing.assert_allclose(H, np.diag(6 * x * np.array([2.0, 1 + 3 + 5, 4.0])), rtol=1e-14)
    # f(x) = sum(tile(x, 2) * roll(flip(x), 1) * ...) : compare with nested differences
    f = lambda x: np.sum(np.tile(x, 2) * np.repeat(np.roll(np.flip(x), 1), 2) ** 2)
    H = ad.hessian(f, x)
    grad = lambda x: ad.gradient(f, x)[0]
    expected = np.stack([central_vjp(grad, x, e) for e in np.eye(3)])
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: np.pad(x, 1, mode="mean"), r"np\.pad\(\.\.\., mode='mean'\)"),
        (lambda x: np.pad(x, 1, mode="linear_ramp"), r"mode='linear_ramp'"),
        (lambda x: np.pad(x, 1, mode="reflect", reflect_type="odd"), r"reflect_type='odd'"),
    ],
    ids=["mean", "linear_ramp", "odd"],
)
def test_refused_pad_modes(call, match):
    with pytest.raises(ad.NotDifferentiable, match=match):
        ad.gradient(lambda x: np.sum(call(x)), V)
