"""The allowance for the rounding inherent in a rule evaluated in a low precision (float32).

A correct float32 rule is off by more than ``rtol·|B_j|`` where its cotangent cancels: the
textbook ``tanh`` rule ``dy·(1 - y·y)`` reads the primal ``y`` rounded to float32, so
``|error| ≈ |∂B/∂y|·|y - fl(y)| ≈ 2·ulp(y)`` whatever the size of ``B = 1 - y²``. At
``x = 5.875`` that is 2e-3 of ``B``; from ``|x| ≈ 9`` on, ``y`` rounds to 1 and the rule
returns exactly 0 where the truth is 6e-8 (100% of it). No relative tolerance covers this
without going blind, and it is not a bug: the rule cannot know ``y`` better than float32
stores it.

**What is allowed.** Per cotangent entry, the change of the rule's cotangent when its primal
output moves by one unit in the last place of the low precision:

    r_j = |∂B_j/∂y| · ulp(y)      (estimated along one direction, see below)

This is the forward error bound of any rule that computes its cotangent from the rounded
primal (or from intermediates of the primal's size, which is how cancellations like
``1 - y²``, ``y·(1 - y)``, ``s·(dy - Σ dy·s)`` arise), with a factor of two over the
half-ulp a correctly rounded ``y`` can be off (the rule's own last operations round too).
It is small where the rule is well conditioned: ``exp``, ``x**3``, ``sqrt`` get about
``eps·|B|`` (their cotangent changes with ``y`` in proportion), so relative errors of 1e-4
of larger stay caught there; it is large only where the cotangent cancels.

**How it is measured.** ``∂B/∂y`` cannot be asked for: ``y`` is inside the rule. The chain
rule gives it along a direction ``v`` of the inputs: moving ``x`` by ``s·v`` moves ``y`` by
``s·Jv`` and ``B`` by ``s·(∂B/∂x)v``, so moving ``y`` by one ulp changes ``B`` by

    r = |B(x + s·v) - B(x - s·v)| · ulp(y)_max / |y(x + s·v) - y(x - s·v)|_max

(``_max``: the largest entry over the outputs). Both sides are taken from the **rule itself
evaluated in float64** at the promoted inputs, with the same cotangent ``Δ`` (its value for
``y``, its pullback for ``B``): in float64 they are smooth, so the difference quotient
measures the rule's sensitivity and not its float32 noise, and a move of ``s = 2**-12`` of
each entry's scale is far above float64's resolution. (Probing with ±1 ulp of the float32
inputs instead would see nothing: at ``x = 5.875`` one ulp of ``x`` moves ``y`` by 1e-11,
far below ``ulp(y)``, so the float32 cotangent does not move at all.) ``v`` has the inputs'
scales and fixed random signs (all-equal signs would be blind to softmax, which is constant
along ``(1, ..., 1)``).

Two more terms in full mode (every input entry has its own direction there), for what
rounds inside the rule rather than in its primal output:

- **input rounding**: ``Σ_k |∂B_j/∂x_k|·ulp(x_k)`` (full mode, where every entry has its
  own direction): intermediates of the inputs' size round at their ulp, as in the float32
  ``std`` of data near 3000, whose mean is off by ulp(3000) = 2.4e-4 and ``x - mean`` with it;
- **sums**: ``eps·max|Δ|·max|y| / max(scale_j, 1)``: a sum of terms of the size
  ``|Δ|·|y|`` rounds at ``eps`` of them, and when it cancels (softmax with a constant
  ``Δ``, whose exact pullback is 0) that is all that is left.

Both are a few ulps of the values the rule works with, far below ``rtol·|B|`` where the
cotangent does not cancel.

**What it cannot hide.** ``r`` comes from the derivative of the rule's cotangent, not from a
comparison of the rule with anything: a wrong rule is judged by its own sensitivity.
``dy·(1 - y)`` for ``tanh`` at ``x = 2`` is allowed 6e-8 against an error of 0.035; a 1e-2
relative error on the tanh rule at ``x = 5.875`` (3e-7) against an allowance of 1.2e-7. A
float32 rule is not compared with its own float64 evaluation (that would hide bugs that only
appear in float32).

**Float64 rules** get the same allowance, times ``LATE_FACTOR``, but only for an entry that
would otherwise be reported wrong (:func:`adcheck.check.compare.compare_full`), so passing
checks cost nothing more. A float64 rule is off by a few ulps of its intermediates where its
cotangent cancels to (nearly) 0: the textbook ``var`` rule ``2·(x - mean(x))/n`` at
``np.full(3, 5.868559668879664)`` gives -5.9e-16 where the truth is 0, and the pullback of
``lstsq``'s residuals at an exact fit gives 1.3e-16. No relative tolerance covers an exact 0.

**When it applies.** Otherwise only to :class:`~adcheck.check.problem.RuleProblem`
(``check_adjoint``, ``verify``, and the per-rule report of ``gradcheck``) with an input of
a precision coarser than float64, and only when the rule accepts float64 inputs (it returns
a float64 value of the same shape and a pullback that gives finite cotangents of the right
shapes). Otherwise there is no allowance and no extra work until a float64 entry is about
to be reported wrong. It costs two calls of the rule and two pullbacks per cotangent
compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.tape import resolve
from .problem import Problem, RuleProblem

__all__ = ["RoundingProbe", "STEP", "FACTOR", "low_precision"]

# The move along v, as a fraction of each entry's scale (a power of two near |x_j|).
STEP = 2.0**-12
# Multiplies the one-ulp sensitivity (it already is twice the half-ulp rounding of y).
FACTOR = 1.0
# Multiplies eps·|Δ|·|y|, the rounding of a sum inside the rule (see allowance).
CANCEL = 1.0
# Multiplies the allowance of a float64 rule (see the module docstring): its intermediates
# may round a few times in a row, and the terms above count one rounding each.
LATE_FACTOR = 4.0


def low_precision(problem: Problem) -> np.dtype | None:
    """The coarsest floating dtype of the inputs, if it is coarser than float64; else None.

    >>> import numpy as np
    >>> p = RuleProblem(np.sin, None, (np.ones(2, np.float32),), {})
    >>> low_precision(p)
    dtype('float32')
    """
    worst = None
    for leaf in problem.leaves:
        d = np.dtype(leaf.dtype)
        if d.kind == "f" and np.finfo(d).eps > np.finfo(np.float64).eps:
            if worst is None or np.finfo(d).eps > np.finfo(worst).eps:
                worst = d
    return worst


class RoundingProbe:
    """Per cotangent ``Δ``, the rounding allowance ``r`` of the module docstring.

    ``allowance(dy)`` is ``None`` when the probe does not apply (then nothing is added).
    With ``per_entry`` (full mode) every input entry gets its own direction ``e_j``, so an
    entry whose output is insensitive (``tanh`` at 7 next to ``tanh`` at 0) is measured on
    its own; otherwise (fast mode: the cost must not grow with ``n``) one random-sign
    direction serves all entries.

    >>> import numpy as np
    >>> rule = lambda x: (np.tanh(x), lambda dy: (dy * (1 - np.tanh(x) ** 2),))
    >>> p = RuleProblem(np.tanh, rule, (np.array([5.875], np.float32),), {})
    >>> r = RoundingProbe(p).allowance(np.ones(1))
    >>> bool(1e-7 < r[0] < 1.5e-7)   # |∂B/∂y|·ulp(y) = 2·y·6e-8
    True
    >>> p64 = RuleProblem(np.tanh, rule, (np.array([5.875]),), {})
    >>> RoundingProbe(p64).allowance(np.ones(1)) is None
    True
    """

    def __init__(self, problem: Problem, per_entry: bool = False,
                 dtype: np.dtype | None = None):
        self.problem = problem
        self.per_entry = per_entry
        # per direction: (entries it serves, ulp(y)/|Δy| turning a change of B into r,
        # the pullbacks at x0 + s·v and x0 - s·v, ulp(x_j) / |2·v_j| for the input term)
        self.directions: list[tuple[np.ndarray, float, Any, Any, float]] = []
        self.dtype = low_precision(problem) if dtype is None else np.dtype(dtype)
        if self.dtype is None or not isinstance(problem, RuleProblem) or problem.m == 0:
            return
        try:
            self._setup(problem, per_entry)
        except Exception:  # noqa: BLE001  (the rule does not work in float64: no allowance)
            self.directions = []

    @property
    def active(self) -> bool:
        return bool(self.directions)

    def _setup(self, p: RuleProblem, per_entry: bool) -> None:
        y0 = np.abs(np.asarray(p.flat_outputs(p.y0), dtype=np.float64))
        unit = self.dtype
        for o in p.out_leaves:
            if o.dtype.kind == "f" and np.finfo(o.dtype).eps > np.finfo(unit).eps:
                unit = o.dtype
        ulps = np.spacing(y0.astype(unit)).astype(np.float64)
        if per_entry:
            moves = []
            for j in range(p.n):
                v = np.zeros(p.n)
                v[j] = STEP * p.scales[j]
                moves.append((np.array([j]), v))
        else:
            signs = np.where(np.random.default_rng(0).random(p.n) < 0.5, -1.0, 1.0)
            moves = [(np.arange(p.n), STEP * p.scales * signs)]
        self.y_peak = float(np.max(np.where(np.isfinite(y0), y0, 0.0), initial=0.0))
        # per input entry, one unit in the last place of the low precision, for the input
        # rounding term (see allowance)
        self.x_ulp = np.spacing(np.abs(p.x0).astype(self.dtype)).astype(np.float64)
        for entries, v in moves:
            ends = []
            for x in (p.x0 + v, p.x0 - v):
                with np.errstate(all="ignore"):
                    value, back = p.rule(*p.args_at(x, promoted=True), **p.kwargs)
                p.evaluations += 1
                y = p.flat_outputs(value)
                if y.dtype != np.float64 or y.shape != (p.m,):
                    return  # the rule does not compute in float64: no allowance at all
                ends.append((y, back))
            with np.errstate(all="ignore"):
                moved = np.abs(ends[0][0] - ends[1][0]) / 2
            moved = np.where(np.isfinite(moved), moved, 0.0)
            peak = float(moved.max(initial=0.0))
            if not peak > 0:
                continue  # the outputs do not move along v: nothing to allow
            # the ulp of the outputs that move most (within a factor 4 of the largest move)
            ulp = float(np.max(ulps[moved >= peak / 4]))
            if np.isfinite(ulp):
                # for the input term: per unit change of B, the move of x_j in its own ulps
                x_ulps = (float(self.x_ulp[entries[0]]) / (2 * float(np.max(np.abs(v))))
                          if per_entry else 0.0)
                self.directions.append((entries, ulp / peak, ends[0][1], ends[1][1], x_ulps))

    def _pull(self, back: Any, dy: np.ndarray) -> np.ndarray | None:
        p = self.problem
        p.pullbacks += 1
        with np.errstate(all="ignore"):
            grads = back(p.output_cotangent(dy, np.float64))
        if isinstance(grads, (tuple, list)):
            grads = resolve(tuple(grads))
        raw, _ = p.cotangent_leaves(grads)
        flat = np.zeros(p.n)
        for leaf, g in zip(p.leaves, raw):
            if g is None:
                continue
            arr = np.asarray(g)
            if arr.shape != leaf.shape or arr.dtype.kind not in "fiu":
                return None
            flat[leaf.offset : leaf.offset + leaf.size] = np.ravel(arr).astype(np.float64)
        return flat

    def allowance(self, dy: np.ndarray) -> np.ndarray | None:
        """``r_j`` for every input entry, for the flat output cotangent ``dy`` (or None)."""
        if not self.directions:
            return None
        dy = np.asarray(dy, np.float64)
        p = self.problem
        r = np.zeros(p.n)
        inputs = np.zeros(p.n)
        for entries, scale, back_plus, back_minus, x_ulps in self.directions:
            try:
                plus, minus = self._pull(back_plus, dy), self._pull(back_minus, dy)
            except Exception:  # noqa: BLE001  (no allowance from this direction)
                continue
            if plus is None or minus is None:
                continue
            with np.errstate(all="ignore"):
                part = FACTOR * scale * np.abs(plus[entries] - minus[entries]) / 2
                moved = np.abs(plus - minus) * x_ulps
            r[entries] = np.where(np.isfinite(part), part, 0.0)
            inputs += np.where(np.isfinite(moved), moved, 0.0)
        # Sums in the rule round at eps·(their terms), of the size |Δ|·|y| per unit of x_j:
        # a cancelling sum (softmax's Σ Δ·s with a constant Δ, exactly 0 in theory) is off
        # by that much whatever the size of the result.
        eps = float(np.finfo(self.dtype).eps)
        dy_peak = float(np.max(np.abs(dy), initial=0.0))
        if not self.per_entry:  # fast mode: the directions' term only (see the docstring)
            return r
        cancel = CANCEL * eps * dy_peak * self.y_peak / np.maximum(p.scales, 1.0)
        return r + inputs + cancel
