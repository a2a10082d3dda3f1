"""Second-order checks (``order=2``): rules right in value but whose pullback cannot be
differentiated correctly are caught and named; correct rules pass; CLI and plugin options.

Expected numbers are analytic second derivatives: for ``y = sin(x)`` the pullback is
``P(x, dy) = dy·cos(x)``, so ``∂P/∂x = -dy·sin(x)`` and ``∂P/∂dy = cos(x)``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from adcheck.cli.main import cli
from click.testing import CliRunner

import adcheck as ad
from adcheck import registry
from adcheck.check.check_adjoint import run_rule_check

X = np.array([0.5, -1.2])
DY = np.array([0.75, -1.5])


@pytest.fixture
def mysin():
    """A fresh primitive computing sin, with no rule yet (rules are scoped to the test)."""
    with ad.scoped_rules():

        @ad.primitive
        def mysin(x):
            return np.sin(x)

        yield mysin


def second_order_failures(result) -> list:
    return [f for f in result.failures if f.message.startswith("second order")]


def check_at_dy(fn, x=X, dy=DY, **kw):
    """``check_adjoint(order=2)`` at a known output cotangent ``dy`` (so that the expected
    second derivatives can be written down)."""
    rule = registry.lookup(fn)
    return run_rule_check(fn, rule.rule, (x,), {}, seed=0, cotangents=(dy,), order=2, **kw)


# -- correct rules pass ----------------------------------------------------------------------


@pytest.mark.parametrize("fn", [np.sin, np.exp, np.tanh])
def test_correct_unary_rules_pass_at_order_2_and_report_the_cost(fn):
    r = ad.check_adjoint(fn, X, order=2, seed=0)
    assert r.passed, r.report()
    assert r.second_order["examples"] == 1
    assert r.second_order["evaluations"] > 0 and r.second_order["seconds"] > 0
    assert any(n.startswith("second order: passed") for n in r.notes)
    first = ad.check_adjoint(fn, X, order=1, seed=0)
    assert first.second_order is None
    assert r.evaluations > first.evaluations  # the second order's cost is counted in


def test_matmul_passes_at_order_2():
    a = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
    b = np.array([[0.5, 1.0], [-1.5, 2.0], [1.0, 0.75]])
    r = ad.check_adjoint(np.matmul, a, b, order=2, seed=0)
    assert r.passed, r.report()
    assert r.second_order["evaluations"] > 0


def test_a_custom_rule_with_a_twice_differentiable_pullback_passes(mysin):
    @ad.adjoint(mysin)
    def _(x):
        return mysin(x), lambda dy: (dy * np.cos(x),)

    r = ad.check_adjoint(mysin, X, order=2, seed=0)
    assert r.passed, r.report()
    # and the engine's second derivative through it is the analytic one
    h = ad.hessian(lambda x: mysin(x).sum(), X)
    np.testing.assert_allclose(h, np.diag(-np.sin(X)), rtol=1e-12)


def test_float32_inputs_are_checked_at_second_order_in_float64():
    r = ad.check_adjoint(np.tanh, np.array([0.5, -2.0], np.float32), order=2, seed=0)
    assert r.passed, r.report()
    assert any("float64 values of the float32 inputs" in n for n in r.notes)


# -- second-order-only bugs are caught -------------------------------------------------------


def test_a_pullback_using_math_cos_of_a_plain_float_fails_clearly(mysin):
    @ad.adjoint(mysin)
    def _(x):
        return mysin(x), lambda dy: (dy * math.cos(x),)

    assert ad.check_adjoint(mysin, 0.5, seed=0).passed  # right in value
    r = ad.check_adjoint(mysin, 0.5, order=2, seed=0, raise_exception=False)
    assert not r.passed and r.verdict == "fail"
    [f] = second_order_failures(r)
    assert f.kind == "error"
    assert f.message.startswith("second order: the pullback of mysin cannot be differentiated")
    assert "float() of a traced value" in f.message


def test_a_pullback_that_calls_np_asarray_leaves_the_tape_and_fails(mysin):
    @ad.adjoint(mysin)
    def _(x):
        return mysin(x), lambda dy: (dy * np.cos(np.asarray(x)),)

    assert ad.check_adjoint(mysin, X, seed=0).passed
    with pytest.raises(ad.GradientMismatch, match="second order: the pullback of mysin"):
        ad.check_adjoint(mysin, X, order=2, seed=0)
    r = ad.check_adjoint(mysin, X, order=2, seed=0, raise_exception=False)
    [f] = second_order_failures(r)
    assert f.kind == "error" and "np.asarray" in f.message


def test_a_pullback_using_a_constant_copy_of_x_is_caught_with_the_analytic_numbers(mysin):
    @ad.adjoint(mysin)
    def _(x):
        x_const = np.round(x, 14)  # equal to x in value, but a constant on the tape
        return mysin(x), lambda dy: (dy * np.cos(x_const),)

    assert ad.check_adjoint(mysin, X, seed=0).passed
    r = check_at_dy(mysin)
    assert not r.passed
    wrong = {f.path: f for f in second_order_failures(r) if f.kind == "value"}
    assert set(wrong) == {"x[0]", "x[1]"}  # ∂P/∂dy = cos(x) is right: no dy entry
    for i in range(2):
        assert wrong[f"x[{i}]"].got == 0.0
        assert wrong[f"x[{i}]"].expected == pytest.approx(-DY[i] * np.sin(X[i]), rel=1e-6)
    assert "back(dy)" in wrong["x[0]"].message


def test_a_derivative_from_a_function_declared_non_differentiable_is_caught(mysin):
    @ad.primitive
    def cos_table(x):  # a lookup table or compiled kernel: declared piecewise constant
        return np.cos(x)

    with ad.scoped_rules():  # the declaration and the rule are removed on exit
        registry.nondifferentiable(cos_table)
        @ad.adjoint(mysin)
        def _(x):
            return mysin(x), lambda dy: (dy * cos_table(x),)

        assert ad.check_adjoint(mysin, X, seed=0).passed
        r = check_at_dy(mysin)
        assert {f.path for f in second_order_failures(r)} == {"x[0]", "x[1]"}


def test_a_wrong_rule_inside_the_pullback_is_named(mysin):
    @ad.primitive
    def dsin(x):
        return np.cos(x)

    @ad.adjoint(dsin)
    def _(x):
        return dsin(x), lambda dy: (dy * np.sin(x),)  # sign error: d cos = -sin

    @ad.adjoint(mysin)
    def _(x):
        return mysin(x), lambda dy: (dy * dsin(x),)

    assert ad.check_adjoint(mysin, X, seed=0).passed
    r = check_at_dy(mysin)
    wrong = {f.path: f for f in second_order_failures(r)}
    assert wrong["x[1]"].got == pytest.approx(DY[1] * np.sin(X[1]), rel=1e-9)
    assert wrong["x[1]"].expected == pytest.approx(-DY[1] * np.sin(X[1]), rel=1e-6)
    assert any("calls dsin" in d and "whose own rule is wrong" in d for d in r.details)


def test_a_pullback_that_drops_a_term_of_its_second_derivative_is_caught():
    # x·sin(x): the pullback dy·(sin(x) + x·cos(x)) is right; here its derivative term
    # through sin(x) is lost (sin computed by a non-differentiable helper)
    with ad.scoped_rules():

        @ad.primitive
        def xsin(x):
            return x * np.sin(x)

        @ad.primitive
        def plain_sin(x):
            return np.sin(x)

        registry.nondifferentiable(plain_sin)

        @ad.adjoint(xsin)
        def _(x):
            return xsin(x), lambda dy: (dy * (plain_sin(x) + x * np.cos(x)),)

        assert ad.check_adjoint(xsin, X, seed=0).passed
        r = run_rule_check(xsin, registry.lookup(xsin).rule, (X,), {}, seed=0,
                           cotangents=(DY,), order=2)
    wrong = {f.path: f for f in second_order_failures(r)}
    for i in range(2):
        # d²/dx² (x sin x) = 2 cos x - x sin x; the broken pullback gives cos x - x sin x
        assert wrong[f"x[{i}]"].expected == pytest.approx(
            DY[i] * (2 * np.cos(X[i]) - X[i] * np.sin(X[i])), rel=1e-6)
        assert wrong[f"x[{i}]"].got == pytest.approx(
            DY[i] * (np.cos(X[i]) - X[i] * np.sin(X[i])), rel=1e-9)


def test_a_rule_wrong_at_first_order_is_not_checked_at_second(mysin):
    @ad.adjoint(mysin)
    def _(x):
        return mysin(x), lambda dy: (-dy * np.cos(x),)

    r = ad.check_adjoint(mysin, X, order=2, seed=0, raise_exception=False)
    assert not r.passed and not second_order_failures(r)
    assert "second order: not checked, the first order failed" in r.notes


def test_higher_order_false_checks_the_first_order_only_and_says_so(mysin):
    @ad.adjoint(mysin, higher_order=False)
    def _(x):
        return mysin(x), lambda dy: (dy * np.cos(np.asarray(x)),)

    assert registry.lookup(mysin).higher_order is False
    r = ad.check_adjoint(mysin, X, order=2, seed=0)
    assert r.passed and r.second_order is None
    assert any("declares higher_order=False" in n for n in r.notes)


def test_order_must_be_1_or_2():
    with pytest.raises(ValueError, match="order must be 1 or 2, got 3"):
        ad.check_adjoint(np.sin, X, order=3)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        ad.gradcheck(np.sin, X, order=0)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        ad.verify(np.sin, order=True)


# -- gradcheck and verify --------------------------------------------------------------------


def test_gradcheck_order_2_passes_a_correct_composite_and_localises_a_wrong_rule(mysin):
    f = lambda x, y: np.sum(np.sin(x) * y)  # noqa: E731
    r = ad.gradcheck(f, X, DY, order=2, seed=0)
    assert r.passed and r.second_order["evaluations"] > 0

    @ad.adjoint(mysin)
    def _(x):
        x_const = np.round(x, 14)
        return mysin(x), lambda dy: (dy * np.cos(x_const),)

    g = lambda x: np.sum(mysin(x) ** 2)  # noqa: E731
    assert ad.gradcheck(g, X, seed=0).passed
    r = ad.gradcheck(g, X, order=2, seed=0, raise_exception=False)
    assert not r.passed and second_order_failures(r)
    assert any("localised to line 1 of the Wengert list, y1 = mysin(x)" in d
               for d in r.details)
    assert r.location == registry.lookup(mysin).source


def test_verify_order_2_finds_a_second_order_bug_and_passes_correct_rules(mysin):
    r = ad.verify(np.tanh, max_examples=8, seed=1, order=2)
    assert r.passed and r.second_order["examples"] == r.examples == 8
    assert any(n.startswith("second order: checked at 8 of 8 examples") for n in r.notes)

    @ad.adjoint(mysin)
    def _(x):
        x_const = np.round(x, 14)
        return mysin(x), lambda dy: (dy * np.cos(x_const),)

    assert ad.verify(mysin, max_examples=8, seed=1).passed
    r = ad.verify(mysin, max_examples=8, seed=1, order=2, raise_exception=False)
    assert not r.passed and r.smallest_input is not None
    assert second_order_failures(r)


# -- CLI and pytest plugin -------------------------------------------------------------------

SECOND_ORDER_BUG = '''
import numpy as np
import adcheck as ad


@ad.primitive
def mysin(x):
    return np.sin(x)


@ad.adjoint(mysin)
def _mysin(x):
    x_const = np.round(x, 14)   # right in value, a constant at second order
    return mysin(x), lambda dy: (dy * np.cos(x_const),)
'''


def _cli(*args: object):
    with registry.scoped_rules():
        return CliRunner(env={"COLUMNS": "200"}).invoke(cli, [str(a) for a in args],
                                                         catch_exceptions=False)


def test_cli_order_2_exit_codes(tmp_path: Path):
    target = tmp_path / "second_order_bug.py"
    target.write_text(SECOND_ORDER_BUG)
    fast = ["--max-examples", "6", "--seed", "1"]
    assert _cli("verify", target, *fast).exit_code == 0
    failed = _cli("verify", target, *fast, "--order", "2")
    assert failed.exit_code == 1, failed.output
    assert "second order:" in failed.output
    assert "--order 2" in failed.output  # the replay command keeps the option
    ok = _cli("verify", "--builtin", "-k", "tanh", *fast, "--order", "2")
    assert ok.exit_code == 0, ok.output
    assert _cli("verify", target, "--order", "3").exit_code == 2


def test_plugin_order_option_reaches_rule_items_and_fixtures(pytester: pytest.Pytester):
    pytester.makepyfile(myrules=SECOND_ORDER_BUG)
    pytester.makepyfile(test_fixture='''
        import numpy as np
        from myrules import mysin

        def test_check_adjoint_fixture(check_adjoint):
            check_adjoint(mysin, np.array([0.5, -1.2]))
    ''')
    args = ("--adcheck-verify=myrules.py", "--adcheck-max-examples=6", "--adcheck-seed=1",
            "-p", "no:cacheprovider")
    with registry.scoped_rules():
        first = pytester.runpytest_inprocess(*args)
    first.assert_outcomes(passed=2)
    with registry.scoped_rules():
        second = pytester.runpytest_inprocess(*args, "--adcheck-order=2")
    second.assert_outcomes(failed=2)
    out = second.stdout.str()
    assert "second order:" in out
    assert "--adcheck-order=2" in out  # in the rule item's replay command


# -- second-order bugs found in built-in rules -----------------------------------------------


def _jvp_by_double_reverse(f, a, v, u0):
    """``J v`` of ``f`` at ``a`` as the engine computes it by differentiating the pullback
    ``u -> back(u)`` at the cotangent ``u0`` (the pullback is linear in ``u``)."""
    def pulled(u):
        _, back = ad.pullback(f, a)
        return np.sum(back(u)[0] * v)

    return ad.gradient(pulled, u0)[0]


def test_lstsq_pullback_differentiates_in_a_zero_singular_value_cotangent():
    # the pullback skipped the singular-value term when its cotangent was 0 at run time, so
    # an outer level differentiating in that cotangent got 0 instead of ds/da·v
    a = np.array([[2.0, 0.5], [0.25, 1.5], [1.0, -1.0]])
    b = np.array([1.0, -2.0, 0.5])
    v = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 1.0]])
    got = _jvp_by_double_reverse(lambda a: np.linalg.lstsq(a, b)[3], a, v, np.zeros(2))
    h = 1e-6
    want = (np.linalg.svd(a + h * v, compute_uv=False)
            - np.linalg.svd(a - h * v, compute_uv=False)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-7)
    # and through the residuals (envelope theorem: d|r|² = 2 rᵀ(db - da x))
    got = _jvp_by_double_reverse(lambda a: np.linalg.lstsq(a, b)[1], a, v, np.zeros(1))
    res = lambda a: np.linalg.lstsq(a, b)[1]  # noqa: E731
    np.testing.assert_allclose(got, (res(a + h * v) - res(a - h * v)) / (2 * h), rtol=1e-6)


def test_eigh_pullback_differentiates_in_a_zero_eigenvector_cotangent():
    a = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, -1.0]])
    v = np.array([[0.5, 1.0, -0.5], [1.0, 0.25, 0.75], [-0.5, 0.75, 1.5]])
    got = _jvp_by_double_reverse(lambda a: np.linalg.eigh(a)[1], a, v, np.zeros((3, 3)))
    h = 1e-6
    v0 = np.linalg.eigh(a)[1]

    def vectors(a):  # each eigenvector with the sign of a's (LAPACK may flip it)
        w = np.linalg.eigh(a)[1]
        return w * np.sign(np.sum(w * v0, axis=0))

    want = (vectors(a + h * v) - vectors(a - h * v)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_a_pullback_that_skips_a_term_when_its_cotangent_is_zero_is_caught():
    # right in value at every cotangent; but with dc = 0 at run time the term is skipped,
    # so an outer level differentiating in dc gets 0 (the old eigh and lstsq bug)
    with ad.scoped_rules():

        @ad.primitive
        def sincos(x):
            return np.sin(x), np.cos(x)

        @ad.adjoint(sincos, domain=ad.domains.real(-3, 3))
        def _(x):
            def back(dy):
                ds, dc = dy
                g = ds * np.cos(x)
                if np.any(dc != 0):
                    g = g - dc * np.sin(x)
                return (g,)

            return sincos(x), back

        assert ad.verify(sincos, max_examples=6, seed=3).passed
        r = ad.verify(sincos, max_examples=6, seed=3, order=2, raise_exception=False)
    assert not r.passed
    assert any(f.path.startswith("dy[1]") for f in second_order_failures(r)), r.report()


def test_a_pullback_that_is_rounding_noise_around_0_passes():
    # cond of a 1x1 matrix is 1 everywhere: the pullback is the difference of two equal
    # terms, ±6e-17 of rounding, and finite differences of that noise are no derivative
    a = np.array([[[2.5]]])
    assert abs(ad.gradient(lambda a: np.linalg.cond(a, "fro").sum(), a)[0].item()) < 1e-15
    r = ad.check_adjoint(np.linalg.cond, a, p="fro", order=2, seed=0)
    assert r.passed, r.report()
    # corrcoef of one variable is 1: its rule cancels exactly (P = 0), but the engine's
    # pullback of P carries the rounding of its terms (1e-17)
    x = np.array([5.365883939231586, -0.6309827765729928, -2.5250665514892865])
    assert np.all(ad.gradient(lambda x: np.corrcoef(x, rowvar=False), x)[0] == 0)
    for seed in range(3):
        r = ad.check_adjoint(np.corrcoef, x, rowvar=False, order=2, seed=seed)
        assert r.passed, r.report()


def test_np_i0_has_second_derivatives_through_the_bessel_rules():
    # np.i0's pullback is dy·i1(x): scipy.special.i1 had no rule, so the Hessian raised
    sp = pytest.importorskip("scipy.special")
    x = np.array([0.0, 0.7, -2.0])
    h = ad.hessian(lambda x: np.i0(x).sum(), x)
    # I0'' = I1' = I0 - I1 / x (1/2 at 0): an identity the rules do not use
    want = np.where(x == 0, 0.5, sp.i0(x) - sp.i1(x) / np.where(x == 0, 1.0, x))
    np.testing.assert_allclose(h, np.diag(want), rtol=1e-12)
    from tests.finite import central
    np.testing.assert_allclose(ad.gradient(lambda x: sp.iv(2, x).sum(), x)[0],
                               central(lambda x: sp.iv(2, x).sum(), x), rtol=1e-7, atol=1e-9)
    assert ad.check_adjoint(np.i0, x, order=2, seed=0).passed
    with pytest.raises(ad.NotDifferentiable, match="in the order v is not implemented"):
        ad.gradient(lambda v: sp.iv(v, 1.0), 1.0)


def test_subnormal_inputs_are_checked_at_order_2():
    # their scales squared underflow to 0 (the rounding floor divided by it)
    x = np.array([1e-310, 3e-320])
    r = check_at_dy(np.cos, x=x)
    assert r.passed, r.report()
    assert r.second_order["examples"] == 1


QR_TINY_DR = np.array([1.0, 8.18104477e-130])  # (dQ, dR) drawn by verify --order 2 --seed 402


def test_second_order_steps_along_a_tiny_cotangent_leaf_share_the_cotangent_scale():
    # qr of [[0.5]] pulls (1, 8.2e-130) back to exactly 0: dR is lost beside terms of 1.
    # Steps of dR's own size read d back / d dR = 0 where it is 1.
    rule = registry.lookup(np.linalg.qr)
    result = run_rule_check(rule.fn, rule.rule, (np.array([[0.5]]),), {}, seed=0,
                            cotangents=(QR_TINY_DR,), kind="verify", order=2, fail_fast=True)
    assert result.verdict == "pass", result.report()


def test_a_pullback_with_a_constant_copy_still_fails_beside_a_tiny_cotangent_leaf():
    def wrong(a, mode="reduced"):  # a constant copy of a: its slope 3·dQ is lost
        a_const = np.round(a, 14)  # equal to a in value, but a constant on the tape

        def back(dy):
            d_q, d_r = dy
            return (d_r + 3.0 * d_q * (a_const - 0.5),)
        return np.linalg.qr(a, mode=mode), back

    with ad.scoped_rules():
        ad.adjoint(np.linalg.qr)(wrong)
        rule = registry.lookup(np.linalg.qr)
        result = run_rule_check(rule.fn, rule.rule, (np.array([[0.5]]),), {}, seed=0,
                                cotangents=(QR_TINY_DR,), kind="verify", order=2)
    # not passed: the slope lost is 3·dQ, but the steps along a are judged beside dR
    assert result.verdict in ("fail", "inconclusive"), result.report()
    assert not result.passed


COND_AT_KINKS = np.array([np.diag([-1.0, -2.0, -4.0])] * 2)  # off-diagonal zeros: |x| kinks


def _cond_at_kinks(rule, dy, mode, seed):
    return run_rule_check(rule.fn, rule.rule, (COND_AT_KINKS,), {"p": 1}, seed=seed,
                          mode=mode, cotangents=(dy,), kind="verify", order=2, fail_fast=True)


def test_second_order_at_a_kink_of_the_pullback_is_a_kink_not_a_failure():
    # verify --builtin --order 2 --seed 402, probe seed 17: along 'sparse(8)' the pullback of
    # cond(p=1) has slopes 8.96 (left) and 7.99 (right); the engine, on the branch of the
    # point itself (sign(0) = 0), gives 10.72, outside both: that is no wrong rule
    rule = registry.lookup(np.linalg.cond)
    result = _cond_at_kinks(rule, np.zeros(2), "fast", 17)
    assert result.verdict == "pass", result.report()
    assert any(f.kind == "kink" for f in result.failures), result.report()


_BUILTIN_COND = registry.lookup(np.linalg.cond).rule


def _cond_with_a_constant_copy(x, p=None):
    _, back = _BUILTIN_COND(np.round(x, 14), p=p)  # a constant copy: d back / dx is lost
    return np.linalg.cond(x, p), back


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_a_pullback_with_a_constant_copy_still_fails_at_a_kink_of_the_pullback(mode):
    with ad.scoped_rules():
        ad.adjoint(np.linalg.cond)(_cond_with_a_constant_copy)
        rule = registry.lookup(np.linalg.cond)
        for seed in (1, 17):
            result = _cond_at_kinks(rule, np.array([1.0, -0.5]), mode, seed)
            assert result.verdict == "fail", result.report()
            assert any(f.kind == "value" for f in result.failures)


# verify --builtin --order 2 --seed 404: A[2, 1] = 0 meets a zero of inv(A)[2, 0], which
# the 1-norm of the inverse takes the absolute value of: cond(A, 1) has slopes -0.985 and
# 1.025 along A[2, 1], and its pullback jumps there. The pullback at A is the sign(0) = 0
# midpoint, so finite differences read jump / h (7.9e14 at h = 1e-32) from both sides alike.
COND_WHERE_F_IS_KINKED = np.array([[-1.0, 0.0, 0.02], [0.02, -2.0, 0.0], [0.0, 0.0, -4.0]])


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("seed", [0, 2])
def test_second_order_where_the_function_itself_has_a_kink_is_a_kink(mode, seed):
    r = ad.check_adjoint(np.linalg.cond, COND_WHERE_F_IS_KINKED, p=1, order=2, mode=mode,
                         seed=seed, raise_exception=False)
    kinks = [f for f in r.failures if "the function itself has a kink" in f.message]
    assert kinks, r.report()
    if mode == "full":  # one output at a time: those that jump are kinks, the rest pass
        assert r.verdict == "pass" and all(f.kind == "kink" for f in kinks), r.report()
    else:  # a probe's cotangent mixes outputs that jump with outputs that do not
        assert r.verdict != "fail", r.report()
        assert all(f.kind in ("kink", "inconclusive") for f in kinks), r.report()


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("seed", [0, 2])
def test_a_constant_copy_still_fails_where_the_function_has_a_kink(mode, seed):
    with ad.scoped_rules():
        ad.adjoint(np.linalg.cond)(_cond_with_a_constant_copy)
        with pytest.raises(ad.GradientMismatch) as info:
            ad.check_adjoint(np.linalg.cond, COND_WHERE_F_IS_KINKED, p=1, order=2, mode=mode,
                             seed=seed)
    assert any(f.kind == "value" for f in info.value.result.failures), str(info.value)


def test_the_kink_that_sets_a_second_order_failure_aside_is_the_functions():
    from adcheck.check.problem import RuleProblem
    from adcheck.check.second_order import function_kinks

    def jumps(x):  # right at 0 and wrong beside it: its pullback jumps, x**2 does not
        return x * x, lambda dy: (dy * (2 * x + (x > 0)),)

    x = np.array([0.0, 1.0])
    smooth = RuleProblem(np.square, jumps, (x,), {}, back=jumps(x)[1])
    assert function_kinks(smooth, np.ones(2))(0, 0.0) is None
    kinked = RuleProblem(np.abs, jumps, (x,), {}, back=jumps(x)[1])
    why = function_kinks(kinked, np.ones(2))(0, 0.0)
    assert why is not None and "-1 from the left, 1 from the right" in why
    assert function_kinks(kinked, np.ones(2))(0, 0.5) is None  # another entry: not asked


def test_a_wrong_output_beside_a_kink_is_still_judged():
    # max at a tie of x[0] and x[2] has a kink along x[0], but the cotangent of x[1] is 0
    # all around: its derivative along x[0] exists (0). A pullback that adds
    # 1e4·(x[0] - a constant copy of x[0]) to it is wrong there, whatever the kink.
    from adcheck.engine.tracer import strip

    def wrong(x):
        def back(dy):
            top = (x == np.max(x)).astype(float)
            lost = x[0] - np.array(strip(x[0]))  # 0 in value, 1 in derivative
            return (dy * top / np.sum(top) + dy * 1e4 * lost * np.array([0.0, 1.0, 0.0]),)
        return np.max(x), back

    with ad.scoped_rules():
        ad.adjoint(np.max)(wrong)
        x = np.array([1.0, 0.5, 1.0])
        full = ad.check_adjoint(np.max, x, order=2, mode="full", seed=0,
                                raise_exception=False)
        fast = ad.check_adjoint(np.max, x, order=2, mode="fast", seed=0,
                                raise_exception=False)
    assert full.verdict == "fail", full.report()
    assert fast.verdict != "pass", fast.report()


@pytest.mark.parametrize("fn", [np.linalg.cond, np.linalg.norm])
@pytest.mark.parametrize("order", [np.inf, -np.inf])
def test_a_parameter_passed_by_position_stays_a_constant_of_the_pullback(fn, order):
    # cond(A, np.inf): the float p is an input the rule gives no cotangent; traced inside
    # P it reached the rule's own `p == "fro"` and raised UFuncTypeError (float vs str)
    a = np.array([[-0.99, 0.01, 0.03], [0.03, -1.99, 0.01], [0.01, 0.01, -3.99]])
    r = ad.check_adjoint(fn, a, order, order=2, mode="full", seed=0, raise_exception=False)
    assert r.verdict == "pass", r.report()
    assert any(n.startswith("second order: passed") for n in r.notes), r.report()


def test_a_float_input_the_rule_differentiates_is_still_checked_at_order_2():
    def wrong(x, p):  # d/dp of x**p right in value, its derivative in x lost (a copy of x)
        from adcheck.engine.tracer import strip

        def back(dy):
            c = np.array(strip(x))
            return dy * p * x ** (p - 1), np.sum(dy * c ** p * np.log(c))
        return x ** p, back

    with ad.scoped_rules():
        ad.adjoint(np.power)(wrong)
        r = ad.check_adjoint(np.power, np.array([1.5, 2.0]), 2.5, order=2, mode="full",
                             seed=0, raise_exception=False)
    assert r.verdict == "fail", r.report()
    assert any("second order" in f.message and f.kind == "value" for f in r.failures)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_output_beside_a_kink_is_measured_on_its_own_steps(seed):
    # verify --builtin --order 2 --seed 404: cond(p=inf) has a kink along x[2, 0] = 0. The
    # outputs of the pullback that jump there took the column's shared steps down to 1e-16,
    # where the others carry 3e-15 of rounding: back[1, 0] read -5.6 for a slope of -0.49.
    # On its own steps it is a kink of its own (slopes -0.497 and 0.497).
    a = np.array([[-2.0, 2e-2, 0.0], [2e-2, 4.0, 2e-2], [0.0, 2.666164124905847e-15, -1.0]])
    r = ad.check_adjoint(np.linalg.cond, a, p=np.inf, order=2, mode="full", seed=seed,
                         raise_exception=False)
    assert r.verdict == "pass", r.report()


def test_the_noise_floor_does_not_read_a_jump_at_the_point_as_noise():
    # norm(x, 1) at [0, 2]: moving x by ±1 ulp crosses sign(0), and a line through both
    # sides read the jump as rounding noise: a floor of 1.2e8 let any wrong term pass
    from adcheck.engine.tracer import strip

    def wrong(x, ord=None):
        def back(dy):  # right in value; d back[1] / d x[1] is 3·dy where it is 0
            lost = x[1] - np.array(strip(x[1]))
            return (dy * np.sign(x) + dy * 3.0 * lost * np.array([0.0, 1.0]), None)
        return np.linalg.norm(x, ord), back

    x = np.array([0.0, 2.0])
    with ad.scoped_rules():
        ad.adjoint(np.linalg.norm)(wrong)
        r = ad.check_adjoint(np.linalg.norm, x, 1, order=2, mode="full", seed=0,
                             raise_exception=False)
    assert r.verdict == "fail", r.report()
    for mode in ("full", "fast"):
        for seed in (0, 1):
            right = ad.check_adjoint(np.linalg.norm, x, 1, order=2, mode=mode, seed=seed,
                                     raise_exception=False)
            assert right.verdict != "fail", right.report()


def test_an_input_whose_cotangent_is_none_at_the_drawn_cotangent_is_still_checked():
    # The pullback skips x2 (None, a symbolic zero) when dv == 0, which is right; its
    # cotangent of x1 carries du·(x2 - a constant copy of x2): 0 in value, but
    # d back[0] / d x2 = du where it is 0. Where the check zeroes dv, x2 must stay an input.
    from adcheck.engine.tracer import strip

    @ad.primitive
    def f(x1, x2):
        return x1 ** 2, x1 * x2

    def rule(x1, x2):
        def back(dys):
            du, dv = dys
            g1 = 2 * x1 * du + x2 * dv + du * (x2 - np.array(strip(x2)))
            g2 = None if np.all(np.asarray(strip(dv)) == 0) else x1 * dv
            return g1, g2
        return f(x1, x2), back

    x1, x2 = np.array([0.7, -1.3]), np.array([0.4, 2.1])
    with ad.scoped_rules():
        ad.adjoint(f)(rule)
        for seed in (0, 3, 4, 5):  # the seeds whose check zeroes dv
            r = ad.check_adjoint(f, x1, x2, order=2, mode="full", seed=seed,
                                 raise_exception=False)
            assert r.verdict == "fail", r.report()


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_a_float_parameter_without_a_cotangent_is_still_differentiated_at_order_2(mode):
    # power(x, 2.5) at x = 1: None for p is right at first order (x**p·ln x = 0), but the
    # cotangent of x depends on p (d/dp = dy·x**(p-1)·(1 + p·ln x) = dy): a constant copy of
    # p is wrong at second order
    from adcheck.engine.tracer import strip

    def wrong(x, p):
        def back(dy):
            c = np.array(strip(p))
            return dy * c * x ** (c - 1), None
        return x ** p, back

    with ad.scoped_rules():
        ad.adjoint(np.power)(wrong)
        r = ad.check_adjoint(np.power, np.array([1.0, 1.0]), 2.5, order=2, mode=mode, seed=0,
                             raise_exception=False)
    assert r.verdict == "fail", r.report()
