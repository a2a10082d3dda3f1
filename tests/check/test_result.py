"""CheckResult: truthiness, the fields other tools read, JSON, and the report's layout."""

from __future__ import annotations

import json

import numpy as np

import adcheck as ad
from adcheck.check.result import FAILURE_KINDS, CheckResult, Failure

FIELDS = ("passed", "kind", "name", "location", "max_error", "tolerance", "failures",
          "evaluations", "probes", "examples", "seed", "smallest_input", "notes")


def test_passed_result_fields_and_json():
    r = ad.check_adjoint(np.sin, np.array([0.5, 1.0]), seed=4)
    assert bool(r) is True
    for name in FIELDS:
        assert hasattr(r, name)
    assert r.kind == "check_adjoint" and r.name == "sin" and r.seed == 4
    assert r.location.endswith(".py:" + r.location.rsplit(":", 1)[1])
    assert 0 <= r.max_error <= r.tolerance < 1e-6
    assert r.evaluations > 0 and r.probes == 2 and r.examples is None
    d = json.loads(json.dumps(r.to_dict()))
    assert d["passed"] is True and d["failures"] == [] and d["report"] == r.report()
    assert r.report().startswith("passed check_adjoint(sin)")


def test_nan_cotangent_is_reported_and_json_stays_strict(scoped):
    def back(dy, y, x):
        g = dy * np.cos(x)
        g[1] = np.nan
        return (g,)

    f = scoped(np.sin, back, "sin_nan")
    r = ad.check_adjoint(f, np.array([0.1, 0.2, 0.3]), seed=0, raise_exception=False)
    assert not r
    nan = [x for x in r.failures if x.kind == "nan"]
    assert nan and nan[0].index == (1,) and nan[0].path == "x[1]"
    text = json.dumps(r.to_dict(), allow_nan=False)  # strict JSON: NaN as a string
    assert '"got": "nan"' in text


def test_failure_kinds_and_report_layout():
    assert set(FAILURE_KINDS) == {"value", "shape", "dtype", "count", "nan", "linearity",
                                  "mutation", "primal", "kink", "error", "inconclusive",
                                  "undefined cotangent", "layout", "reentrancy", "reference",
                                  "bad reference", "not constant"}
    r = CheckResult(passed=False, kind="verify", name="f", location="m.py:3",
                    failures=[Failure("value", "x[0]: adjoint gives 1, finite differences 2",
                                      argument=0, index=(0,), expected=2.0, got=1.0)],
                    examples=12, seed=9, smallest_input="(array([-1.]),)",
                    details=["replay: adcheck.verify(f, seed=9)"])
    lines = r.report().splitlines()
    assert lines[0] == "FAILED verify(f), rule at m.py:3"
    assert lines[1] == "  wrong value:"
    assert lines[2].strip().startswith("x[0]: adjoint gives 1")
    assert "12 examples" in lines[3]
    assert lines[4] == "  smallest failing input: (array([-1.]),)"
    assert lines[5] == "  replay: adcheck.verify(f, seed=9)"
    d = r.to_dict()
    assert d["failures"][0] == {"kind": "value", "message": r.failures[0].message,
                                "argument": 0, "index": [0], "path": None, "expected": 2.0,
                                "got": 1.0, "tolerance": None}


def test_gradient_mismatch_is_an_assertion_error_carrying_the_result():
    r = CheckResult(passed=False, kind="gradcheck", name="g")
    err = ad.GradientMismatch(r)
    assert isinstance(err, AssertionError) and err.result is r and str(err) == r.report()


def test_every_failure_kind_has_a_title_and_is_reported():
    from adcheck.check.report import _TITLES

    assert set(FAILURE_KINDS) <= set(_TITLES)
    for kind in (*FAILURE_KINDS, "a kind added later"):
        r = CheckResult(passed=False, kind="check_adjoint", name="f",
                        failures=[Failure(kind, "the reason for it")])
        assert "    the reason for it" in r.report().splitlines(), kind
