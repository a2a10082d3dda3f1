"""Inputs at the edges of the float range: exp near overflow, cos and sin where the float
spacing is as large as their period. A right rule must not fail there; a wrong one must not
pass."""

import numpy as np
import pytest

import adcheck as ad


def _exp_rule(factor: float):
    @ad.primitive
    def my_exp(x):
        return np.exp(x)

    @ad.adjoint(my_exp)
    def _(x):
        y = np.exp(x)
        return y, lambda dy: (dy * y * factor,)

    return my_exp


@pytest.mark.parametrize("seed", range(16))
def test_exp_at_709_passes(seed):
    # exp(709) is 8.2e307: J·v along |x| = 512 overflowed ("finite differences impossible"),
    # and -2·back(Δ) overflowed in the linearity check (inf against inf), seeds 8, 10, 15
    with np.errstate(over="ignore"):
        assert ad.check_adjoint(np.exp, np.array([709.0]), seed=seed).passed
        assert ad.check_adjoint(np.exp, np.array([709.0, 1.0, -3.0]), seed=seed).passed


def test_a_wrong_exp_at_709_fails():
    with ad.scoped_rules(), np.errstate(over="ignore"):
        result = ad.check_adjoint(_exp_rule(1.01), np.array([709.0]), raise_exception=False)
    assert result.verdict == "fail"
    assert result.max_error == pytest.approx(0.01 * np.exp(709.0), rel=0.01)


def test_gradcheck_of_exp_at_709_passes():
    with np.errstate(over="ignore"):
        assert ad.gradcheck(lambda x: np.sum(np.exp(x)), np.array([709.0, 0.5])).passed


@pytest.mark.parametrize("fn, x", [(np.cos, 1e16), (np.sin, 1e40), (np.cos, -3e17)])
def test_a_function_the_float_grid_does_not_resolve_is_inconclusive_not_wrong(fn, x):
    # the float spacing at 1e16 is 2: cos moves by O(1) from one float to the next
    result = ad.check_adjoint(fn, np.array([x]), raise_exception=False)
    assert result.verdict == "inconclusive"
    assert "finite differences cannot decide" in " ".join(f.message for f in result.failures)
    assert not any(f.kind == "value" for f in result.failures)


def test_a_wrong_cos_rule_there_does_not_pass_and_fails_where_floats_resolve_cos():
    with ad.scoped_rules():
        @ad.primitive
        def my_cos(x):
            return np.cos(x)

        @ad.adjoint(my_cos)
        def _(x):
            return np.cos(x), lambda dy: (dy * np.sin(x),)  # sign wrong

        far = ad.check_adjoint(my_cos, np.array([1e16]), raise_exception=False)
        near = ad.check_adjoint(my_cos, np.array([1e3, 2.5]), raise_exception=False)
    assert far.verdict == "inconclusive"
    assert near.verdict == "fail"
    assert near.max_error == pytest.approx(2 * abs(np.sin(1e3)), rel=1e-6)


def test_where_finite_differences_and_the_taylor_test_disagree_neither_decides():
    # verify --builtin --seed 221: scipy's iv(1, x) is exactly 0 below about 1e-150, so
    # finite differences at 5.7e-307 read 0; the Taylor remainder over its own steps
    # converges at rate 3 for the rule's slope 0.5. Not a wrong rule: inconclusive.
    import scipy.special as sp

    assert sp.iv(1, 1e-200) == 0.0 and sp.i1(1e-200) > 0  # the premise
    result = ad.check_adjoint(sp.iv, 1, np.array(5.7135878155745195e-307),
                              raise_exception=False)
    assert result.verdict == "inconclusive"
    assert not any(f.kind == "value" for f in result.failures)


def test_verify_stopping_early_still_asks_the_taylor_test():
    # verify --builtin --seed 221 and 242 (after the fix above): verify checks each example
    # with fail_fast, which stopped at the first wrong-looking column before the Taylor
    # test was asked, so the same iv input as a 1-element array was "wrong value"
    import scipy.special as sp

    from adcheck.check.check_adjoint import run_rule_check

    rule = ad.registry.lookup(sp.iv)
    args = (np.array([1]), np.array([5.7135878155745195e-307]))
    r = run_rule_check(sp.iv, rule.rule, args, {}, mode="full", seed=0, fail_fast=True)
    assert r.verdict == "inconclusive"
    assert ad.verify(sp.iv, seed=221, raise_exception=False).passed


def test_a_wrong_iv_rule_there_still_fails_when_stopping_early():
    import scipy.special as sp

    from adcheck.check.check_adjoint import run_rule_check

    def wrong(v, x):  # 0.6 where the slope is 0.5 (I1'(0) = 1/2)
        return sp.iv(v, x), lambda dy: (None, dy * 0.6 * (sp.iv(0, x) + 0 * x))

    r = run_rule_check(sp.iv, wrong, (np.array([1]), np.array([5.7135878155745195e-307])), {},
                       mode="full", seed=0, fail_fast=True)
    assert r.verdict == "fail"
    assert [f.kind for f in r.failures] == ["value"]


def test_a_wrong_exp_confirmed_by_the_taylor_test_is_still_a_value_failure():
    with ad.scoped_rules():
        result = ad.check_adjoint(_exp_rule(2.0), np.array([0.5, 1e-20]),
                                  raise_exception=False)
    assert result.verdict == "fail"
    assert any(f.kind == "value" and "confirmed by the Taylor" in f.message
               for f in result.failures)


def test_fast_mode_with_an_allowance_that_dwarfs_the_noise_does_not_crash():
    # verify --builtin --seed 248 crashed in einsum: the quick line's noise / allowance
    # underflowed to 0 and math.log2(0) raised ("math domain error")
    x = np.linspace(-1e-300, 1e-300, 100)
    result = ad.check_adjoint(np.multiply, x, np.zeros(100), mode="fast", atol=1e20, seed=0)
    assert result.passed and result.evaluations > 0


def _xlog1py_at_subnormal_outputs():
    y = np.zeros((3, 3, 2))
    y[2, 2, 1] = 5.960464477539063e-08
    return np.array(5.185810211876649e-308), y


@pytest.mark.parametrize("seed", [0, 1, 15])
def test_subnormal_outputs_carry_their_round_off_into_the_dot_product(seed):
    # verify --builtin --seed 242: xlog1py(5.2e-308, y) has outputs of 1e-315; a probe's
    # <Δ, J v> summed 19 of them, off by 1.1e-320 (2250 subnormals) against an allowance of
    # 8.1e-321 ("no single entry is wrong on its own"). Seeds 1 and 15 failed so.
    import scipy.special as sp

    assert ad.check_adjoint(sp.xlog1py, *_xlog1py_at_subnormal_outputs(), mode="fast",
                            seed=seed).passed


@pytest.mark.parametrize("factor", [1.01, 0.0])
def test_a_wrong_xlog1py_rule_at_subnormal_outputs_still_fails(factor):
    import scipy.special as sp

    def wrong(x, y):  # the y cotangent x/(1+y) scaled by `factor`
        return sp.xlog1py(x, y), lambda dy: (np.sum(dy * np.log1p(y)),
                                             factor * dy * x / (1 + y))

    with ad.scoped_rules():
        ad.adjoint(sp.xlog1py)(wrong)
        result = ad.check_adjoint(sp.xlog1py, *_xlog1py_at_subnormal_outputs(), mode="fast",
                                  seed=0, raise_exception=False)
    assert result.verdict == "fail"


XLOGY_TINY = (np.array(5.600265634078116e-161), np.array(0.015625))


def _check_xlogy_with_drawn_cotangent(rule=None):
    import scipy.special as sp

    from adcheck.check.check_adjoint import run_rule_check
    from adcheck.registry import lookup

    rule = rule or lookup(sp.xlogy).rule
    # verify --builtin --seed 289 drew Δ = x: the y cotangent Δ·x/y forms Δ·x = 3.1e-321,
    # 640 subnormal steps, and came out 13 steps off (6.4e-323 against a tolerance of 4e-323)
    return run_rule_check(sp.xlogy, rule, XLOGY_TINY, {}, mode="full", seed=0,
                          cotangents=(np.array([5.600265634078116e-161]),), kind="verify",
                          fail_fast=True)


def test_a_drawn_cotangent_whose_pullback_underflows_inside_the_rule_passes():
    result = _check_xlogy_with_drawn_cotangent()
    assert result.verdict == "pass", result.report()


@pytest.mark.parametrize("factor", [1.01, 1.001, 0.0])
def test_a_wrong_xlogy_rule_at_a_tiny_drawn_cotangent_still_fails(factor):
    import scipy.special as sp

    def wrong(x, y):  # right x cotangent; the y cotangent x/y scaled by `factor`
        return sp.xlogy(x, y), lambda dy: (dy * np.log(y), factor * (dy * x) / y)

    result = _check_xlogy_with_drawn_cotangent(wrong)
    assert result.verdict == "fail", result.report()


def test_the_underflow_allowance_is_zero_where_nothing_underflows():
    import scipy.special as sp

    from adcheck.check.compare import _underflow_rounding
    from adcheck.check.problem import RuleProblem
    from adcheck.registry import lookup

    args = (np.array(0.7), np.array(3.0))
    rule = lookup(sp.xlogy).rule
    _, back = rule(*args)
    problem = RuleProblem(sp.xlogy, rule, args, {}, back=back)
    d = np.array([0.001])
    got = problem.pull(d).flat
    tiny = float(np.finfo(float).smallest_subnormal)
    assert np.all(_underflow_rounding(problem, d, got) == 2 * tiny)
    assert _underflow_rounding(problem, np.array([0.75]), got) is None


def test_the_output_relative_cotangent_stays_finite_for_subnormal_outputs():
    from adcheck.check.compare import _relative_cotangent

    f0 = np.array([0.0, 3e-316, 1e-320, 0.0, 5e-308])
    dy = _relative_cotangent(np.random.default_rng(0), f0)
    assert np.all(np.isfinite(dy)) and np.count_nonzero(dy) == 5
    # outputs weigh alike: |Δ_i F_i| is the same size wherever F_i is not 0
    ratio = np.abs(dy * f0)[f0 != 0]
    assert ratio.max() / ratio.min() < 2.0**12


def test_the_smallest_exact_step_of_a_subnormal_direction_is_not_infinite():
    # directions scaled to inputs near 5e-308 have subnormal entries, whose lowest set bit
    # 2**(expo - 53) underflowed to 0 (a division by zero, an infinite smallest step)
    from adcheck.check.lines import LineEstimator
    from adcheck.check.problem import RuleProblem

    x0 = np.array([5.185810211876649e-308, 1.0])
    est = LineEstimator(RuleProblem(np.sin, None, (x0,), {}))
    v = np.array([3 * 2.0**-1030, 0.375])
    spacing = float(np.spacing(x0[0]))  # 2**-1073
    assert spacing == 2.0**-1073
    assert est._min_step(v) == max(2 * spacing / 2.0**-1030, 2 * 2.0**-52 / 0.125)


def _cos_rule(cotangent):
    fn = ad.primitive(lambda x: np.cos(x))

    @ad.adjoint(fn)
    def _(x):
        return np.cos(x), lambda dy: (cotangent(x, dy),)

    return fn


@pytest.mark.parametrize("x", [np.full(40, 1e14), np.array([1e14, 2e14, 3e14])],
                         ids=["40 at 1e14", "1e14 2e14 3e14"])
@pytest.mark.parametrize("seed", range(3))
def test_fast_mode_judges_cos_at_1e14_on_the_float_grid(x, seed):
    # fast mode at 1e14 (spacing 0.016) read kinks of 1e13 and slopes off by O(1) from
    # steps that alias cos's period; every seed failed the right rule
    assert ad.check_adjoint(np.cos, x, mode="fast", seed=seed).passed


@pytest.mark.parametrize("seed", range(2))
def test_fast_mode_leaves_cos_on_a_coarser_grid_undecided_not_wrong(seed):
    x = np.concatenate([np.linspace(1e14, 3e15, 30), np.ones(10)])
    result = ad.check_adjoint(np.cos, x, mode="fast", seed=seed, raise_exception=False)
    assert result.verdict == "inconclusive"
    assert not [f for f in result.failures if f.kind in ("value", "kink")]


@pytest.mark.parametrize("wrong", [lambda x, dy: dy * np.sin(x),
                                   lambda x, dy: -1.01 * dy * np.sin(x),
                                   lambda x, dy: -dy * np.sin(x) + 1e-3],
                         ids=["sign", "1%", "1e-3 absolute"])
@pytest.mark.parametrize("x", [np.full(40, 1e14), np.linspace(1e14, 3e15, 40)],
                         ids=["at 1e14", "1e14 to 3e15"])
def test_wrong_cos_rules_at_1e14_still_fail_in_fast_mode(wrong, x):
    with ad.scoped_rules():
        result = ad.check_adjoint(_cos_rule(wrong), x, mode="fast", seed=0,
                                  raise_exception=False)
    assert result.verdict == "fail"


def test_an_entry_wrong_at_1_beside_30_at_1e15_is_named_in_fast_mode():
    # the bisection named five aliased entries at 1e15 first; without them (and every entry
    # on as coarse a grid) the probe is bisected again and finds x[39]
    x = np.array([1e15] * 30 + [1.0] * 10)
    scale = np.where(np.arange(40) == 39, 1.5, 1.0)
    with ad.scoped_rules():
        result = ad.check_adjoint(_cos_rule(lambda x, dy: -dy * np.sin(x) * scale), x,
                                  mode="fast", seed=0, raise_exception=False)
    (named,) = [f for f in result.failures if f.kind == "value"]
    assert named.path == "x[39]"
    # the entry is off by half of -sin(1)·Δ_39; the headline is its error, not the aliased
    # probe's (1e15)
    assert abs(named.got - named.expected) == pytest.approx(abs(named.expected) / 2, rel=1e-6)
    assert result.max_error == pytest.approx(abs(named.got - named.expected))


def test_the_grid_floor_counts_only_outputs_that_move_along_an_entry_or_a_direction():
    # the floor a fast-mode grid estimate is judged against (see compare._entry_floor); a
    # probe of more than 64 entries asks it for a whole direction, which once indexed x0
    # with the direction itself
    from adcheck.check.compare import _entry_floor, as_oracle
    from adcheck.check.lines import LineEstimator
    from adcheck.check.problem import RuleProblem

    x0 = np.array([2.0, 0.5, 3e3])
    problem = RuleProblem(np.sin, ad.registry.lookup(np.sin).rule, (x0,), {})
    est = as_oracle(LineEstimator(problem))
    dy = np.array([1.0, -2.0, 0.5])
    assert _entry_floor(problem, est, 2, dy) == pytest.approx(0.5 * abs(np.sin(3e3)) / 3e3)
    assert _entry_floor(problem, est, np.array([0.0, 4.0, 0.0]), dy) == pytest.approx(
        2 * np.sin(0.5) * 4)
    assert _entry_floor(problem, est, np.array([1.0, 0.0, 1500.0]), dy) == pytest.approx(
        (np.sin(2.0) + 0.5 * abs(np.sin(3e3))) * 0.5)


def _trace_product_beside_a_tiny_entry():
    # verify --builtin --seed 407 (fast mode): einsum('ii,jj,->', A, B, C) with A = 0 and
    # B[0, 0] = 5.2e-37 beside B[0, 1] = 1. Sparse probes move B[0, 0] and B[2, 2] by
    # ±2**-10 of the step: the trace T + s - s loses T (in the inputs, or in einsum's own
    # sum), the line reads exactly 0, and the directional derivative is about 1e-37.
    a = np.zeros((2, 2))
    b = np.zeros((3, 3))
    b[0, 0], b[0, 1] = 5.1614985599981565e-37, 1.0
    return a, [34, 34], b, [36, 36], np.array(1.0), []


@pytest.mark.parametrize("seed", [0, 26])  # 0: B[0, 0] rounds; 26: einsum's sum cancels
def test_a_probe_whose_line_misses_the_point_is_not_a_failure(seed):
    result = ad.check_adjoint(np.einsum, *_trace_product_beside_a_tiny_entry(), mode="fast",
                              seed=seed, raise_exception=False)
    assert result.verdict != "fail", result.report()
    assert any("cannot decide" in f.message for f in result.failures), result.report()


@pytest.mark.parametrize("factor", [1.01, 0.0])
def test_a_wrong_einsum_rule_beside_a_tiny_entry_still_fails(factor):
    builtin = ad.registry.lookup(np.einsum).rule

    def wrong(*args):  # the cotangent of A scaled by `factor`
        value, back = builtin(*args)

        def pull(dy):
            grads = list(back(dy))
            grads[0] = factor * grads[0]
            return tuple(grads)
        return value, pull

    with ad.scoped_rules():
        ad.adjoint(np.einsum)(wrong)
        for seed in (0, 26):
            result = ad.check_adjoint(np.einsum, *_trace_product_beside_a_tiny_entry(),
                                      mode="fast", seed=seed, raise_exception=False)
            assert result.verdict == "fail", result.report()


def test_an_error_spread_over_every_entry_still_fails_in_fast_mode():
    # sum(sin(x)) with cos(x) + 1e-7 over 4,000 entries in [0.5, 2]: no entry is wrong on
    # its own, and an input rounding by an ulp at the probe's steps is every step's lot,
    # not a line that misses the point
    @ad.primitive
    def f(x):
        return np.sum(np.sin(x))

    x = np.random.default_rng(0).uniform(0.5, 2.0, 4000)
    with ad.scoped_rules():
        ad.adjoint(f)(lambda x: (f(x), lambda dy: (dy * (np.cos(x) + 1e-7),)))
        r = ad.check_adjoint(f, x, mode="fast", seed=1, raise_exception=False)
    assert r.verdict == "fail", r.report()
    assert any(fl.kind == "value" for fl in r.failures)


@pytest.mark.parametrize("seed", [4, 19])
def test_a_step_that_outgrew_its_error_bound_is_not_a_failure(seed):
    # verify --builtin --order 2 --seed 416: erf at 7.28125 is 1.0 to the last bit, so a
    # probe's step grew until its stencil reached 4.8 (erf - 1 = -1e-11), beyond the span its
    # error bound was measured over: -1.6e-11 ± 6e-13 for a slope of 1e-23
    import scipy.special as sp

    r = ad.check_adjoint(sp.erf, np.full((3, 3, 3), 7.28125), mode="fast", seed=seed,
                         raise_exception=False)
    assert r.verdict == "pass", r.report()


def test_a_wrong_erf_rule_where_erf_is_flat_still_fails():
    import scipy.special as sp

    with ad.scoped_rules():  # the slope of erf at 0 everywhere: 1.13 where it is 1e-23
        ad.adjoint(sp.erf)(lambda x: (sp.erf(x), lambda dy: (dy * 2 / np.sqrt(np.pi),)))
        for mode in ("fast", "full"):
            r = ad.check_adjoint(sp.erf, np.full((3, 3, 3), 7.28125), mode=mode, seed=4,
                                 raise_exception=False)
            assert r.verdict == "fail", r.report()
