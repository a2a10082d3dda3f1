"""Which rule of a composite function is wrong: check every line of the Wengert list.

When ``gradcheck`` of ``f`` fails, each primitive call recorded on the tape is checked on
its own with :func:`~adcheck.check.check_adjoint.run_rule_check`, at the very values it saw
during the recording, in execution order. The first one that fails is the culprit: the
report names its Wengert-list line, the rule's source and the user's line that called it.

>>> import numpy as np
>>> import adcheck as ad
>>> from adcheck.engine.tape import Tape
>>> from adcheck.engine.api import _pullback
>>> tape = Tape(record_source=True)
>>> _ = _pullback(lambda x: np.sin(x) * 2.0, (np.array([1.0]),), False, tape)
>>> first_wrong_rule(tape, seed=0) is None
True
"""

from __future__ import annotations

import linecache
from typing import Any

from ..engine.tracer import strip
from ..fd import FiniteDifferenceMethod
from .check_adjoint import run_rule_check
from .result import CheckResult, Localisation

__all__ = ["first_wrong_rule"]


def first_wrong_rule(tape: Any, *, mode: str = "auto", fdm: FiniteDifferenceMethod | None = None,
                     atol: float | None = None, rtol: float | None = None,
                     seed: int = 0) -> tuple[Localisation, CheckResult, int] | None:
    """The first recorded rule that fails its own check: ``(localisation, its result, k)``.

    ``k`` is how many rules were checked. None when every rule passes at its values.
    """
    entries = tape.entries
    lines = tape.lines()
    for k, entry in enumerate(entries):
        rule = entry.rule
        args = tuple(strip(a) for a in entry.args)
        kwargs = {key: strip(v) for key, v in entry.kwargs.items()}
        result = run_rule_check(entry.fn, rule.rule, args, kwargs, mode=mode, fdm=fdm,
                                atol=atol, rtol=rtol, seed=seed + k, name=rule.name,
                                location=rule.source)
        if result.passed:
            continue
        call_site = call_text = None
        if entry.source is not None:
            file, line, function = entry.source
            call_site = f"{file}:{line} in {function}"
            call_text = linecache.getline(file, line) or None
        loc = Localisation(
            line=k + 1,
            wengert=lines[k] if k < len(lines) else rule.name,
            rule=rule.name,
            rule_source=rule.source,
            call_site=call_site,
            call_text=call_text,
            rule_report=result.report(),
        )
        return loc, result, k + 1
    return None
