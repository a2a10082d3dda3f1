"""Array-making rules (linspace with traced endpoints, meshgrid, copy, astype) against
analytic derivatives and central differences."""

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central, central_vjp, check_vjp


@pytest.mark.parametrize("num, endpoint", [(5, True), (5, False), (2, True), (1, True),
                                           (1, False)])
def test_linspace_weights_are_one_minus_t_and_t(num, endpoint):
    w = np.arange(1.0, num + 1)
    ga, gb = ad.gradient(lambda a, b: np.sum(w * np.linspace(a, b, num, endpoint=endpoint)),
                         0.5, 2.0)
    t = np.arange(num) / max(num - 1 if endpoint else num, 1)
    np.testing.assert_allclose([ga, gb], [np.sum(w * (1 - t)), np.sum(w * t)], rtol=1e-14)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.linspace(x[0], x[1], 4),
        lambda x: np.linspace(x[:2], x[2], 3, axis=1),
        lambda x: np.linspace(x[:2], x[1:], 4, endpoint=False, axis=-1),
        lambda x: np.linspace(np.reshape(x, (3, 1)), x, 3, axis=1),
        lambda x: np.concatenate([np.ravel(p) for p in np.linspace(x[0], x, 3, retstep=True)]),
    ],
    ids=["scalars", "axis1", "no-endpoint", "broadcast", "retstep"],
)
def test_linspace_matches_central_differences(f):
    check_vjp(f, np.array([0.5, -1.0, 2.0]))


def test_linspace_float32_dtype():
    w = np.array([1.0, 2.0, 4.0])
    y, back = ad.pullback(lambda a, b: np.linspace(a, b, 3, dtype=np.float32), 0.5, 2.0)
    assert y.dtype == np.float32
    ga, gb = back(w.astype(np.float32))
    assert (ga, gb) == (1.0 + 1.0 + 0.0, 0.0 + 1.0 + 4.0)


def test_linspace_integer_dtype_is_refused():
    with pytest.raises(ad.NotDifferentiable, match=r"np\.linspace\(\.\.\., dtype=int64\)"):
        ad.gradient(lambda a: np.sum(np.linspace(a, 5.0, 3, dtype=np.int64)), 0.0)


def test_linspace_second_derivative():
    # f(a, b) = sum(linspace(a, b, 3) ** 3) = a^3 + ((a+b)/2)^3 + b^3
    H = ad.hessian(lambda x: np.sum(np.linspace(x[0], x[1], 3) ** 3), np.array([0.5, 2.0]))
    m = 1.25
    expected = np.array([[6 * 0.5 + 1.5 * m, 1.5 * m], [1.5 * m, 6 * 2.0 + 1.5 * m]])
    np.testing.assert_allclose(H, expected, rtol=1e-14)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse):
    x, y, z = np.array([0.5, -1.0]), np.array([1.5, 2.0, 0.25]), np.array([[3.0]])

    def f(x, y, z):
        gx, gy, gz = np.meshgrid(x, y, z, indexing=indexing, sparse=sparse)
        return np.sum(np.sin(gx) * gy ** 2 + gx * gz)

    grads = ad.gradient(f, x, y, z)
    args = [x, y, z]
    for i, g in enumerate(grads):

        def fi(v, i=i):
            a = list(args)
            a[i] = v
            return f(*a)

        np.testing.assert_allclose(g, central(fi, args[i]), rtol=1e-6, atol=1e-8)
        assert g.shape == args[i].shape


def test_meshgrid_two_inputs_exact():
    # xy: the first grid varies along axis 1; each x entry appears len(y) times
    gx, gy = ad.gradient(lambda x, y: np.sum(np.meshgrid(x, y)[0] * [[1.0, 2.0]] * [[1.0], [3.0]]),
                         np.ones(2), np.ones(2))
    np.testing.assert_array_equal(gx, [4.0, 8.0])
    np.testing.assert_array_equal(gy, [0.0, 0.0])


def test_copy():
    check_vjp(lambda x: np.copy(x) * x, np.array([0.5, -1.0]))
    x = np.array([1.0, 2.0])
    y, _ = ad.pullback(np.copy, x)
    assert y is not x


@pytest.mark.parametrize("source, target", [(np.float64, np.float32), (np.float32, np.float64),
                                            (np.float64, np.float16), (np.float64, "float64")])
def test_astype_between_floats(source, target):
    x = np.array([0.5, -1.25, 3.0], dtype=source)
    for convert in (lambda x: np.astype(x, target), lambda x: x.astype(target)):
        y, back = ad.pullback(lambda x, convert=convert: convert(x) ** 2, x)
        assert y.dtype == np.dtype(target)
        (g,) = back(np.ones(3, dtype=target))
        assert g.dtype == np.dtype(source)
        np.testing.assert_array_equal(g, (2 * x.astype(target)).astype(source))


def test_astype_to_integers_is_a_constant():
    (g,) = ad.gradient(lambda x: np.sum(np.astype(x, np.int64) * x), np.array([1.5, -2.5]))
    np.testing.assert_array_equal(g, [1.0, -2.0])


def test_astype_to_complex_is_refused():
    with pytest.raises(ad.NotDifferentiable, match=r"np\.astype\(x, complex\)"):
        ad.gradient(lambda x: np.sum(np.real(np.astype(x, np.complex128))), np.ones(2))


def test_float32_linspace_and_meshgrid():
    x = np.array([0.5, -1.0], dtype=np.float32)
    f = lambda x: np.sum(np.linspace(x[0], x[1], 4) ** 2) + np.sum(np.meshgrid(x, x)[1] ** 3)
    (g,) = ad.gradient(f, x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, central_vjp(f, x.astype(np.float64), 1.0), rtol=1e-5)
