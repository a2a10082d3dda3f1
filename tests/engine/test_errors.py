"""Never silently wrong: every way a value could escape the tape raises a clear error."""

import math

import numpy as np
import pytest

import adcheck as ad
from adcheck.engine.errors import NotDifferentiable, RuleError


def grad(f, x=2.0):
    return ad.gradient(f, x)


@pytest.mark.parametrize(
    "f, match",
    [
        (lambda x: np.asarray(x).sum(), "converted to a plain NumPy array"),
        (lambda x: np.array([x, x]).sum(), "np.stack"),
        (lambda x: np.full((2,), x).sum(), "adcheck.numpy"),
        (lambda x: float(x), r"float\(\) of a traced value"),
        (lambda x: int(x) * x, r"int\(\) of a traced value"),
        (lambda x: math.sin(x), r"float\(\).*np.sin rather than math.sin"),
        (lambda x: x * len(range(x)), "index"),
        (lambda x: x.tolist()[0], r"tolist\(\)"),
    ],
)
def test_escaping_the_tape_raises(f, match):
    with pytest.raises(NotDifferentiable, match=match):
        grad(f)


def test_assignment_into_a_plain_array_raises():
    def f(x):
        a = np.zeros(3)
        a[0:1] = x
        return (a * x).sum()

    with pytest.raises(NotDifferentiable, match="assignment into an array"):
        grad(f)


def test_writing_into_a_traced_array_raises_and_points_to_set_at():
    def f(x):
        x[0] = 1.0
        return x.sum()

    with pytest.raises(NotDifferentiable, match=r"set_at\(x, i, v\)"):
        ad.gradient(f, np.ones(3))


def test_inplace_operator_on_traced_works_functionally():
    def f(x):
        y = x * 1.0
        y += x  # rebinds y; x is not changed
        y *= 3.0
        return y.sum()

    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(ad.gradient(f, x)[0], [6.0, 6.0])
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_out_argument_raises():
    with pytest.raises(NotDifferentiable, match=r"np.sin\(\.\.\., out=\.\.\.\)"):
        grad(lambda x: np.sin(x, out=np.zeros(())))


def test_ufunc_keyword_arguments_raise():
    with pytest.raises(NotDifferentiable, match="where"):
        grad(lambda x: np.sin(x, where=True))


def test_numpy_function_without_rule_names_it_and_says_how_to_register(monkeypatch):
    monkeypatch.delitem(ad.registry._active, np.sinc, raising=False)  # others add rules
    with pytest.raises(NotDifferentiable) as info:
        grad(lambda x: np.sinc(x))
    message = str(info.value)
    assert "np.sinc has no adjoint rule" in message
    assert "@adcheck.adjoint(np.sinc)" in message


def test_ufunc_method_without_rule_raises():
    # np.add.accumulate has a rule now; np.subtract.accumulate has none
    with pytest.raises(NotDifferentiable, match=r"np.subtract.accumulate is not differentiable"):
        ad.gradient(lambda x: np.subtract.accumulate(x).sum(), np.ones(3))


def test_primitive_without_rule_names_it():
    @ad.primitive
    def mystery(x):
        return x * 2

    pattern = r"(?s)mystery has no adjoint rule.*adjoint\(mystery\)"
    with pytest.raises(NotDifferentiable, match=pattern):
        grad(mystery)
    assert mystery(2.0) == 4.0  # outside differentiation it is the plain function


def test_registering_an_adjoint_for_a_plain_function_explains_primitive():
    def plain(x):
        return x

    with pytest.raises(TypeError, match="@adcheck.primitive"):
        ad.adjoint(plain)


def test_rule_with_wrong_number_of_cotangents_is_named():
    @ad.primitive
    def two(x, y):
        return x * y

    with ad.scoped_rules():

        @ad.adjoint(two)
        def _(x, y):
            return two(x, y), lambda dy: (dy * y,)

        with pytest.raises(RuleError, match=r"adjoint of two returned 1 cotangent\(s\) for 2"):
            ad.gradient(two, 1.0, 2.0)


def test_rule_returning_a_non_tuple_is_named():
    @ad.primitive
    def one(x):
        return x * 2

    with ad.scoped_rules():

        @ad.adjoint(one)
        def _(x):
            return one(x), lambda dy: dy * 2

        with pytest.raises(RuleError, match="adjoint of one returned ndarray"):
            ad.gradient(lambda x: one(x).sum(), np.ones(2))


def test_rule_with_unreducible_shape_is_named():
    @ad.primitive
    def vec(x):
        return x * 2

    with ad.scoped_rules():

        @ad.adjoint(vec)
        def _(x):
            return vec(x), lambda dy: (np.ones((3, 2)),)

        pattern = r"adjoint of vec returned a cotangent of shape \(3, 2\)"
        with pytest.raises(RuleError, match=pattern):
            ad.gradient(lambda x: vec(x).sum(), np.ones(3))


def test_gradient_of_non_scalar_output_explains():
    with pytest.raises(ValueError, match=r"scalar output.*shape \(2,\)"):
        ad.gradient(lambda x: x * 2, np.ones(2))


def test_cotangent_of_wrong_shape_is_rejected():
    _, back = ad.pullback(lambda x: x * 2, np.ones(2))
    with pytest.raises(ValueError, match=r"cotangent has shape \(3,\).*output has shape \(2,\)"):
        back(np.ones(3))


def test_traced_value_escaping_its_pullback_is_caught():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2

    ad.gradient(f, 1.0)
    with pytest.raises(NotDifferentiable, match="after its pullback finished"):
        ad.gradient(lambda y: leaked[0] * y, 1.0)


def test_params_must_be_made_with_param():
    with pytest.raises(TypeError, match=r"adcheck.param"):
        ad.Params([np.ones(2)])


def test_complex_inputs_are_refused():
    with pytest.raises(TypeError, match="complex"):
        ad.gradient(lambda z: (z * z).sum(), np.ones(2, complex))
