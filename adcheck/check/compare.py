"""Pullback against finite differences: full mode (every entry) and fast mode (dot products).

**Full mode** takes the Jacobian column by column (one finite difference per input entry,
along that entry scaled to its size) and the pullback of every basis cotangent, and compares
each entry ``∂y_i/∂x_j`` with tolerance ``SAFETY·err_ij + s_ij`` (see
:mod:`adcheck.check.tolerance`). Cotangents drawn by ``verify`` are compared as ``J'·Δ``.

**Fast mode** runs the probes of :mod:`adcheck.check.probes`: for each, ``⟨Δ, J·v⟩`` (one
finite difference along ``v``) against ``⟨back(Δ), v⟩``. A failing probe is bisected down to
the wrong entries.

Either way, a comparison that fails is confirmed before it is reported: other finite
differences along the same line give a second opinion (so noise beyond the function's
precision is not taken for a wrong rule), and one-sided differences tell a kink from a bug
(see :mod:`adcheck.check.lines`).

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> from adcheck.check.lines import LineEstimator
>>> from adcheck.check.tolerance import Tolerance
>>> p = RuleProblem(np.sin, None, (np.array([0.5, 1.0]),), {},
...                 back=lambda dy: (-dy * np.cos([0.5, 1.0]),))
>>> out = compare_full(p, LineEstimator(p), [Tolerance()])
>>> [f.path for f in out.failures if f.kind == "value"]
['x[0]', 'x[1]']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .decided import NORMWISE, RESOLVE, decided_dot, scale_candidates, undecided_ratio
from .lines import LineEstimate, LineEstimator, NotEvaluable, hull, outside
from .oracle import Oracle
from .probes import Probe, balance, bisect, plan, quantise, signed
from .problem import Problem, PullError, RuleProblem
from .quick import QuickLine, shortcut_allowed
from .report import output_entry
from .result import Failure
from .rounding import LATE_FACTOR, RoundingProbe
from .taylor import CONFIRMED, confirm_entry, confirm_failures, decide_probe, resolve_undecided
from .tolerance import SAFETY, Tolerance, coarsest, dot_slack

__all__ = ["Outcome", "compare_full", "compare_fast", "MAX_LISTED"]

# Value failures kept per check (the worst first); the rest are counted in a note.
MAX_LISTED = 20
# A shorter or one-sided stencil overrules one whose error bound failed only if it is this
# precise (relative to the values compared); for functions evaluated in float32, STRICT_LOW.
STRICT = 1e-6
STRICT_LOW = 1e-3


@dataclass
class Outcome:
    """What a comparison found: failures, the closest call, and what it cost."""

    failures: list[Failure] = field(default_factory=list)
    max_error: float = 0.0
    tolerance: float = 0.0
    ratio: float = -1.0
    probes: int = 0
    notes: list[str] = field(default_factory=list)
    # The part of ``tolerance`` allowed for low-precision rounding (see adcheck.check.rounding)
    rounding: float = 0.0
    rounding_dtype: str = ""
    # the largest |error| of any comparison (``max_error`` is the error of the worst ratio)
    largest: float = 0.0
    # (error, tolerance) of the last probe a second opinion cleared (see _verdict)
    cleared: tuple[float, float] = (0.0, 0.0)
    # fast mode: the float grid overruled a probe's finite differences somewhere (then a
    # probe that is not bisected is not evidence either)
    grid_overruled: bool = False

    def record(self, error: float, tol: float, rounding: float = 0.0) -> None:
        """Keep ``(error, tol)`` if it is the closest to failing seen so far."""
        if error > self.largest or math.isnan(error):
            self.largest = float(error) if not math.isnan(error) else math.inf
        if math.isnan(error):
            ratio = math.inf
        elif tol > 0:
            ratio = error / tol
        else:
            ratio = math.inf if error > 0 else 0.0
        if ratio > self.ratio:
            self.ratio, self.max_error, self.tolerance = ratio, float(error), float(tol)
            self.rounding = float(rounding)


def slack_vector(problem: Problem, tols: list[Tolerance], b: np.ndarray) -> np.ndarray:
    """Per input entry, the allowance for the adjoint's own rounding (cotangent ``b``)."""
    s = np.zeros(problem.n)
    finite = np.where(np.isfinite(b), b, 0.0)
    for leaf, tol in zip(problem.leaves, tols):
        sl = slice(leaf.offset, leaf.offset + leaf.size)
        s[sl] = tol.entry_slack(finite[sl])
    return s


def rounding_of(probe: RoundingProbe | None, dy: np.ndarray, n: int) -> np.ndarray | None:
    """The rounding allowance per input entry for the cotangent ``dy`` (None: nothing)."""
    if probe is None:
        return None
    r = probe.allowance(dy)
    return r if r is not None and r.shape == (n,) else None


def rounding_text(rounding: float, probe: RoundingProbe | None) -> str:
    """`` incl. float32 rounding 2.1e-08`` when part of a tolerance came from rounding."""
    if not rounding or probe is None:
        return ""
    return f" incl. {np.dtype(probe.dtype).name} rounding {rounding:.2g}"


def _leaf_of(problem: Problem, j: int) -> tuple[int, int]:
    for k, leaf in enumerate(problem.leaves):
        if leaf.offset <= j < leaf.offset + leaf.size:
            return k, j - leaf.offset
    raise IndexError(j)


def _entry_name(problem: Problem, j: int) -> str:
    k, local = _leaf_of(problem, j)
    return problem.leaves[k].entry_name(local)


def _entry_failure(problem: Problem, kind: str, j: int, expected: float, got: float,
                   tol: float, what: str = "", extra: str = "", why_tol: str = "") -> Failure:
    k, local = _leaf_of(problem, j)
    leaf = problem.leaves[k]
    name = leaf.entry_name(local)
    label = f"{what}{name}" if what else name
    if kind == "kink":
        message = f"{label}: not differentiable here ({extra})"
    else:
        message = (f"{label}: adjoint gives {got:.10g}, finite differences {expected:.10g} "
                   f"(|error| {abs(got - expected):.3g} > tolerance {tol:.3g}{why_tol}){extra}")
    return Failure(kind, message, argument=leaf.position, index=leaf.entry_index(local),
                   expected=float(expected), got=float(got), path=name, tolerance=float(tol))


def _trim(out: Outcome) -> None:
    values = [f for f in out.failures if f.kind == "value"]
    if len(values) > MAX_LISTED:
        keep = sorted(values, key=lambda f: -_ratio(f))[:MAX_LISTED]
        out.notes.append(f"{len(values)} entries are wrong; the {MAX_LISTED} worst are listed")
        out.failures = [f for f in out.failures if f.kind != "value" or f in keep]


def _ratio(f: Failure) -> float:
    if f.expected is None or f.got is None or not f.tolerance:
        return math.inf
    return abs(f.got - f.expected) / f.tolerance


# -- full mode -------------------------------------------------------------------------------


def compare_full(problem: Problem, est: LineEstimator, tols: list[Tolerance],
                 cotangents: tuple = (), fail_fast: bool = False,
                 rounding: RoundingProbe | None = None) -> Outcome:
    """Every entry of the Jacobian: finite-difference columns against basis-cotangent rows.

    A column whose comparisons the finite differences cannot decide (see
    :mod:`adcheck.check.decided`) is measured again on other scales; what stays undecided is
    reported ``inconclusive``. With ``fail_fast``, stop at the first column with a confirmed
    wrong entry.
    """
    est = as_oracle(est)
    est.fit_scales()
    n, m = problem.n, problem.m
    out = Outcome()
    jac = np.zeros((m, n))
    err = np.zeros((m, n))
    entry_scale = np.tile(np.asarray(problem.scales, dtype=float), (m, 1))
    lines: dict = {}  # (column, scale) -> the line measured there
    for j in range(n):
        v = np.zeros(n)
        v[j] = problem.scales[j]
        line = est.estimate(v)
        lines[(j, float(problem.scales[j]))] = line
        jac[:, j] = line.value / problem.scales[j]
        err[:, j] = line.error / problem.scales[j]
    out.probes = n
    rows = np.zeros((m, n))
    rnd = np.zeros((m, n))
    usable = np.ones(n, bool)
    for i in range(m):
        d = np.zeros(m)
        d[i] = 1.0
        pulled = problem.pull(d)
        rows[i] = pulled.flat
        usable &= pulled.usable
        r = rounding_of(rounding, d, n)
        if r is not None:
            rnd[i] = r
    undecided = _measure_undecided(problem, est, jac, err, rows, usable, entry_scale, lines,
                                   out)
    slack = np.stack([slack_vector(problem, tols, rows[i]) for i in range(m)]) if m else rows
    if rnd.any():
        slack = slack + rnd
    tol = SAFETY * err + slack
    with np.errstate(invalid="ignore"):
        diff = np.abs(rows - jac)
    diff = np.where(np.isfinite(rows), diff, np.inf)
    bad = (diff > tol) & usable[None, :]
    if bad.any() and rounding is None:
        late = _late_rounding(problem, bad, rnd)
        if late is not None:
            rounding = late
            slack = np.stack([slack_vector(problem, tols, rows[i]) for i in range(m)]) + rnd
            tol = SAFETY * err + slack
            bad = (diff > tol) & usable[None, :]
    skip = np.zeros_like(bad)
    for j in np.unique(np.nonzero(bad)[1]):
        for scale in np.unique(entry_scale[bad[:, j], j]):
            part = np.zeros_like(bad)
            part[:, j] = bad[:, j] & (entry_scale[:, j] == scale)
            _confirm_column(problem, est, j, jac, err, rows, slack, part, tol, skip, out, rnd,
                            rounding, float(scale), lines.get((j, float(scale))))
        if fail_fast and any(f.kind == "value" for f in out.failures):
            # the Taylor test's opinion decides the kind before stopping (verify stops
            # early: scipy's iv(1, x), 0 below 1e-150, was reported wrong, not inconclusive)
            confirm_failures(problem, out, rows, jac, slack)
            if any(f.kind == "value" for f in out.failures):
                break
    with np.errstate(invalid="ignore"):  # the confirmation may have replaced estimates
        diff = np.where(np.isfinite(rows), np.abs(rows - jac), np.inf)
    for i, j in zip(*np.nonzero(usable[None, :] & np.isfinite(rows) & ~skip)):
        out.record(float(diff[i, j]), float(tol[i, j]), float(rnd[i, j]))
    if fail_fast and any(f.kind == "value" for f in out.failures):
        _trim(out)
        return out
    # each basis tolerance, as widened by the confirmation (noise, local stencils), bounds
    # |d|'·|rows - jac|, hence the drawn cotangent's error; kinks are not compared
    fd_tol = np.where(skip, np.inf, tol)
    failed = {f.path for f in out.failures}
    _report_undecided(problem, undecided & ~bad & ~skip & usable[None, :], jac, err, rows,
                      failed, out, slack)
    for d in cotangents:
        _compare_cotangent(problem, tols, np.asarray(d, float), jac, fd_tol, out, rounding)
    confirm_failures(problem, out, rows, jac, slack)  # the Taylor test's second opinion
    _trim(out)
    return out


def _late_rounding(problem: Problem, bad: np.ndarray, rnd: np.ndarray) -> RoundingProbe | None:
    """The float64 rule's own rounding allowance (:mod:`adcheck.check.rounding`), measured
    only now that some entries would be reported wrong; written into the rows of ``rnd``
    that have such entries. None when it does not apply."""
    if not isinstance(problem, RuleProblem):
        return None
    probe = RoundingProbe(problem, per_entry=True, dtype=np.dtype(np.float64))
    if not probe.active:
        return None
    for i in np.unique(np.nonzero(bad)[0]):
        d = np.zeros(problem.m)
        d[i] = 1.0
        r = probe.allowance(d)
        if r is not None:
            rnd[i] = np.maximum(rnd[i], LATE_FACTOR * r)
    return probe


def as_oracle(est: LineEstimator) -> Oracle:
    """``est`` as an :class:`~adcheck.check.oracle.Oracle` (the same problem and method)."""
    if isinstance(est, Oracle):
        return est
    return Oracle(est.problem, est.base)


def _measure_undecided(problem: Problem, est: Oracle, jac: np.ndarray, err: np.ndarray,
                       rows: np.ndarray, usable: np.ndarray, entry_scale: np.ndarray,
                       lines: dict, out: Outcome) -> np.ndarray:
    """Measure undecided columns again on other scales; each undecided entry takes the
    measurement that decides it best (its scale is kept in ``entry_scale``, the line in
    ``lines[(j, scale)]``, for the confirmation). Returns what is still undecided."""
    peak = est.peak()
    ratio = undecided_ratio(rows, jac, SAFETY * err, problem.x0, peak)
    for j in range(problem.n):
        if not usable[j] or not (ratio[:, j] > RESOLVE).any():
            continue
        for scale in scale_candidates(float(problem.scales[j])):
            if scale > max(abs(float(problem.x0[j])), 1.0):
                continue  # beyond the input's own size (see _decide_dot)
            v = np.zeros(problem.n)
            v[j] = scale
            try:
                line = est.estimate(v)
            except NotEvaluable:
                continue
            out.probes += 1
            value, error = line.value / scale, line.error / scale
            cand = undecided_ratio(rows[:, [j]], value[:, None], SAFETY * error[:, None],
                                   problem.x0[[j]], peak)[:, 0]
            better = (ratio[:, j] > RESOLVE) & (cand < ratio[:, j])
            if better.any():
                lines[(j, scale)] = line
                jac[better, j], err[better, j] = value[better], error[better]
                ratio[better, j] = cand[better]
                entry_scale[better, j] = scale
            if not (ratio[:, j] > RESOLVE).any():
                break
        if (ratio[:, j] > RESOLVE).any():
            _decide_by_spread(problem, est, j, ratio, jac, err, entry_scale, lines, out)
    return ratio > RESOLVE


def _decide_by_spread(problem: Problem, est: Oracle, j: int, ratio: np.ndarray,
                      jac: np.ndarray, err: np.ndarray, entry_scale: np.ndarray,
                      lines: dict, out: Outcome) -> None:
    """Decide entries of column ``j`` against how much the outputs move along its lines.

    ``huber`` at ``x = [0, 2.2e-82]``: every derivative at ``x[0] = 0`` is 0, and the
    outputs at the point are about 1e-164, so a finite difference's error bound of 1e-19
    looked large beside them. Over the stencil of a unit-scale line the outputs move by
    1e-6, which is a derivative scale of about 1e-3: beside that, an error bound of 1e-19
    decides (``NORMWISE·RESOLVE`` of it, the test for an entry small beside its column).
    Costs two evaluations per line, only for columns still undecided.
    """
    f0 = est._outputs_at_x0()
    reach = max(abs(g) for g in est.base.grid)
    for (col, scale), line in list(lines.items()):
        if col != j or not (ratio[:, j] > RESOLVE).any():
            continue
        span = reach * line.step * scale
        if not (span > 0 and np.isfinite(span)):
            continue
        moves = []
        for sign in (1.0, -1.0):
            x = problem.x0.copy()
            x[j] += sign * span
            try:
                with np.errstate(all="ignore"):
                    moves.append(np.abs(np.asarray(problem.evaluate(x), float) - f0))
            except Exception:  # noqa: BLE001  (off the domain: no spread from this line)
                break
        if len(moves) < 2:
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            spread = float(np.max(np.maximum(*moves), initial=0.0)) / span
        if not (spread > 0 and np.isfinite(spread)):
            continue
        u = SAFETY * line.error / scale
        ok = (ratio[:, j] > RESOLVE) & (u <= RESOLVE * NORMWISE * spread) & np.isfinite(u)
        if ok.any():
            jac[ok, j], err[ok, j] = line.value[ok] / scale, line.error[ok] / scale
            entry_scale[ok, j] = scale
            ratio[ok, j] = 0.0


def _report_undecided(problem: Problem, undecided: np.ndarray, jac: np.ndarray,
                      err: np.ndarray, rows: np.ndarray, failed: set, out: Outcome,
                      slack: np.ndarray | None = None) -> None:
    """One ``inconclusive`` failure per undecided input entry (its worst output), unless
    the Taylor remainder test decides it (:func:`adcheck.check.taylor.resolve_undecided`)."""
    undecided = resolve_undecided(problem, undecided, rows, out, slack)
    m = problem.m
    listed = 0
    columns = np.unique(np.nonzero(undecided)[1])
    for j in columns:
        i = int(np.argmax(np.where(undecided[:, j], err[:, j], -1.0)))
        k, local = _leaf_of(problem, int(j))
        leaf = problem.leaves[k]
        name = leaf.entry_name(local)
        if name in failed:
            continue
        listed += 1
        if listed > MAX_LISTED:
            continue
        what = (f"∂{output_entry(problem.out_leaves, i, getattr(problem, 'out_name', 'y'))}"
                f"/∂{name}" if m > 1 else name)
        u = SAFETY * err[i, j]
        out.failures.append(Failure(
            "inconclusive",
            f"{what}: finite differences cannot decide: their error bound {u:.3g} is not "
            f"small beside the values compared (adjoint {rows[i, j]:.6g}, finite "
            f"differences {jac[i, j]:.6g}), at every step tried (relative to |x| and absolute)",
            argument=leaf.position, index=leaf.entry_index(local), expected=float(jac[i, j]),
            got=float(rows[i, j]), path=name, tolerance=float(u)))
    if listed > MAX_LISTED:
        out.notes.append(f"{listed} entries are inconclusive; the first {MAX_LISTED} are listed")


def between(got: float, a: float, b: float, slack: float) -> bool:
    """``got`` lies between the one-sided derivatives ``a`` and ``b`` (widened by ``slack``):
    only then is a point where they differ a kink the rule may answer either way; an adjoint
    outside both is wrong whatever the kink.

    >>> between(0.0, 0.0, 1.0, 1e-9), between(1e5, 70710.1, 70710.7, 1e-3)
    (True, False)
    """
    return min(a, b) - slack <= got <= max(a, b) + slack


def at_kink(problem: Problem, got: float, a: float, b: float, slack: float) -> bool:
    """Whether an adjoint ``got`` at a kink with one-sided derivatives ``a`` and ``b`` is the
    kink's to answer: :func:`between` them, unless ``problem.kink_bounds_adjoint`` is off."""
    return not problem.kink_bounds_adjoint or between(got, a, b, slack)


def _strict_limit(est: Oracle) -> float:
    """How precise an opinion must be to overrule a stencil whose error bound failed."""
    return STRICT if est._coarse_eps <= 1e-15 else STRICT_LOW


def cleared_locally(got: float, fd: float, u_first: float,
                    opinions: list[tuple[float, float]], slack: float, floor: float,
                    strict: float) -> tuple[float, float] | None:
    """The opinion ``(value, u)`` of a shorter or one-sided stencil that clears ``got`` where
    the first stencil did not, or None.

    Only when some opinion contradicts the first estimate (their intervals ``value ± u`` are
    disjoint: the first stencil's error bound did not hold, the function is not smooth on its
    span), and only by an opinion precise to ``strict`` of the values compared.

    >>> cleared_locally(1.0, 0.99999491, 1e-7, [(1.0, 1e-12)], 0.0, 0.0, 1e-6)
    (1.0, 1e-12)
    >>> cleared_locally(1.1, 1.0, 1e-7, [(1.0, 1e-12)], 0.0, 0.0, 1e-6) is None
    True
    """
    if not any(abs(value - fd) > u + u_first for value, u in opinions):
        return None
    for value, u in opinions:
        ref = max(abs(got), abs(value), floor)
        if abs(got - value) <= u + slack and u <= strict * ref:
            return value, u
    return None


def _confirm_column(problem: Problem, est: Oracle, j: int, jac: np.ndarray,
                    err: np.ndarray, rows: np.ndarray, slack: np.ndarray, bad: np.ndarray,
                    tol: np.ndarray, skip: np.ndarray, out: Outcome,
                    rnd: np.ndarray | None = None, rounding: RoundingProbe | None = None,
                    scale: float | None = None, first: LineEstimate | None = None) -> None:
    """Second opinion, local opinions and kink test for the failing entries of column ``j``.

    Entries the second opinion clears get their tolerance widened to their error (they
    were noise); so do entries that shorter or one-sided stencils clear where the first
    stencil's error bound did not hold (:func:`cleared_locally`); kinks are marked in
    ``skip`` (not counted in ``max_error``).
    """
    scale = problem.scales[j] if scale is None else scale
    v = np.zeros(problem.n)
    v[j] = scale
    alts = est.alternatives(v)
    out.probes += len(alts)
    sides = None
    local: list[LineEstimate] | None = None
    noise: LineEstimate | bool | None = None
    m = problem.m
    peak = est.peak()
    strict = _strict_limit(est)
    for i in np.nonzero(bad[:, j])[0]:
        got = rows[i, j]
        others = [(a.value[i] / scale, a.error[i] / scale) for a in alts]
        lo, hi = hull((jac[i, j], err[i, j]), others, SAFETY)
        distance = outside(got, (lo, hi), slack[i, j])
        # The finite differences disagree among themselves: noise, if their spread still
        # decides something (a spread as large as the values is a stencil across a kink,
        # maximum at [9.596] and [9.7148]: measured again below). The tolerance is the
        # hull's width, never the error it excused.
        width = hi - lo
        if distance == 0.0 and width <= RESOLVE * max(abs(got), abs(jac[i, j])):
            tol[i, j] = max(tol[i, j], width + slack[i, j])
            continue
        if sides is None:
            sides = est.one_sided(v) or False
            out.probes += 2 if sides else 0
        what = (f"∂{output_entry(problem.out_leaves, i, getattr(problem, 'out_name', 'y'))}/∂"
                if m > 1 else "")
        if sides:
            fwd, bwd = sides
            f, b = fwd.value[i] / scale, bwd.value[i] / scale
            ef, eb = fwd.error[i] / scale, bwd.error[i] / scale
            if (abs(f - b) > SAFETY * (ef + eb) + slack[i, j]
                    and at_kink(problem, got, f, b, SAFETY * max(ef, eb) + slack[i, j])):
                unresolved = _unresolved(problem, est, j, _unit(m, i), got,
                                         abs(got - jac[i, j]))
                if unresolved:  # not a kink: the grid is too coarse to tell
                    skip[i, j] = True
                    out.failures.append(_entry_failure(
                        problem, "inconclusive", j, jac[i, j], got, SAFETY * err[i, j], what,
                        unresolved))
                    continue
                if not _smooth_on_the_grid(problem, est, j, _unit(m, i), got):
                    skip[i, j] = True
                    out.failures.append(_entry_failure(
                        problem, "kink", j, jac[i, j], got, 0.0, what,
                        f"derivative {b:.6g} from the left, {f:.6g} from the right; "
                        f"the adjoint gives {got:.6g}"))
                    continue
        if local is None:
            local = (est.shrunk(v, first) if first is not None else []) + est.sided(v)
            out.probes += len(local)
        opinions = [(o.value[i] / scale, SAFETY * o.error[i] / scale) for o in local]
        size = abs(problem.x0[j]) if np.isfinite(problem.x0[j]) else 1.0
        floor = max(NORMWISE * float(np.max(np.abs(rows[:, j]), initial=0.0)),
                    (peak or 1.0) / max(size, 1.0))
        better = cleared_locally(got, jac[i, j], SAFETY * err[i, j], opinions, slack[i, j],
                                 floor, strict)
        if better is not None:  # the local estimate replaces the first (drawn cotangents)
            jac[i, j], err[i, j] = better[0], better[1] / SAFETY
            tol[i, j] = SAFETY * err[i, j] + slack[i, j]
            continue
        grid = _grid_opinion(problem, est, j, _unit(m, i))
        if grid is not None and abs(got - grid[0]) <= grid[1] + slack[i, j]:
            if grid[1] <= RESOLVE * max(abs(got), abs(grid[0]), floor):
                jac[i, j], err[i, j] = grid[0], grid[1] / SAFETY
                tol[i, j] = grid[1] + slack[i, j]
                continue
            if grid[1] < abs(got - jac[i, j]) and abs(got - jac[i, j]) > SAFETY * err[i, j]:
                # the finest steps agree with the adjoint, the adaptive ones do not
                skip[i, j] = True
                out.failures.append(_entry_failure(
                    problem, "inconclusive", j, grid[0], got, grid[1], what,
                    "; finite differences cannot decide: steps of 1 and 2 float spacings "
                    "agree with the adjoint within their error, longer steps do not (the "
                    "function varies on a scale close to the float spacing)"))
                continue
        if noise is None:
            noise = _noisy_line(problem, est, j, v) or False
            out.probes += 1 if noise else 0
        if noise:  # the function jitters: measured again with steps that assume so
            value, bound = noise.value[i] / scale, SAFETY * noise.error[i] / scale
            if abs(got - value) <= bound + slack[i, j]:
                jac[i, j], err[i, j] = value, bound / SAFETY
                tol[i, j] = bound + slack[i, j]
                continue
            if bound > RESOLVE * max(abs(got), abs(value), floor):
                out.failures.append(_entry_failure(
                    problem, "inconclusive", j, value, got, bound, what,
                    "; finite differences cannot decide: the function jitters between "
                    "neighbouring floats far above its round-off, and steps that allow "
                    "for it leave an error bound as large as the values"))
                skip[i, j] = True
                continue
            jac[i, j], err[i, j] = value, bound / SAFETY
        unresolved = _unresolved(problem, est, j, _unit(m, i), got, abs(got - jac[i, j]))
        if unresolved:
            out.failures.append(_entry_failure(
                problem, "inconclusive", j, jac[i, j], got, SAFETY * err[i, j], what,
                unresolved))
            skip[i, j] = True
            continue
        why = rounding_text(float(rnd[i, j]), rounding) if rnd is not None else ""
        failure = _entry_failure(problem, "value", j, jac[i, j], got,
                                 SAFETY * err[i, j] + slack[i, j], what, why_tol=why)
        failure.output = int(i)
        out.failures.append(failure)


def _grid_moves(problem: Problem, est: Oracle,
                j: int | np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """``F(x0 + k·s·e_j) - F(x0)`` for ``k = ±1, ±2, ±3`` float spacings ``s`` of ``x_j``:
    the multiples ``k``, ``s``, and the moves, one row per ``k`` (NaN where ``F`` could not
    be evaluated). Measured once per column, only on the way to a failure.

    For a direction ``j = v`` (a fast-mode probe) the moves are ``F(x0 + k·t·v) - F(x0)``
    with ``t`` the smallest step that moves ``x0`` exactly along ``v`` (two spacings of
    the coordinate that moves least), and ``s = t``.
    """
    along = isinstance(j, np.ndarray)
    cache = est.__dict__.setdefault("_grid_moves", {})
    key = ("along", j.tobytes()) if along else j
    if key in cache:
        return cache[key]
    f0 = est._outputs_at_x0()
    x0 = problem.x0
    if along:
        direction, step = j, est._min_step(j)
    else:
        direction = _unit(problem.n, j)
        step = float(np.spacing(abs(x0[j]))) if np.isfinite(x0[j]) else 0.0
    ks = np.array([1.0, -1.0, 2.0, -2.0, 3.0, -3.0])
    moves = np.full((len(ks), problem.m), np.nan)
    if step > 0 and np.isfinite(step):
        for r, k in enumerate(ks):
            x = x0 + (k * step) * direction
            try:
                with np.errstate(all="ignore"):
                    moves[r] = np.asarray(problem.evaluate(x), float) - f0
            except Exception:  # noqa: BLE001  (off the domain on this side)
                continue
    cache[key] = (ks, step, moves)
    return cache[key]


def _unit(m: int, i: int) -> np.ndarray:
    dy = np.zeros(m)
    dy[i] = 1.0
    return dy


def _moves_along(problem: Problem, est: Oracle, j: int | np.ndarray,
                 dy: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, float]:
    """:func:`_grid_moves` of ``⟨dy, F⟩``: the multiples, the spacing, the moves and
    ``Σ|dy_i F_i(x0)|``. Outputs with ``dy_i = 0`` take no part (an infinite one either)."""
    ks, spacing, moves = _grid_moves(problem, est, j)
    used = np.flatnonzero(dy)
    with np.errstate(all="ignore"):
        d = moves[:, used] @ dy[used]
        # every output in dy, moved or not: one that stays put over the grid (exp at 1e-20
        # is 1 at every neighbouring float) hides a move below its rounding
        f0 = float(np.abs(dy[used]) @ np.abs(est._outputs_at_x0()[used]))
    return ks, spacing, d, f0


def _grid_opinion(problem: Problem, est: Oracle, j: int | np.ndarray,
                  dy: np.ndarray) -> tuple[float, float] | None:
    """``⟨dy, ∂F/∂x_j⟩`` from steps of 1 and 2 float spacings, and its error bound
    (``SAFETY`` included), or None. Full mode asks with a basis ``dy`` (one output).

    Where the float spacing is coarse beside the scale the function varies on (``cos`` at
    1e15: spacing 0.125), an adaptive step chosen for ``|x|`` aliases the period and
    claims a precise wrong value; the finest steps the grid allows still see the slope. The
    bound is the change from 2 to 4 points (Richardson) plus the outputs' round-off over
    one spacing, so on an ordinary grid (``x = 1``) it is far too wide to decide anything.
    """
    _, spacing, d, f0 = _moves_along(problem, est, j, dy)
    d = d[:4]  # k = 1, -1, 2, -2
    if not (spacing > 0 and np.all(np.isfinite(d))):
        return None
    two = (d[0] - d[1]) / (2 * spacing)
    four = (8 * (d[0] - d[1]) - (d[2] - d[3])) / (12 * spacing)
    round_off = 3 * est._coarse_eps * max(f0, float(np.max(np.abs(d)))) / spacing
    with np.errstate(over="ignore"):  # an infinite bound decides nothing, as it should
        return four, SAFETY * (abs(four - two) + round_off)


def _smooth_on_the_grid(problem: Problem, est: Oracle, j: int | np.ndarray,
                        dy: np.ndarray, got: float) -> bool:
    """Whether the finest steps contradict a kink the adaptive steps saw.

    ``S_k = F(x + k·s) + F(x - k·s) - 2F(x)`` grows like ``k²`` where ``F`` is smooth and
    like ``k`` at a kink (``|x|``: ``S_2 = 2·S_1``). ``cos`` at 7e14 read as a kink from
    steps of 1e3 that aliased its period; its ``S_2`` is ``4·S_1``. Only a decisive grid
    estimate (see :func:`_grid_opinion`) may overrule the kink.
    """
    grid = _grid_opinion(problem, est, j, dy)
    if grid is None or not grid[1] <= RESOLVE * max(abs(got), abs(grid[0])):
        return False
    _, _, d, _ = _moves_along(problem, est, j, dy)
    s1, s2 = d[0] + d[1], d[2] + d[3]
    return abs(s2 - 4 * s1) < abs(s2 - 2 * s1)


def _unresolved(problem: Problem, est: Oracle, j: int | np.ndarray, dy: np.ndarray,
                got: float, delta: float = 0.0) -> str | None:
    """Why ``⟨dy, F⟩`` (one output in full mode) cannot be checked along ``x_j``, or None.

    At ``x = 1e16`` the float spacing is 2: ``cos`` moves by O(1) from one float to the
    next, fitting no line, parabola or kink, and the derivative the rule claims (``-sin``) changes
    by as much as itself there too. No finite difference on that grid can check it, so the
    entry is inconclusive, not wrong. Noise on a function the floats do resolve keeps its
    verdict: ``np.gradient`` of a constant jitters by 1e-16 but a wrong cotangent of 1e-6
    is the same at every neighbouring float.
    """
    ks, spacing, d, f0 = _moves_along(problem, est, j, dy)
    ok = np.isfinite(d)
    if ok.sum() < 4:
        return None
    d, k = d[ok], ks[ok]
    jitter = float(np.max(np.abs(d)))
    if not jitter > 1e6 * np.finfo(float).eps * f0:
        return None  # rounding of the output: the grid resolves it
    d = d / jitter  # subnormal moves (relu at 0) would underflow in the fit
    basis = np.stack([k, k * k, np.abs(k)], axis=1)
    fit = basis @ np.linalg.lstsq(basis, d, rcond=None)[0]
    if float(np.max(np.abs(d - fit))) < 0.25:
        return None  # a line, parabola or kink over the grid: the floats resolve it
    along = isinstance(j, np.ndarray)
    direction = j if along else _unit(problem.n, j)
    moved = direction != 0
    claimed = []
    for kk in (1.0, -1.0, 2.0, -2.0):
        pulled = problem.pull_at(problem.x0 + (kk * spacing) * direction, dy)
        if pulled is not None and pulled.usable[moved].all():
            c = float(pulled.flat[moved] @ direction[moved])
            if np.isfinite(c):
                claimed.append(c)
    if not claimed or max(abs(c - got) for c in claimed) < 0.25 * max(abs(got), delta):
        return None  # the claimed derivative holds still: a slope the grid could show
    where = "the probe direction" if along else _entry_name(problem, j)
    return (f"; finite differences cannot decide: between neighbouring floats of "
            f"{where} (spacing {spacing:.3g}) the output moves by up to "
            f"{jitter:.3g} in no smooth pattern, and the adjoint itself changes by "
            f"{max(abs(c - got) for c in claimed):.3g}: the float grid does not resolve the "
            f"function there")


def _jitter(problem: Problem, est: Oracle, j: int) -> np.ndarray:
    """Per output, how much ``F`` jumps when ``x_j`` moves by 1 to 3 float spacings.

    ``np.gradient([1, 1, 1], h, edge_order=2)`` is ``(-1.5/h + 2/h - 0.5/h)·1``: exactly 0 in
    theory, rounding residue of 1e-16 that jumps with ``h`` in floating point. Its outputs
    are the largest the line moves, so nothing predicts that noise (it is far above
    ``eps·|F|``), and a finite difference with a step of 1e-3 read it as a slope of 2e-13.
    The jumps seen over a few spacings measure it; a value failure within the noise they
    put on the finite difference is not reported. Two to six evaluations, only for entries
    about to be reported wrong.
    """
    _, _, moves = _grid_moves(problem, est, j)
    return np.max(np.where(np.isfinite(moves), np.abs(moves), 0.0), axis=0,
                  initial=0.0)


def _noisy_line(problem: Problem, est: Oracle, j: int, v: np.ndarray) -> LineEstimate | None:
    """The line along ``v`` measured again with the jitter of :func:`_jitter` as its
    round-off, if ``F`` jitters more than ``eps·|F|`` at ``x0`` (else None)."""
    jumps = _jitter(problem, est, j)
    f0 = np.abs(est._outputs_at_x0())
    if not np.any(jumps > 4 * np.finfo(float).eps * f0):
        return None
    try:
        return est.with_noise(v, jumps)
    except (NotEvaluable, ValueError):
        return None


def _compare_cotangent(problem: Problem, tols: list[Tolerance], d: np.ndarray,
                       jac: np.ndarray, fd_tol: np.ndarray, out: Outcome,
                       rounding: RoundingProbe | None = None) -> None:
    """``back(d)`` against ``J'·d`` entry by entry (a cotangent drawn by ``verify``);
    ``fd_tol`` is each basis entry's tolerance (infinite where it was not compared)."""
    pulled = problem.pull(d)
    expected = d @ jac
    with np.errstate(invalid="ignore"):
        fd_part = np.abs(d) @ np.where(np.isfinite(fd_tol), fd_tol, 0.0)
        unchecked = (np.abs(d) @ ~np.isfinite(fd_tol)) > 0
    tol = fd_part + slack_vector(problem, tols, pulled.flat)
    tol = np.where(unchecked, np.inf, tol)
    rnd = rounding_of(rounding, d, problem.n)
    if rnd is None:
        rnd = np.zeros(problem.n)
    else:
        tol = tol + rnd
    got = pulled.flat
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isfinite(got), np.abs(got - expected), np.inf)
    bad = (diff > tol) & pulled.usable
    if bad.any():
        under = _underflow_rounding(problem, d, got)
        if under is not None:
            rnd = rnd + under
            tol = tol + under
            bad = (diff > tol) & pulled.usable
    for j in np.nonzero(pulled.usable)[0]:
        out.record(float(diff[j]), float(tol[j]), float(rnd[j]))
    known = {f.path for f in out.failures}
    for j in np.nonzero(bad)[0]:
        f = _entry_failure(problem, "value", int(j), expected[j], got[j], tol[j], "",
                           " [for the drawn cotangent]",
                           why_tol=rounding_text(float(rnd[j]), rounding))
        f.output = d
        if f.path not in known:
            out.failures.append(f)


def _underflow_rounding(problem: Problem, d: np.ndarray, got: np.ndarray) -> np.ndarray | None:
    """Per input entry, what the pullback of a tiny cotangent ``d`` lost to underflow:
    ``|back(d) - back(2**k·d)·2**-k|`` with ``2**k·max|d|`` near 1, plus a smallest
    subnormal per term of ``d·J``. Exact scaling by a power of two changes a linear
    pullback's result only where an intermediate fell below the normal range, so a wrong
    rule keeps its error in both (None when ``d`` is not tiny or the pullback fails).
    xlogy's ``Δ·x/y`` at x = 5.6e-161 forms ``Δ·x`` = 3e-321 with 640 subnormal steps and
    lost 13 of them (verify --builtin --seed 289)."""
    top = float(np.max(np.abs(d), initial=0.0))
    if not (0.0 < top < 0.5) or not np.all(np.isfinite(d)):
        return None
    k = -int(np.frexp(top)[1])
    try:
        scaled = problem.pull(np.ldexp(d, k))
    except PullError:
        return None
    back = np.ldexp(np.asarray(scaled.flat, float), -k)
    if back.shape != got.shape:
        return None
    tiny = float(np.finfo(float).smallest_subnormal)
    with np.errstate(invalid="ignore"):
        lost = np.abs(got - back)
    lost = np.where(np.isfinite(lost), lost, 0.0)
    return lost + tiny * (np.count_nonzero(d) + 1)


# -- fast mode -------------------------------------------------------------------------------


@dataclass
class _Dot:
    ad: float
    fd: float
    fd_error: float
    slack: float
    line: LineEstimate
    rounding: float = 0.0  # the part of ``slack`` allowed for low-precision rounding

    @property
    def error(self) -> float:
        return abs(self.ad - self.fd)

    @property
    def tolerance(self) -> float:
        return SAFETY * self.fd_error + self.slack

    @property
    def fails(self) -> bool:
        return not (self.error <= self.tolerance)


def _dot(est: LineEstimator, v: np.ndarray, dy: np.ndarray, b: np.ndarray,
         slack: np.ndarray, rnd: np.ndarray | None = None) -> _Dot:
    """One probe's comparison; ``slack`` includes the rounding allowance ``rnd`` if any."""
    return _dot_of(est.estimate(v, dy=dy), v, b, slack, rnd)


def _dot_of(line: LineEstimate, v: np.ndarray, b: np.ndarray, slack: np.ndarray,
            rnd: np.ndarray | None = None) -> _Dot:
    """The comparison of ``⟨b, v⟩`` with the finite difference ``line``."""
    total = dot_slack(slack, v)
    rounding = 0.0
    if rnd is not None:
        # the share of the rounding allowance in the total (reported, not compared)
        rounding = total - dot_slack(slack - rnd, v)
    return _Dot(
        ad=float(b @ v),
        fd=float(line.value[0]),
        fd_error=float(line.error[0]),
        slack=total,
        line=line,
        rounding=max(rounding, 0.0),
    )


def _verdict(est: LineEstimator, v: np.ndarray, dy: np.ndarray, first: _Dot,
             out: Outcome) -> tuple[str, str]:
    """``("ok" | "value" | "kink", detail)`` for a probe whose first comparison failed.

    For "ok", ``out.cleared`` is set to the ``(error, tolerance)`` that cleared it: the
    second opinions' hull width, or the local estimate's own bound (never the error itself).
    """
    alts = est.alternatives(v, dy)
    out.probes += len(alts)
    others = [(float(a.value[0]), float(a.error[0])) for a in alts]
    lo, hi = hull((first.fd, first.fd_error), others, SAFETY)
    if (outside(first.ad, (lo, hi), first.slack) == 0.0
            and hi - lo <= RESOLVE * max(abs(first.ad), abs(first.fd))):
        out.cleared = (first.error, hi - lo + first.slack)
        return "ok", ""
    sides = est.one_sided(v, dy)
    if sides:
        out.probes += 2
        f, b = float(sides[0].value[0]), float(sides[1].value[0])
        ef, eb = float(sides[0].error[0]), float(sides[1].error[0])
        if (abs(f - b) > SAFETY * (ef + eb) + first.slack
                and at_kink(est.problem, first.ad, f, b, SAFETY * max(ef, eb) + first.slack)):
            return "kink", f"derivative {b:.6g} from the left, {f:.6g} from the right"
    est = as_oracle(est)
    local = est.shrunk(v, first.line, dy) + est.sided(v, dy)
    out.probes += len(local)
    opinions = [(float(o.value[0]), SAFETY * float(o.error[0])) for o in local]
    better = cleared_locally(first.ad, first.fd, SAFETY * first.fd_error, opinions,
                             first.slack, _dot_floor(est, dy, v), _strict_limit(est))
    if better is not None:
        out.cleared = (abs(first.ad - better[0]), better[1] + first.slack)
        return "ok", ""
    return "value", ""


def _dot_floor(est: Oracle, dy: np.ndarray, v: np.ndarray) -> float:
    """What a dot product's uncertainty is judged against when it is zero (see decided)."""
    peak = est.peak()
    peak = peak if peak > 0 else 1.0
    size = np.abs(est.problem.x0)
    size = np.where(np.isfinite(size), np.maximum(size, 1.0), 1.0)
    return float(np.sum(np.abs(dy))) * float(np.max(np.abs(v) * peak / size, initial=0.0))


def _is_decided(est: Oracle, dot: _Dot, dy: np.ndarray, v: np.ndarray) -> bool:
    return decided_dot(dot.ad, dot.fd, SAFETY * dot.fd_error, dy, v, est.problem.x0,
                       est.peak())


def _decide_dot(est: Oracle, problem: Problem, v: np.ndarray, dy: np.ndarray, b: np.ndarray,
                slack: np.ndarray, rnd: np.ndarray | None, first: _Dot,
                out: Outcome) -> tuple[np.ndarray, _Dot, bool]:
    """An undecided probe measured again on other scales: ``(v, dot, decided)``, the first
    direction and comparison that decide it (or the original ones, undecided)."""
    unit = np.where(v != 0, v / problem.scales, 0.0)
    candidates = []
    if np.any(np.abs(problem.scales[v != 0] - 1.0) > 0.75):
        # divided by a power of two: a direction of thirds (unit / 1.5) has no exact small
        # step on the float grid, and its smallest exact one was 16 (matrix_norm read the
        # slope of a switch 0.3 away, verify --builtin --seed 284)
        top = float(np.max(np.abs(unit), initial=1.0))
        candidates.append(np.ldexp(unit, -int(np.frexp(top)[1])))
    candidates += [v * 2.0**10, v * 2.0**-10]
    reach = np.maximum(np.abs(np.where(np.isfinite(problem.x0), problem.x0, 0.0)), 1.0)
    for w in candidates:
        if np.any(np.abs(w) > reach):
            # a move beyond the inputs' own size (1024 at x = 0) leaves where the point's
            # derivative means anything: expit's step crossed its whole S and "failed"
            continue
        try:
            dot = _dot(est, w, dy, b, slack, rnd)
        except NotEvaluable:
            continue
        out.probes += 1
        if _is_decided(est, dot, dy, w) or dot.fails:
            return w, dot, True
    return v, first, False


class _Shortcut:
    """Probes taken on a :class:`~adcheck.check.quick.QuickLine` (four or six evaluations)
    when they pass with room for its whole error bound; see :mod:`adcheck.check.quick`.
    After ``_SHORTCUT_MISSES`` attempts that the adaptive estimate then passed anyway (a
    function whose scale is not the inputs'), the shortcut is not tried again."""

    def __init__(self, est: Oracle):
        self.est = est
        self.enabled = shortcut_allowed(est)
        self.tried = False
        self.misses = 0

    def dot(self, v: np.ndarray, dy: np.ndarray, b: np.ndarray, slack: np.ndarray,
            rnd: np.ndarray | None) -> _Dot | None:
        """The probe's comparison on the quick estimate if it passes with room, else None."""
        self.tried = True
        quick = QuickLine.sample(self.est, v, dy, dot_slack(slack, v))
        for extended in (False, True):
            if quick is None or (extended and not quick.extend()):
                return None
            line = quick.estimate()
            if line is None:
                return None
            dot = _dot_of(line, v, b, slack, rnd)
            if (dot.error + SAFETY * dot.fd_error <= dot.slack
                    and _is_decided(self.est, dot, dy, v)):
                self.tried = False
                return dot
        return None

    def settle(self, first: _Dot) -> None:
        """After the adaptive estimate of a probe the shortcut did not take."""
        if self.tried and not first.fails:
            self.misses += 1
            self.enabled = self.misses < _SHORTCUT_MISSES
        self.tried = False


# Attempts of the shortcut the adaptive estimate then passed, before it is given up.
_SHORTCUT_MISSES = 2


def compare_fast(problem: Problem, est: LineEstimator, tols: list[Tolerance],
                 rng: np.random.Generator, cotangents: tuple = (),
                 max_found: int = 5, fail_fast: bool = False,
                 rounding: RoundingProbe | None = None) -> Outcome:
    """The dot-product test on several probes; failing probes are bisected to entries."""
    est = as_oracle(est)
    est.fit_scales()
    n, m = problem.n, problem.m
    out = Outcome()
    bounds = [(leaf.offset, leaf.offset + leaf.size) for leaf in problem.leaves]
    probes = plan(rng, n, m, bounds, problem.scales)
    relative = _relative_cotangent(rng, est._outputs_at_x0())
    if relative is not None:  # the balanced probe weighs outputs as it weighs inputs
        for probe in probes:
            if probe.name == "balanced":
                probe.dy, probe.name = relative, "balanced, output-relative"
    for d in cotangents:
        probes.append(Probe("drawn cotangent", None, np.asarray(d, float)))
    blamed: set[int] = set()
    shortcut = _Shortcut(est)
    for probe in probes:
        pulled = problem.pull(probe.dy)
        b = pulled.flat
        ok = np.isfinite(b) & pulled.usable
        b = np.where(ok, b, 0.0)
        v = probe.v if probe.v is not None else balance(rng, b, problem.scales)
        v = np.where(ok, v, 0.0)
        if not v.any():
            continue
        slack = slack_vector(problem, tols, b)
        rnd = rounding_of(rounding, probe.dy, n)
        if rnd is not None:
            rnd = np.where(ok, rnd, 0.0)
            slack = slack + rnd
        if shortcut.enabled:
            quick = shortcut.dot(v, probe.dy, b, slack, rnd)
            if quick is not None:  # passed with room for its whole error bound
                out.probes += 1
                out.record(quick.error, quick.tolerance, quick.rounding)
                continue
        first = _dot(est, v, probe.dy, b, slack, rnd)
        out.probes += 1
        shortcut.settle(first)
        if not first.fails and not _is_decided(est, first, probe.dy, v):
            v, first, decided = _decide_dot(est, problem, v, probe.dy, b, slack, rnd, first,
                                            out)
            if not decided and not decide_probe(problem, v, probe.dy, b, slack,
                                                probe.name, out):  # the Taylor test
                out.failures.append(Failure(
                    "inconclusive", f"probe {probe.name!r}: finite differences cannot decide: "
                    f"their error bound {SAFETY * first.fd_error:.3g} is not small beside the "
                    f"values compared (<back(Δ), v> = {first.ad:.6g}, <Δ, J v> = "
                    f"{first.fd:.6g}), at every step tried", expected=first.fd, got=first.ad,
                    tolerance=SAFETY * first.fd_error))
        if not first.fails:
            out.record(first.error, first.tolerance, first.rounding)
            continue
        summed = _sum_rounding(problem, probe.dy, v)
        if first.error <= first.tolerance + summed:  # the rule's own sums over outputs
            out.record(first.error, first.tolerance + summed, first.rounding + summed)
            continue
        verdict, detail = _verdict(est, v, probe.dy, first, out)
        if verdict == "ok":  # cleared by the second opinion: noise of the function
            out.record(*out.cleared)
            continue
        support = np.flatnonzero(v)
        leaves_hit = {_leaf_of(problem, int(j))[0] for j in support}
        if leaves_hit <= blamed:
            if verdict == "value" and not out.grid_overruled:  # not bisected, still counts
                out.record(first.error, first.tolerance, first.rounding)
            continue
        blamed |= _localise_probe(problem, est, probe, v, b, slack, first, verdict, detail,
                                  out, 1 if fail_fast else max_found, rnd, rounding)
        if fail_fast and any(f.kind == "value" for f in out.failures):
            break
    _trim(out)
    return out


def _sum_rounding(problem: Problem, dy: np.ndarray, v: np.ndarray) -> float:
    """The rounding of the sums ``B_j = Σ_k Δ_k ∂y_k/∂x_j`` inside a pullback, for ``⟨B, v⟩``.

    Each such sum rounds at ``eps`` of its terms ``|Δ_k|·|∂y_k/∂x_j|``, however small the
    result: ``tensordot(zeros((2, 3)), full((2, 3, 3), 1.1), 2)`` pulls a probe's ``Δ`` back
    to ``1.1·ΣΔ_k`` for every entry, and a ``Δ`` whose entries nearly cancel leaves
    1.1e-16 of rounding where the truth along ``v`` is 0. The terms' size is read from
    the rule's own pullback of ``|Δ|``: ``LATE_FACTOR · m · eps · Σ_j |v_j|·|back(|Δ|)_j|``
    (``m`` terms per sum, ``eps`` of the coarsest dtype). A wrong rule's error is far above
    it. One pullback, only for a probe about to fail.
    """
    try:
        pulled = problem.pull(np.abs(dy))
    except Exception:  # noqa: BLE001  (the rule cannot take |Δ|: no allowance)
        return 0.0
    size = np.where(np.isfinite(pulled.flat) & pulled.usable, np.abs(pulled.flat), 0.0)
    dtypes = [leaf.dtype for leaf in problem.leaves] + [o.dtype for o in problem.out_leaves]
    eps = float(np.finfo(coarsest(dtypes)).eps)
    terms = max(int(np.count_nonzero(dy)), 1)
    total = LATE_FACTOR * terms * eps * float(np.abs(v) @ size)
    return total if math.isfinite(total) else 0.0


def _own_jitter(problem: Problem, j: int, dy: np.ndarray, got: float) -> float:
    """How much the rule's cotangent entry ``j`` for ``dy`` jumps when every input moves by
    one unit in the last place of its own dtype (three random-sign moves).

    A float32 ``np.gradient`` of a constant array with spacing 1.5 gives the spacing a
    cotangent of 1.9e-7 (rounding residue; the truth is 0), and one-ulp moves of the array
    change it by 1e-6: the rule cannot be more exact than its float32 inputs allow. A wrong
    rule's error is far above this jitter. Only on the way to a fast-mode failure.
    """
    rng = np.random.default_rng(j)
    x0 = problem.x0
    ulps = np.zeros(problem.n)
    for leaf in problem.leaves:
        part = slice(leaf.offset, leaf.offset + leaf.size)
        ulps[part] = np.spacing(np.abs(x0[part]).astype(leaf.dtype)).astype(np.float64)
    jumps = 0.0
    for _ in range(3):
        x = x0 + np.where(rng.random(problem.n) < 0.5, -1.0, 1.0) * ulps
        pulled = problem.pull_at(x, dy)
        if pulled is None or not (pulled.usable[j] and np.isfinite(pulled.flat[j])):
            return 0.0
        jumps = max(jumps, abs(float(pulled.flat[j]) - got))
    return jumps


def _noise_verdict(problem: Problem, est: Oracle, j: int, w: np.ndarray, dy: np.ndarray,
                   dot: _Dot) -> tuple[str, float, float]:
    """A fast-mode entry failure measured again where ``F`` jitters between neighbouring
    floats (``np.gradient`` of a constant, as :func:`_noisy_line` in full mode): ``"ok"``
    if the noisy line clears it, ``"inconclusive"`` if it cannot decide, else ``"value"``;
    with the error and tolerance of the noisy line (of ``dot`` when there is none), which
    the rule's own jitter is then weighed against."""
    noise = _noisy_line(problem, est, j, w)
    if not noise:
        return "value", dot.error, dot.tolerance
    fd = float(dy @ noise.value)
    bound = SAFETY * float(np.abs(dy) @ noise.error)
    error, tolerance = abs(dot.ad - fd), bound + dot.slack
    if error <= tolerance:
        return "ok", error, tolerance
    if bound > RESOLVE * max(abs(dot.ad), abs(fd)):
        return "inconclusive", error, tolerance
    return "value", error, tolerance


def _on_the_grid(problem: Problem, est: Oracle, j: int | np.ndarray, dy: np.ndarray,
                 got: float, expected: float, slack: float, kind: str, why: str,
                 scale: float, out: Outcome,
                 contradicted: list[int] | None = None) -> tuple[str, str]:
    """Fast mode's entry ``j`` (``got = back(dy)_j`` against ``expected``) judged on the
    float grid, as full mode judges a column: ``(kind, why)``, ``"ok"`` with
    ``out.cleared`` set (in units of the probe of size ``scale``) when the finest steps
    decide for the adjoint.

    ``cos`` at 1e14 (float spacing 0.016) in fast mode read kinks of 1e13 and slopes off by
    1 from adaptive steps that alias its period: the grid's Richardson estimate (see
    :func:`_grid_opinion`) sees the slope, a grid too coarse for any slope (1e16) leaves
    the entry inconclusive, and a kink the grid finds smooth is judged as a value.
    """
    if isinstance(j, np.ndarray) and np.count_nonzero(j) <= _GRID_SUM_MAX:
        return _probe_on_the_grid(problem, est, j, dy, got, expected, slack, kind, why, out,
                                  contradicted or [])
    if kind == "kink" and not _smooth_on_the_grid(problem, est, j, dy, got):
        unresolved = _unresolved(problem, est, j, dy, got, abs(got - expected))
        return ("inconclusive", unresolved) if unresolved else (kind, why)
    grid = _grid_opinion(problem, est, j, dy)
    if grid is not None and abs(got - grid[0]) <= grid[1] + slack:
        if grid[1] <= RESOLVE * max(abs(got), abs(grid[0]), _entry_floor(problem, est, j, dy)):
            out.cleared = (abs(got - grid[0]) * scale, (grid[1] + slack) * scale)
            return "ok", ""
        if grid[1] < min(abs(got - expected), _GRID_WEAK * max(abs(got), abs(grid[0]))):
            return "inconclusive", (
                "; finite differences cannot decide: steps of 1 and 2 float spacings agree "
                "with the adjoint within their error, longer steps do not (the function "
                "varies on a scale close to the float spacing)")
    unresolved = _unresolved(problem, est, j, dy, got, abs(got - expected))
    if unresolved:
        return "inconclusive", unresolved
    return "value", ""


def _entry_floor(problem: Problem, est: Oracle, j: int | np.ndarray, dy: np.ndarray) -> float:
    """What ``⟨dy, ∂F/∂x_j⟩`` is judged against when it is about 0: ``Σ|dy_i F_i|`` over the
    outputs that move along ``x_j``, divided by ``max(|x_j|, 1)``; for a direction ``j = v``,
    times the largest ``|v_k| / max(|x_k|, 1)`` instead.

    Stricter than the zero floor of :mod:`adcheck.check.decided` (``|y|_max`` for every
    output): with the output-relative cotangent, ``Δ_i = 1.8e8`` for ``exp(-20)`` beside
    ``exp(1)`` made that floor 2.5e7 where the entry's own size is 0.38, and a grid
    estimate ±0.73 cleared a rule wrong by 2× there.
    """
    _, _, moves = _grid_moves(problem, est, j)
    f0 = est._outputs_at_x0()
    moving = np.any(moves != 0, axis=0) & np.isfinite(f0)
    direction = j if isinstance(j, np.ndarray) else _unit(problem.n, j)
    size = np.abs(problem.x0)
    size = np.where(np.isfinite(size), np.maximum(size, 1.0), 1.0)
    per_unit = float(np.max(np.abs(direction) / size, initial=0.0))
    return float(np.abs(dy[moving] * f0[moving]).sum()) * per_unit


# A probe moving at most this many entries is judged on the grid entry by entry.
_GRID_SUM_MAX = 64
# A grid estimate whose bound is wider than this fraction of the values excuses nothing.
_GRID_WEAK = 0.25
# Times a probe is bisected again without the entries the float grid cleared.
_REPROBES = 3


def _probe_on_the_grid(problem: Problem, est: Oracle, v: np.ndarray, dy: np.ndarray,
                       got: float, expected: float, slack: float, kind: str, why: str,
                       out: Outcome, contradicted: list[int]) -> tuple[str, str]:
    """:func:`_on_the_grid` for a whole probe ``⟨Δ, J v⟩``, as the sum over its entries of
    ``v_j`` times each entry's grid estimate (their bounds add up). Where that sum agrees
    with the adjoint but is too wide to decide, the probe is inconclusive if the grid has
    already overruled the probe's steps at some of its entries (``contradicted``): then
    its finite differences are not evidence (``cos`` over 1e14 … 3e15).

    A step along ``v`` itself cannot stay on the grid of every entry: with ``v`` spanning
    a factor 300 (gaussian), the shortest exact move of the smallest entry moves the
    largest by 600 spacings, 9 radians of ``cos`` at 1e14. Six evaluations per entry.
    """
    total, bound, decided = 0.0, 0.0, True
    for j in np.flatnonzero(v):
        unresolved = _unresolved(problem, est, int(j), dy, float(got), 0.0)
        if unresolved:
            return "inconclusive", unresolved
        grid = _grid_opinion(problem, est, int(j), dy)
        if grid is None:
            decided = False
            break
        total += float(v[j]) * grid[0]
        bound += abs(float(v[j])) * grid[1]
    if not decided or not np.isfinite(bound) or abs(got - total) > bound + slack:
        return kind, why
    floor = sum(abs(float(v[j])) * _entry_floor(problem, est, int(j), dy)
                for j in np.flatnonzero(v))
    if bound <= RESOLVE * max(abs(got), abs(total), floor):
        out.cleared = (abs(got - total), bound + slack)
        return "ok", ""
    if bound < min(abs(got - expected), _GRID_WEAK * max(abs(got), abs(total))):
        return "inconclusive", (
            "; finite differences cannot decide: steps of 1 and 2 float spacings of each "
            "entry agree with the adjoint within their error, longer steps along the probe "
            "do not (the function varies on a scale close to the float spacing)")
    if contradicted:
        names = ", ".join(_entry_name(problem, j) for j in contradicted[:3])
        return "inconclusive", (
            f"; finite differences cannot decide: at {names} the finest steps overruled "
            "the probe's steps, and over the whole probe they agree with the adjoint but "
            f"leave an error bound of {bound:.3g} (the float grid is coarse beside the "
            "scale the function varies on)")
    return kind, why


def _relative_cotangent(rng: np.random.Generator, f0: np.ndarray) -> np.ndarray | None:
    """A cotangent weighing each output by ``1/|F_i|``, when the outputs span more than
    2**10 (else None).

    ``exp`` over ``[-30, 5]``: with Δ of size 1 the dot product is ``exp(5)``'s, and a rule
    wrong by 2× only below -15 changed it by 1e-7 of its value, inside the error bound, at
    every seed. Weighed by ``1/|F_i|`` every output counts alike, and so does its noise.
    Drawn from a spawned generator, so the other probes stay as they were.
    """
    size = np.abs(f0[np.isfinite(f0)])
    nonzero = size[size > 0]
    if nonzero.size < 2 or nonzero.max() <= 2.0**10 * nonzero.min():
        return None
    (own,) = rng.spawn(1)
    peak = float(nonzero.max())
    relative = np.where(np.isfinite(f0), np.abs(f0), 0.0) / peak
    # 1/|F_i| (so Δ_i·F_i is about 1) as far as it stays finite: subnormal outputs (xlog1py
    # at 5e-308, verify --builtin --seed 242) made 1/|F_i| overflow to inf
    weight = min(1.0 / peak, 2.0**940) / np.maximum(relative, 2.0**-60)
    return quantise(signed(own, len(f0), "gaussian") * weight)


def _line_missed(problem: Problem, est: LineEstimator, v: np.ndarray, first: _Dot) -> str:
    """Why the finite differences of a probe that fails as a whole (and in no part) cannot
    be trusted, or "".

    Either a nonzero input rounds at the probe's steps (the line misses the point), or the
    function did not change at all along it: its values are exact zeros of a sum that
    cancels inside the function (``T + s - s`` for a trace holding T = 5.2e-37 beside the
    moves s), whose round-off no bound on those values can see. ``einsum('ii,jj,->', A, B,
    1.0)`` with A = 0 and B[0, 0] = 5.2e-37 beside B[0, 1] = 1 read 0 along the sparse
    probes of 10 of 40 seeds, where the directional derivative is about 1e-37 (verify
    --builtin --seed 407).
    """
    lost = est.rounded_entry(v, first.line.step)
    if lost is not None:
        moved = first.line.step * float(v[lost])
        return (f"their steps move {_entry_name(problem, lost)} = {problem.x0[lost]:.6g} by "
                f"{moved:.3g}, which rounds it (the line they measure does not pass through "
                "the point)")
    if first.fd == 0.0:
        return ("the function does not change at all along the probe (every step gives its "
                "value at the point), so its own round-off cannot be measured there (a sum "
                "inside it may cancel)")
    return ""


def _localise_probe(problem: Problem, est: LineEstimator, probe: Probe, v: np.ndarray,
                    b: np.ndarray, slack: np.ndarray, first: _Dot, verdict: str, detail: str,
                    out: Outcome, max_found: int, rnd: np.ndarray | None = None,
                    rounding: RoundingProbe | None = None, depth: int = 0) -> set[int]:
    """Bisect a failing probe; add the failures found; return the leaves now blamed.

    Entries whose finite differences the float grid overruled are taken out, with every
    entry whose float grid is about as coarse, and the rest of the probe is bisected again
    (up to :data:`_REPROBES` times): ``cos`` of 30 entries at 1e15 beside 10 at 1, wrong
    only at one of those, named five aliased entries first.
    """
    support = np.flatnonzero(v)
    n = len(support)

    def restricted(subset: np.ndarray) -> np.ndarray:
        w = np.zeros_like(v)
        w[subset] = v[subset]
        return w

    def fails(subset: np.ndarray) -> bool:
        try:
            return _dot(est, restricted(subset), probe.dy, b, slack, rnd).fails
        except Exception:  # noqa: BLE001  (not evaluable on this subset: look elsewhere)
            return False

    budget = 8 * (math.ceil(math.log2(n + 1)) + 1) * max_found
    before = est.lines
    found, spread, _ = bisect(support, fails, max_found=max_found, budget=budget)
    out.probes += est.lines - before
    if not found and n == 1:  # nothing to bisect: the one entry is judged as named ones are
        found = [int(support[0])]
    blamed: set[int] = set()
    confirmed = 0
    noisy = False  # an entry was cleared by the jitter it has (then the probe was noise)
    contradicted: list[int] = []  # entries whose finite differences the float grid overruled
    for j in found:
        w = restricted(np.array([j]))
        dot = _dot(est, w, probe.dy, b, slack, rnd)
        out.probes += 1
        scale = v[j]
        expected, got = dot.fd / scale, dot.ad / scale
        tol = dot.tolerance / abs(scale)
        kind, why = ("value", "") if not dot.fails else _verdict(est, w, probe.dy, dot, out)
        if dot.fails and kind in ("value", "kink"):
            kind, why = _on_the_grid(problem, est, j, probe.dy, got, expected,
                                     dot.slack / abs(scale), kind, why, abs(scale), out)
            if kind in ("ok", "inconclusive"):
                contradicted.append(j)  # the finest steps overruled the probe's steps here
        if kind == "ok":
            out.record(out.cleared[0] / abs(scale), out.cleared[1] / abs(scale))
        elif kind != "kink":
            out.record(dot.error / abs(scale), tol, dot.rounding / abs(scale))
        if kind == "value":
            kind, error, tolerance = _noise_verdict(problem, est, j, w, probe.dy, dot)
            if kind == "value" and error <= tolerance + 2 * abs(scale) * _own_jitter(
                    problem, j, probe.dy, float(b[j])):
                kind = "ok"  # within the rule's own rounding: its inputs do not fix it better
            if kind == "ok":
                noisy = True
                continue
        if kind == "ok" or not dot.fails:
            continue
        blamed.add(_leaf_of(problem, j)[0])
        extra = f"{why}; the adjoint gives {got:.6g}" if kind == "kink" else ""
        if kind == "inconclusive":
            extra = why or ("; finite differences cannot decide: the function jitters "
                            "between neighbouring floats far above its round-off, and steps "
                            "that allow for it leave an error bound as large as the values")
        if kind == "value":
            extra = f" [for the cotangent Δ of probe {probe.name!r}: (J'Δ) against back(Δ)]"
        failure = _entry_failure(problem, kind, j, expected, got, tol, "", extra,
                                 why_tol=rounding_text(dot.rounding / abs(scale), rounding))
        failure.output = probe.dy
        out.failures.append(failure)
        if kind == "value" and confirmed < CONFIRMED:  # the Taylor test's second opinion
            confirmed += 1
            out.probes += confirm_entry(problem, failure, j, probe.dy, b, float(slack[j]))
    if blamed:
        if len(found) >= max_found:
            out.notes.append(f"bisection of probe {probe.name!r} stopped after naming "
                             f"{max_found} entries; more may be wrong")
        return blamed
    if noisy and len(found) == n:
        return blamed
    if contradicted:
        out.grid_overruled = True
    elif verdict == "value":
        # the probe's own error, in the headline unless the float grid overruled its steps
        out.record(first.error, first.tolerance, first.rounding)
    if contradicted and depth < _REPROBES:
        # out with every entry whose float grid is about as coarse as one the grid overruled
        with np.errstate(invalid="ignore"):
            spacing = np.spacing(np.abs(problem.x0))
        coarse = spacing >= float(np.min(spacing[contradicted])) / 4
        rest = np.where(coarse, 0.0, v)
        rest[contradicted] = 0.0
        if rest.any():
            again = _dot(est, rest, probe.dy, b, slack, rnd)
            out.probes += 1
            if again.fails:
                return _localise_probe(problem, est, probe, rest, b, slack, again, "value", "",
                                       out, max_found, rnd, rounding, depth + 1)
    # No single entry fails on its own: the error is spread out (or a kink along v), unless
    # the finest steps along v itself decide otherwise (cos at 1e14: aliased steps)
    kind, why = _on_the_grid(problem, est, v, probe.dy, first.ad, first.fd, first.slack,
                             verdict if verdict == "kink" else "value", detail, 1.0, out,
                             contradicted)
    if kind == "ok":
        out.record(*out.cleared)
        return blamed
    if kind == "inconclusive":
        out.failures.append(Failure(
            "inconclusive", f"probe {probe.name!r}: <back(Δ), v> = {first.ad:.10g}, finite "
            f"differences {first.fd:.10g}{why}", expected=first.fd, got=first.ad,
            tolerance=first.tolerance))
        return {_leaf_of(problem, int(j))[0] for j in support}
    where = ", ".join(problem.leaves[_leaf_of(problem, int(j))[0]].path for j in support[:1])
    if verdict == "kink":
        out.failures.append(Failure(
            "kink", f"probe {probe.name!r}: not differentiable along the probe direction "
                    f"({detail}), starting at {where}", expected=first.fd, got=first.ad))
        return blamed
    why = _line_missed(problem, est, v, first)
    if why:  # no part of the probe fails on its own, and its line cannot be trusted
        out.failures.append(Failure(
            "inconclusive", f"probe {probe.name!r}: <back(Δ), v> = {first.ad:.10g}, finite "
            f"differences {first.fd:.10g}; finite differences cannot decide: {why}, and no "
            "single entry is wrong on its own", expected=first.fd, got=first.ad,
            tolerance=first.tolerance))
        return {_leaf_of(problem, int(j))[0] for j in support}
    size = len(spread[0]) if spread else n
    out.record(first.error, first.tolerance, first.rounding)
    out.failures.append(Failure(
        "value",
        f"probe {probe.name!r} (moving {n} entries): <back(Δ), v> = {first.ad:.10g} but "
        f"finite differences give <Δ, J v> = {first.fd:.10g} (|error| {first.error:.3g} > "
        f"tolerance {first.tolerance:.3g}{rounding_text(first.rounding, rounding)}); no single "
        "entry is wrong on its own, the error is "
        f"spread over groups of about {size} entries",
        expected=first.fd, got=first.ad, tolerance=first.tolerance))
    return {_leaf_of(problem, int(j))[0] for j in support}
