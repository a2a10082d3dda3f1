"""Every kind of failure ``verify`` met, each with the smallest input that showed it.

``verify`` shrinks one failing example and reports it in full; a rule can be wrong in more
than one way (a NaN at some inputs, a wrong value at others, a pullback that writes into
its cotangent), and the report must say so. :class:`KindLog` notes every failing example
checked (shrinking candidates and the examples after the first failure included) and keeps,
per kind, the one with the fewest and smallest input entries; :meth:`KindLog.others` gives
the failures of the kinds the reported example does not show, each saying where it
happened. Kinks are not failures and are left out.

>>> import numpy as np
>>> from adcheck.check.result import CheckResult, Failure
>>> log = KindLog()
>>> r = CheckResult(passed=False, kind="verify", name="f",
...                 failures=[Failure("nan", "the cotangent of x is nan at x[0]")])
>>> log.note(r, (np.array([1.0, 2.0]),), {})
>>> [f.message for f in log.others([Failure("value", "x[0]: ...")])]
['at (array([1., 2.]),): the cotangent of x is nan at x[0]']
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..tree import flatten
from .problem import is_float_value
from .report import short_repr
from .result import CheckResult, Failure

__all__ = ["KindLog"]

_NOT_FAILURES = ("kink",)


def _size(args: tuple, kwargs: dict) -> tuple[int, float]:
    """How large an input is: its floating entries, then the sum of their magnitudes."""
    leaves = [np.asarray(v, dtype=np.float64) for v in flatten((args, kwargs))[0]
              if is_float_value(v)]
    entries = sum(int(v.size) for v in leaves)
    with np.errstate(all="ignore"):
        total = float(sum(np.sum(np.abs(v)) for v in leaves))
    return entries, total if np.isfinite(total) else np.inf


class KindLog:
    """Per failure kind, the smallest failing example noted (see the module docstring)."""

    def __init__(self) -> None:
        self.smallest: dict[str, tuple[tuple[int, float], str, list[Failure]]] = {}

    def note(self, result: CheckResult, args: tuple, kwargs: dict) -> None:
        """Remember the failures of one checked example ``result`` at ``args``/``kwargs``."""
        kinds = {f.kind for f in result.failures if f.kind not in _NOT_FAILURES}
        if not kinds or result.passed:
            return
        size = _size(args, kwargs)
        text = short_repr(args)
        if kwargs:
            text += ", " + ", ".join(f"{k}={short_repr(v)}" for k, v in kwargs.items())
        for kind in kinds:
            held = self.smallest.get(kind)
            if held is None or size < held[0]:
                self.smallest[kind] = (size, text,
                                       [f for f in result.failures if f.kind == kind])

    @property
    def kinds(self) -> list[str]:
        """The kinds noted, in the order first seen."""
        return list(self.smallest)

    def others(self, reported: list[Failure]) -> list[Failure]:
        """Failures of the kinds not among ``reported``, each prefixed with its input."""
        shown = {f.kind for f in reported}
        out: list[Failure] = []
        for kind, (_, text, failures) in self.smallest.items():
            if kind in shown:
                continue
            out += [replace(f, message=f"at {text}: {f.message}") for f in failures]
        return out
