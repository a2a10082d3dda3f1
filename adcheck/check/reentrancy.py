"""Re-entrancy: a rule's calls do not depend on each other.

A rule may be called many times in one process (every step of an optimiser, every level
of a nested derivative), so what one call returns must not depend on the calls before it.
Caught here, with the rule called at the checked input ``x`` and at a nearby point ``x'``
(every floating input scaled by 17/16, :func:`nearby_args`):

- **warm-up**: :func:`warm_up` calls the rule at ``x'`` before the checked call, so the
  checked call is never the rule's first: a cache keyed wrongly (by shape, by ``id``) that
  is right only the first time then serves ``x'``'s numbers at ``x``, and the comparison with
  finite differences finds them wrong;
- **a second call at x**, right after the checked one: the same primal value and the same
  pullback (a call counter of any period, state kept between calls);
- **no state leaks into a pullback**: after a call at ``x'``, the checked call's pullback
  still gives what it gave before (a pullback that reads a global the last call set).

Results must agree bit for bit, up to the rounding a sum taken in another order makes, or
within ``nondet_tol``. Kind ``"reentrancy"``. Costs two calls of the rule and two of a
pullback (plus the warm-up call).

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> calls = [0]
>>> def rule(x):
...     calls[0] += 1
...     return np.sin(x), lambda dy: (dy * np.cos(x) * calls[0],)   # a call counter
>>> x = np.array([0.5, 1.0])
>>> value, back = rule(x)
>>> p = RuleProblem(np.sin, rule, (x,), {}, back=back, value=value)
>>> [f.kind for f in reentrancy_checks(p, np.array([1.0, 2.0]), p.pull(np.array([1.0, 2.0])))]
['reentrancy', 'reentrancy']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tree import flatten, is_container, unflatten
from .agreement import entry_values, first_disagreement
from .problem import Problem, Pulled, PullError, RuleProblem, is_float_value
from .result import Failure

__all__ = ["nearby_args", "warm_up", "reentrancy_checks"]

KIND = "reentrancy"
_FACTOR = 17.0 / 16.0  # exact in binary: x' differs from x in every nonzero entry


def _nearby(v: Any) -> Any:
    if type(v) is float:
        return v * _FACTOR
    if isinstance(v, np.generic):
        return v.dtype.type(v * _FACTOR)
    with np.errstate(all="ignore"):
        return (v * _FACTOR).astype(v.dtype)


def nearby_args(args: tuple) -> tuple | None:
    """``args`` with every floating leaf scaled by 17/16 (in its own dtype); None when
    there is no floating leaf. Scaling keeps a positive input positive, a positive definite
    matrix positive definite, an integer-valued float's sign; it is a different point (a
    domain bounded above may be left: the warm-up ignores what that call does).

    >>> nearby_args((np.array([1.0, -2.0]), 3))
    (array([ 1.0625, -2.125 ]), 3)
    """
    found = False
    out = []
    for a in args:
        if is_container(a):
            leaves, spec = flatten(a)
            new = [_nearby(v) if is_float_value(v) else v for v in leaves]
            found = found or any(is_float_value(v) for v in leaves)
            out.append(unflatten(spec, new))
        elif is_float_value(a):
            found = True
            out.append(_nearby(a))
        else:
            out.append(a)
    return tuple(out) if found else None


def warm_up(rule: Callable, args: tuple, kwargs: dict) -> None:
    """Call ``rule`` once at :func:`nearby_args` (and its pullback), ignoring what happens,
    so that the call checked next is not the rule's first.

    >>> warm_up(lambda x: (x, lambda dy: (dy,)), (np.ones(2),), {})
    """
    other = nearby_args(args)
    if other is None:
        return
    try:
        with np.errstate(all="ignore"):
            value, _back = rule(*other, **kwargs)
    except Exception:  # noqa: BLE001  (outside the domain, or a broken rule: the check says)
        return


def _primal_difference(a: Any, b: Any, nondet_tol: float | None) -> str | None:
    """Where two primal values of the same call differ (None: they agree)."""
    la, sa = flatten(a)
    lb, sb = flatten(b)
    if sa != sb or len(la) != len(lb):
        return f"structure {sb!r} instead of {sa!r}"
    for i, (u, v) in enumerate(zip(la, lb)):
        where = "" if len(la) == 1 else f" (output {i})"
        if not (isinstance(u, (np.ndarray, np.generic, float, int, complex))
                and isinstance(v, (np.ndarray, np.generic, float, int, complex))):
            continue
        ua, va = np.asarray(u), np.asarray(v)
        if ua.shape != va.shape or ua.dtype != va.dtype:
            return f"shape/dtype {va.shape}/{va.dtype} instead of {ua.shape}/{ua.dtype}{where}"
        if np.array_equal(ua, va, equal_nan=ua.dtype.kind in "fc"):
            continue
        if ua.dtype.kind not in "fc":
            return f"different values{where}"
        with np.errstate(invalid="ignore"):
            off = np.abs(ua - va)
        if nondet_tol is None:
            eps = float(np.finfo(ua.dtype).eps)
            mag = np.abs(np.nan_to_num(ua))
            allowed = 16 * eps * (mag + float(np.max(mag, initial=0.0)))
        else:
            allowed = float(nondet_tol)
        bad = np.flatnonzero(~((off <= allowed) | (np.isnan(ua) & np.isnan(va))))
        if bad.size:
            j = int(bad[0])
            idx = list(map(int, np.unravel_index(j, ua.shape))) if ua.shape else []
            return (f"{va.ravel()[j]:.10g} instead of {ua.ravel()[j]:.10g} at "
                    f"{idx}{where}")
    return None


def _pull_with(problem: RuleProblem, back: Callable, d: np.ndarray) -> Pulled:
    saved = problem.back
    problem.back = back
    try:
        return problem.pull(d)
    finally:
        problem.back = saved


def reentrancy_checks(problem: Problem, d: np.ndarray, first: Pulled,
                      nondet_tol: float | None = None) -> list[Failure]:
    """The checks of the module docstring, for a :class:`RuleProblem` (others: none).

    ``first`` is the checked call's pullback of the flat cotangent ``d``.
    """
    rule = getattr(problem, "rule", None)
    if not isinstance(problem, RuleProblem) or rule is None or problem.back is None:
        return []
    failures: list[Failure] = []
    failures += _second_call(problem, rule, d, first, nondet_tol)
    other = nearby_args(problem.args)
    if other is None:
        return failures
    try:
        with np.errstate(all="ignore"):
            rule(*other, **problem.kwargs)
    except Exception:  # noqa: BLE001  (x' may lie outside the domain)
        pass
    try:
        later = problem.pull(d)
    except PullError as exc:
        failures.append(Failure(KIND, f"after the rule was called at another input, the "
                                f"pullback of the checked call fails: {exc.message}"))
        return failures
    where = first_disagreement(problem, first, later, d, nondet_tol)
    if where is not None:
        entry, before, after, arg, index = entry_values(problem, where, first, later)
        failures.append(Failure(
            KIND, f"the pullback gives {entry} = {before:.10g}, but {after:.10g} "
            "when called again after the rule was called at another input: it reads "
            "state a later call changed (a global, a cache); a pullback must depend "
            "only on what its own call saved", argument=arg, index=index, path=entry,
            got=after, expected=before))
    return failures


def _second_call(problem: RuleProblem, rule: Callable, d: np.ndarray, first: Pulled,
                 nondet_tol: float | None) -> list[Failure]:
    """The rule called again at the same input, right after the checked call (so that a
    counter of any period shows), against the checked call's value and pullback."""
    failures: list[Failure] = []
    try:
        with np.errstate(all="ignore"):
            value, back = rule(*problem.args, **problem.kwargs)
    except Exception as exc:  # noqa: BLE001
        return [Failure(KIND, f"a second call of the rule at the same input raised "
                        f"{type(exc).__name__}: {exc}")]
    differs = _primal_difference(problem.value, value, nondet_tol)
    if differs is not None:
        failures.append(Failure(KIND, f"a second call of the rule at the same input gave a "
                                f"different value: {differs} (a call counter, or state kept "
                                "between calls)"))
    try:
        again = _pull_with(problem, back, d)
    except PullError as exc:
        failures.append(Failure(KIND, f"the pullback of a second call of the rule at the same "
                                f"input fails: {exc.message}"))
        return failures
    where = first_disagreement(problem, first, again, d, nondet_tol)
    if where is not None:
        entry, before, after, arg, index = entry_values(problem, where, first, again)
        failures.append(Failure(
            KIND, f"a second call of the rule at the same input gives a pullback with "
            f"{entry} = {after:.10g}, the first gave {before:.10g} (a call counter, a cache "
            "keyed wrongly, or state kept between calls)", argument=arg, index=index,
            path=entry, got=after, expected=before))
    return failures
