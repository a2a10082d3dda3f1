"""Regression tests from adversarial QA of the engine: each one was a silently wrong gradient,
a silently constant parameter, or a raw Python/NumPy error where a clear one belongs."""

import copy

import numpy as np
import pytest

import adcheck as ad
from adcheck import NotDifferentiable, registry
from tests.finite import central

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
B = np.array([0.1, 0.2, 0.3])


# -- in-place operators: NumPy writes through aliases and views; the tape cannot -------------


def test_inplace_on_a_slice_view_raises_instead_of_ignoring_the_write():
    def f(x):
        y = x * 1.0
        z = y[:1]
        z *= 3.0  # NumPy: y[0] is tripled too (the gradient of y.sum() is 3 on row 0)
        return y.sum()

    assert f(X) == pytest.approx(3 * X[0].sum() + X[1].sum())
    message = r"changed in place by `x \*= \.\.\.`.*a view of another array.*x = x \* y"
    with pytest.raises(NotDifferentiable, match=message):
        ad.gradient(f, X)


def test_inplace_on_an_alias_raises():
    def f(x):
        h = np.tanh(x)
        out = h
        out += 1.0  # NumPy: h changes too
        return (h * out).sum()

    message = r"changed in place by `x \+= \.\.\.`.*another name or container"
    with pytest.raises(NotDifferentiable, match=message):
        ad.gradient(f, X)


def test_inplace_after_a_view_was_taken_raises():
    def f(x):
        h = np.tanh(x)
        v = h.T  # NumPy: v sees the write below
        h += 1.0
        return (v * h.T).sum()

    with pytest.raises(NotDifferentiable, match="a view of it .* was taken earlier"):
        ad.gradient(f, X)


def test_inplace_on_an_array_argument_raises_because_numpy_would_change_the_callers_array():
    def f(x):
        x *= 2.0
        return x.sum()

    x = X.copy()
    with pytest.raises(NotDifferentiable, match=r"x = x \* y"):
        ad.gradient(f, x)
    np.testing.assert_array_equal(x, X)


def test_inplace_on_fresh_arrays_scalars_copies_and_attributes_still_works():
    class Box:
        h = None

    def f(x):
        h = np.exp(x)
        h -= h.max()  # read before the write: fine
        h /= h.sum()
        y = x.copy()  # a new array: writing it does not touch x
        y += 1.0
        flat = x.flatten()
        flat *= 2.0
        box = Box()
        box.h = x * 2.0
        box.h += B
        loss = 0.0
        for row in x:
            loss += (row * row).sum()
        s = h[0, 1]  # a NumPy scalar: not a view
        h += 1.0
        return (h * B).sum() + (y * x).sum() + flat.sum() + box.h.sum() + loss + s

    np.testing.assert_allclose(ad.gradient(f, X)[0], central(f, X), rtol=1e-6, atol=1e-7)


# -- ndarray methods: the NumPy function's rule, or an error naming it ------------------------


def without_rules(monkeypatch, *fns):
    """Run as if ``fns`` had no adjoint rule (others keep adding rules for them)."""
    for fn in fns:
        monkeypatch.delitem(registry._active, fn, raising=False)


def test_ndarray_methods_without_rules_raise_naming_the_numpy_function(monkeypatch):
    without_rules(monkeypatch, np.var, np.cumsum, np.std, np.trace, np.clip)
    for method, name in [("var", "np.var"), ("cumsum", "np.cumsum"), ("std", "np.std"),
                         ("trace", "np.trace")]:
        with pytest.raises(NotDifferentiable, match=f"{name} has no adjoint rule"):
            ad.gradient(lambda x, m=method: getattr(x, m)().sum(), X)
    with pytest.raises(NotDifferentiable, match=r"np.clip has no adjoint rule"):
        ad.gradient(lambda x: x.clip(0.0, 1.0).sum(), X)


def test_in_place_and_escaping_ndarray_methods_raise_when_called():
    def f(x):
        assert hasattr(x, "sort") and not hasattr(x, "no_such_attribute")
        x.sort()
        return x.sum()

    with pytest.raises(NotDifferentiable, match=r"x.sort\(...\) changes an array in place"):
        ad.gradient(f, X)
    with pytest.raises(NotDifferentiable, match="x.tobytes on a traced array is not supported"):
        ad.gradient(lambda x: len(x.tobytes()) * x.sum(), X)


def test_ndarray_predicates_round_and_conj_are_traced():
    def f(x):
        keep = x.all() or x.any()  # booleans: not differentiated
        return (x.round(1) * x).sum() * keep + x.conj().sum() + round(x[0, 0], 1) * x[0, 0]

    g = ad.gradient(f, X)[0]
    expected = np.round(X, 1) + 1.0
    expected[0, 0] += round(X[0, 0], 1)
    np.testing.assert_allclose(g, expected)


def test_divmod_names_the_remainder(monkeypatch):
    without_rules(monkeypatch, np.remainder)
    with pytest.raises(NotDifferentiable, match="np.remainder has no adjoint rule"):
        ad.gradient(lambda x: sum(divmod(x, 0.7)).sum(), X)


def test_ufunc_reduce_from_ndarray_methods_accepts_numpys_defaults():
    # ndarray.var calls np.add.reduce(..., where=True); that default is no reason to refuse.
    g = ad.gradient(lambda x: np.add.reduce(x * x, axis=None, where=True), X)[0]
    np.testing.assert_allclose(g, 2 * X)
    with pytest.raises(NotDifferentiable, match=r"np.add.reduce with where= .*np.sum\(x"):
        ad.gradient(lambda x: np.add.reduce(x, where=x > 0), X)


# -- parameters: no method may turn one into a constant ------------------------------------


@pytest.mark.parametrize("use", [
    lambda W: W.item(0), lambda W: sum(W.tolist()[0]), lambda W: sum(W.flat),
    lambda W: (W.view(np.ndarray) ** 2).sum(),
])
def test_parameter_read_as_plain_numbers_raises(use):
    W = ad.param(X.copy())
    message = r"W.flat reads|item\(\)|tolist\(\)|x.view on a traced"
    with pytest.raises(NotDifferentiable, match=message):
        ad.gradient(lambda: use(W), ad.Params([W]))


def test_parameter_methods_are_traced_like_the_arrays_methods():
    W = ad.param(X.copy())

    def loss():
        return ((W.copy() ** 2).sum() + (W.astype(np.float32) * 2).sum()
                + (W.swapaxes(0, 1) ** 3).sum() + copy.copy(W).sum() * W.all())

    g = ad.gradient(loss, ad.Params([W]))[W]
    np.testing.assert_allclose(g, 2 * X + 2 + 3 * X ** 2 + 1, rtol=1e-6)
    w = np.linspace(-1.0, 1.0, 6)  # W.cumsum() goes through np.cumsum's rule, as x.cumsum()
    g = ad.gradient(lambda: (W.cumsum() * w).sum(), ad.Params([W]))[W]
    np.testing.assert_allclose(g, central(lambda x: (x.cumsum() * w).sum(), X), rtol=1e-7,
                               atol=2e-7)
    assert float(W[0, 0]) == X[0, 0]  # outside a gradient, a parameter is a plain array
    assert W.item(0) == X[0, 0] and W.copy().shape == (2, 3)


# -- rules ------------------------------------------------------------------------------------


def test_power_zero_exponent_has_zero_derivative_at_zero_base():
    poly = lambda x: sum(c * x ** k for k, c in enumerate([1.0, 2.0, 3.0]))  # noqa: E731
    assert ad.gradient(poly, 0.0) == (2.0,)  # was nan: 0 * 0 ** -1
    assert float(ad.hessian(poly, np.array(0.0))) == 6.0
    g = ad.gradient(lambda x: (x ** np.array([0.0, 2.0])).sum(), np.array([0.0, 3.0]))[0]
    np.testing.assert_array_equal(g, [0.0, 6.0])


def test_where_with_a_list_operand():
    g = ad.gradient(lambda x: np.where([True, False, True], x, [5.0, 6.0, 7.0]).sum(),
                    np.ones(3))[0]
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0])


# -- clear errors for misuse ------------------------------------------------------------------


def test_traced_index_says_to_close_over_it():
    with pytest.raises(NotDifferentiable, match=r"traced index.*lambda x: f\(x, i\)"):
        ad.gradient(lambda x, i: x[i], np.ones(3), 1)


def test_gradient_of_a_tuple_output_says_so():
    with pytest.raises(ValueError, match="returned a tuple"):
        ad.gradient(lambda x: (x.sum(), x), np.ones(2))


def test_python_complex_input_raises_like_a_complex_array():
    with pytest.raises(TypeError, match="complex inputs are not supported"):
        ad.gradient(lambda z: z * z, 1 + 2j)


# -- include_fn: everything f reads through its closures and its object ----------------------


def test_include_fn_follows_helper_closures_and_shared_variables():
    def make(shared):
        W = np.array([1.0, 2.0])

        def layer(x):
            return W * x

        if shared:
            return lambda x: layer(x).sum() + W[0]
        return lambda x: layer(x).sum()

    # W is read only through the helper `layer`: its gradient was silently missing (None).
    df, dx = ad.pullback(make(False), np.array([3.0, 4.0]), include_fn=True)[1](1.0)
    np.testing.assert_array_equal(df["layer"]["W"], [3.0, 4.0])
    np.testing.assert_array_equal(dx, [1.0, 2.0])
    # A variable both closures share is traced once, where f names it.
    df, _ = ad.pullback(make(True), np.array([3.0, 4.0]), include_fn=True)[1](1.0)
    np.testing.assert_array_equal(df["W"], [4.0, 4.0])
    assert "layer" not in df


def test_include_fn_of_a_bound_method_differentiates_its_objects_fields():
    class Plain:
        def __init__(self):
            self.w = np.array([1.0, 2.0])
            self.name = "plain"

        def loss(self, x):
            return (self.w * x).sum() ** 2

    m = Plain()
    df, dx = ad.pullback(m.loss, np.array([3.0, 4.0]), include_fn=True)[1](1.0)
    assert type(df) is Plain and df.name is None  # as for a callable object
    np.testing.assert_array_equal(df.w, [66.0, 88.0])  # 2 * (w . x) * x, w . x = 11
    np.testing.assert_array_equal(dx, [22.0, 44.0])
    np.testing.assert_array_equal(m.w, [1.0, 2.0])  # the object itself is untouched
