"""Fast-mode probes along lines that cancel or reach a switch. Two false alarms on correct
rules, each with the input that showed it, and wrong rules there that must still fail:

- ``interp`` of ``fp = ones`` against a ``Δ`` summing to 0: ``⟨Δ, F⟩`` is 0 at the point,
  and its round-off, taken relative to that 0, was 1e15 times float64's. The step grew to 1
  along a line curved at 0.1 and read 0.053 where the slope is 0.35 (verify --builtin
  --seed 282). The round-off of the sum is absolute: ``eps·Σ|Δ_i F_i|``.
- ``matrix_norm(ord=-inf)`` along a probe measured again on unit scales: the direction was
  divided by 1.5 (thirds), whose smallest exact step on the float grid is 16; the stencil
  reached across a switch of rows 0.3 away (verify --builtin --seed 284).
"""

import numpy as np
import pytest

import adcheck as ad
from adcheck.check.check_adjoint import run_rule_check
from adcheck.fd import central_fdm
from adcheck.registry import lookup

X, XP, FP = np.array([0.1, -1.6, 0.1]), np.array([-1.5, -1.0, -0.5, 0.0, 0.5]), np.ones(5)
STACK = np.array([[[-0.5, -0.5], [-1.0, -1.0]],
                  [[-2.0, -1.0], [-0.5, -0.5]],
                  [[-0.5, -0.5], [-1.0, -1.0]]])


@pytest.mark.parametrize("seed", range(24))
def test_interp_of_constant_values_passes_in_fast_mode(seed):
    # seed 16 failed: probe 'sparse(8)' read <Δ, J v> = 0.053 against the adjoint's 0.35
    result = ad.check_adjoint(np.interp, X, XP, FP, mode="fast", seed=seed,
                              raise_exception=False)
    assert result.verdict == "pass", result.report()


@pytest.mark.parametrize("factor", [1.05, 0.0])
def test_a_wrong_interp_rule_in_fp_still_fails_there(factor):
    rule = lookup(np.interp).rule

    def wrong(x, xp, fp, *args, **kw):
        y, back = rule(x, xp, fp, *args, **kw)

        def pull(dy):
            grads = list(back(dy))
            grads[2] = np.asarray(grads[2]() if callable(grads[2]) else grads[2]) * factor
            return tuple(grads)
        return y, pull

    with ad.scoped_rules():
        ad.adjoint(np.interp)(wrong)
        result = ad.check_adjoint(np.interp, X, XP, FP, mode="fast", seed=16,
                                  raise_exception=False)
    assert result.verdict == "fail", result.report()


def test_matrix_norm_at_a_probe_measured_on_unit_scales_passes():
    rule = lookup(np.linalg.matrix_norm)
    result = run_rule_check(rule.fn, rule.rule, (STACK,), {"ord": -np.inf, "keepdims": False},
                            mode="fast", seed=457, cotangents=(np.zeros(3),), kind="verify",
                            fail_fast=True)
    assert result.verdict in ("pass", "inconclusive"), result.report()


def test_a_wrong_matrix_norm_rule_there_still_fails():
    def wrong(a, ord=None, keepdims=False):  # the min row's signs, times 1.05
        y = np.linalg.matrix_norm(a, ord=ord, keepdims=keepdims)
        rows = np.abs(a).sum(axis=-1)
        pick = rows == rows.min(axis=-1, keepdims=True)

        def back(dy):
            return (1.05 * dy[..., None, None] * pick[..., None] * np.sign(a),)
        return y, back

    with ad.scoped_rules():
        ad.adjoint(np.linalg.matrix_norm)(wrong)
        result = ad.check_adjoint(np.linalg.matrix_norm, STACK, ord=-np.inf, mode="fast",
                                  seed=457, raise_exception=False)
    assert result.verdict == "fail", result.report()


def test_directions_measured_on_unit_scales_stay_on_the_float_grid():
    # a power-of-two divisor keeps every entry's few significant bits: x0 + t·v is exact
    # for small steps t, so the smallest step stays near the float spacing
    from adcheck.check.lines import LineEstimator
    from adcheck.check.problem import RuleProblem

    est = LineEstimator(RuleProblem(np.sin, None, (np.array([0.5, 1.0, 2.0]),), {}))
    thirds = np.array([-1.0, 2.0, 1.5]) / 1.5
    assert est._min_step(thirds) >= 1.0
    assert est._min_step(np.array([-1.0, 2.0, 1.5]) / 2.0) < 1e-14


def test_an_absolute_noise_sets_the_step_and_the_bound_of_a_cancelling_sum():
    # g(0) = 0 exactly: round-off relative to |g| would be none near 0
    def g(t):
        return 0.35 * t + 0.5 * t * t + np.sin(3 * t) / 3 - t

    plain = central_fdm(5, 1).estimate(g, 0.0)
    noisy = central_fdm(5, 1).estimate(g, 0.0, noise=1e-10)
    assert plain.value == pytest.approx(0.35, abs=1e-10)
    assert noisy.value == pytest.approx(0.35, abs=noisy.error)
    assert noisy.step > plain.step
    assert noisy.error > 1e-10 / noisy.step  # at least the noise of the stencil's samples
    with pytest.raises(ValueError, match="noise"):
        central_fdm(5, 1).estimate(g, 0.0, noise=-1.0)
