"""What a check returns: :class:`CheckResult`, its :class:`Failure` entries, and the error raised.

``CheckResult.to_dict()`` is the JSON form (the CLI and the pytest plugin read it). Its schema::

    {
      "passed": bool,             # no failure other than kinks (and inconclusive ones, when
                                  #   the check ran with inconclusive="warn")
      "verdict": "pass" | "fail" | "inconclusive",
      "kind": "gradcheck" | "check_adjoint" | "verify",
      "name": str,                # the function or rule checked
      "location": str | null,     # "file:line" of the rule (gradcheck: of the wrong rule found)
      "mode": "full" | "fast" | null,
      "max_error": number,        # worst |adjoint - finite difference| (the entry whose
      "tolerance": number,        #   error / tolerance is largest) and the tolerance there
      "worst_ratio": number,      # that largest error / tolerance (-1: nothing compared)
      "largest_error": number,    # the largest |adjoint - finite difference| anywhere
      "failures": [               # every problem found, worst first within a kind
        {"kind": str,             # value|shape|dtype|count|nan|linearity|mutation|primal|kink|
                                  #   error|inconclusive|undefined cotangent|layout|reentrancy
                                  #   |reference|bad reference|not constant
         "message": str,          # one readable line
         "argument": int | null,  # positional argument (gradcheck: of f; else of the rule)
         "index": [int] | null,   # entry inside that argument (the leaf, for pytrees, in "path")
         "path": str | null,      # readable name of the entry, e.g. "x[1, 2]" or "params['w'][0]"
         "expected": number | null,   # finite difference (or the function's value)
         "got": number | null,        # the adjoint's value
         "tolerance": number | null}
      ],
      "evaluations": int,         # calls of the function by finite differences
      "pullbacks": int,           # calls of the pullback
      "probes": int,              # one-dimensional finite differences taken (fast: directions)
      "examples": int | null,     # verify: examples tried
      "seed": int | null,         # the seed that replays the check
      "smallest_input": str | null,   # verify: repr of the shrunk failing arguments
      "notes": [str],
      "localisation": {...} | null,   # gradcheck: {"line": int, "wengert": str, "rule": str,
                                      #   "rule_source": str, "call_site": str | null,
                                      #   "rule_report": str}
      "second_order": {...} | null,   # order=2: {"examples": int, "evaluations": int,
                                      #   "pullbacks": int, "seconds": number}, its cost
      "report": str               # report(), the same text GradientMismatch carries
    }

Numbers that are not finite (a NaN cotangent) are written as the strings ``"nan"``, ``"inf"``
and ``"-inf"``, so the output stays strict JSON.

>>> r = CheckResult(passed=True, kind="check_adjoint", name="sin", evaluations=13)
>>> bool(r), r.to_dict()["evaluations"]
(True, 13)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Failure", "CheckResult", "GradientMismatch", "FAILURE_KINDS", "INCONCLUSIVE_POLICIES",
           "check_policy"]

FAILURE_KINDS = (
    "value", "shape", "dtype", "count", "nan", "linearity", "mutation", "primal", "kink", "error",
    "inconclusive", "undefined cotangent", "layout", "reentrancy",
    "reference", "bad reference", "not constant",
)
# What a check does with an inconclusive comparison: count it as a failure, or pass with it
# shown as a warning (the report and ``result.inconclusive`` still list it).
INCONCLUSIVE_POLICIES = ("fail", "warn")


@dataclass
class Failure:
    """One problem a check found.

    ``kind`` is one of :data:`FAILURE_KINDS`. A ``"kink"`` (one-sided differences disagree:
    the function is not differentiable there) is reported but does not fail the check. An
    ``"inconclusive"`` entry is a comparison the finite differences could not decide (their
    error bound is not small beside the values compared, even after trying other steps): it
    fails the check unless the check was run with ``inconclusive="warn"``.

    >>> Failure("value", "x[0]: expected 1, got -1", argument=0, index=(0,)).kind
    'value'
    """

    kind: str
    message: str
    argument: int | None = None
    index: tuple | None = None
    expected: float | None = None
    got: float | None = None
    path: str | None = None
    tolerance: float | None = None
    # the checker's own: which outputs the failing derivative is of (a flat output index,
    # or the probe's flat cotangent), for second opinions; not reported
    output: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring)."""
        return {
            "kind": self.kind,
            "message": self.message,
            "argument": self.argument,
            "index": None if self.index is None else [int(i) for i in self.index],
            "path": self.path,
            "expected": _json_float(self.expected),
            "got": _json_float(self.got),
            "tolerance": _json_float(self.tolerance),
        }


@dataclass
class Localisation:
    """Where in a composite function the first wrong rule was called (gradcheck only)."""

    line: int  # 1-based line of the Wengert list
    wengert: str  # that line's text, "y2 = sin(y1)"
    rule: str  # the rule's name
    rule_source: str  # "file:line" of the rule
    call_site: str | None  # "file:line in function" of the user's call, when known
    call_text: str | None  # the source text of that line
    rule_report: str  # the report of check_adjoint on that rule at the values it saw

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "wengert": self.wengert,
            "rule": self.rule,
            "rule_source": self.rule_source,
            "call_site": self.call_site,
            "call_text": self.call_text,
            "rule_report": self.rule_report,
        }


@dataclass
class CheckResult:
    """The outcome of :func:`gradcheck`, :func:`check_adjoint` or :func:`verify`.

    Truthy when the check passed. ``max_error`` and ``tolerance`` are those of the entry
    (or probe) that came closest to failing, or failed worst; ``evaluations`` counts calls
    of the function made by finite differences and ``pullbacks`` calls of the pullback.

    >>> r = CheckResult(passed=False, kind="check_adjoint", name="sin",
    ...                 failures=[Failure("value", "x[0]: expected 1, got -1")])
    >>> print(r.report().splitlines()[0])
    FAILED check_adjoint(sin)
    """

    passed: bool
    kind: str
    name: str
    location: str | None = None
    max_error: float = 0.0
    tolerance: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    evaluations: int = 0
    pullbacks: int = 0
    probes: int = 0
    examples: int | None = None
    seed: int | None = None
    smallest_input: str | None = None
    notes: list[str] = field(default_factory=list)
    mode: str | None = None
    localisation: Localisation | None = None
    # The part of ``tolerance`` allowed for the rounding of a low-precision rule, and that
    # precision (see adcheck.check.rounding); 0 and "" for float64. Shown in the report only.
    rounding: float = 0.0
    rounding_dtype: str = ""
    # Lines of detail for the report (shapes, sizes, the replay command); not part of the API.
    details: list[str] = field(default_factory=list)
    # The largest error / tolerance over every comparison (max_error and tolerance above are
    # the pair where it occurred); -1 when nothing was compared. The largest |error| over all
    # comparisons, wherever it occurred, is ``largest_error``.
    worst_ratio: float = -1.0
    largest_error: float = 0.0
    # "fail" or "warn": how an inconclusive comparison counts (see Failure)
    inconclusive_policy: str = "fail"
    # order=2 checks: what the second-order part cost ({"examples", "evaluations",
    # "pullbacks", "seconds"}, included in the totals above); None when it did not run
    second_order: dict | None = None

    def __bool__(self) -> bool:
        return self.passed

    @property
    def inconclusive(self) -> list[Failure]:
        """Comparisons the oracle could not decide, each with its reason.

        >>> r = CheckResult(passed=False, kind="check_adjoint", name="exp",
        ...                 failures=[Failure("inconclusive", "x[0]: tolerance 3e7 ...")])
        >>> [f.kind for f in r.inconclusive], r.verdict
        (['inconclusive'], 'inconclusive')
        """
        return [f for f in self.failures if f.kind == "inconclusive"]

    @property
    def verdict(self) -> str:
        """``"fail"`` (something was decided against the rule), else ``"inconclusive"`` (some
        comparison could not be decided), else ``"pass"``.

        >>> CheckResult(passed=True, kind="verify", name="sin").verdict
        'pass'
        """
        if any(f.kind not in ("kink", "inconclusive") for f in self.failures):
            return "fail"
        return "inconclusive" if self.inconclusive else "pass"

    def decide(self) -> bool:
        """Set and return ``passed`` from the failures and ``inconclusive_policy``.

        >>> r = CheckResult(passed=False, kind="verify", name="exp", inconclusive_policy="warn",
        ...                 failures=[Failure("inconclusive", "x[0]: undecided")])
        >>> r.decide(), r.verdict
        (True, 'inconclusive')
        """
        verdict = self.verdict
        self.passed = verdict == "pass" or (
            verdict == "inconclusive" and self.inconclusive_policy == "warn")
        return self.passed

    @property
    def kinks(self) -> list[Failure]:
        """The non-differentiable points found (they do not fail the check)."""
        return [f for f in self.failures if f.kind == "kink"]

    def report(self) -> str:
        """Readable text: verdict, what is wrong where (expected vs got, tolerance), how to replay.

        >>> print(CheckResult(passed=True, kind="gradcheck", name="f", evaluations=26,
        ...                   probes=2, mode="full").report())
        passed gradcheck(f): max |error| 0 within tolerance 0 (full mode, 2 probes, 26 evaluations, 0 pullbacks)
        """  # noqa: E501
        from .report import render

        return render(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; the schema is in this module's docstring.

        >>> import json
        >>> d = CheckResult(passed=True, kind="verify", name="sin", examples=5).to_dict()
        >>> json.loads(json.dumps(d))["examples"]
        5
        """
        return {
            "passed": bool(self.passed),
            "kind": self.kind,
            "name": self.name,
            "location": self.location,
            "mode": self.mode,
            "verdict": self.verdict,
            "max_error": _json_float(self.max_error),
            "tolerance": _json_float(self.tolerance),
            "worst_ratio": _json_float(self.worst_ratio),
            "largest_error": _json_float(self.largest_error),
            "failures": [f.to_dict() for f in self.failures],
            "evaluations": int(self.evaluations),
            "pullbacks": int(self.pullbacks),
            "probes": int(self.probes),
            "examples": self.examples,
            "seed": self.seed,
            "smallest_input": self.smallest_input,
            "notes": list(self.notes),
            "localisation": None if self.localisation is None else self.localisation.to_dict(),
            "second_order": None if self.second_order is None else dict(self.second_order),
            "report": self.report(),
        }

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else f"FAILED ({len(self.failures)} failures)"
        return f"<CheckResult {self.kind}({self.name}) {verdict}>"


class GradientMismatch(AssertionError):
    """Raised by a failing check (unless ``raise_exception=False``); the message is the report.

    ``.result`` holds the :class:`CheckResult`.

    >>> issubclass(GradientMismatch, AssertionError)
    True
    """

    def __init__(self, result: CheckResult):
        super().__init__(result.report())
        self.result = result


def _json_float(value: Any) -> Any:
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def check_policy(inconclusive: str) -> str:
    """Validate the ``inconclusive=`` option of the checks.

    >>> check_policy("warn")
    'warn'
    >>> check_policy("ignore")
    Traceback (most recent call last):
    ...
    ValueError: inconclusive must be one of ('fail', 'warn'), got 'ignore'
    """
    if inconclusive not in INCONCLUSIVE_POLICIES:
        raise ValueError(f"inconclusive must be one of {INCONCLUSIVE_POLICIES}, got "
                         f"{inconclusive!r}")
    return inconclusive
