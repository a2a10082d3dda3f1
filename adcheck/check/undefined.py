"""Undefined and zero output cotangents of a rule (or function) with several outputs.

The engine's contract (``Tape.backward`` in :mod:`adcheck.engine.tape`): a pullback is called
only when at least one of its outputs was used; an output nothing used gets **explicit
zeros** of its shape and dtype (an integer output: integer zeros), never ``None``; an output
leaf that is not a number (``None``, a string) gets ``None``. ``adcheck.pullback``'s own
``back(dy)`` accepts ``None`` in place of one output's cotangent and reads it as zeros.

So for each output in turn, with a drawn ``Δ`` for the others:

- **zeros**: ``back(Δ with output i zero) + back(only output i of Δ) = back(Δ)`` (a
  shortcut a rule takes for an all-zero output must not change the others' result);
- **None**: where ``None`` is part of the contract (a non-numeric output of a rule; any
  output of ``gradcheck``'s ``back``) the pullback must accept it, and give what zeros give;
  elsewhere (a numeric output of a rule) a rule may refuse ``None``, but one that accepts it
  must read it as zeros: a different answer is reported.

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> x = np.array([0.5, 2.0])
>>> def back(d):
...     dr, dt = d
...     return (dr * np.cos(x) - (0 if dt is None else dt) * np.sin(x),)
>>> p = RuleProblem(lambda x: (np.sin(x), np.cos(x)), None, (x,), {}, back=back)
>>> undefined_cotangent_checks(p, np.array([1.0, 2.0, 3.0, 4.0]))
[]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tree import flatten, unflatten
from .agreement import (
    cancellation_floor,
    entry_values,
    first_disagreement,
    leaf_eps,
    underflow_floor,
)
from .problem import FunctionProblem, Problem, Pulled, PullError
from .result import Failure

__all__ = ["undefined_cotangent_checks"]

KIND = "undefined cotangent"


def _with_leaf(dy: Any, i: int, value: Any) -> Any:
    """``dy`` (in the outputs' structure) with its ``i``-th leaf replaced by ``value``."""
    leaves, spec = flatten(dy)
    leaves = list(leaves)
    leaves[i] = value
    return unflatten(spec, leaves)


def _non_numeric(v: Any) -> bool:
    return not isinstance(v, (np.ndarray, np.generic, float, int, complex))


def _engine_cotangent(problem: Problem, flat: np.ndarray) -> Any:
    """The structured cotangent as the engine builds it: ``None`` for non-numeric leaves."""
    dy = problem.output_cotangent(flat)
    for i, (_, v) in enumerate(problem.out_all):
        if _non_numeric(v):
            dy = _with_leaf(dy, i, None)
    return dy


def _additive(problem: Problem, whole: Pulled, rest: Pulled, part: Pulled,
              dy: np.ndarray) -> tuple[int, int] | None:
    """Where ``rest + part`` differs from ``whole`` by more than rounding (None: nowhere)."""
    ok = whole.usable & rest.usable & part.usable
    for k, leaf in enumerate(problem.leaves):
        sl = slice(leaf.offset, leaf.offset + leaf.size)
        where = ok[sl] & np.isfinite(whole.flat[sl])
        a, b, c = whole.flat[sl][where], rest.flat[sl][where], part.flat[sl][where]
        eps = leaf_eps(problem, k, whole.raw[k])
        scale = np.abs(b) + np.abs(c)
        tol = (1e3 * eps * scale + 1e2 * eps * float(scale.max(initial=0.0))
               + underflow_floor(problem, k, whole.raw[k])
               + cancellation_floor(problem, k, eps, np.abs(dy))[where])
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~(np.abs(a - (b + c)) <= tol))
        if bad.size:
            return k, int(np.flatnonzero(where)[bad[0]])
    return None


def undefined_cotangent_checks(problem: Problem, d: np.ndarray, whole: Pulled | None = None,
                               nondet_tol: float | None = None) -> list[Failure]:
    """Each output's cotangent in turn zero, then ``None`` (see the module docstring).

    ``d`` is a flat output cotangent, ``whole`` its pull (pulled here when not given). Only
    for functions with more than one output leaf; one pull per output, two more per
    floating one.
    """
    if len(problem.out_all) < 2 or problem.n == 0:
        return []
    failures: list[Failure] = []
    engine_back = isinstance(problem, FunctionProblem)
    odd = [path for path, v in problem.out_all if _non_numeric(v)]
    try:
        if whole is None or odd:
            whole = problem.pull_dy(_engine_cotangent(problem, d))
    except PullError as exc:
        if not odd:
            return []  # the other structural checks report a pullback that raises
        return [Failure(KIND, f"with None as the cotangent of output "
                        f"{problem.out_name + odd[0][1:]} (not a number: the engine passes "
                        f"None there) {exc.message}")]
    pulls: dict[bytes, Pulled] = {}  # two outputs: zeroing one is keeping the other

    def pull(flat: np.ndarray) -> Pulled:
        key = flat.tobytes()
        if key not in pulls:
            pulls[key] = problem.pull_dy(_engine_cotangent(problem, flat))
        return pulls[key]

    by_position = {o.position: o for o in problem.out_leaves}
    for i, (path, v) in enumerate(problem.out_all):
        o = by_position.get(i)
        path = problem.out_name + path[1:]  # "out[1]" when an input is called y
        name = f"output {path}"
        if o is not None:
            mask = np.zeros(problem.m, bool)
            mask[o.offset : o.offset + o.size] = True
            rest_d, part_d = np.where(mask, 0.0, d), np.where(mask, d, 0.0)
            try:
                rest, part = pull(rest_d), pull(part_d)
            except PullError as exc:
                failures.append(Failure(KIND, f"with zeros as the cotangent of {name} (as the "
                                        f"engine passes for an unused output) {exc.message}"))
                continue
            where = _additive(problem, whole, rest, part, d)
            if where is not None:
                leaf = problem.leaves[where[0]]
                at = leaf.offset + where[1]
                entry = leaf.entry_name(where[1])
                got, want = float(rest.flat[at] + part.flat[at]), float(whole.flat[at])
                failures.append(Failure(
                    KIND, f"zeros as the cotangent of {name} (or of every other output), as "
                    f"the engine passes for an unused output, change the result: "
                    f"back(Δ without {path}) + back(only {path} of Δ) gives {entry} = "
                    f"{got:.10g}, back(Δ) gives {want:.10g}", argument=leaf.position,
                    index=leaf.entry_index(where[1]), path=entry, got=got, expected=want))
                continue
            zeros_pull, none_required = rest, engine_back
            base = rest_d
        else:
            zeros_pull, none_required, base = whole, True, d
        if o is None and not _non_numeric(v):
            continue  # an integer output: the engine passes integer zeros, as done above
        dy_none = _with_leaf(_engine_cotangent(problem, base), i, None)
        try:
            got = problem.pull_dy(dy_none)
        except PullError as exc:
            if none_required:
                failures.append(Failure(KIND, f"with None as the cotangent of {name} "
                                        f"{exc.message}; None stands for zeros there"))
            continue
        where = first_disagreement(problem, zeros_pull, got, base, nondet_tol)
        if where is not None:
            entry, zero_value, none_value, arg, index = entry_values(problem, where,
                                                                     zeros_pull, got)
            failures.append(Failure(
                KIND, f"with None as the cotangent of {name} the pullback gives {entry} = "
                f"{none_value:.10g}, with zeros {zero_value:.10g}: an output's None "
                "cotangent must mean zeros", argument=arg, index=index, path=entry,
                got=none_value, expected=zero_value))
    return failures
