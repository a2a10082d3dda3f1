"""Finite-difference methods on scalar functions: stencils, accuracy, error estimates, errors."""

import math

import numpy as np
import pytest

from adcheck.fd import (
    Estimate,
    FiniteDifferenceError,
    FiniteDifferenceMethod,
    backward_fdm,
    central_fdm,
    forward_fdm,
)


class Counted:
    """Wraps f, counting calls and recording the points it was called at."""

    def __init__(self, f):
        self.f, self.points = f, []

    def __call__(self, x):
        self.points.append(x)
        return self.f(x)


# --- stencils ----------------------------------------------------------------------------


def test_central_four_point_stencil():
    m = central_fdm(4, 1)
    assert m.grid == [-2, -1, 1, 2]
    np.testing.assert_array_equal(m.coefs, [1 / 12, -2 / 3, 2 / 3, -1 / 12])
    assert (m.p, m.q, m.order) == (4, 1, 4)


def test_repr_shows_order_grid_and_coefficients():
    assert repr(central_fdm(4, 1)) == (
        "FiniteDifferenceMethod:\n"
        "  order of method:       4\n"
        "  order of derivative:   1\n"
        "  grid:                  [-2, -1, 1, 2]\n"
        "  coefficients:          [0.08333333333333333, -0.6666666666666666, "
        "0.6666666666666666, -0.08333333333333333]"
    )


def test_odd_central_grid_has_centre_with_zero_weight_for_first_derivative():
    m = central_fdm(5, 1)
    assert m.grid == [-2, -1, 0, 1, 2]
    assert m.coefs[2] == 0.0


@pytest.mark.parametrize(
    ("method", "grid", "coefs", "order"),
    [
        (forward_fdm(3, 1), [0, 1, 2], [-1.5, 2.0, -0.5], 2),
        (backward_fdm(3, 1), [-2, -1, 0], [0.5, -2.0, 1.5], 2),
        (central_fdm(3, 2), [-1, 0, 1], [1.0, -2.0, 1.0], 2),
        (forward_fdm(5, 1), [0, 1, 2, 3, 4], [-25 / 12, 4.0, -3.0, 4 / 3, -0.25], 4),
    ],
)
def test_one_sided_and_second_derivative_stencils(method, grid, coefs, order):
    assert method.grid == grid
    np.testing.assert_allclose(method.coefs, coefs, rtol=1e-15)
    assert method.order == order


def test_order_of_even_central_grid_is_computed_not_taken_from_findiff():
    # findiff reports accuracy 1 for this stencil; its truncation error is O(h^6).
    assert central_fdm(6, 1).order == 6
    assert central_fdm(12, 2).order == 10


def test_weights_are_exact_for_large_stencils():
    # Exact weights reproduce the q-th derivative of x^q (q! at any step) to rounding.
    m = central_fdm(12, 2)
    assert abs(m(lambda x: x**2, 0.3, step=0.25) - 2.0) < 1e-12


# --- published accuracy of FiniteDifferences.jl ------------------------------------------


def test_first_derivative_of_sin():
    assert abs(central_fdm(5, 1)(np.sin, 1.0) - math.cos(1.0)) < 1e-13


def test_second_derivative_of_sin_five_points():
    assert abs(central_fdm(5, 2)(np.sin, 1.0) + math.sin(1.0)) < 1e-9


def test_second_derivative_of_sin_twelve_points():
    assert abs(central_fdm(12, 2)(np.sin, 1.0) + math.sin(1.0)) < 1e-12


def test_log_near_zero_with_max_range_stays_in_range():
    f = Counted(np.log)
    value = central_fdm(5, 1, max_range=9e-4)(f, 1e-3)
    assert abs(value - 1000.0) < 1e-8
    assert max(abs(p - 1e-3) for p in f.points) <= 9e-4


def test_log_near_zero_without_max_range_leaves_the_domain():
    with np.errstate(invalid="ignore", divide="ignore"):
        with pytest.raises(FiniteDifferenceError, match=r"f returned (nan|-inf) at x = -"):
            central_fdm(5, 1)(np.log, 1e-3)


def test_forward_method_on_log_needs_adaptation():
    adapted = forward_fdm(5, 1)(np.log, 1e-3)
    assert abs(adapted - 1000.0) < 1e-7
    unadapted = forward_fdm(5, 1, adapt=0)(np.log, 1e-3)
    assert abs(unadapted - 1000.0) > 1.0
    too_large_step = forward_fdm(5, 1)(np.log, 1e-3, step=1e-3)
    assert abs(too_large_step - 1000.0) > 10.0


def test_large_factor_copes_with_noise():
    rng = np.random.default_rng(0)

    def noisy_sin(x):
        return math.sin(x) + 1e-10 * rng.random()

    plain = abs(central_fdm(5, 1)(noisy_sin, 1.0) - math.cos(1.0))
    with_factor = abs(central_fdm(5, 1, factor=1e6)(noisy_sin, 1.0) - math.cos(1.0))
    assert with_factor < 1e-8
    assert with_factor < plain / 10


# --- a table of functions ----------------------------------------------------------------

# name, f, f', f'', x, bound on the relative error of central_fdm(5, 1)
TABLE = [
    ("exp", np.exp, np.exp, np.exp, 1.0, 1e-12),
    (
        "tanh",
        np.tanh,
        lambda x: 1 - np.tanh(x) ** 2,
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
        0.5,
        1e-12,
    ),
    ("cube", lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x, 2.0, 1e-13),
    ("inverse", lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3, 0.1, 1e-12),
    (
        "exp20",
        lambda x: np.exp(20 * x),
        lambda x: 20 * np.exp(20 * x),
        lambda x: 400 * np.exp(20 * x),
        1.0,
        1e-12,
    ),
]
IDS = [row[0] for row in TABLE]


@pytest.mark.parametrize(("name", "f", "df", "d2f", "x", "bound"), TABLE, ids=IDS)
def test_table_accuracy(name, f, df, d2f, x, bound):
    exact = df(x)
    assert abs(central_fdm(5, 1)(f, x) - exact) < bound * abs(exact)


METHODS = [
    central_fdm(3, 1),
    central_fdm(5, 1),
    central_fdm(8, 1),
    forward_fdm(5, 1),
    backward_fdm(6, 1),
    central_fdm(5, 2),
    forward_fdm(6, 2),
    central_fdm(5, 1, adapt=2),
]


@pytest.mark.parametrize("m", METHODS, ids=[f"{m.grid}-q{m.q}-adapt{m.adapt}" for m in METHODS])
@pytest.mark.parametrize(("name", "f", "df", "d2f", "x", "bound"), TABLE, ids=IDS)
def test_error_estimate_is_honest_and_useful(m, name, f, df, d2f, x, bound):
    exact = df(x) if m.q == 1 else d2f(x)
    est = m.estimate(f, x)
    assert abs(est.value - exact) <= est.error
    # ... and not so loose as to say nothing: well below the derivative itself.
    assert est.error < 1e-4 * abs(exact)


def test_error_estimate_without_adaptation_holds_for_a_tame_function():
    # With adapt=0 the bound on f^(p) is assumed, not measured: fine for sin, not for 1/x.
    est = central_fdm(5, 1, adapt=0).estimate(np.sin, 1.0)
    assert abs(est.value - math.cos(1.0)) <= est.error < 1e-11


def test_estimate_returns_value_step_and_error():
    est = central_fdm(5, 1).estimate(np.sin, 1.0)
    assert isinstance(est, Estimate)
    # Three significant bits, so that every x + k·step is exact.
    assert 5e-4 < est.step < 5e-3
    assert (math.frexp(est.step)[0] * 8).is_integer()
    assert all((1.0 + k * est.step) - 1.0 == k * est.step for k in (-2, -1, 1, 2))
    assert 1e-14 < est.error < 1e-12


def test_fixed_step_is_used_as_given_and_its_error_estimated():
    f = Counted(np.sin)
    est = central_fdm(5, 1).estimate(f, 1.0, step=0.1)
    assert est.step == 0.1
    assert {round(p - 1.0, 12) for p in f.points} >= {-0.2, -0.1, 0.1, 0.2}
    # Truncation h^4/30·|cos(1)| ≈ 1.8e-6 dominates, and the estimate bounds it.
    true_error = abs(est.value - math.cos(1.0))
    assert 1e-6 < true_error <= est.error < 1e-5


def test_fixed_step_keeps_every_evaluation_within_the_stencil():
    # A central method on log at 1e-3 works with a small enough fixed step, error estimate
    # included: the bound on f^(5) is measured within the stencil's span too.
    f = Counted(np.log)
    est = central_fdm(5, 1).estimate(f, 1e-3, step=1e-5)
    assert min(f.points) >= 1e-3 - 2e-5
    assert abs(est.value - 1000.0) <= est.error < 1e-3


def test_fixed_step_value_alone_costs_only_the_stencil():
    f = Counted(np.sin)
    central_fdm(5, 1)(f, 1.0, step=0.01)
    assert len(f.points) == 5


def test_number_of_evaluations():
    adaptive, fixed = Counted(np.sin), Counted(np.sin)
    central_fdm(5, 1)(adaptive, 1.0)
    central_fdm(5, 1, adapt=0)(fixed, 1.0)
    # f(x) once, 8 more for the 9-point bound estimator, 4 for the stencil (its centre is x).
    assert len(adaptive.points) == 13
    assert len(fixed.points) == 5


# --- precision ---------------------------------------------------------------------------


def test_float32_function_gets_float32_steps_and_errors():
    def sin32(x):
        return np.sin(np.float32(x))

    est32 = central_fdm(5, 1).estimate(sin32, 1.0)
    est64 = central_fdm(5, 1).estimate(np.sin, 1.0)
    assert est32.step > 16 * est64.step
    assert 1e-8 < est32.error < 1e-4
    # Checked against the float64 reference, and within its own error estimate.
    assert abs(est32.value - est64.value) <= est32.error


def test_float32_point_is_passed_as_float32():
    f = Counted(np.sin)
    value = central_fdm(5, 1)(f, np.float32(1.0))
    assert {type(p) for p in f.points} == {np.float32}
    assert abs(value - math.cos(1.0)) < 1e-5


def test_array_valued_function():
    def f(x):
        return np.array([[np.sin(x), np.exp(x)], [x**2, 7.0]])

    est = central_fdm(5, 1).estimate(f, 0.5)
    exact = np.array([[np.cos(0.5), np.exp(0.5)], [1.0, 0.0]])
    assert est.value.shape == est.error.shape == (2, 2)
    assert np.all(np.abs(est.value - exact) <= est.error)
    assert np.max(np.abs(est.value - exact)) < 1e-12
    assert est.value[1, 1] == 0.0  # a constant output has exactly zero derivative


def test_derivative_at_zero_and_of_an_odd_function():
    assert abs(central_fdm(5, 1)(np.sin, 0.0) - 1.0) < 1e-13
    assert abs(central_fdm(5, 2)(np.sin, 0.0)) < 1e-12


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [central_fdm, forward_fdm, backward_fdm])
def test_p_must_exceed_q(make):
    with pytest.raises(ValueError, match=r"p must be greater than q.*p=3.*q=3"):
        make(3, 3)


def test_q_must_be_positive():
    with pytest.raises(ValueError, match=r"q \(the order of the derivative\) must be at least 1"):
        central_fdm(3, 0)


def test_p_and_q_must_be_integers():
    with pytest.raises(TypeError, match="p must be an integer"):
        central_fdm(5.0, 1)
    with pytest.raises(TypeError, match="q must be an integer"):
        central_fdm(5, 1.0)


def test_grid_points_must_be_distinct():
    with pytest.raises(ValueError, match="distinct"):
        FiniteDifferenceMethod([0, 1, 1], 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factor": 0.0}, "factor must be positive"),
        ({"max_range": -1.0}, "max_range must be positive"),
        ({"adapt": -1}, "adapt must be >= 0"),
    ],
)
def test_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        central_fdm(5, 1, **kwargs)


def test_f_must_be_callable():
    with pytest.raises(TypeError, match="f must be callable, got float"):
        central_fdm(5, 1)(3.0, 1.0)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (1, r"x must be a float, got the integer 1; write 1\.0"),
        ("1.0", "x must be a float, got str"),
        (np.array([1.0, 2.0]), r"x must be a scalar float, got ndarray of shape \(2,\)"),
        (1.0 + 0j, "x must be a float, got complex"),
        (True, "x must be a float, got bool"),
    ],
)
def test_x_must_be_a_float(x, message):
    with pytest.raises(TypeError, match=message):
        central_fdm(5, 1)(np.sin, x)


def test_x_must_be_finite():
    with pytest.raises(ValueError, match="x must be finite, got nan"):
        central_fdm(5, 1)(np.sin, math.nan)


def test_nan_at_x_itself():
    with pytest.raises(FiniteDifferenceError, match=r"f returned nan at x = 1\.0 itself"):
        central_fdm(5, 1)(lambda x: math.nan, 1.0)


def test_infinity_at_a_stencil_point_names_the_point():
    def f(x):
        return math.inf if x > 1.0 else x

    with pytest.raises(FiniteDifferenceError, match=r"f returned inf at x = 1\.\d+ \(a stencil"):
        central_fdm(5, 1)(f, 1.0)
    assert issubclass(FiniteDifferenceError, ValueError)


def test_step_must_be_positive():
    with pytest.raises(ValueError, match="step must be positive"):
        central_fdm(5, 1)(np.sin, 1.0, step=-0.1)


def test_complex_output_is_rejected():
    with pytest.raises(TypeError, match="complex"):
        central_fdm(5, 1)(lambda x: np.exp(1j * x), 1.0)


def test_output_shape_must_not_change():
    with pytest.raises(ValueError, match="shape"):
        central_fdm(3, 1)(lambda x: np.zeros(1 if x == 1.0 else 2), 1.0)
