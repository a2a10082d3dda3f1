"""Fast mode with outputs spanning many orders of magnitude: a rule wrong only where the
outputs are small must be found at every seed, and right rules must pass."""

import numpy as np
import pytest
import scipy.special as sp

import adcheck as ad


def _exp_wrong_below(cut: float):
    @ad.primitive
    def my_exp(x):
        return np.exp(x)

    @ad.adjoint(my_exp)
    def _(x):
        y = np.exp(x)
        return y, lambda dy: (dy * y * np.where(x < cut, 2.0, 1.0),)

    return my_exp


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n", [3, 12, 300])
def test_exp_wrong_by_two_only_below_minus_15_fails_at_every_seed(seed, n):
    # missed at every seed before: with Δ of size 1 the dot product is exp(5)'s, and the
    # wrong entries moved it by 1e-7 of its value
    x = np.linspace(-30.0, 5.0, n) if n > 3 else np.array([-20.0, 0.0, 1.0])
    with ad.scoped_rules():
        result = ad.check_adjoint(_exp_wrong_below(-15.0), x, mode="fast", seed=seed,
                                  raise_exception=False)
    assert result.verdict == "fail"
    named = [int(f.path.strip("x[]")) for f in result.failures if f.kind == "value"]
    assert named and all(x[j] < -15 for j in named)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fn", [np.exp, np.sinh, np.cosh, sp.expit])
def test_right_rules_over_outputs_of_every_size_pass_in_fast_mode(fn, seed):
    assert ad.check_adjoint(fn, np.linspace(-30.0, 5.0, 300), mode="fast", seed=seed).passed
