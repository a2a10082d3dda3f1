"""Issue 12: a caller's reference (an analytic Jacobian or VJP) beside finite differences.

Every number asserted is analytic (cos, 1/sqrt(1 - x²), the entries of W·x + b) or NumPy's
own value; the wrong rules and wrong references are wrong by a known factor.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

import adcheck as ad


def _register(fn, back, name, domain=None):
    """A fresh primitive computing ``fn`` whose rule's pullback is ``back(dy, *args)``."""

    @functools.wraps(fn)  # the signature, so entries are named by fn's parameters
    def body(*args):
        return fn(*args)

    body.__name__ = body.__qualname__ = name
    prim = ad.primitive(body)
    ad.adjoint(prim, domain=domain)(lambda *args: (fn(*args), lambda dy: back(dy, *args)))
    return prim


def _kinds(result):
    return sorted({f.kind for f in result.failures})


X = np.array([0.5, 2.0, -1.25])


# -- a correct rule with a correct reference --------------------------------------------------


def test_correct_rule_and_reference_jacobian_pass():
    r = ad.check_adjoint(np.sin, X, seed=0, reference=lambda x: np.diag(np.cos(x)))
    assert r.passed and r.verdict == "pass"
    assert any("agrees with the caller's reference Jacobian on 3 cotangents" in n
               for n in r.notes)


def test_correct_rule_and_reference_vjp_of_two_arguments_pass():
    a, b = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([0.5, -2.0])
    r = ad.check_adjoint(np.multiply, a, b, seed=0,
                         reference_vjp=lambda dy, x, y: (dy * y, (dy * x).sum(axis=0)))
    assert r.passed, r.report()


def test_reference_jacobian_per_argument_as_adcheck_jacobian_returns_it():
    a, b = np.array([0.3, -0.7]), np.array([2.0, 5.0])
    jac = ad.jacobian(lambda x, y: x * y, a, b)  # the engine's, an independent check of format
    np.testing.assert_allclose(jac[0], np.diag(b))
    r = ad.check_adjoint(np.multiply, a, b, seed=0, reference=lambda x, y: (np.diag(y),
                                                                           np.diag(x)))
    assert r.passed, r.report()


# -- a wrong reference is noticed, where finite differences decide -----------------------------


def test_reference_that_disagrees_with_a_correct_rule_is_reported_as_wrong():
    r = ad.check_adjoint(np.sin, X, seed=0, raise_exception=False,
                         reference=lambda x: np.diag(1.01 * np.cos(x)))
    assert not r.passed and _kinds(r) == ["bad reference"]
    diag = sorted((f for f in r.failures), key=lambda f: f.index)
    assert [f.path for f in diag] == ["x[0]", "x[1]", "x[2]"]
    for f, x in zip(diag, X):
        assert f.got == pytest.approx(1.01 * np.cos(x), rel=1e-12)  # the reference's value
        assert f.expected == pytest.approx(np.cos(x), rel=1e-8)  # finite differences
    first = next(f for f in diag if f.path == "x[0]")
    assert first.message.startswith("∂y[0]/∂x[0]: the reference gives 0.8863583875, but "
                                    "finite differences give 0.87758256")
    assert "as the adjoint does (0.8775825619): the reference is wrong here" in first.message


def test_reference_wrong_off_the_diagonal_only_is_named_by_its_entry():
    def ref(x):
        j = np.diag(np.cos(x))
        j[2, 0] = 0.25  # sin(x)[2] does not depend on x[0]
        return j

    r = ad.check_adjoint(np.sin, X, seed=0, raise_exception=False, reference=ref)
    assert _kinds(r) == ["bad reference"] and len(r.failures) == 1
    f = r.failures[0]
    assert f.message.startswith("∂y[2]/∂x[0]: the reference gives 0.25")
    assert f.got == 0.25 and f.expected == pytest.approx(0.0, abs=1e-9)


def test_rule_and_reference_wrong_alike_are_both_reported():
    with ad.scoped_rules():
        @ad.adjoint(np.sin)
        def _(x):
            return np.sin(x), lambda dy: (1.5 * dy * np.cos(x),)

        r = ad.check_adjoint(np.sin, X[:2], seed=0, raise_exception=False,
                             reference=lambda x: np.diag(1.5 * np.cos(x)))
    assert _kinds(r) == ["bad reference", "value"]
    bad = [f for f in r.failures if f.kind == "bad reference"]
    assert all("both are wrong here, or the reference copies the rule" in f.message for f in bad)
    assert sorted(f.expected for f in bad) == pytest.approx(sorted(np.cos(X[:2])), rel=1e-8)


# -- a wrong rule is caught by the reference where finite differences are weak ----------------


def _narrow(x):
    # defined only within 3e-14 of 1 (NaN outside): no step decides (tests/check/
    # test_trust_verdicts.py: a correct rule is inconclusive there)
    return np.where(np.abs(x - 1.0) < 3e-14, x, np.nan)


@pytest.mark.parametrize("factor", [1.0, 1.02])  # 2% off: within the oracle's error bound
def test_where_finite_differences_are_inconclusive_the_reference_decides(factor):
    with ad.scoped_rules():
        f = _register(_narrow, lambda dy, x: (factor * dy,), "narrow")
        alone = ad.check_adjoint(f, np.array([1.0]), seed=0, raise_exception=False)
        r = ad.check_adjoint(f, np.array([1.0]), seed=0, raise_exception=False,
                             reference=lambda x: np.eye(1))
    assert alone.verdict == "inconclusive"  # finite differences alone cannot tell
    if factor == 1.0:
        assert r.passed and r.verdict == "pass", r.report()
        assert any("finite differences could not decide x[0]; the caller's reference did"
                   in n for n in r.notes)
    else:
        assert r.verdict == "fail" and _kinds(r) == ["reference"]
        (bad,) = r.failures
        assert (bad.path, bad.got, bad.expected) == ("x[0]", 1.02, 1.0)
        assert bad.message.startswith("x[0]: adjoint gives 1.02, the reference 1 ")
        assert "cannot tell them apart, the reference decides" in bad.message


def test_where_finite_differences_are_impossible_the_reference_decides():
    x = np.array([1 - 1e-15])  # no stencil fits between x and 1
    exact = 1 / np.sqrt((1 - x) * (1 + x))
    alone = ad.check_adjoint(np.arcsin, x, seed=0, raise_exception=False)
    assert alone.verdict == "fail" and any(
        f.message.startswith("finite differences impossible") for f in alone.failures)
    ok = ad.check_adjoint(np.arcsin, x, seed=0, reference=lambda x: np.diag(exact))
    assert ok.passed
    with ad.scoped_rules():
        @ad.adjoint(np.arcsin)
        def _(x):
            return np.arcsin(x), lambda dy: (dy / np.sqrt(1 - x),)  # forgot the 1 + x

        r = ad.check_adjoint(np.arcsin, x, seed=0, raise_exception=False,
                             reference_vjp=lambda dy, x: (dy * exact,))
    assert _kinds(r) == ["reference"]
    (bad,) = r.failures
    assert bad.expected == pytest.approx(exact[0], rel=1e-12)
    assert bad.got == pytest.approx(1 / np.sqrt(1e-15), rel=1e-3)
    assert "finite differences cannot be taken here, the reference decides" in bad.message


# -- VJP references, pytrees, several outputs ---------------------------------------------------


W = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
P = {"w": W, "b": np.array([0.1, -0.3])}
XV = np.array([0.7, -1.1, 2.0])


def _affine_vjp(dy, p, x):
    return {"w": np.outer(dy, x), "b": dy}, p["w"].T @ dy


@pytest.mark.parametrize("b_factor", [1.0, 2.0])
def test_reference_vjp_with_a_pytree_argument(b_factor):
    def affine(p, x):
        return p["w"] @ x + p["b"]

    with ad.scoped_rules():
        f = _register(affine, lambda dy, p, x: ({"w": np.outer(dy, x), "b": b_factor * dy},
                                                p["w"].T @ dy), "affine")
        r = ad.check_adjoint(f, P, XV, seed=0, raise_exception=False,
                             reference_vjp=_affine_vjp)
    if b_factor == 1.0:
        assert r.passed, r.report()
        return
    assert "reference" in _kinds(r)
    wrong = sorted(f.path for f in r.failures if f.kind == "reference")
    assert wrong == ["p['b'][0]", "p['b'][1]"]
    entry = next(f for f in r.failures if f.kind == "reference" and f.path == "p['b'][1]")
    assert (entry.got, entry.expected) == (2.0, 1.0)  # ∂y[1]/∂b[1] is 1
    assert entry.message.startswith("∂y[1]/∂p['b'][1]: adjoint gives 2, the reference 1")
    assert "finite differences give 1 " in entry.message and "as the reference does" in (
        entry.message)


def test_reference_jacobian_with_a_pytree_argument():
    def affine(p, x):
        return p["w"] @ x + p["b"]

    def jac(p, x):  # d(Wx + b)_i / dW_kl = δ_ik x_l
        dw = np.einsum("ik,l->ikl", np.eye(2), x)
        return {"w": dw, "b": np.eye(2)}, p["w"]

    with ad.scoped_rules():
        f = _register(affine, lambda dy, p, x: ({"w": np.outer(dy, x), "b": dy},
                                                p["w"].T @ dy), "affine")
        good = ad.check_adjoint(f, P, XV, seed=0, reference=jac)
        wrong_ref = ad.check_adjoint(f, P, XV, seed=0, raise_exception=False,
                                     reference=lambda p, x: (jac(p, x)[0], 2 * p["w"]))
    assert good.passed
    assert _kinds(wrong_ref) == ["bad reference"]
    assert sorted(f.path for f in wrong_ref.failures) == [
        f"x[{j}]" for j in (0, 0, 1, 1, 2, 2)]
    entry = next(f for f in wrong_ref.failures if f.message.startswith("∂y[1]/∂x[2]"))
    assert (entry.got, entry.expected) == (2 * W[1, 2], pytest.approx(W[1, 2], rel=1e-8))


def test_reference_vjp_of_a_function_with_two_outputs():
    def sincos(x):
        return np.sin(x), np.cos(x)

    def back(dy, x, wrong=1.0):
        return (dy[0] * np.cos(x) - wrong * dy[1] * np.sin(x),)

    def ref(dy, x):
        return (dy[0] * np.cos(x) - dy[1] * np.sin(x),)

    with ad.scoped_rules():
        good = _register(sincos, back, "sincos")
        r = ad.check_adjoint(good, X[:2], seed=0, reference_vjp=ref)
        bad = _register(sincos, lambda dy, x: back(dy, x, wrong=-1.0), "sincos_bad")
        rb = ad.check_adjoint(bad, X[:2], seed=0, raise_exception=False, reference_vjp=ref)
        with_jac = ad.check_adjoint(good, X[:2], seed=0, raise_exception=False,
                                    reference=lambda x: np.eye(2))
    assert r.passed, r.report()
    entries = sorted(f.message.split(":")[0] for f in rb.failures if f.kind == "reference")
    assert entries == ["∂y[1][0]/∂x[0]", "∂y[1][1]/∂x[1]"]
    e = next(f for f in rb.failures if f.kind == "reference" and f.path == "x[1]")
    assert (e.got, e.expected) == (pytest.approx(np.sin(X[1])), pytest.approx(-np.sin(X[1])))
    assert [f.message for f in with_jac.failures if f.kind == "error"] == [
        "cannot use the caller's reference: a reference Jacobian needs a function with one "
        "output; for several outputs give reference_vjp=lambda dy, *args: ..."]


def test_many_outputs_are_compared_on_random_cotangents():
    def tile(x):
        return np.tile(x, 40)  # 80 outputs: beyond the basis limit (64)

    def back(dy, x, k=1.0):
        g = dy.reshape(40, 2).sum(axis=0)
        return (g * np.array([1.0, k]),)

    with ad.scoped_rules():
        good = _register(tile, back, "tile")
        bad = _register(tile, lambda dy, x: back(dy, x, 1.25), "tile_bad")

        def ref(dy, x):
            return (dy.reshape(40, 2).sum(axis=0),)

        r = ad.check_adjoint(good, X[:2], seed=1, reference_vjp=ref)
        rb = ad.check_adjoint(bad, X[:2], seed=1, raise_exception=False, reference_vjp=ref)
    assert r.passed, r.report()
    wrong = [f for f in rb.failures if f.kind == "reference"]
    assert wrong and {f.path for f in wrong} == {"x[1]"}
    assert all("[for a random cotangent Δ: back(Δ) against J'Δ]" in f.message for f in wrong)
    for f in wrong:
        assert f.got == pytest.approx(1.25 * f.expected, rel=1e-12)


# -- misuse ------------------------------------------------------------------------------------


def test_a_malformed_reference_is_an_error_not_a_verdict():
    r = ad.check_adjoint(np.sin, X, seed=0, raise_exception=False,
                         reference=lambda x: np.cos(x))
    assert [f.message for f in r.failures] == [
        "cannot use the caller's reference: the reference Jacobian for x has shape (3,), "
        "expected (3, 3) (the output's shape (3,) + the input's (3,))"]
    raised = ad.check_adjoint(np.sin, X, seed=0, raise_exception=False,
                              reference_vjp=lambda dy, x: 1 / 0)
    assert raised.failures[0].message == (
        "cannot use the caller's reference: the reference VJP raised ZeroDivisionError: "
        "division by zero")
    with pytest.raises(TypeError, match="not both"):
        ad.check_adjoint(np.sin, X, reference=np.cos, reference_vjp=np.cos)
    with pytest.raises(TypeError, match="reference must be a callable"):
        ad.verify(np.sin, reference=np.eye(3))


# -- verify --------------------------------------------------------------------------------------


def test_verify_compares_the_reference_at_every_drawn_input():
    r = ad.verify(np.tanh, max_examples=15, seed=3,
                  reference_vjp=lambda dy, x: (dy * (1 - np.tanh(x) ** 2),))
    assert r.passed and r.examples == 15
    with ad.scoped_rules():
        @ad.adjoint(np.tanh, domain=ad.domains.real())
        def _(x):
            y = np.tanh(x)
            return y, lambda dy: (dy * (1 - y ** 2) * np.where(np.abs(x) > 3, 1.1, 1.0),)

        bad = ad.verify(np.tanh, max_examples=40, seed=3, raise_exception=False,
                        reference_vjp=lambda dy, x: (dy * (1 - np.tanh(x) ** 2),))
    assert not bad.passed and "reference" in _kinds(bad)
    f = next(f for f in bad.failures if f.kind == "reference")
    x = np.ravel(eval(bad.smallest_input, {"array": np.array, "float32": np.float32})[0])
    assert np.all(np.abs(x) <= 10) and np.any(np.abs(x) > 3)
    assert f.got == pytest.approx(1.1 * f.expected, rel=1e-3)


def test_verify_reports_a_wrong_reference():
    r = ad.verify(np.exp, max_examples=10, seed=0, raise_exception=False,
                  reference_vjp=lambda dy, x: (dy * np.exp(x) * np.where(x > 1, 1.0, 0.5),))
    assert not r.passed and _kinds(r) == ["bad reference"]
    f = r.failures[0]
    x = eval(r.smallest_input, {"array": np.array, "float32": np.float32})[0]
    assert np.any(np.asarray(x) <= 1)
    assert f.got == pytest.approx(0.5 * f.expected, rel=1e-5)


# -- a reference registered with the rule ------------------------------------------------------


def test_a_reference_registered_with_the_rule_is_used_by_every_check(tmp_path):
    from adcheck.cli.collect import import_target
    from adcheck.cli.main import cli
    from click.testing import CliRunner

    target = tmp_path / "with_reference.py"
    target.write_text(
        "import numpy as np\n"
        "import adcheck as ad\n\n"
        "@ad.primitive\n"
        "def narrow(x):\n"
        "    return np.where(np.abs(x - 1.0) < 3e-14, x, np.nan)\n\n"
        "@ad.adjoint(narrow, domain=ad.domains.interval(1.0, 1.0),\n"
        "            reference_vjp=lambda dy, x: (dy,))\n"
        "def _(x):\n"
        "    return narrow(x), lambda dy: (1.02 * dy,)  # 2% off: finite differences cannot tell\n")
    with ad.scoped_rules():
        result = CliRunner(env={"COLUMNS": "200"}).invoke(
            cli, ["verify", str(target), "--max-examples", "5", "--seed", "1", "--format",
                  "json"], catch_exceptions=False)
        doc = json.loads(result.stdout)
        (rule,) = doc["rules"]
        kinds = {f["kind"] for f in rule["check"]["failures"]}
        mod = import_target(str(target))  # the module the CLI imported (cached)
        r = ad.check_adjoint(mod.narrow, np.array([1.0]), seed=0, raise_exception=False)
        overridden = ad.check_adjoint(mod.narrow, np.array([1.0]), seed=0,
                                      raise_exception=False,
                                      reference_vjp=lambda dy, x: (1.02 * dy,))
    assert result.exit_code == 1 and rule["status"] == "failed"
    assert kinds == {"reference"}
    assert [(f.kind, f.got, f.expected) for f in r.failures] == [("reference", 1.02, 1.0)]
    assert overridden.verdict == "pass"  # the caller's own reference replaces the registered one
