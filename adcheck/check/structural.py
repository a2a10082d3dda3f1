"""Checks beyond values: what a pullback returns and what it must not do.

- **count, shape, dtype**: one cotangent per positional input, each with exactly its input's
  shape and dtype (``None`` for inputs that are not differentiable). Nothing is summed or
  cast to fit: the engine forgives a broadcast shape, a checker must not.
- **nan**: a NaN or infinite cotangent at a point where the function is finite.
- **linearity**: ``back(a·Δ1 + b·Δ2) = a·back(Δ1) + b·back(Δ2)``, and ``back(0) = 0``.
- **mutation**: the pullback leaves ``Δ``, the values it saved and the rule's primal value
  unchanged, and gives the same result when called twice; the rule leaves its inputs alone.
- **primal**: the value the rule returns equals the function's (structure, shape, dtype,
  values to a few hundred ulps).

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> x = np.array([1.0, 2.0])
>>> p = RuleProblem(np.square, None, (x,), {}, back=lambda dy: (dy * dy * x,))
>>> [f.kind for f in pullback_checks(p, np.random.default_rng(0))]
['linearity']
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .agreement import (
    cancellation_floor,
    entry_values,
    first_disagreement,
    leaf_eps,
    same_values,
    underflow_floor,
)
from .layouts import layout_checks
from .probes import signed
from .problem import Problem, Pulled, PullError
from .reentrancy import reentrancy_checks
from .report import short_repr
from .result import Failure
from .undefined import undefined_cotangent_checks

__all__ = ["Snapshot", "pullback_checks", "compare_primal"]

_LINEAR_A, _LINEAR_B = 1.5, -0.75  # exact in binary, so a·Δ1 + b·Δ2 is exact too


class Snapshot:
    """Copies of every array inside ``obj`` (nested containers, closure cells), to compare later.

    >>> a = np.zeros(2)
    >>> s = Snapshot({"x": a})
    >>> a[0] = 1.0
    >>> s.changed()
    ["['x']"]
    """

    def __init__(self, obj: Any, label: str = "", depth: int = 4):
        self.items: list[tuple[str, np.ndarray, np.ndarray]] = []
        self._walk(obj, label, depth, set())

    def _walk(self, obj: Any, label: str, depth: int, seen: set) -> None:
        if id(obj) in seen or depth < 0:
            return
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            self.items.append((label, obj, obj.copy()))
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                self._walk(v, f"{label}[{i}]", depth - 1, seen)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                self._walk(v, f"{label}[{k!r}]", depth - 1, seen)

    def changed(self) -> list[str]:
        """Labels of the arrays whose shape or contents differ from the copy."""
        out = []
        for label, ref, saved in self.items:
            if ref.shape != saved.shape or ref.dtype != saved.dtype or not _same(ref, saved):
                out.append(label)
        return out


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    try:
        return same_values(a, b)
    except TypeError:
        return bool(np.array_equal(a, b))


def closure_snapshot(fn: Any) -> Snapshot:
    """A snapshot of the arrays a function closes over (what a pullback saved).

    >>> def rule(x):
    ...     return lambda dy: dy * x
    >>> x = np.ones(2)
    >>> s = closure_snapshot(rule(x))
    >>> x[0] = 3.0
    >>> s.changed()
    ['x']
    """
    snap = Snapshot(None)
    code = getattr(fn, "__code__", None)
    for name, cell in zip(getattr(code, "co_freevars", ()), getattr(fn, "__closure__", None) or ()):
        try:
            contents = cell.cell_contents
        except ValueError:
            continue
        snap.items += Snapshot(contents, name).items
    return snap


def _eps(problem: Problem, k: int) -> float:
    return leaf_eps(problem, k)


def _raw_eps(g: Any) -> float:
    """Epsilon of the dtype a pullback actually returned (a float32 cotangent rounds so)."""
    dtype = getattr(g, "dtype", None)
    if dtype is None or dtype.kind != "f":
        return 0.0
    return float(np.finfo(dtype).eps)


# Exact in binary floating point: a pullback computed with +, -, ·, / gives back(-2·Δ)
# = -2·back(Δ) to the last bit (barring under- and overflow), whatever it cancels.
_HOMOGENEITY = -2.0


def _issue_failures(pulled: Pulled, problem: Problem) -> list[Failure]:
    out = []
    seen = set()
    for kind, k, message in pulled.issues:
        if message in seen:
            continue
        seen.add(message)
        position = None if k is None else problem.leaves[k].position
        out.append(Failure(kind, message, argument=position,
                           path=None if k is None else problem.leaves[k].path))
    return out


def _overflowed(pulled: Pulled, problem: Problem, d: np.ndarray) -> np.ndarray:
    """Entries whose infinite cotangent is the overflow of a finite one: ``back(Δ)`` is
    ±inf there, ``back(2**-60·Δ)`` finite (``exp(709)·Δ`` with ``|Δ| > 2.2``)."""
    inf = np.isinf(pulled.flat)
    if not inf.any():
        return inf
    try:
        small = problem.pull(d * 2.0**-60)
    except PullError:
        return np.zeros_like(inf)
    return inf & np.isfinite(small.flat) & small.usable


def _nan_failures(pulled: Pulled, problem: Problem,
                  excused: np.ndarray | None = None) -> list[Failure]:
    out = []
    for leaf in problem.leaves:
        part = pulled.flat[leaf.offset : leaf.offset + leaf.size]
        ok = pulled.usable[leaf.offset : leaf.offset + leaf.size]
        if excused is not None:
            ok = ok & ~excused[leaf.offset : leaf.offset + leaf.size]
        bad = np.flatnonzero(~np.isfinite(part) & ok)
        if bad.size:
            first = leaf.entry_name(int(bad[0]))
            more = f" (and {bad.size - 1} more entries)" if bad.size > 1 else ""
            out.append(Failure(
                "nan", f"the cotangent of {leaf.path} is {part[bad[0]]} at {first}{more}, "
                f"where the function is finite", argument=leaf.position,
                index=leaf.entry_index(int(bad[0])), got=float(part[bad[0]]), path=first))
    return out


def pullback_checks(problem: Problem, rng: np.random.Generator,
                    saved: Any = None, nondet_tol: float | None = None) -> list[Failure]:
    """Count, shape, dtype, NaN, linearity, zero, determinism and mutation of the pullback.

    ``saved`` is the rule's primal value (or anything else the pullback must not change);
    the pullback's own closure is inspected too. The cotangents the first call returned must
    still hold their values after the later calls (no view of a reused scratch buffer).
    Two calls with the same ``Δ`` may differ by rounding (a sum taken in another order):
    by at most ``nondet_tol`` if given, else by a few ulps of the magnitudes involved.
    """
    failures: list[Failure] = []
    back = getattr(problem, "back", None)
    saved_snap = Snapshot(saved, "the rule's value")
    closure = closure_snapshot(back)
    m = problem.m
    d1, d2 = signed(rng, m, "gaussian"), signed(rng, m, "gaussian")
    dy1 = problem.output_cotangent(d1)
    dy1_snap = Snapshot(dy1, "Δ")
    try:
        p1 = problem.pull_dy(dy1)
    except PullError as exc:
        return [Failure(exc.kind, exc.message)]
    failures += _issue_failures(p1, problem)
    failures += _nan_failures(p1, problem, _overflowed(p1, problem, d1))
    wrote_dy = bool(dy1_snap.changed())
    if wrote_dy:
        failures.append(Failure("mutation", "the pullback changed the cotangent Δ it was "
                                "given (it must not write into its argument)"))
    try:
        again = problem.pull(d1)
        zero = problem.pull(np.zeros(m))
        p2 = problem.pull(d2)
        mixed = problem.pull(_LINEAR_A * d1 + _LINEAR_B * d2)
        scaled = problem.pull(_HOMOGENEITY * d1)
    except PullError as exc:
        failures.append(Failure(exc.kind, exc.message))
        return failures
    usable = (p1.usable & again.usable & zero.usable & p2.usable & mixed.usable
              & scaled.usable)
    # Entries whose expected combination overflows (exp(709)·Δ, doubled) cannot be
    # compared: inf against inf says nothing about linearity.
    with np.errstate(over="ignore", invalid="ignore"):
        representable = (np.isfinite(_HOMOGENEITY * p1.flat)
                         & np.isfinite(_LINEAR_A * p1.flat + _LINEAR_B * p2.flat))
    finite = usable & np.isfinite(p1.flat) & np.isfinite(p2.flat) & representable
    dys = np.concatenate([np.abs(d1), np.abs(d2)])
    for k, leaf in enumerate(problem.leaves):
        sl = slice(leaf.offset, leaf.offset + leaf.size)
        ok = finite[sl]
        if not ok.any():
            continue
        eps = max(_eps(problem, k), _raw_eps(p1.raw[k]))
        # the usual case, every entry usable: views, no masked copies of 10⁶ entries
        sel = slice(None) if ok.all() else ok
        b1, b2 = p1.flat[sl][sel], p2.flat[sl][sel]
        scale = np.abs(_LINEAR_A * b1) + np.abs(_LINEAR_B * b2)
        peak = float(scale.max(initial=0.0))
        floor = underflow_floor(problem, k, p1.raw[k])
        tol = (1e3 * eps * scale + 1e2 * eps * peak + floor
               + cancellation_floor(problem, k, eps, dys)[sel])
        with np.errstate(invalid="ignore", over="ignore"):
            h_diff = np.abs(scaled.flat[sl][sel] - _HOMOGENEITY * b1)
        h_peak = float(np.max(np.abs(_HOMOGENEITY * b1), initial=0.0))
        h_bad = np.flatnonzero(~(h_diff <= 8 * eps * h_peak + floor))
        with np.errstate(invalid="ignore"):
            diff = np.abs(mixed.flat[sl][sel] - (_LINEAR_A * b1 + _LINEAR_B * b2))
        bad = np.flatnonzero(~(diff <= tol))
        if bad.size:
            j = int(np.flatnonzero(ok)[bad[0]])
            failures.append(Failure(
                "linearity", f"the pullback is not linear in Δ: back(1.5·Δ1 - 0.75·Δ2) at "
                f"{leaf.entry_name(j)} is {mixed.flat[sl][sel][bad[0]]:.10g}, but 1.5·back(Δ1) - "
                f"0.75·back(Δ2) is {(_LINEAR_A * b1 + _LINEAR_B * b2)[bad[0]]:.10g}",
                argument=leaf.position, index=leaf.entry_index(j), path=leaf.entry_name(j)))
        if h_bad.size and not bad.size:
            j = int(np.flatnonzero(ok)[h_bad[0]])
            failures.append(Failure(
                "linearity", f"the pullback is not linear in Δ: back(-2·Δ) at "
                f"{leaf.entry_name(j)} is {scaled.flat[sl][sel][h_bad[0]]:.10g}, but -2·back(Δ) "
                f"is {(_HOMOGENEITY * b1)[h_bad[0]]:.10g}",
                argument=leaf.position, index=leaf.entry_index(j), path=leaf.entry_name(j)))
        z = zero.flat[sl]
        nz = np.flatnonzero(z[zero.usable[sl]] != 0)
        if nz.size:
            j = int(np.flatnonzero(zero.usable[sl])[nz[0]])
            failures.append(Failure(
                "linearity", f"a zero cotangent gave {leaf.entry_name(j)} = {z[j]:.6g}, not 0",
                argument=leaf.position, index=leaf.entry_index(j), path=leaf.entry_name(j),
                got=float(z[j]), expected=0.0))
    where = first_disagreement(problem, p1, again, d1, nondet_tol)
    if where is not None:
        entry, before, after, arg, index = entry_values(problem, where, p1, again)
        failures.append(Failure(
            "mutation", f"calling the pullback twice with the same Δ gave different "
            f"cotangents for {problem.leaves[where[0]].path}: {entry} = {before:.10g}, then "
            f"{after:.10g} (does it change state it saved?)", argument=arg, index=index,
            path=entry, got=after, expected=before))
    # before the pulls below, which pull d1 again (a reused buffer would hold its values)
    failures += _stale_cotangents(problem, p1)
    failures += undefined_cotangent_checks(problem, d1, p1, nondet_tol)
    failures += [f for f in layout_checks(problem, d1, p1, nondet_tol)
                 if not (wrote_dy and f.kind == "mutation")]
    failures += reentrancy_checks(problem, d1, p1, nondet_tol)
    for label in closure.changed():
        failures.append(Failure("mutation", f"the pullback changed a value it saved "
                                f"({label}); it must not write into saved arrays"))
    for label in saved_snap.changed():
        failures.append(Failure("mutation", f"the pullback changed {label}"))
    return failures


def _stale_cotangents(problem: Problem, first: Pulled) -> list[Failure]:
    """The arrays the first pullback call returned, read again after the later calls."""
    out = []
    for k, leaf in enumerate(problem.leaves):
        g = first.raw[k]
        if not isinstance(g, np.ndarray) or g.shape != leaf.shape:
            continue
        sl = slice(leaf.offset, leaf.offset + leaf.size)
        now = np.ravel(g).astype(np.float64)
        then = first.flat[sl]
        if not same_values(now, then):
            out.append(Failure(
                "mutation", f"the cotangent of {leaf.path} returned by one pullback call "
                "changed when the pullback was called again (it returns a view of a buffer "
                "it reuses); a returned cotangent must stay valid after later calls: return "
                "a new array", argument=leaf.position, path=leaf.path))
    return out


def compare_primal(value: Any, expected: Any) -> list[Failure]:
    """The rule's primal ``value`` against the function's own ``expected`` output.

    >>> [f.kind for f in compare_primal(np.float32(1.0), np.float64(1.0))]
    ['primal']
    """
    from ..tree import flatten

    got_leaves, got_spec = flatten(value)
    exp_leaves, exp_spec = flatten(expected)
    if got_spec != exp_spec or len(got_leaves) != len(exp_leaves):
        return [Failure("primal", f"the rule's value has structure {got_spec!r}, the "
                        f"function's {exp_spec!r}")]
    out = []
    for i, (g, e) in enumerate(zip(got_leaves, exp_leaves)):
        where = "" if len(exp_leaves) == 1 else f" (output {i})"
        if not (_is_number(g) and _is_number(e)):  # None, a string: not differentiated
            if _is_number(g) or _is_number(e) or type(g) is not type(e):
                out.append(Failure("primal", f"the rule's value is {short_repr(g)}, the "
                                   f"function's {short_repr(e)}{where}"))
            continue
        gs, es = np.shape(g), np.shape(e)
        if gs != es:
            out.append(Failure("primal", f"the rule's value has shape {gs}, the function's "
                               f"{es}{where}"))
            continue
        gd = np.dtype(np.float64) if type(g) is float else np.result_type(g)
        ed = np.dtype(np.float64) if type(e) is float else np.result_type(e)
        if gd != ed:
            out.append(Failure("primal", f"the rule's value has dtype {gd}, the function's "
                               f"{ed}{where}"))
            continue
        ga, ea = np.asarray(g), np.asarray(e)
        if ed.kind not in "fc":
            if not np.array_equal(ga, ea):
                out.append(Failure("primal", f"the rule's value differs from the function's"
                                   f"{where}"))
            continue
        eps = float(np.finfo(ed).eps)
        peak = float(np.max(np.abs(ea[np.isfinite(ea)]), initial=0.0))
        with np.errstate(invalid="ignore"):
            diff = np.abs(ga - ea)
        tol = 1e3 * eps * np.abs(ea) + 64 * eps * peak
        nan_same = np.isnan(ga) == np.isnan(ea)
        bad = np.flatnonzero(~((diff <= tol) | (np.isnan(ga) & np.isnan(ea))) | ~nan_same)
        if bad.size:
            j = int(bad[0])
            idx = np.unravel_index(j, es) if es else ()
            out.append(Failure(
                "primal", f"the rule's value{where} at {list(map(int, idx))} is "
                f"{ga.ravel()[j]:.10g}, the function gives {ea.ravel()[j]:.10g}",
                expected=float(ea.ravel()[j]), got=float(ga.ravel()[j])))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (np.ndarray, np.generic, float, int, complex))


def deep_copy_args(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Copies of the arguments, so that calling the function cannot change the caller's."""
    return copy.deepcopy(args), copy.deepcopy(kwargs)
