"""A caller's reference: the pullback against an analytic Jacobian or VJP the user supplies.

Finite differences are a weak oracle in some places: a function that cannot be evaluated
around the point (``arcsin`` at ``1 - 1e-15``, ``log1p`` at ``-1 + 1e-15``), one that
oscillates faster than any step can follow (``sin`` at 1e15), an error bound as large as the
values
(*inconclusive*). There a check can only say it could not decide. A reference the caller
knows to be right (the derivative worked out by hand, another library's Jacobian) decides
instead. Give it to :func:`~adcheck.check_adjoint` or :func:`~adcheck.verify` in one of
two forms:

- ``reference=jac``: ``jac(*args, **kwargs)`` takes the function's arguments and returns
  its Jacobian as :func:`adcheck.jacobian` does: one entry per positional argument (a bare
  array is accepted for a function of one argument; ``None`` for an argument that is not
  differentiable), shaped ``out.shape + arg.shape``; for a pytree argument, the argument's
  structure with leaves shaped ``out.shape + leaf.shape``. The function must have one
  output.
- ``reference_vjp=vjp``: ``vjp(dy, *args, **kwargs)`` returns what a correct pullback
  would: one cotangent per positional argument, in each argument's structure (``None``
  stands for zeros). ``dy`` has the output's structure, so several outputs and pytrees
  work; the cost is one call per cotangent instead of a whole Jacobian.

What is compared:

1. **The rule against the reference**, exactly (no finite differences): ``back(Δ)`` with the
   reference's ``J'Δ`` for every basis cotangent (each output entry, up to
   :data:`BASIS_MAX` of them; random ones beyond) and the cotangents ``verify`` draws,
   within the rounding allowance of both (:mod:`adcheck.check.tolerance`). A disagreement is
   a ``"reference"`` failure naming the entry (``∂y[1]/∂x[0, 2]``), unless finite
   differences decide, clearly and confirmed by a second opinion, that the reference is the
   one that is wrong there: then it is a ``"bad reference"`` failure.
2. **The reference against finite differences**, where they decide: so a wrong reference is
   noticed, not trusted blindly, even where it agrees with a wrong rule. A reference that
   disagrees with decided and confirmed finite differences is a ``"bad reference"``
   failure (the check fails: its oracle is wrong).
3. **Where finite differences are weak** (an *inconclusive* entry, or finite differences
   impossible near the point) and the rule agrees with the reference, the reference decides:
   the entry counts as checked, and a note says so.

>>> import numpy as np
>>> import adcheck as ad
>>> r = ad.check_adjoint(np.sin, np.array([0.5, 2.0]), seed=0,
...                      reference=lambda x: np.diag(np.cos(x)))
>>> r.passed
True
>>> with ad.scoped_rules():  # no step fits between 1 - 1e-15 and 1: finite differences fail
...     @ad.adjoint(np.arcsin)
...     def _(x):
...         return np.arcsin(x), lambda dy: (dy / np.sqrt(1 - x),)  # wrong: 1 - x**2
...     r = ad.check_adjoint(np.arcsin, np.array([1 - 1e-15]), raise_exception=False,
...                          reference_vjp=lambda dy, x: (dy / np.sqrt((1 - x) * (1 + x)),))
>>> [(f.kind, f.path) for f in r.failures]
[('reference', 'x[0]')]
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from .decided import RESOLVE, decided_dot, undecided_ratio
from .lines import NotEvaluable, hull, outside
from .oracle import Oracle
from .problem import Problem, PullError, get_path
from .report import output_entry
from .result import CheckResult, Failure
from .tolerance import SAFETY, Tolerance, dot_slack

__all__ = ["BASIS_MAX", "RANDOM_COTANGENTS", "compare_reference", "validate_reference"]

#: Outputs up to this many are compared on every basis cotangent (every Jacobian entry);
#: beyond, on :data:`RANDOM_COTANGENTS` random ones (a linear map that differs from another
#: differs on a random vector, almost surely).
BASIS_MAX = 64
RANDOM_COTANGENTS = 3
#: Disagreements listed per check (the rest are counted in a note).
MAX_LISTED = 20
#: Input entries up to this many: the reference is compared with finite differences column
#: by column; beyond, along random directions.
FULL_MAX_INPUTS = 32


class BadReference(Exception):
    """The reference raised, or returned something that does not fit the arguments."""


def validate_reference(reference: Any, reference_vjp: Any) -> None:
    """Raise ``TypeError`` unless each given reference is callable, and at most one is.

    >>> validate_reference(None, None)
    >>> validate_reference(3.0, None)
    Traceback (most recent call last):
    ...
    TypeError: reference must be a callable returning the Jacobian, got float
    """
    if reference is not None and not callable(reference):
        raise TypeError("reference must be a callable returning the Jacobian, got "
                        f"{type(reference).__name__}")
    if reference_vjp is not None and not callable(reference_vjp):
        raise TypeError("reference_vjp must be a callable (dy, *args) -> cotangents, got "
                        f"{type(reference_vjp).__name__}")
    if reference is not None and reference_vjp is not None:
        raise TypeError("give reference (a Jacobian) or reference_vjp, not both")


class _Reference:
    """The caller's reference as a map from a flat output cotangent to a flat cotangent."""

    def __init__(self, problem: Any, jacobian: Callable | None, vjp: Callable | None):
        self.problem = problem
        self.kind = "Jacobian" if jacobian is not None else "VJP"
        self.matrix: np.ndarray | None = None
        if jacobian is not None:
            self.matrix = self._jacobian_matrix(jacobian)
        else:
            self.vjp = vjp
            # the problem's own machinery reads the cotangents (structure, pytrees, shapes)
            self.reader = copy.copy(problem)
            self.reader.back = lambda dy: vjp(dy, *copy.deepcopy(problem.args),
                                              **copy.deepcopy(problem.kwargs))

    def _jacobian_matrix(self, jacobian: Callable) -> np.ndarray:
        p = self.problem
        if len(p.out_all) != 1 or len(p.out_leaves) != 1:
            raise BadReference("a reference Jacobian needs a function with one output; for "
                               "several outputs give reference_vjp=lambda dy, *args: ...")
        try:
            with np.errstate(all="ignore"):
                jac = jacobian(*copy.deepcopy(p.args), **copy.deepcopy(p.kwargs))
        except Exception as exc:  # noqa: BLE001  (the caller's code may raise anything)
            raise BadReference(f"the reference raised {type(exc).__name__}: {exc}") from exc
        if len(p.args) == 1 and not isinstance(jac, (tuple, list)):
            jac = (jac,)
        if not isinstance(jac, (tuple, list)) or len(jac) != len(p.args):
            raise BadReference(
                f"the reference returned {type(jac).__name__}; it must return one Jacobian "
                f"per positional argument ({len(p.args)}), as adcheck.jacobian does")
        out = p.out_leaves[0]
        matrix = np.zeros((p.m, p.n))
        for leaf in p.leaves:
            entry = jac[leaf.position]
            if entry is not None and leaf.item is not None:
                try:
                    entry = get_path(entry, p.key_paths[leaf.position][leaf.item])
                except (KeyError, IndexError, AttributeError, TypeError) as exc:
                    raise BadReference(f"the reference Jacobian has no entry for {leaf.path} "
                                       f"({type(exc).__name__}: {exc})") from exc
            if entry is None:
                continue
            arr = np.asarray(entry)
            want = tuple(out.shape) + tuple(leaf.shape)
            if arr.shape != want:
                raise BadReference(
                    f"the reference Jacobian for {leaf.path} has shape {arr.shape}, expected "
                    f"{want} (the output's shape {tuple(out.shape)} + the input's "
                    f"{tuple(leaf.shape)})")
            arr = arr.real if arr.dtype.kind == "c" else arr
            matrix[:, leaf.offset : leaf.offset + leaf.size] = np.reshape(
                arr.astype(np.float64), (p.m, leaf.size))
        return matrix

    def pull(self, dy: np.ndarray) -> np.ndarray:
        """The reference's ``J'·dy`` as a flat float64 vector (raises :class:`BadReference`)."""
        if self.matrix is not None:
            with np.errstate(all="ignore"):
                return dy @ self.matrix
        try:
            with np.errstate(all="ignore"):
                pulled = self.reader.pull(dy)
        except PullError as exc:
            message = exc.message.replace("the pullback", "the reference VJP")
            raise BadReference(message) from exc
        bad = [text for kind, _, text in pulled.issues if kind in ("count", "shape")]
        if bad:
            raise BadReference(f"the reference VJP: {bad[0]}")
        return pulled.flat


def _entry(problem: Problem, j: int) -> tuple[Any, int, str]:
    for leaf in problem.leaves:
        if leaf.offset <= j < leaf.offset + leaf.size:
            local = j - leaf.offset
            return leaf, local, leaf.entry_name(local)
    raise IndexError(j)


def _failure(problem: Problem, kind: str, j: int, message: str, expected: float, got: float,
             tol: float) -> Failure:
    leaf, local, name = _entry(problem, j)
    return Failure(kind, message, argument=leaf.position, index=leaf.entry_index(local),
                   expected=float(expected), got=float(got), path=name, tolerance=float(tol))


class _Comparison:
    """State of one reference comparison: the failures and notes it adds to a result."""

    def __init__(self, result: CheckResult, problem: Problem, ref: _Reference,
                 est: Oracle, tols: list[Tolerance]):
        self.result = result
        self.problem = problem
        self.ref = ref
        self.est = est
        self.tols = tols
        self.failures: list[Failure] = []
        self.notes: list[str] = []
        self.disagree: set[tuple[int, int]] = set()  # (output entry or -1, input entry)
        self.wrong_inputs: set[int] = set()  # input entries where the rule is wrong
        self.extra = 0

    def slack(self, b: np.ndarray) -> np.ndarray:
        from .compare import slack_vector

        return slack_vector(self.problem, self.tols, b)

    def label(self, i: int | None) -> str:
        p = self.problem
        if i is None or p.m == 1:
            return ""
        return f"∂{output_entry(p.out_leaves, i, getattr(p, 'out_name', 'y'))}/∂"

    def add(self, failure: Failure) -> None:
        if len(self.failures) >= MAX_LISTED:
            self.extra += 1
            return
        self.failures.append(failure)

    # -- 1. the rule against the reference --------------------------------------------------

    def rule_against_reference(self, dys: list[tuple[np.ndarray, int | None]]) -> np.ndarray:
        """Compare ``back(Δ)`` with the reference for every cotangent; return the reference's
        rows for the basis cotangents (``(m, n)``, NaN where not computed)."""
        p = self.problem
        rows = np.full((p.m, p.n), np.nan)
        self.adjoint_rows = np.full((p.m, p.n), np.nan)
        for dy, i in dys:
            pulled = p.pull(dy)
            r = self.ref.pull(dy)
            if r.shape != (p.n,) or not np.all(np.isfinite(r)):
                j = int(np.flatnonzero(~np.isfinite(r))[0]) if r.shape == (p.n,) else 0
                raise BadReference(f"the reference gives {r[j] if r.shape == (p.n,) else r} "
                                   f"for {_entry(p, j)[2]}: it must be finite")
            if i is not None:
                rows[i] = r
                self.adjoint_rows[i] = pulled.flat
            got = pulled.flat
            usable = pulled.usable & np.isfinite(got)
            tol = self.slack(got) + self.slack(r)
            with np.errstate(invalid="ignore"):
                bad = usable & (np.abs(got - r) > tol)
            for j in np.flatnonzero(bad):
                self.judge(dy, i, int(j), float(got[j]), float(r[j]), float(tol[j]))
        return rows

    def fd_line(self, dy: np.ndarray, j: int) -> tuple[float, float, list] | None:
        """``(⟨Δ, J e_j⟩, its uncertainty, the estimates)`` by finite differences, or None."""
        p = self.problem
        scale = float(p.scales[j])
        v = np.zeros(p.n)
        v[j] = scale
        try:
            first = self.est.estimate(v, dy=dy)
        except NotEvaluable:
            return None
        return float(first.value[0]) / scale, SAFETY * float(first.error[0]) / scale, [
            v, first]

    def confirmed_against(self, value: float, v: np.ndarray, first: Any, dy: Any,
                          slack: float, scale: float, k: int = 0) -> bool:
        """A second opinion (other stencils) also puts ``value`` outside the finite
        differences (entry ``k`` of the estimates), and the point is not a kink whose
        one-sided derivatives ``value`` lies between."""
        alts = self.est.alternatives(v, dy)
        others = [(float(a.value[k]) / scale, float(a.error[k]) / scale) for a in alts]
        lo, hi = hull((float(first.value[k]) / scale, float(first.error[k]) / scale), others,
                      SAFETY)
        if outside(value, (lo, hi), slack) == 0.0:
            return False
        sides = self.est.one_sided(v, dy)
        if sides:
            f, b = (float(s.value[k]) / scale for s in sides)
            if min(f, b) - slack <= value <= max(f, b) + slack:
                return False
        return True

    def judge(self, dy: np.ndarray, i: int | None, j: int, got: float, r: float,
              tol: float) -> None:
        """The rule and the reference disagree at input entry ``j``: which is wrong?"""
        p = self.problem
        self.disagree.add((-1 if i is None else i, j))
        if len(self.failures) >= MAX_LISTED:  # not listed: no finite differences spent on it
            self.extra += 1
            self.wrong_inputs.add(j)
            return
        what = self.label(i)
        name = _entry(p, j)[2]
        for_dy = "" if i is not None else " [for a random cotangent Δ: back(Δ) against J'Δ]"
        head = (f"{what}{name}: adjoint gives {got:.10g}, the reference {r:.10g} "
                f"(|error| {abs(got - r):.3g} > tolerance {tol:.3g})")
        line = self.fd_line(dy, j)
        if line is None:
            self.wrong_inputs.add(j)
            self.add(_failure(p, "reference", j, head + "; finite differences cannot be "
                              f"taken here, the reference decides{for_dy}", r, got, tol))
            return
        f, u, (v, first) = line
        decided = u <= RESOLVE * max(abs(got), abs(r), abs(f))
        near_rule = abs(got - f) <= u + tol
        near_ref = abs(r - f) <= u + tol
        if decided and near_rule and not near_ref and self.confirmed_against(
                r, v, first, dy, tol, float(p.scales[j])):
            self.add(_failure(
                p, "bad reference", j,
                f"{what}{name}: the reference gives {r:.10g}, but finite differences give "
                f"{f:.10g} (error bound {u:.3g}), as the adjoint does ({got:.10g}): the "
                f"reference is wrong here{for_dy}", f, r, u + tol))
            return
        self.wrong_inputs.add(j)
        if decided and near_ref and not near_rule:
            why = f"; finite differences give {f:.6g} (error bound {u:.2g}), as the reference does"
        else:
            why = (f"; finite differences ({f:.6g}, error bound {u:.2g}) cannot tell them "
                   "apart, the reference decides")
        self.add(_failure(p, "reference", j, head + why + for_dy, r, got, tol))

    # -- 2. the reference against finite differences ---------------------------------------

    def reference_against_fd(self, rows: np.ndarray, rng: np.random.Generator) -> None:
        """Where finite differences decide (and confirm), the reference must agree."""
        p = self.problem
        if not np.isnan(rows).any() and p.n <= FULL_MAX_INPUTS:
            self._columns(rows)
        else:
            self._directions(rng)

    def _columns(self, rows: np.ndarray) -> None:
        p = self.problem
        peak = self.est.peak()
        slack = np.stack([self.slack(rows[i]) for i in range(p.m)])
        for j in range(p.n):
            scale = float(p.scales[j])
            v = np.zeros(p.n)
            v[j] = scale
            try:
                first = self.est.estimate(v)
            except NotEvaluable:
                continue
            f = first.value / scale
            u = SAFETY * first.error / scale
            decided = undecided_ratio(rows[:, [j]], f[:, None], u[:, None], p.x0[[j]],
                                      peak)[:, 0] <= RESOLVE
            with np.errstate(invalid="ignore"):
                off = decided & (np.abs(rows[:, j] - f) > u + slack[:, j])
            for i in np.flatnonzero(off):
                i = int(i)
                if (i, j) in self.disagree:
                    continue
                if not self.confirmed_against(float(rows[i, j]), v, first, None,
                                              float(slack[i, j]), scale, i):
                    continue
                got = self.adjoint_rows[i, j]
                self.add(_failure(
                    p, "bad reference", j,
                    f"{self.label(i)}{_entry(p, j)[2]}: the reference gives {rows[i, j]:.10g}, "
                    f"but finite differences give {f[i]:.10g} (error bound {u[i]:.3g}); the "
                    f"adjoint gives {got:.10g}, as the reference does: both are wrong here, or "
                    "the reference copies the rule", f[i], rows[i, j], u[i] + slack[i, j]))

    def _directions(self, rng: np.random.Generator) -> None:
        p = self.problem
        peak = self.est.peak()
        for _ in range(2):
            dy = rng.standard_normal(p.m)
            v = p.scales * rng.choice([-1.0, 1.0], p.n)
            try:
                first = self.est.estimate(v, dy=dy)
            except NotEvaluable:
                continue
            r = self.ref.pull(dy)
            rd = float(r @ v)
            f, u = float(first.value[0]), SAFETY * float(first.error[0])
            slack = dot_slack(self.slack(r), v)
            if not decided_dot(rd, f, u, dy, v, p.x0, peak) or abs(rd - f) <= u + slack:
                continue
            if not self.confirmed_against(rd, v, first, dy, slack, 1.0):
                continue
            self.add(Failure(
                "bad reference",
                f"along a random direction moving all {p.n} input entries: the reference "
                f"gives <J'Δ, v> = {rd:.10g}, but finite differences give <Δ, J v> = "
                f"{f:.10g} (error bound {u:.3g}): the reference is wrong somewhere",
                expected=f, got=rd, tolerance=u + slack))

    # -- 3. where finite differences were weak ---------------------------------------------

    def settle_weak(self) -> None:
        """Inconclusive comparisons and impossible finite differences, decided by the
        reference: settled (a note) where the rule agrees with it, superseded by the
        ``"reference"`` failure where it does not."""
        p = self.problem
        names = {_entry(p, j)[2]: j for j in range(p.n)}
        kept, settled = [], []
        for f in self.result.failures:
            weak = f.kind == "inconclusive" or (
                f.kind == "error" and f.message.startswith("finite differences impossible"))
            if not weak:
                kept.append(f)
                continue
            j = names.get(f.path) if f.path is not None else None
            wrong = j in self.wrong_inputs if j is not None else bool(self.wrong_inputs)
            if not wrong:
                settled.append(f.path or ("the value comparison" if f.kind == "error"
                                          else f.message.split(":")[0]))
        if settled:
            self.notes.append(
                f"finite differences could not decide {', '.join(settled[:5])}"
                f"{' and more' if len(settled) > 5 else ''}; the caller's reference did "
                "(the adjoint agrees with it there)")
        self.result.failures[:] = kept


def compare_reference(result: CheckResult, problem: Any, jacobian: Callable | None,
                      vjp: Callable | None, tols: list[Tolerance], rng: np.random.Generator,
                      fdm: Any = None, cotangents: tuple = ()) -> None:
    """Compare the rule's pullback with the caller's reference and add what is found to
    ``result`` (failures of kinds ``"reference"``, ``"bad reference"``, ``"error"``; notes).
    ``cotangents`` are extra flat output cotangents (``verify``'s drawn ones)."""
    p = problem
    if p.n == 0 or p.m == 0:
        result.notes.append("nothing to compare with the reference (no floating input or "
                            "output)")
        return
    if any(f.kind in ("count", "error") and f.path is None
           and not f.message.startswith("finite differences impossible")
           for f in result.failures):
        return  # the pullback itself cannot be read: already reported
    est = Oracle(p, fdm)
    try:
        ref = _Reference(p, jacobian, vjp)
        if p.m <= BASIS_MAX:
            dys: list[tuple[np.ndarray, int | None]] = [(np.eye(p.m)[i], i) for i in range(p.m)]
        else:
            dys = [(rng.standard_normal(p.m), None) for _ in range(RANDOM_COTANGENTS)]
        dys += [(np.asarray(d, dtype=float), None) for d in cotangents]
        cmp = _Comparison(result, p, ref, est, tols)
        rows = cmp.rule_against_reference(dys)
        cmp.reference_against_fd(rows, rng)
    except BadReference as exc:
        result.failures.append(Failure("error", f"cannot use the caller's reference: {exc}"))
        return
    except PullError:
        return  # the pullback raised: the value comparison reported it
    cmp.settle_weak()
    result.failures += cmp.failures
    if cmp.extra:
        result.notes.append(f"{cmp.extra} more disagreements with the reference not listed")
    count = len(dys)
    if not cmp.failures:
        result.notes.append(f"the adjoint agrees with the caller's reference {ref.kind} on "
                            f"{count} cotangent{'s' if count != 1 else ''}, and the reference "
                            "with finite differences where they decide")
    result.notes += cmp.notes
    result.evaluations = p.evaluations
    result.pullbacks = p.pullbacks
