"""Output cotangents in unusual memory layouts: the same numbers, the same answer.

A pullback receives whatever array the engine (or a user) hands it: a strided view, one
with negative strides, a read-only array, a broadcast view whose stride is 0. Each must give
the cotangents a contiguous copy gives (within the rounding a sum in another order may
make, or ``nondet_tol``), and the pullback must not write into it: a read-only ``Δ``
that makes it raise "read-only", or a writable one whose contents change, is reported
as a mutation. Each layout costs one pullback call (the broadcast one two); layouts a
``Δ`` cannot take (a 0-d one cannot be strided) are left out.

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> x = np.array([1.0, 2.0, 3.0])
>>> def back(dy):
...     dy *= 2.0             # writes into its cotangent
...     return (dy * x,)
>>> p = RuleProblem(np.square, None, (x,), {}, back=back)
>>> sorted({f.kind for f in layout_checks(p, np.array([1.0, -1.0, 0.5]))})
['mutation']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tree import flatten, unflatten
from .agreement import entry_values, first_disagreement, same_values
from .problem import Problem, Pulled, PullError
from .result import Failure

__all__ = ["LAYOUTS", "layout_checks"]

KIND = "layout"


def _strided(a: np.ndarray) -> np.ndarray | None:
    """The same values in every other element of a larger buffer (not contiguous)."""
    if a.ndim == 0 or a.size < 2:
        return None
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    view = big[..., ::2]
    view[...] = a
    return view


def _fortran(a: np.ndarray) -> np.ndarray | None:
    """Column-major (a transposed layout)."""
    if a.ndim < 2 or a.size < 2 or all(s == 1 for s in a.shape[1:]):
        return None
    return np.asfortranarray(a)


def _reversed(a: np.ndarray) -> np.ndarray | None:
    """Negative strides on every axis (a reversed view of a reversed copy)."""
    if a.ndim == 0 or a.size < 2:
        return None
    flip = (slice(None, None, -1),) * a.ndim
    return a[flip].copy()[flip]


def _read_only(a: np.ndarray) -> np.ndarray:
    c = a.copy()
    c.flags.writeable = False
    return c


LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray | None]] = {
    "non-contiguous (strided)": _strided,
    "column-major (Fortran-order)": _fortran,
    "negative-stride": _reversed,
    "read-only": _read_only,
}


def _broadcast_values(flat: np.ndarray, problem: Problem) -> np.ndarray | None:
    """``flat`` made constant along the first axis longer than one of every output (so that
    a stride-0 view can hold it); None when no output has such an axis."""
    out = flat.copy()
    found = False
    for o in problem.out_leaves:
        axis = next((i for i, s in enumerate(o.shape) if s > 1), None)
        if axis is None:
            continue
        part = out[o.offset : o.offset + o.size].reshape(o.shape)
        part[...] = np.take(part, [0], axis=axis)
        found = True
    return out if found else None


def _broadcast(a: np.ndarray) -> np.ndarray | None:
    axis = next((i for i, s in enumerate(a.shape) if s > 1), None)
    if axis is None:
        return None
    return np.broadcast_to(np.take(a, [0], axis=axis), a.shape)


def _relayout(dy: Any, make: Callable) -> tuple[Any, list[np.ndarray]]:
    """``dy`` with every floating array leaf in the layout ``make`` gives; and those leaves."""
    leaves, spec = flatten(dy)
    changed = []
    new = []
    for v in leaves:
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            w = make(v)
            if w is not None:
                changed.append(w)
                new.append(w)
                continue
        new.append(v)
    return unflatten(spec, new), changed


def _pull(problem: Problem, dy: Any) -> Pulled | PullError:
    try:
        return problem.pull_dy(dy)
    except PullError as exc:
        return exc


def layout_checks(problem: Problem, d: np.ndarray, contiguous: Pulled | None = None,
                  nondet_tol: float | None = None) -> list[Failure]:
    """Pull the flat cotangent ``d`` in every layout of :data:`LAYOUTS`, and a broadcast one.

    ``contiguous`` is the pull of ``d`` as :meth:`Problem.output_cotangent` builds it (pulled
    here when not given). Returns the failures (kind ``"layout"``, or ``"mutation"`` for a
    pullback that writes into its cotangent).
    """
    if problem.m == 0 or problem.n == 0:
        return []
    cases: list[tuple[str, np.ndarray, Callable]] = [
        (name, d, make) for name, make in LAYOUTS.items()]
    b = _broadcast_values(d, problem)
    if b is not None:
        cases.append(("broadcast (stride 0)", b, _broadcast))
    failures: list[Failure] = []
    wrote = False
    for name, flat, make in cases:
        base = problem.output_cotangent(flat)
        dy, views = _relayout(base, make)
        if not views:
            continue
        if flat is d and contiguous is not None:
            reference: Pulled | PullError = contiguous
        else:
            reference = _pull(problem, problem.output_cotangent(flat))
        if isinstance(reference, PullError):
            continue  # the other structural checks report a pullback that raises
        saved = [v.copy() for v in views]
        got = _pull(problem, dy)
        if isinstance(got, PullError):
            if "read-only" in got.message or "not writeable" in got.message:
                if not wrote:
                    failures.append(Failure(
                        "mutation", f"the pullback writes into its cotangent Δ: given a "
                        f"{name} Δ, {got.message}; it must leave Δ as it is (compute a new "
                        "array: dy = dy * 2, not dy *= 2)"))
                wrote = True
            else:
                failures.append(Failure(KIND, f"given a {name} Δ (the same numbers as a "
                                        f"contiguous one), {got.message}"))
            continue
        if any(not same_values(v, s) for v, s in zip(views, saved)):
            if not wrote:
                failures.append(Failure("mutation", f"the pullback writes into its cotangent "
                                        f"Δ (a {name} Δ changed); it must leave Δ as it is "
                                        "(compute a new array: dy = dy * 2, not dy *= 2)"))
            wrote = True
            continue
        where = first_disagreement(problem, reference, got, flat, nondet_tol)
        if where is not None:
            entry, want, value, arg, index = entry_values(problem, where, reference, got)
            failures.append(Failure(
                KIND, f"given a {name} Δ the pullback gives {entry} = {value:.10g}, given a "
                f"contiguous copy of the same Δ {want:.10g} (it depends on the cotangent's "
                "memory layout)", argument=arg, index=index, path=entry, got=value,
                expected=want))
    return failures
