"""``check_adjoint`` at inputs with NaN entries, as ``verify`` draws them for nan-functions.

A NaN entry of ``np.nansum``'s input is a constant: the outputs do not depend on it and its
cotangent must be 0. Where the outputs are not finite (``np.sin`` of NaN) the input is
refused, as before.
"""

import numpy as np
import pytest

import adcheck as ad

X = np.array([1.0, np.nan, 2.5])


@pytest.mark.parametrize("fn", [np.nansum, np.nanmean, np.nanmax, np.nanstd, np.nanprod])
def test_correct_nan_rules_pass_at_a_nan_input(fn):
    assert ad.check_adjoint(fn, X).passed


def test_a_rule_with_a_cotangent_at_the_nan_entry_fails():
    with ad.scoped_rules():
        @ad.adjoint(np.nansum)
        def _(a, **kw):
            return np.nansum(a, **kw), lambda dy: (np.ones_like(a) * dy,)

        result = ad.check_adjoint(np.nansum, X, raise_exception=False)
    assert result.verdict == "fail"
    assert result.max_error == pytest.approx(1.0)
    assert "a[1]" in result.report()


def test_a_wrong_rule_on_the_finite_entries_fails():
    with ad.scoped_rules():
        @ad.adjoint(np.nansum)
        def _(a, **kw):
            return np.nansum(a, **kw), lambda dy: (np.where(np.isnan(a), 0.0, 2.0) * dy,)

        result = ad.check_adjoint(np.nansum, X, raise_exception=False)
    assert result.verdict == "fail"


def test_a_nan_input_with_non_finite_outputs_is_refused():
    with pytest.raises(ValueError, match=r"input x\[1\] is nan"):
        ad.check_adjoint(np.sin, X)


def test_a_rule_with_a_none_output_gets_none_as_that_output_cotangent():
    # the engine passes None for an output that is not a number; so must the checker
    @ad.primitive
    def tagged(x):
        return np.sin(x), None

    @ad.adjoint(tagged)
    def _(x):
        def back(dy):
            d, tag = dy
            assert tag is None
            return (d * np.cos(x),)
        return tagged(x), back

    (g,) = ad.gradient(lambda x: np.sum(tagged(x)[0]), np.ones(2))
    np.testing.assert_allclose(g, np.cos(1.0) * np.ones(2))
    assert ad.check_adjoint(tagged, np.ones(2)).passed
