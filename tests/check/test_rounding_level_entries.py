"""Outputs and cotangents at the rounding level of the values they are computed from.

Two false alarms on correct float64 rules, each with the input that showed it:

- ``pinv`` of ``±0.5·I`` plus 1e-17 noise: an output entry of 1e-17 is as noisy as the
  entries near 2 it is computed from. Taken at its own size, its noise set the step of the
  whole column (1e-13) and the error bounds claimed 1e-15 for estimates off by 4.
- a cotangent whose exact value is 0 (the textbook ``var`` rule at a constant vector, the
  pullback of ``lstsq``'s residuals at an exact fit) comes out as a few ulps of the rule's
  intermediates, which no relative tolerance covers.

Wrong rules at the same inputs must still fail.
"""

import numpy as np
import pytest

import adcheck as ad
from adcheck.fd import central_fdm
from adcheck.fd.jacobian import jacobian as fd_jacobian

PINV_2 = np.array([[5.000000000000000e-01, -2.669251111051656e-18],
                   [-2.669251111051656e-18, 5.000000000000000e-01]])
PINV_3 = np.array([[-5.0000000000000011e-01, 0.0, 0.0],
                   [-4.6737510341230303e-18, -5.0000000000000000e-01, 0.0],
                   [2.3303410032932484e-17, 1.1255360001308930e-17, -5.0000000000000011e-01]])


def test_pinv_near_a_multiple_of_the_identity_passes():
    assert ad.check_adjoint(np.linalg.pinv, PINV_2, mode="full").passed
    assert ad.check_adjoint(np.linalg.pinv, PINV_3, hermitian=True, mode="full").passed


def test_finite_differences_of_noise_level_outputs_keep_a_sound_step():
    # d pinv(S)/d a[1, 0] for the symmetric S eigh reads from the lower triangle: -4 at
    # entries [0, 1] and [1, 0] (S = -0.5·I, dS = e10 + e01, dY = -Y dS Y = -4 dS).
    def f(a):
        return np.linalg.pinv(a.reshape(3, 3), hermitian=True).ravel()

    jac = fd_jacobian(central_fdm(5, 1), f, PINV_3.ravel())[0]
    column = jac[:, 3]
    assert column[1] == pytest.approx(-4.0, rel=1e-6)
    assert column[3] == pytest.approx(-4.0, rel=1e-6)
    assert np.all(np.abs(np.delete(column, [1, 3])) < 1e-6)


def test_a_wrong_pinv_rule_at_the_same_input_still_fails():
    with ad.scoped_rules():
        @ad.adjoint(np.linalg.pinv)
        def _(a, **kw):
            y = np.linalg.pinv(a, **kw)
            return y, lambda dy: (-(y.T @ dy @ y.T) * 1.001,)

        result = ad.check_adjoint(np.linalg.pinv, PINV_2, raise_exception=False)
    assert result.verdict == "fail"


def _var_primitive(offset: float):
    @ad.primitive
    def textbook_var(x):
        return np.var(x)

    @ad.adjoint(textbook_var)
    def _(x):
        mean = np.mean(x)
        return textbook_var(x), lambda dy: (dy * (2 * (x - mean) / x.size + offset),)

    return textbook_var


def test_textbook_var_at_a_constant_vector_passes():
    # the rule gives about -5.9e-16 where the truth is exactly 0 (rounding of the mean)
    x = np.full(3, 5.868559668879664)
    assert ad.check_adjoint(_var_primitive(0.0), x).passed


@pytest.mark.parametrize("offset", [1e-13, 1e-14])
def test_a_var_rule_off_by_ten_ulps_fails_there(offset):
    x = np.full(3, 5.868559668879664)
    result = ad.check_adjoint(_var_primitive(offset), x, raise_exception=False)
    assert result.verdict == "fail"
    assert result.max_error == pytest.approx(offset, rel=0.2)


def test_lstsq_residuals_at_an_exact_fit_pass():
    a, b = np.array([[1.25], [0.0]]), np.array([[0.75], [0.0]])
    assert ad.check_adjoint(np.linalg.lstsq, a, b, rcond=None).passed


def _huber(x, delta=1.0):
    a = np.abs(x)
    return np.where(a <= delta, 0.5 * x * x, delta * (a - 0.5 * delta))


def _register_huber(factor: float, offset: float):
    fn = ad.primitive(_huber)

    @ad.adjoint(fn)
    def _(x, delta=1.0):
        slope = np.where(np.abs(x) <= delta, factor * x, delta * np.sign(x)) + offset
        return fn(x, delta), lambda dy: (dy * slope,)

    return fn


def test_huber_at_zero_beside_a_tiny_entry_is_decided():
    # outputs 0 and 2.4e-164 at the point; the finite differences' error bound 1e-19 is
    # small beside how much the outputs move along a unit-scale line (was inconclusive)
    result = ad.check_adjoint(_register_huber(1.0, 0.0), np.array([0.0, 2.2e-82]),
                              delta=0.5, raise_exception=False)
    assert result.verdict == "pass"


@pytest.mark.parametrize(("factor", "offset", "error"),
                         [(2.0, 0.0, 2.2e-82), (1.0, 1e-20, 1e-20), (1.0, 1e-25, 1e-25)])
def test_wrong_huber_rules_there_still_fail(factor, offset, error):
    result = ad.check_adjoint(_register_huber(factor, offset), np.array([0.0, 2.2e-82]),
                              delta=0.5, raise_exception=False)
    assert result.verdict == "fail"
    assert result.max_error == pytest.approx(error, rel=1e-6)


@pytest.mark.parametrize(("x", "kwargs"), [
    (np.array([1.0, 1.0, 1.0]), {"edge_order": 2}),
    (np.full((3, 1, 1), 8.729364630887838), {"edge_order": 2, "axis": (0,)}),
])
def test_gradient_of_a_constant_whose_output_is_rounding_jitter_passes(x, kwargs):
    # np.gradient's output is -1.5/h + 2/h - 0.5/h times a constant: rounding residue that
    # jumps with h; its finite differences with a small step read 2e-13 and 0.024 as slopes
    assert ad.check_adjoint(np.gradient, x, 1.0, **kwargs).passed


def _spacing_cotangent_off_by(error: float) -> None:
    """Register np.gradient's built-in rule with ``error`` added to the last spacing's
    cotangent (every other cotangent stays right)."""
    builtin = ad.registry.lookup(np.gradient).rule

    @ad.adjoint(np.gradient)
    def _(f, *h, **kw):
        y, back = builtin(f, *h, **kw)

        def wrong(dy):
            grads = list(back(dy))
            grads[-1] = grads[-1] + error
            return tuple(grads)
        return y, wrong


def test_a_wrong_spacing_cotangent_there_still_fails():
    with ad.scoped_rules():
        _spacing_cotangent_off_by(1e-6)

        result = ad.check_adjoint(np.gradient, np.array([1.0, 1.0, 1.0]), 1.0, edge_order=2,
                                  raise_exception=False)
    assert result.verdict == "fail"


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("seed", range(4))
def test_fast_mode_at_an_all_zero_input_does_not_move_inputs_by_1024(seed):
    # verify --builtin --seed 103 drew expit, erfc and ndtr at np.zeros((3, 3, 3)); an
    # undecided probe was measured again on 1024 times its scale, whose stencil crossed
    # expit's whole S: "adjoint 0.28, finite differences 0.0017"
    import scipy.special as sp

    for fn in (sp.expit, sp.erfc, sp.ndtr):
        assert ad.check_adjoint(fn, np.zeros((3, 3, 3)), mode="fast", seed=seed).passed


def test_a_wrong_expit_rule_there_still_fails_in_fast_mode():
    fn = ad.primitive(_expit)

    @ad.adjoint(fn)
    def _(x):
        y = fn(x)
        return y, lambda dy: (1.01 * dy * y * (1 - y),)

    result = ad.check_adjoint(fn, np.zeros((3, 3, 3)), mode="fast", seed=0,
                              raise_exception=False)
    assert result.verdict == "fail"


@pytest.mark.parametrize("seed", range(6))
def test_gradient_of_a_constant_passes_in_fast_mode_too(seed):
    # verify --builtin --seed 206 drew np.full((3, 3, 3), 0.625) with spacing 1.0 and
    # edge_order=2: fast mode's probe along the spacing alone read rounding residue as a
    # slope of 7e-13 ("no single entry is wrong on its own", tolerance 3e-27)
    x = np.full((3, 3, 3), 0.625)
    assert ad.check_adjoint(np.gradient, x, 1.0, edge_order=2, mode="fast", seed=seed).passed


@pytest.mark.parametrize("seed", range(3))
def test_a_wrong_spacing_cotangent_still_fails_in_fast_mode(seed):
    with ad.scoped_rules():
        _spacing_cotangent_off_by(1e-6)

        result = ad.check_adjoint(np.gradient, np.full((3, 3, 3), 0.625), 1.0, edge_order=2,
                                  mode="fast", seed=seed, raise_exception=False)
    assert result.verdict == "fail"


@pytest.mark.parametrize("seed", [0, 1])
def test_a_float32_gradient_of_a_constant_within_its_own_rounding_passes_in_fast_mode(seed):
    # verify --builtin --seed 206 (final code): the float32 rule gives the spacing 1.5 a
    # cotangent of 1.9e-7 where the truth is 0, and one-ulp moves of its float32 inputs
    # move that residue by 1e-6: not a wrong rule
    x = np.ones((3, 3, 3), np.float32)
    assert ad.check_adjoint(np.gradient, x, 1.5, edge_order=2, mode="fast", seed=seed).passed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_float32_gradient_with_a_spacing_per_axis_passes_in_fast_mode(seed):
    # verify --builtin --seed 206 (session 5): spacings (1.0, 1.0, 1.5); the finite
    # difference along 1.5 took a step of 1e-11 and read float64 residue as -3.3e-5; the
    # noisy line (0 ± 1e-14) cleared that, but the rule's own float32 jitter was then
    # weighed against the first, noise-blind measurement ("adjoint -6.1e-09")
    x = np.ones((3, 3, 3), np.float32)
    result = ad.check_adjoint(np.gradient, x, 1.0, 1.0, 1.5, edge_order=2, mode="fast",
                              seed=seed)
    assert result.passed


@pytest.mark.parametrize("seed", [0, 1])
def test_a_wrong_cotangent_of_one_spacing_among_three_still_fails_in_fast_mode(seed):
    with ad.scoped_rules():
        _spacing_cotangent_off_by(1e-5)

        result = ad.check_adjoint(np.gradient, np.ones((3, 3, 3), np.float32), 1.0, 1.0, 1.5,
                                  edge_order=2, mode="fast", seed=seed, raise_exception=False)
    assert result.verdict == "fail"


def test_a_float32_spacing_cotangent_off_by_1e_5_still_fails_in_fast_mode():
    with ad.scoped_rules():
        _spacing_cotangent_off_by(1e-5)

        result = ad.check_adjoint(np.gradient, np.ones((3, 3, 3), np.float32), 1.5,
                                  edge_order=2, mode="fast", seed=0, raise_exception=False)
    assert result.verdict == "fail"


TENSORDOT_AT_ZERO = (np.zeros((2, 3)), np.full((2, 3, 3), 1.1), 2)


@pytest.mark.parametrize("seed", range(4))
def test_a_cotangent_whose_sum_over_outputs_cancels_passes_in_fast_mode(seed):
    # verify --builtin --seed 245: tensordot's pullback gives every entry of x the sum
    # 1.1·ΣΔ_k; a sparse probe's Δ made it cancel to -1.1e-16 where <Δ, J v> is exactly 0
    # ("|error| 1.11e-16 > tolerance 1.12e-23"): float64 rounding of terms of size 1
    assert ad.check_adjoint(np.tensordot, *TENSORDOT_AT_ZERO, mode="fast", seed=seed).passed


@pytest.mark.parametrize("error", [lambda g: g, lambda g: g * (1 + 1e-6), lambda g: g + 1e-12])
def test_a_tensordot_rule_off_beyond_rounding_there_still_fails(error):
    fn = ad.primitive(lambda a, b, axes: np.tensordot(a, b, axes))

    @ad.adjoint(fn)
    def _(a, b, axes):
        def back(dy):
            return error(np.tensordot(dy, b, ([0], [2]))), np.multiply.outer(a, dy)
        return fn(a, b, axes), back

    a, b, axes = TENSORDOT_AT_ZERO
    result = ad.check_adjoint(fn, a, b, axes=axes, mode="fast", seed=0, raise_exception=False)
    assert result.verdict == ("pass" if error(1.0) == 1.0 else "fail"), result.report()
