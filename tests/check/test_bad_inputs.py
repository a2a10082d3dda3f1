"""Bad input to the checks gets a clear error up front, never a report that blames a rule."""

from __future__ import annotations

import numpy as np
import pytest

import adcheck as ad


@pytest.mark.parametrize("bad, where", [
    (np.array([1.0, np.nan]), "x[1] is nan"),
    (np.array([[1.0], [np.inf]]), "x[1, 0] is inf"),
    (float("-inf"), "x is -inf"),
])
def test_gradcheck_rejects_non_finite_inputs_naming_the_entry(bad, where):
    with pytest.raises(ValueError, match=r"input " + where.replace("[", r"\[")
                       .replace("]", r"\]") + ": checks need finite inputs"):
        ad.gradcheck(lambda x: np.sum(np.sin(x)), bad)


def test_gradcheck_names_non_finite_pytree_leaves_by_their_path():
    with pytest.raises(ValueError, match=r"input p\['b'\]\[2\] is nan"):
        ad.gradcheck(lambda p: np.sum(p["w"] * p["b"]),
                     {"w": np.ones(3), "b": np.array([1.0, 2.0, np.nan])})


def test_check_adjoint_rejects_nan_instead_of_blaming_the_rule():
    with pytest.raises(ValueError, match=r"input x\[0\] is nan"):
        ad.check_adjoint(np.sin, np.array([np.nan, 1.0]))


def test_the_callers_arrays_are_not_changed_by_the_checks():
    x = np.array([0.5, -1.0, 2.0])
    keep = x.copy()
    ad.gradcheck(lambda v: np.sum(v ** 2), x, seed=0)
    ad.check_adjoint(np.sin, x, seed=0)
    ad.check_adjoint(np.sum, x, axis=0, seed=0)
    np.testing.assert_array_equal(x, keep)


def test_not_callable():
    with pytest.raises(TypeError, match="gradcheck needs a function, got int 3"):
        ad.gradcheck(3, np.ones(2))
    with pytest.raises(TypeError, match="check_adjoint needs a function with a registered"):
        ad.check_adjoint("sin", np.ones(2))
    with pytest.raises(TypeError, match="verify needs a function with a registered"):
        ad.verify(None)


def test_a_function_that_is_not_a_primitive_points_to_primitive_and_gradcheck():
    def double(x):
        return 2 * x

    for check in (ad.check_adjoint, ad.verify):
        args = (np.ones(2),) if check is ad.check_adjoint else ()
        with pytest.raises(TypeError) as info:
            check(double, *args)
        message = str(info.value)
        assert "no adjoint is registered for double" in message
        assert "@adcheck.primitive" in message and "adcheck.gradcheck(double" in message


@pytest.mark.parametrize("check, args", [
    (ad.gradcheck, (np.sin, np.ones(2))),
    (ad.check_adjoint, (np.sin, np.ones(2))),
    (ad.verify, (np.sin,)),
])
def test_unknown_mode_and_negative_tolerances_are_value_errors(check, args):
    with pytest.raises(ValueError, match="mode must be one of"):
        check(*args, mode="quick")
    with pytest.raises(ValueError, match="atol must be a finite number >= 0, got -1"):
        check(*args, atol=-1.0)
    with pytest.raises(ValueError, match="rtol must be a finite number >= 0, got nan"):
        check(*args, rtol=float("nan"))


def test_verify_max_examples_must_be_positive():
    with pytest.raises(ValueError, match="max_examples must be an integer >= 1, got 0"):
        ad.verify(np.sin, max_examples=0)


def test_verify_inputs_of_the_wrong_kind_say_what_they_hold():
    with pytest.raises(TypeError, match="tuple of strategies, got tuple holding NoneType"):
        ad.verify(np.sin, inputs=(None,))
