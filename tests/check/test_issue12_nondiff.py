"""Issue 12: functions declared non-differentiable are checked to be piecewise constant.

A wrongly declared function gets a silently zero gradient; these tests declare smooth
functions (sqrt, a floor with a small slope added) and check they are caught with the slope
the analytic derivative predicts, and that the built-in declarations (floor, sign, round,
argmax, ...) pass, at their jumps too.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import adcheck as ad
from adcheck import registry
from adcheck.check.piecewise import check_constant


def _declared(fn, name, domain=None):
    """A fresh primitive computing ``fn``, declared non-differentiable (inside a scope)."""

    def body(x):
        return fn(x)

    body.__name__ = body.__qualname__ = name
    prim = ad.primitive(body)
    registry.nondifferentiable(prim, domain=domain)
    return prim


# -- correct declarations, jumps included --------------------------------------------------------


@pytest.mark.parametrize("fn, x", [
    (np.floor, np.array([0.5, -1.25, 7.75])),
    (np.sign, np.array([-3.0, 0.25])),
    (np.round, np.array([[0.3, 1.7], [-2.2, 4.49]])),
    (np.argmax, np.array([0.1, 3.0, -2.0])),
    (np.isclose, np.array([1.0, 2.0])),
])
def test_piecewise_constant_functions_pass_away_from_jumps(fn, x):
    r = check_constant(fn, (x,) if fn is not np.isclose else (x, x + 0.5), {})
    assert r.passed and r.failures == []
    assert not any(n.startswith("a jump") for n in r.notes)
    assert r.probes == 2 * (x.size if fn is not np.isclose else 2 * x.size)


@pytest.mark.parametrize("fn, x, where", [
    (np.floor, np.array([2.0, 0.5]), "x[0]"),  # floor jumps at the integer 2
    (np.sign, np.array([0.5, 0.0]), "x[1]"),  # sign jumps at 0
    (np.round, np.array([1.5]), "a[0]"),  # round(1.5) is 2 (half to even), 1 just below
    (np.argmax, np.array([1.0, 1.0]), "a[0]"),  # a tie: the argmax changes at the point
])
def test_jumps_at_the_point_itself_pass_and_are_noted(fn, x, where):
    r = ad.check_adjoint(fn, x)
    assert r.passed, r.report()
    assert any(n.startswith("a jump at " + where) for n in r.notes), r.notes
    assert r.failures == []


def test_every_builtin_declaration_is_listed_as_a_rule():
    names = {r.name for r in registry.builtin_rules() if registry.is_declaration(r)}
    assert {"floor", "ceil", "sign", "round", "argmax", "argsort", "isclose", "less",
            "floor_divide", "spacing", "einsum_path"} <= names
    assert not any(registry.is_declaration(r) for r in registry.builtin_rules()
                   if r.name in ("sin", "exp", "sum"))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fn", [np.floor, np.ceil, np.sign, np.round, np.rint, np.argmax,
                                np.argsort, np.floor_divide, np.spacing, np.searchsorted,
                                np.isclose, np.greater])
def test_builtin_declarations_verify_under_several_seeds(fn, seed):
    r = ad.verify(fn, max_examples=20, seed=seed, raise_exception=False)
    assert r.passed, r.report()
    assert r.examples >= 10 and r.mode == "piecewise"
    assert r.notes[0].endswith("declared non-differentiable: checked to be piecewise constant "
                               "(unchanged by small steps except across jumps)")


def test_empty_like_is_compared_by_shape_only():
    r = ad.verify(np.empty_like, max_examples=10, seed=0)
    assert r.passed
    r1 = check_constant(np.empty_like, (np.array([1.0, 2.0]),), {})
    assert r1.passed and any("values of empty_like's output are undefined" in n
                             for n in r1.notes)


# -- wrong declarations ---------------------------------------------------------------------------


def test_a_smooth_function_declared_non_differentiable_is_caught_with_its_slope():
    with ad.scoped_rules():
        fake = _declared(np.sqrt, "fake_floor", domain=ad.domains.positive())
        x = np.array([4.0, 0.25])
        r = ad.check_adjoint(fake, x, raise_exception=False)
        v = ad.verify(fake, max_examples=20, seed=0, raise_exception=False)
    assert not r.passed and {f.kind for f in r.failures} == {"not constant"}
    assert [f.path for f in r.failures] == ["x[0]", "x[1]"]
    for f, xj in zip(r.failures, x):
        # the slope seen at the smallest step is sqrt's derivative, 1 / (2 sqrt(x))
        assert f.got == pytest.approx(1 / (2 * np.sqrt(xj)), rel=1e-3)
    first = r.failures[0].message
    assert first.startswith("x[0]: y[0] moves by ")
    assert "however small the step; a function declared non-differentiable must be piecewise " \
           "constant" in first
    assert "register an adjoint for it instead" in first
    assert not v.passed and v.verdict == "fail" and v.failures[0].kind == "not constant"
    smallest = np.ravel(eval(v.smallest_input, {"array": np.array, "float32": np.float32})[0])
    bad = v.failures[0]
    assert bad.got == pytest.approx(1 / (2 * np.sqrt(smallest[bad.index or 0])), rel=1e-2)
    assert v.details[0] == "replay: adcheck.verify(fake_floor, max_examples=20, seed=0)"


def test_a_small_slope_on_a_staircase_is_caught():
    with ad.scoped_rules():
        fake = _declared(lambda x: np.floor(x) + 1e-6 * x, "leaky_floor")
        r = ad.check_adjoint(fake, np.array([0.5]), raise_exception=False)
    assert [f.kind for f in r.failures] == ["not constant"]
    assert r.failures[0].got == pytest.approx(1e-6, rel=1e-3)


def test_a_declared_domain_is_where_the_function_is_checked():
    def floor_right(x):  # piecewise constant for x > 0 only
        return np.where(x > 0, np.floor(x), x)

    with ad.scoped_rules():
        ok = _declared(floor_right, "floor_right", domain=ad.domains.positive())
        passed = ad.verify(ok, max_examples=20, seed=0)
    with ad.scoped_rules():
        everywhere = _declared(floor_right, "floor_right")
        failed = ad.verify(everywhere, max_examples=30, seed=0, raise_exception=False)
    assert passed.passed
    assert not failed.passed and failed.failures[0].kind == "not constant"
    x = np.ravel(eval(failed.smallest_input, {"array": np.array, "float32": np.float32})[0])
    assert np.any(x <= 0)
    assert failed.failures[0].got == pytest.approx(1.0, rel=1e-6)  # the slope of x itself


def test_declarations_are_scoped_and_the_zero_gradient_they_give_is_what_is_checked():
    with ad.scoped_rules():
        fake = _declared(np.sqrt, "fake_sqrt")
        assert registry.is_nondifferentiable(fake)
        # the silent zero this check exists to catch:
        assert ad.gradient(lambda x: (fake(x) * x).sum(), np.array([4.0]))[0].tolist() == [2.0]
        assert any(r.fn is fake for r in registry.rules(include_builtin=False))
    assert not registry.is_nondifferentiable(fake)
    assert registry.declaration(fake) is None
    assert not any(r.fn is fake for r in registry.rules())
    with pytest.raises(ad.NotDifferentiable, match="fake_sqrt"):
        ad.gradient(lambda x: fake(x).sum(), np.array([4.0]))


# -- the CLI -----------------------------------------------------------------------------------


def _cli(*args):
    from adcheck.cli.main import cli

    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, [str(a) for a in args],
                                                    catch_exceptions=False)


def test_cli_verifies_builtin_declarations():
    with registry.scoped_rules():
        result = _cli("verify", "--builtin", "-k", "floor", "-k", "argmax", "--max-examples",
                      "10", "--seed", "4")
    assert result.exit_code == 0, result.output
    for name in ("floor", "floor_divide", "argmax"):
        assert any(line.split()[:1] == [name] and line.rstrip().endswith("pass")
                   for line in result.output.splitlines()), result.output


def test_cli_fails_a_wrongly_declared_function_in_a_module(tmp_path):
    target = tmp_path / "declared.py"
    target.write_text(
        "import numpy as np\n"
        "import adcheck as ad\n\n"
        "@ad.primitive\n"
        "def bucket(x):\n"
        "    return np.floor(x)\n\n"
        "@ad.primitive\n"
        "def not_a_bucket(x):\n"
        "    return np.tanh(x)\n\n"
        "ad.registry.nondifferentiable(bucket, not_a_bucket)\n")
    with registry.scoped_rules():
        result = _cli("verify", target, "--max-examples", "10", "--seed", "1")
    assert result.exit_code == 1, result.output
    rows = {line.split()[0]: line.split()[-1] for line in result.output.splitlines()
            if line.strip().startswith(("bucket", "not_a_bucket"))}
    assert rows == {"bucket": "pass", "not_a_bucket": "FAIL"}
