"""When two pullback calls agree: the allowances the structural checks share.

Two calls that must give the same cotangents (the same ``Δ`` twice, a strided ``Δ`` and its
contiguous copy, a second call of the rule at the same input) may still differ by rounding
when a sum is taken in another order (NumPy's pairwise summation follows the memory
layout). :func:`first_disagreement` allows that much, or exactly ``nondet_tol`` when the
user gives one (``0.0``: bit for bit).

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> x = np.array([1.0, 2.0])
>>> p = RuleProblem(np.square, None, (x,), {}, back=lambda dy: (2 * dy * x,))
>>> d = np.array([1.0, -1.0])
>>> first_disagreement(p, p.pull(d), p.pull(d), d) is None
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .problem import Problem, Pulled, is_float_value
from .tolerance import coarsest

__all__ = ["first_disagreement", "leaf_eps", "underflow_floor", "cancellation_floor",
           "nondeterminism_allowance"]


def leaf_eps(problem: Problem, k: int, raw: Any = None) -> float:
    """Epsilon of the coarsest dtype among input leaf ``k``, the outputs and what the
    pullback returned (a float32 cotangent rounds so)."""
    dtypes = [problem.leaves[k].dtype] + [o.dtype for o in problem.out_leaves]
    eps = float(np.finfo(coarsest(dtypes)).eps)
    dtype = getattr(raw, "dtype", None)
    if dtype is not None and dtype.kind == "f":
        eps = max(eps, float(np.finfo(dtype).eps))
    return eps


def output_peak(problem: Problem) -> float:
    """The largest |output| at the point (1 if there is none or it is not finite)."""
    from ..tree import flatten

    peaks = [float(np.max(np.abs(np.asarray(v, dtype=np.float64)), initial=0.0))
             for v in flatten(problem.y0)[0] if is_float_value(v)]
    peak = max(peaks, default=0.0)
    return peak if np.isfinite(peak) and peak > 0 else 1.0


def cancellation_floor(problem: Problem, k: int, eps: float, dys: np.ndarray) -> np.ndarray:
    """Per entry of leaf ``k``, rounding a pullback may make when it cancels.

    Softmax's ``s·(Δ - Σ Δ·s)`` with ``s ≈ 1`` rounds at ``eps·|Δ|·|y|``, far above
    ``eps·|back(Δ)|``; divided by the entry's magnitude (the units of ``∂y/∂x_j``).
    """
    leaf = problem.leaves[k]
    scales = problem.scales[leaf.offset : leaf.offset + leaf.size]
    top = 64.0 * eps * float(np.max(np.abs(dys), initial=0.0)) * output_peak(problem)
    return top / scales


def underflow_floor(problem: Problem, k: int, raw: Any) -> float:
    """Below the smallest normal number rounding is absolute (a subnormal's last bit): allow
    that much, a hundred times over, whatever the relative terms say."""
    dtypes = [problem.leaves[k].dtype] + [o.dtype for o in problem.out_leaves]
    dtype = getattr(raw, "dtype", None)
    if dtype is not None and dtype.kind == "f":
        dtypes.append(dtype)
    return 1e2 * float(np.finfo(coarsest(dtypes)).tiny)


def nondeterminism_allowance(problem: Problem, k: int, eps: float, b: np.ndarray,
                             dy: np.ndarray, floor: float, where: np.ndarray) -> np.ndarray:
    """How far two calls with the same ``Δ`` may differ: rounding of a sum in another order.

    A sum of terms ``t_i`` rounds at ``eps·Σ|t_i|``, which exceeds ``eps·|result|`` when it
    cancels; ``16·eps·(|b| + max|b|)`` plus the cancellation floor (``eps·|Δ|·|y|`` in the
    entry's units) bounds that for the pullbacks of NumPy code.
    """
    mag = np.abs(np.nan_to_num(b))
    peak = float(np.max(mag, initial=0.0))
    cancel = cancellation_floor(problem, k, eps, np.abs(dy))[where]
    return 16 * eps * (mag + peak) + cancel + floor


def same_values(a: Any, b: Any) -> bool:
    """``np.array_equal(a, b, equal_nan=True)`` (NaN equals NaN where the dtypes are
    inexact), at the cost of one comparison when no entry differs: the structural checks
    compare whole cotangents of 10⁶ entries a dozen times per check.

    >>> same_values(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    True
    >>> same_values(np.zeros(2), np.zeros(3)), same_values(np.zeros(2), np.ones(2))
    (False, False)
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore"):
        if bool(np.all(a == b)):
            return True
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))


def first_disagreement(problem: Problem, a: Pulled, b: Pulled, dy: np.ndarray,
                       nondet_tol: float | None = None) -> tuple[int, int] | None:
    """``(leaf, entry)`` of the first cotangent entry where two pulls of the same ``Δ``
    (flat, ``dy``) differ by more than rounding (or ``nondet_tol``); None when they agree.

    NaN agrees with NaN; entries of a leaf either call returned with a wrong shape are not
    compared (the shape check reports those).
    """
    both = a.usable & b.usable
    for k, leaf in enumerate(problem.leaves):
        sl = slice(leaf.offset, leaf.offset + leaf.size)
        where = both[sl]
        sel = slice(None) if where.all() else where  # the usual case: views, no copies
        x, y = a.flat[sl][sel], b.flat[sl][sel]
        if same_values(x, y):
            continue
        if (a.raw[k] is None) != (b.raw[k] is None):
            return k, 0
        with np.errstate(invalid="ignore"):
            off = np.abs(x - y)
        same_nan = np.isnan(x) & np.isnan(y)
        if nondet_tol is None:
            eps = leaf_eps(problem, k, a.raw[k])
            allowed = nondeterminism_allowance(problem, k, eps, x, dy,
                                               underflow_floor(problem, k, a.raw[k]), where)
        else:
            allowed = float(nondet_tol)
        bad = np.flatnonzero(~((off <= allowed) | same_nan))
        if bad.size:
            return k, int(np.flatnonzero(where)[bad[0]])
    return None


def entry_values(problem: Problem, where: tuple[int, int], a: Pulled, b: Pulled) -> tuple:
    """``(name, value in a, value in b, argument, index)`` of the entry ``where`` found."""
    k, j = where
    leaf = problem.leaves[k]
    i = leaf.offset + j
    return (leaf.entry_name(j), float(a.flat[i]), float(b.flat[i]), leaf.position,
            leaf.entry_index(j))
