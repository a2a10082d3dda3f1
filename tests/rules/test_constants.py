"""full_like, bincount, compress, extract and i0 against central differences, NumPy's values
and analytic derivatives; digitize's integer result carries no derivative."""

import sys

import numpy as np
import pytest
from scipy import special

import adcheck as ad
from tests.finite import central_vjp, check_vjp

A = np.sin(np.arange(12.0) * 1.3).reshape(3, 4)


def test_full_like():
    # the result does not depend on a; the fill value gets the summed cotangent
    w = np.arange(12.0).reshape(3, 4)
    ga, gv = ad.pullback(lambda a, v: np.full_like(a, v), A, 2.5)[1](w)
    np.testing.assert_array_equal(ga, np.zeros((3, 4)))
    assert gv == w.sum()
    row = np.array([1.0, 2.0, 3.0, 4.0])
    ga, gr = ad.pullback(lambda a, r: np.full_like(a, r), A, row)[1](w)
    np.testing.assert_array_equal(gr, w.sum(axis=0))
    y, back = ad.pullback(lambda a: np.full_like(a, 7.0), A)
    np.testing.assert_array_equal(y, np.full((3, 4), 7.0))
    np.testing.assert_array_equal(back(w)[0], np.zeros((3, 4)))


def test_full_like_float32_and_0d():
    (gv,) = ad.pullback(lambda v: np.full_like(np.float32(1.0) * v, v), np.float32(3.0))[1](
        np.float32(2.0))
    assert gv == 2.0  # the product's factor gets 0 from full_like, the fill value gets dy


def test_bincount_weights():
    x = np.array([2, 0, 2, 3, 0])
    w = np.array([0.5, -1.0, 2.0, 4.0, 3.0])
    check_vjp(lambda w: np.bincount(x, w), w)
    check_vjp(lambda w: np.bincount(x, w, minlength=6), w)
    y, back = ad.pullback(lambda w: np.bincount(x, w), w)
    np.testing.assert_array_equal(y, np.bincount(x, w))
    np.testing.assert_array_equal(back(np.array([10.0, 20.0, 30.0, 40.0]))[0],
                                  [30.0, 10.0, 30.0, 40.0, 10.0])


def test_digitize_is_not_differentiated():
    bins = np.array([0.0, 1.0, 2.0])
    (g,) = ad.gradient(lambda x: np.sum(np.digitize(x, bins) * x), np.array([0.5, 1.5, 3.0]))
    np.testing.assert_array_equal(g, [1.0, 2.0, 3.0])  # the bin index is a constant factor


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_compress_against_central_differences(axis):
    length = A.size if axis is None else A.shape[axis]
    condition = (np.arange(length) % 3 != 1)[: length - 1]  # shorter than the axis too
    check_vjp(lambda a: np.compress(condition, a, axis=axis), A)
    y, _ = ad.pullback(lambda a: np.compress(condition, a, axis=axis), A)
    np.testing.assert_array_equal(y, np.compress(condition, A, axis=axis))


def test_compress_analytic():
    (g,) = ad.pullback(lambda a: np.compress([False, True, True], a, axis=0), A)[1](
        np.ones((2, 4)))
    np.testing.assert_array_equal(g, [[0.0] * 4, [1.0] * 4, [1.0] * 4])


def test_extract():
    condition = A > 0
    check_vjp(lambda a: np.extract(condition, a), A)
    w = np.arange(1.0, condition.sum() + 1)
    (g,) = ad.pullback(lambda a: np.extract(condition, a), A)[1](w)
    expected = np.zeros(A.size)
    expected[np.flatnonzero(condition)] = w
    np.testing.assert_array_equal(g, expected.reshape(A.shape))


def test_extract_float32():
    a = A.astype(np.float32)
    (g,) = ad.pullback(lambda a: np.extract(a > 0, a), a)[1](np.ones(int((a > 0).sum())))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, (A > 0).astype(np.float32))


def test_i0_against_central_differences_and_i1():
    x = np.array([-3.0, -0.5, 0.0, 1.0, 4.0])
    g = check_vjp(lambda x: np.i0(x), x)
    w = np.linspace(-1.0, 2.0, 5)
    np.testing.assert_allclose(g, w * special.i1(x), rtol=1e-14)
    (g32,) = ad.pullback(lambda x: np.i0(x), x.astype(np.float32))[1](np.ones(5))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, special.i1(x), rtol=1e-6)
    assert central_vjp(lambda x: np.i0(x), np.array([1.0]), 1.0)[0] == pytest.approx(
        float(special.i1(1.0)), rel=1e-8)


def test_i0_without_scipy_is_refused(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    with pytest.raises(ad.NotDifferentiable, match="scipy is not installed"):
        ad.gradient(lambda x: np.i0(x), 1.0)
