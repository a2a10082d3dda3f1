"""Deliberately wrong rules are caught (with the right kind, argument and entry); correct rules
on hard inputs are passed. Each wrong rule is registered on a fresh primitive (or inside
``ad.scoped_rules()``), so nothing leaks into other tests."""

from __future__ import annotations

import numpy as np
import pytest

import adcheck as ad

RNG = np.random.default_rng(20240601)


def _x(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape)


# -- wrong rules ------------------------------------------------------------------------------


def wrong_sign(p):
    f = p(np.cos, lambda dy, y, x: (dy * np.sin(x),), "cos_wrong_sign")
    return f, (_x(4),), {}


def missing_factor(p):
    f = p(np.square, lambda dy, y, x: (dy * x,), "square_missing_2")
    return f, (_x(3, 2),), {}


def only_negative(p):
    f = p(lambda x: x**3, lambda dy, y, x: (dy * 3 * x * np.abs(x),), "cube_wrong_below_0")
    return f, (np.array([0.5, 1.5, -0.7, 2.0]),), {}


def relative_1e4(p):
    f = p(np.sin, lambda dy, y, x: (dy * np.cos(x) * (1 + 1e-4),), "sin_off_1e-4")
    return f, (_x(5),), {}


def second_argument(p):
    f = p(np.multiply, lambda dy, y, a, b: (dy * b, dy * b), "mul_wrong_second")
    return f, (_x(3), _x(3)), {}


def forgot_unbroadcast(p):
    f = p(np.add, lambda dy, y, a, b: (dy, dy), "add_no_unbroadcast")
    return f, (_x(3), _x(2, 3)), {}


def wrong_shape(p):
    f = p(np.tanh, lambda dy, y, x: (np.ravel(dy * (1 - y * y)),), "tanh_raveled")
    return f, (_x(2, 3),), {}


def wrong_dtype(p):
    f = p(np.exp, lambda dy, y, x: ((dy * y).astype(np.float32),), "exp_float32")
    return f, (_x(3),), {}


def mutated_input(p):
    def back(dy, y, x):
        x *= 2.0  # writes into the caller's array
        return (dy * np.cos(x / 2.0),)

    f = p(np.sin, back, "sin_mutates_x")
    return f, (_x(3),), {}


def ignored_axis(p):
    def back(dy, y, x, axis=None, keepdims=False):
        return (np.broadcast_to(np.sum(dy), x.shape) * 1.0,)  # as if axis=None

    f = p(np.sum, back, "sum_ignores_axis")
    return f, (_x(2, 3),), {"axis": 0}


def ignored_keepdims(p):
    def back(dy, y, x, axis=None, keepdims=False):
        return (np.broadcast_to(np.expand_dims(dy, axis) if not keepdims else dy, x.shape)
                * 1.0 + (np.ones(x.shape) if keepdims else 0.0),)

    f = p(np.sum, back, "sum_wrong_with_keepdims")
    return f, (_x(2, 3),), {"axis": 1, "keepdims": True}


def nan_cotangent(p):
    def back(dy, y, x):
        with np.errstate(all="ignore"):
            return (dy * 0.5 / y * (x / x),)

    f = p(np.sqrt, back, "sqrt_nan_at_0")
    return f, (np.array([4.0, 0.0, 1.0]),), {}


def not_linear(p):
    f = p(np.sin, lambda dy, y, x: (dy * np.abs(dy) * np.cos(x),), "sin_quadratic_in_dy")
    return f, (_x(3),), {}


def wrong_count(p):
    f = p(np.multiply, lambda dy, y, a, b: (dy * b,), "mul_one_cotangent")
    return f, (_x(3), _x(3)), {}


def wrong_primal(p):
    def prim_fn(x):
        return np.sin(x)

    f = p(prim_fn, lambda dy, y, x: (dy * np.cos(x),), "sin_wrong_value")
    rule = ad.registry.lookup(f).rule

    def bad_rule(x):
        y, back = rule(x)
        return y * 1.001, back

    ad.adjoint(f)(bad_rule)
    return f, (_x(3),), {}


def mutated_saved(p):
    def back(dy, y, x):
        y *= 0.0  # destroys the saved output
        return (dy * np.sqrt(1 - np.sin(x) ** 2) * np.sign(np.cos(x)),)

    f = p(np.sin, back, "sin_mutates_saved")
    return f, (_x(3),), {}


WRONG = [
    # (case, expected failure kind, argument, entry)
    (wrong_sign, "value", 0, None),
    (missing_factor, "value", 0, None),
    (only_negative, "value", 0, (2,)),
    (relative_1e4, "value", 0, None),
    (second_argument, "value", 1, None),
    (forgot_unbroadcast, "shape", 0, None),
    (wrong_shape, "shape", 0, None),
    (wrong_dtype, "dtype", 0, None),
    (mutated_input, "mutation", None, None),
    (ignored_axis, "value", 0, None),
    (ignored_keepdims, "value", 0, None),
    (nan_cotangent, "nan", 0, (1,)),
    (not_linear, "linearity", 0, None),
    (wrong_count, "count", None, None),
    (wrong_primal, "primal", None, None),
    (mutated_saved, "mutation", None, None),
]


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("case, kind, argument, entry", WRONG, ids=[c[0].__name__ for c in WRONG])
def test_wrong_rule_is_caught(scoped, case, kind, argument, entry, mode):
    fn, args, kwargs = case(scoped)
    result = ad.check_adjoint(fn, *args, mode=mode, seed=3, raise_exception=False,
                              fn_kwargs=kwargs)
    assert not result.passed
    kinds = [f.kind for f in result.failures]
    assert kind in kinds, result.report()
    hit = [f for f in result.failures if f.kind == kind]
    if argument is not None:
        assert hit[0].argument == argument, result.report()
    if entry is not None:
        assert any(f.index == entry for f in hit), result.report()
    with pytest.raises(ad.GradientMismatch) as info:
        ad.check_adjoint(fn, *args, mode=mode, seed=3, fn_kwargs=kwargs)
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == info.value.result.report()


def test_relative_error_1e4_names_every_entry_with_numbers(scoped):
    fn, args, _ = relative_1e4(scoped)
    result = ad.check_adjoint(fn, *args, mode="full", seed=0, raise_exception=False)
    values = [f for f in result.failures if f.kind == "value"]
    assert sorted(f.index for f in values) == [(i,) for i in range(5)]
    for f in values:
        true = np.cos(args[0][f.index])
        assert f.expected == pytest.approx(true, rel=1e-9)
        assert f.got == pytest.approx(true * (1 + 1e-4), rel=1e-12)
        assert f.tolerance < 1e-5 * abs(true) + 1e-9


def test_transposed_matrix_only_visible_on_non_square(scoped):
    # dB should be A.T @ dy; writing A @ dy is right only for symmetric square A.
    f = scoped(np.matmul, lambda dy, y, a, b: (dy @ b.T, a @ dy), "matmul_forgot_transpose")
    s = RNG.standard_normal((3, 3))
    sym = s + s.T
    assert ad.check_adjoint(f, sym, RNG.standard_normal((3, 2)), seed=0).passed
    result = ad.check_adjoint(f, RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4)),
                              seed=0, raise_exception=False)
    assert not result.passed
    assert result.failures[0].kind == "error"
    assert "pullback raised" in result.failures[0].message
    nonsym = RNG.standard_normal((3, 3))
    result = ad.check_adjoint(f, nonsym, RNG.standard_normal((3, 2)), seed=0,
                              raise_exception=False)
    assert {f.argument for f in result.failures if f.kind == "value"} == {1}


def test_wrong_in_one_element_of_a_large_array(scoped):
    n, bad = 10**5, 61_803

    def back(dy, y, x):
        g = dy * np.cos(x)
        g[bad] *= -1.0
        return (g,)

    f = scoped(np.sin, back, "sin_wrong_at_one_entry")
    x = RNG.uniform(-3, 3, n)
    result = ad.check_adjoint(f, x, seed=5, raise_exception=False)
    assert result.mode == "fast"
    assert [f.index for f in result.failures if f.kind == "value"] == [(bad,)]
    failure = result.failures[0]
    # fast mode reports (J'Δ)_j against back(Δ)_j for the probe's cotangent Δ
    assert failure.got / failure.expected == pytest.approx(-1.0, rel=1e-6)
    assert "probe" in failure.message
    # bisection: O(log n) probes, not O(n) columns
    assert result.probes < 120
    assert result.evaluations < 2000


def test_wrong_only_for_negative_inputs_names_the_negative_entry(scoped):
    fn, args, _ = only_negative(scoped)
    result = ad.check_adjoint(fn, *args, mode="fast", seed=1, raise_exception=False)
    assert [f.index for f in result.failures if f.kind == "value"] == [(2,)]
    assert result.failures[0].got / result.failures[0].expected == pytest.approx(-1, rel=1e-8)
    full = ad.check_adjoint(fn, *args, mode="full", seed=1, raise_exception=False)
    assert [f.index for f in full.failures] == [(2,)]
    assert full.failures[0].expected == pytest.approx(3 * 0.49, rel=1e-8)
    assert full.failures[0].got == pytest.approx(-3 * 0.49, rel=1e-12)


# -- correct rules on hard inputs -------------------------------------------------------------


def _ill_conditioned(cond: float) -> np.ndarray:
    u, _ = np.linalg.qr(RNG.standard_normal((4, 4)))
    v, _ = np.linalg.qr(RNG.standard_normal((4, 4)))
    return u @ np.diag(np.geomspace(1.0, 1.0 / cond, 4)) @ v.T


def quantised_1e8(p):
    f = p(lambda x: 1e8 + x**2, lambda dy, y, x: (2 * x * dy,), "near_1e8")
    return f, (RNG.uniform(0.5, 2.0, 4),)


def sqrt_near_1e8(p):
    f = p(np.sqrt, lambda dy, y, x: (dy * 0.5 / y,), "sqrt_tiny")
    return f, (RNG.uniform(1.0, 3.0, 4) * 1e-8,)


def log_near_1e8(p):
    f = p(np.log, lambda dy, y, x: (dy / x,), "log_tiny")
    return f, (RNG.uniform(1.0, 3.0, 4) * 1e-8,)


def exp_20x(p):
    f = p(lambda x: np.exp(20 * x), lambda dy, y, x: (20 * y * dy,), "exp20")
    return f, (RNG.uniform(0.5, 1.5, 4),)


def narrow_bump(p):
    w = 1e-3
    f = p(lambda x: np.exp(-(((x - 3.0) / w) ** 2)),
          lambda dy, y, x: (dy * y * (-2 * (x - 3.0) / w**2),), "bump")
    return f, (3.0 + RNG.uniform(-1e-3, 1e-3, 4),)


def inverse_cond_1e5(p):
    f = p(np.linalg.inv, lambda dy, y, a: (-y.T @ dy @ y.T,), "inv")
    return f, (_ill_conditioned(1e5),)


def solve_cond_1e5(p):
    def back(dy, y, a, b):
        g = np.linalg.solve(a.T, dy)
        return -np.outer(g, y), g

    f = p(np.linalg.solve, back, "solve")
    return f, (_ill_conditioned(1e5), RNG.standard_normal(4))


def float32_sin(p):
    f = p(np.sin, lambda dy, y, x: (dy * np.cos(x),), "sin32")
    return f, (RNG.uniform(-3, 3, 5).astype(np.float32),)


def float32_broadcast_mul(p):
    def back(dy, y, a, b):
        return (dy * b, np.sum(dy * a, axis=0))

    f = p(np.multiply, back, "mul32")
    return f, (RNG.uniform(-3, 3, (3, 2)).astype(np.float32),
               RNG.uniform(-3, 3, 2).astype(np.float32))


def python_scalars(p):
    f = p(lambda a, b: a * np.sin(b), lambda dy, y, a, b: (dy * np.sin(b), dy * a * np.cos(b)),
          "scalars")
    return f, (1.5, -0.3)


def tuple_output(p):
    f = p(lambda x: (np.sin(x), np.cos(x)),
          lambda dy, y, x: (dy[0] * np.cos(x) - dy[1] * np.sin(x),), "sincos")
    return f, (_x(3),)


def list_argument(p):
    def back(dy, y, xs):
        return ([dy[i] for i in range(len(xs))],)

    f = p(lambda xs: np.stack(xs), back, "stack_list")
    return f, ([_x(2), _x(2), _x(2)],)


def integer_argument(p):
    f = p(lambda x, k: x**k, lambda dy, y, x, k: (dy * k * x ** (k - 1), None), "int_power")
    return f, (_x(3), 3)


def exp_large_outputs(p):
    f = p(np.exp, lambda dy, y, x: (dy * y,), "exp_big")
    return f, (RNG.uniform(600, 700, 4),)


HARD = [quantised_1e8, sqrt_near_1e8, log_near_1e8, exp_20x, narrow_bump, inverse_cond_1e5,
        solve_cond_1e5, float32_sin, float32_broadcast_mul, python_scalars, tuple_output,
        list_argument, integer_argument, exp_large_outputs]


def test_as_many_hard_cases_as_wrong_ones():
    assert len(HARD) >= len(WRONG) - 2


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("case", HARD, ids=[c.__name__ for c in HARD])
def test_correct_rule_on_hard_input_passes(scoped, case, mode):
    fn, args = case(scoped)
    for seed in range(3):
        result = ad.check_adjoint(fn, *args, mode=mode, seed=seed)
        assert result.passed
        assert result.max_error <= result.tolerance
        assert not result.failures


def test_correct_rule_on_a_large_array_costs_the_same_as_on_a_small_one():
    costs = []
    for n in (10, 10**3, 10**5):
        x = RNG.uniform(-3, 3, n)
        r = ad.check_adjoint(np.sin, x, mode="fast", seed=0)
        costs.append((r.evaluations, r.probes))
    # the adaptive step may take one more stage on some lines, but nothing grows with n
    evaluations = [c[0] for c in costs]
    assert max(evaluations) <= 1.25 * min(evaluations), costs
    assert costs[0][1] == costs[1][1] == costs[2][1], costs


def test_kink_is_reported_not_failed(scoped):
    f = scoped(lambda x: np.maximum(x, 0.0), lambda dy, y, x: (dy * (x > 0),), "relu")
    # at 0 the one-sided derivatives are 0 and 1; at 1e-13 relu is differentiable (slope 1)
    # and a stencil short enough to stay right of 0 shows it, so that is no kink
    x = np.array([1.0, -1.0, 0.0, 1e-13, 2.0])
    result = ad.check_adjoint(f, x, seed=0)
    assert result.passed
    assert [k.index for k in result.kinks] == [(2,)]
    assert "not differentiable" in result.kinks[0].message
    assert "kink" in result.report()


def test_reports_read_well(scoped):
    texts = []
    for case in (wrong_sign, forgot_unbroadcast, wrong_dtype, mutated_input):
        fn, args, kwargs = case(scoped)
        text = ad.check_adjoint(fn, *args, seed=0, raise_exception=False,
                                fn_kwargs=kwargs).report()
        print(text, end="\n\n")  # shown with pytest -rP: what a rule author reads
        assert text.startswith(f"FAILED check_adjoint({fn.__name__})")
        texts.append(text)
    out = "\n".join(texts)
    assert "adjoint gives" in out and "finite differences" in out
    assert "cotangent of x1 has shape (2, 3), but x1 has shape (3,)" in out  # np.add(x1, x2)
    assert "has dtype float32, but x has dtype float64" in out
    assert "changed its input" in out


def test_lazy_cotangents_are_computed_and_checked(scoped):
    right = scoped(np.multiply, lambda dy, y, a, b: (lambda: dy * b, lambda: dy * a), "mul_lazy")
    assert ad.check_adjoint(right, _x(3), _x(3), seed=0).passed
    wrong = scoped(np.multiply, lambda dy, y, a, b: (lambda: dy * b, lambda: dy * b),
                   "mul_lazy_wrong")
    result = ad.check_adjoint(wrong, _x(3), _x(3), seed=0, raise_exception=False)
    assert {f.argument for f in result.failures if f.kind == "value"} == {1}
