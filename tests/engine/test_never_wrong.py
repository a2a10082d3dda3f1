"""Never silently wrong, part two (issue 9): aliasing, mutation and exotic inputs.

Each case returned a wrong number without a word; each is now right (checked against
independent central differences or NumPy's own value) or raises a clear error.
"""

import numpy as np
import pytest

import adcheck as ad
from adcheck import NotDifferentiable
from tests.finite import central

X = np.array([0.3, -1.2, 2.0])


# -- 1. complex intermediates in a real function -----------------------------------------


@pytest.mark.parametrize("f, made_by", [
    (lambda x: np.abs(x * (1 + 1j)), "np.multiply"),
    (lambda x: np.abs(np.exp(1j * x) + 2.0), "np.multiply"),
    (lambda x: np.abs(x + np.array([1j])), "np.add"),
])
def test_a_complex_value_made_from_real_ones_raises_naming_the_operation(f, made_by):
    with pytest.raises(NotDifferentiable, match=f"{made_by} made a complex value .*real-only"):
        ad.gradient(f, 1.3)


def test_complex_outputs_and_cotangents_are_refused():
    with pytest.raises(NotDifferentiable, match="complex"):
        ad.pullback(lambda x: x * 1j, np.ones(2))
    _, back = ad.pullback(lambda x: x * 2.0, np.ones(2))
    with pytest.raises(TypeError, match="imaginary part would be dropped"):
        back(np.array([1.0 + 1j, 1.0]))


def test_real_functions_keep_working():
    # abs(x * (1 + 1j)) written in reals: sqrt(2) * |x|
    assert ad.gradient(lambda x: np.abs(x) * np.sqrt(2.0), 1.3)[0] == pytest.approx(np.sqrt(2))


# -- 2. constants changed in place after they were used ------------------------------------


def test_small_constant_changed_after_the_call_keeps_numpys_gradient():
    c = np.array([1.0, 2.0, 3.0])
    y, back = ad.pullback(lambda x: np.sum(x * c), X)
    c *= 10
    np.testing.assert_array_equal(back(1.0)[0], [1.0, 2.0, 3.0])

    def f(x):  # the same inside the function, after the use
        d = np.array([1.0, 2.0, 3.0])
        y = np.sum(x * d)
        d *= 10
        return y

    np.testing.assert_allclose(ad.gradient(f, X)[0], central(f, X), rtol=1e-7)


def test_index_array_changed_after_the_call_keeps_numpys_gradient():
    idx = np.array([0, 0, 2])
    keys = [0, 2]
    y, back = ad.pullback(lambda x: np.sum(x[idx]) + np.sum(x[keys] ** 2), X)
    idx[0] = 1
    keys[0] = 1
    np.testing.assert_allclose(back(1.0)[0], [2.0 + 2 * X[0], 0.0, 1.0 + 2 * X[2]])


def test_large_constant_changed_after_the_call_raises():
    c = np.linspace(0.0, 1.0, 1000)  # 8 kB: fingerprinted, not copied
    x = np.ones(1000)
    y, back = ad.pullback(lambda v: np.sum(v * c), x)
    np.testing.assert_array_equal(back(1.0)[0], c)  # unchanged: fine, any number of times
    c[3] = 10.0
    with pytest.raises(NotDifferentiable, match=r"np.multiply used as a constant at "
                                                r"test_never_wrong.py:\d+ was changed in place"):
        back(1.0)


def test_large_constant_changed_inside_the_function_raises():
    c = np.linspace(0.0, 1.0, 1000)

    def f(v):
        y = np.sum(v * c)
        c[::2] = 0.0
        return y

    with pytest.raises(NotDifferentiable, match="changed in place after it was used"):
        ad.gradient(f, np.ones(1000))


# -- 3. aliases NumPy makes -----------------------------------------------------------------


def test_astype_without_copy_and_conj_alias_as_in_numpy():
    def write_through(alias):
        def f(x):
            a = np.tanh(x)
            b = alias(a)
            b += 1.0  # NumPy: a changes too
            return np.sum(a * a)
        return f

    for alias in (lambda a: a.astype(np.float64, copy=False), lambda a: a.conj()):
        f = write_through(alias)
        with pytest.raises(NotDifferentiable, match="another name or container"):
            ad.gradient(f, X)

    def f(x):  # the alias is written and never read again: works as NumPy
        a = np.tanh(x)
        b = a.astype(np.float64, copy=False)
        b += 1.0
        return np.sum(b * b)

    np.testing.assert_allclose(ad.gradient(f, X)[0], central(f, X), rtol=1e-6)

    def g(x):  # astype with a copy and +x are new arrays: writing them leaves a alone
        a = np.tanh(x)
        b = a.astype(np.float64)
        c = +a
        b += 1.0
        c *= 2.0
        return np.sum(a * b * c)

    np.testing.assert_allclose(ad.gradient(g, X)[0], central(g, X), rtol=1e-6)


# -- 4. the caller changes the input or the output before back() -------------------------------


def test_input_changed_between_pullback_and_back_raises():
    x = X.copy()
    y, back = ad.pullback(np.sin, x)
    x[:] = 10.0
    with pytest.raises(NotDifferentiable, match="the argument x was changed in place"):
        back(np.ones(3))


def test_output_changed_before_back_raises():
    y, back = ad.pullback(np.exp, X.copy())
    np.testing.assert_allclose(back(np.ones(3))[0], np.exp(X))
    y *= 0
    with pytest.raises(NotDifferentiable, match="the value pullback returned was changed"):
        back(np.ones(3))


# -- 5. every array the user receives is their own ------------------------------------------


def test_gradients_do_not_alias_each_other_or_the_cotangent():
    a, b = X.copy(), X + 1.0
    ga, gb = ad.gradient(lambda x, y: (x + y).sum(), a, b)
    assert not np.shares_memory(ga, gb)
    ga *= 3.0
    np.testing.assert_array_equal(gb, np.ones(3))

    dy = np.arange(5.0)
    _, back = ad.pullback(lambda x, y: np.concatenate([x, y]), X.copy(), np.ones(2))
    gx, gy = back(dy)
    assert not np.shares_memory(gx, dy) and not np.shares_memory(gy, dy)
    gx[:] = -1.0
    np.testing.assert_array_equal(dy, np.arange(5.0))
    _, back = ad.pullback(lambda x: x * 1.0, X.copy())
    dy = np.ones(3)
    assert not np.shares_memory(back(dy)[0], dy)

    W = ad.param(np.ones(2))
    V = ad.param(np.ones(2))
    grads = ad.gradient(lambda: np.sum(W + V), ad.Params([W, V]))
    assert not np.shares_memory(grads[W], grads[V])


# -- 6. np.matrix and masked arrays ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_matrix_and_masked_inputs_and_constants_are_refused():
    A = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(NotDifferentiable, match=r"np.matrix passed as A.*np.asarray\(m\)"):
        ad.gradient(lambda A: (A * A).sum(), A)
    with pytest.raises(NotDifferentiable, match="np.matrix used with a traced value in "):
        ad.gradient(lambda x: (x * A).sum(), np.ones((2, 2)))
    m = np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(NotDifferentiable, match=r"masked array passed as x.*m.filled"):
        ad.gradient(lambda x: (x * x).sum(), m)
    with pytest.raises(NotDifferentiable, match="masked array used with a traced value"):
        ad.gradient(lambda x: (x * m).sum(), X)


# -- 7. a forgotten return -------------------------------------------------------------------


def test_gradient_of_a_function_returning_none_raises():
    def f(x):
        np.sum(x * x)  # no return

    with pytest.raises(ValueError, match="returned None: is a `return` missing"):
        ad.gradient(f, X)


def test_back_of_none_raises():
    _, back = ad.pullback(lambda x: x * 2.0, X.copy())
    with pytest.raises(ValueError, match=r"back\(None\)"):
        back(None)


# -- in-place writes: work where NumPy's result is that of x = x op y, else the real reason ----


def test_in_place_writes_nobody_else_sees_work():
    def f(x):
        v = x * 1.0
        v *= v  # was refused as 'another name'
        w = np.tanh(x)
        alias = w
        alias += 1.0  # w changes too in NumPy, but w is never read again
        z = (x * 2.0)[1:]
        z *= 3.0  # a view: its base changes, but the base is never read again
        return np.sum(v) + np.sum(alias * alias) + np.sum(z)

    np.testing.assert_allclose(ad.gradient(f, X)[0], central(f, X), rtol=1e-6, atol=1e-8)


def test_in_place_writes_keep_numpys_dtype_and_shape():
    def f(x):
        h = (x * 1.0).astype(np.float32)
        h += np.float64(0.1)  # NumPy: h stays float32
        return h

    y, _ = ad.pullback(f, X.copy())
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, f(X.copy()))

    def g(x):
        h = x[0] * 1.0
        h += x  # NumPy: a scalar-shaped array cannot take the broadcast result
        return h.sum()

    with pytest.raises(ValueError, match="non-broadcastable output operand"):
        g(np.ones((2, 2)) * np.ones(1))  # NumPy's own error, for comparison
    with pytest.raises(ValueError, match="non-broadcastable output operand"):
        ad.gradient(g, np.ones((2, 2)))


def test_stale_values_raise_in_comparisons_and_outputs():
    def compare(x):
        h = np.tanh(x)
        keep = h
        h += 1.0
        return np.sum(x) * float(np.sum(keep > 0.5))

    with pytest.raises(NotDifferentiable, match="changed in place by `x \\+= ...`"):
        ad.gradient(lambda x: compare(x), X)

    def output(x):
        h = np.tanh(x)
        view = h[:2]
        view *= 2.0
        return h

    with pytest.raises(NotDifferentiable, match="a view of another array"):
        ad.pullback(output, X.copy())


def test_in_place_write_into_an_argument_says_numpy_would_change_the_callers_array():
    def f(x):
        v = x[:2]
        v += 1.0
        return v.sum()

    with pytest.raises(NotDifferentiable, match="write into the argument x in place"):
        ad.gradient(f, X.copy())
    W = ad.param(X.copy())

    def loss():
        w = W.astype(np.float64, copy=False)
        w += 1.0
        return w.sum()

    with pytest.raises(NotDifferentiable, match="write into a parameter in place"):
        ad.gradient(loss, ad.Params([W]))


def test_a_write_into_the_argument_through_another_name_during_gradient_raises():
    x = X.copy()

    def f(v):
        y = np.sum(np.sin(v))
        x[0] = 10.0  # the caller's array, through the global name
        return y

    with pytest.raises(NotDifferentiable, match="wrote into one of its array arguments"):
        ad.gradient(f, x)
    np.testing.assert_array_equal(x, X)
    assert x.flags.writeable  # restored
    x[0] = 1.0  # and writable again
    view = x[1:]
    ad.gradient(lambda v: np.sum(v * v), view)
    assert view.flags.writeable and x.flags.writeable
    frozen = X.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(ad.gradient(lambda v: np.sum(v * v), frozen)[0], 2 * X)
    assert not frozen.flags.writeable  # left as it was


def test_none_for_one_output_of_several_is_a_zero_cotangent_by_design():
    _, back = ad.pullback(lambda x: (x * 2.0, np.sin(x)), X.copy())
    np.testing.assert_allclose(back((None, np.ones(3)))[0], np.cos(X))
    np.testing.assert_allclose(back((np.ones(3), None))[0], 2.0 * np.ones(3))


def test_a_complex_constant_output_is_refused():
    with pytest.raises(NotDifferentiable, match="returned a complex value"):
        ad.gradient(lambda x: 1j + 0.0 * np.sum(np.shape(x)), 1.0)
