"""Second-order checks: the pullback's own pullback against finite differences of the pullback.

A first-order check proves ``back(Δ) = Jᵀ Δ`` at a point. Second derivatives (``hessian``,
a gradient inside a loss) differentiate the pullback itself: the engine records the
operations of ``back`` on an outer tape (reverse over reverse, one tape per level) and pulls
back through them. A rule can be right in value and still wrong there: its pullback uses a
constant where it should use the input (a value computed by a function declared
non-differentiable, say), leaves the tape (``np.asarray``, ``float``), or calls a rule whose
own pullback is wrong.

The check needs no new comparison. The pullback, seen as a function of the inputs and of the
cotangent,

    P(x, Δ) = back_x(Δ)        (``value, back = rule(x)``)

is an ordinary function: its gradient as the engine computes it (the rule and ``back`` run on
traced ``x`` and ``Δ``, recorded on a tape) is compared with finite differences of ``P`` on
plain arrays by the same machinery as :func:`~adcheck.gradcheck` (a
:class:`~adcheck.check.problem.FunctionProblem`, full or fast mode, the structural checks).
Whatever it finds is reported with ``second order:`` in front; when a rule used *inside*
the pullback is wrong at first order, it is named too.

>>> import numpy as np
>>> import adcheck as ad
>>> r = ad.check_adjoint(np.tanh, np.array([0.5, -1.0]), order=2, seed=0)
>>> r.passed, any(n.startswith("second order: passed") for n in r.notes)
(True, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine.api import _arg_names, _pullback, pullback
from ..engine.tape import Tape, resolve
from ..fd import FiniteDifferenceMethod
from ..tree import flatten, map_leaves, unflatten
from .problem import FunctionProblem, Problem, PullError, get_path
from .result import CheckResult, Failure
from .structural import _nan_failures, compare_primal, deep_copy_args

__all__ = ["SecondOrder", "check_pullback", "rule_pullback_function",
           "function_pullback_function", "ORDERS", "validate_order"]

#: The orders a check can be asked for.
ORDERS = (1, 2)

#: How the second-order check names the pullback's output in its messages.
OUT_NAME = "back(dy)"


def validate_order(order: Any) -> int:
    """``order`` as an int, or a ``ValueError`` saying which orders exist.

    >>> validate_order(2)
    2
    >>> validate_order(3)
    Traceback (most recent call last):
    ...
    ValueError: order must be 1 or 2, got 3
    """
    if isinstance(order, bool) or order not in ORDERS:
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    return int(order)


@dataclass
class SecondOrder:
    """What the second-order check found: failures (messages start with ``second order:``),
    notes, and its cost (evaluations and pullbacks of ``P``, seconds)."""

    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    evaluations: int = 0
    pullbacks: int = 0
    seconds: float = 0.0
    mode: str | None = None
    max_error: float = 0.0
    tolerance: float = 0.0
    decided: bool = True  # False: finite differences of P were impossible at this input

    @property
    def passed(self) -> bool:
        return not any(f.kind not in ("kink",) for f in self.failures)

    def cost(self) -> str:
        """``"full mode, 40 evaluations, 9 pullbacks, 0.01 s"``."""
        head = f"{self.mode} mode, " if self.mode else ""
        return (f"{head}{self.evaluations} evaluations, {self.pullbacks} pullbacks, "
                f"{self.seconds:.3g} s")


# -- the pullback as a function ---------------------------------------------------------------


def _dy_leaves(dy: Any) -> tuple[list, Any, list[int]]:
    """The floating leaves of a cotangent ``dy``, its structure, and their positions."""
    leaves, spec = flatten(dy)
    where = [i for i, v in enumerate(leaves)
             if isinstance(v, (np.ndarray, np.generic, float)) and np.result_type(v).kind == "f"]
    return leaves, spec, where


def _dy_names(spec_leaves: list, where: list[int]) -> list[str]:
    if len(spec_leaves) == 1:
        return ["dy"]
    return [f"dy[{i}]" for i in where]


def _rebuild_dy(leaves: list, spec: Any, where: list[int], values: tuple) -> Any:
    new = list(leaves)
    for i, v in zip(where, values):
        new[i] = v
    if len(new) == 1 and spec.kind is None:
        return new[0]
    return unflatten(spec, new)


def rule_pullback_function(problem: Any, dy: Any) -> tuple[Callable, tuple, list[str]]:
    """``P(*leaves, *dy_leaves)``: the cotangents ``rule``'s pullback gives its float inputs.

    ``problem`` is the first-order :class:`~adcheck.check.problem.RuleProblem` (its rule,
    arguments and differentiable leaves); ``dy`` is an output cotangent in the output's
    structure. Returns ``P``, the point ``P`` is checked at, and the names of its arguments
    (the rule's input names, then ``dy``). Arguments that are not differentiable (axes,
    integers, shapes) are constants inside ``P``; so are non-floating output cotangents.

    >>> from adcheck.check.problem import RuleProblem
    >>> rule = lambda x: (np.sin(x), lambda dy: (dy * np.cos(x),))
    >>> p = RuleProblem(np.sin, rule, (np.array([0.0, 1.0]),), {}, back=rule(0)[1])
    >>> P, point, names = rule_pullback_function(p, np.array([2.0, 1.0]))
    >>> names, P(*point).round(3).tolist()
    (['x', 'dy'], [2.0, 0.54])
    """
    dy_all, dy_spec, dy_where = _dy_leaves(dy)
    # Inputs that are not finite (cond's p = inf passed by position) are constants of P: no
    # step can move them, and traced they reach the rule's own tests (p == "fro").
    leaves = [lf for lf in problem.leaves if _finite_leaf(problem, lf)]
    values = [np.asarray(problem.arg_leaves[lf.position][lf.item]) if lf.item is not None
              else problem.args[lf.position] for lf in leaves]
    k = len(leaves)

    def P(*inputs: Any) -> Any:
        args = list(problem.args)
        trees: dict[int, list] = {}
        for leaf, v in zip(leaves, inputs[:k]):
            if leaf.item is None:
                args[leaf.position] = v
            else:
                flat = trees.setdefault(leaf.position, list(problem.arg_leaves[leaf.position]))
                flat[leaf.item] = v
        for pos, flat in trees.items():
            args[pos] = unflatten(problem.specs[pos], flat)
        _, back = problem.rule(*args, **problem.kwargs)
        grads = back(_rebuild_dy(dy_all, dy_spec, dy_where, inputs[k:]))
        if isinstance(grads, list):
            grads = tuple(grads)
        if not isinstance(grads, tuple):
            raise TypeError(f"the pullback returned {type(grads).__name__}, not a tuple")
        grads = resolve(grads)
        out = []
        for leaf in leaves:
            g = grads[leaf.position]
            if leaf.item is not None and g is not None:
                g = get_path(g, problem.key_paths[leaf.position][leaf.item])
            out.append(g)
        return out[0] if len(out) == 1 else tuple(out)

    point = tuple(values) + tuple(dy_all[i] for i in dy_where)
    names = [leaf.path for leaf in leaves] + _dy_names(dy_all, dy_where)
    P.n_dy = len(dy_where)  # its last arguments are the cotangent's leaves
    # P's flat input entries, as entries of the first-order problem's
    P.first_order_entries = np.concatenate(
        [np.arange(lf.offset, lf.offset + lf.size) for lf in leaves] or [np.zeros(0, int)])
    return P, point, names


def _finite_leaf(problem: Any, leaf: Any) -> bool:
    """Whether any entry of ``leaf`` is finite (``problem.x0`` holds its flat values)."""
    return bool(np.isfinite(problem.x0[leaf.offset:leaf.offset + leaf.size]).any())


def function_pullback_function(f: Callable, problem: Any, dy: Any
                               ) -> tuple[Callable, tuple, list[str]]:
    """``P(*args, *dy_leaves) = adcheck.pullback(f, *args)[1](dy)``: the engine's pullback of
    ``f`` as a function of ``f``'s arguments and of the cotangent (for ``gradcheck``).

    >>> import adcheck as ad
    >>> from adcheck.check.problem import FunctionProblem
    >>> f = lambda x: np.sin(x) * x
    >>> x = np.array([1.0])
    >>> p = FunctionProblem(f, (x,), f(x), None, ["x"])
    >>> P, point, names = function_pullback_function(f, p, np.array([1.0]))
    >>> names, P(*point)[0].round(4).tolist()
    (['x', 'dy'], [1.3818])
    """
    dy_all, dy_spec, dy_where = _dy_leaves(dy)
    k = len(problem.args)

    def P(*inputs: Any) -> Any:
        _, back = pullback(f, *inputs[:k])
        return back(_rebuild_dy(dy_all, dy_spec, dy_where, inputs[k:]))

    point = tuple(problem.args) + tuple(dy_all[i] for i in dy_where)
    names = _arg_names(f, k) + _dy_names(dy_all, dy_where)
    P.n_dy = len(dy_where)
    return P, point, names


# -- the check ---------------------------------------------------------------------------------


def _prefixed(failures: list[Failure]) -> list[Failure]:
    out = []
    for f in failures:
        message = f.message if f.message.startswith("second order") else (
            f"second order: {f.message}")
        out.append(Failure(f.kind, message, argument=None, index=f.index, expected=f.expected,
                           got=f.got, path=f.path, tolerance=f.tolerance))
    return out


def check_pullback(P: Callable, point: tuple, names: list[str], name: str, n_dy: int = 0, *,
                   mode: str = "auto", fdm: FiniteDifferenceMethod | None = None,
                   atol: float | None = None, rtol: float | None = None,
                   rng: np.random.Generator | None = None, seed: int = 0,
                   nondet_tol: float | None = None, localise: bool = True,
                   fail_fast: bool = False, scale_floor: float = 0.0,
                   kinked: Callable[[int, float], str | None] | None = None) -> SecondOrder:
    """Differentiate ``P`` with the engine and compare with finite differences of ``P``.

    ``P(*point)`` is a pullback as a function (see :func:`rule_pullback_function`); ``names``
    name its arguments in messages, the last ``n_dy`` being the cotangent's leaves (for the
    :func:`noise_floor`; ``scale_floor`` is :func:`rounding_floor`'s); ``fail_fast`` stops
    at the first wrong value (verify's shrinking); ``kinked(j, x_j)`` says why the function
    whose pullback ``P`` is has a kink along ``P``'s flat input entry ``j`` (of value
    ``x_j``), or None (see :func:`function_kinks`). Returns a :class:`SecondOrder` (never
    raises for a wrong rule: an error while differentiating ``P`` is a failure that says
    what raised).

    >>> rule = lambda x: (np.exp(x), lambda dy: (dy * np.exp(x),))
    >>> P = lambda x, dy: rule(x)[1](dy)[0]
    >>> check_pullback(P, (np.array([0.5]), np.array([1.0])), ["x", "dy"], "exp").passed
    True
    """
    from .check_adjoint import compare_values
    from .localise import first_wrong_rule

    start = time.perf_counter()
    rng = rng if rng is not None else np.random.default_rng(seed)
    out = SecondOrder()
    tape = Tape(record_source=True)
    try:
        with np.errstate(all="ignore"):
            y, back, _ = _pullback(P, point, False, tape)
        _name_inputs(tape, point, names)
    except Exception as exc:  # noqa: BLE001  (what the engine refused is the finding)
        out.failures.append(Failure(
            "error", f"second order: the pullback of {name} cannot be differentiated "
            f"(run on traced inputs and cotangent, it raised {type(exc).__name__}: {exc})"))
        out.seconds = time.perf_counter() - start
        return out
    try:
        with np.errstate(all="ignore"):
            expected = P(*deep_copy_args(point, {})[0])
    except Exception as exc:  # noqa: BLE001
        out.failures.append(Failure("error", f"second order: the pullback of {name} raised "
                                    f"{type(exc).__name__}: {exc}"))
        out.seconds = time.perf_counter() - start
        return out
    primal = compare_primal(y, expected)
    for f in primal:
        f.message = (f"the pullback gives other cotangents on traced inputs than on plain "
                     f"ones: {f.message}")
    out.failures += primal
    try:
        problem: Problem = FunctionProblem(P, point, expected, back, names,
                                           f"pullback of {name}")
    except Exception as exc:  # noqa: BLE001
        out.failures.append(Failure("error", f"cannot evaluate the pullback of {name} at "
                                    f"these inputs: {type(exc).__name__}: {exc}"))
        out.seconds = time.perf_counter() - start
        return _finished(out)
    problem.out_name = OUT_NAME
    # Where the pullback is not differentiable, its engine derivative follows the branch
    # of the point itself (sign(0) = 0 in every factor), and a product of such factors lies
    # between the one-sided derivatives only by chance: cond(p=1) of diag(-1, -2, -4) read
    # 7.99 and 8.96 from the sides and 10.72 from the engine. A kink there is a kink.
    problem.kink_bounds_adjoint = False
    _share_cotangent_scales(problem, len(point) - n_dy)
    if problem.m == 0:
        out.notes.append(f"nothing to compare: the pullback of {name} returns no floating "
                         "cotangent")
        out.seconds = time.perf_counter() - start
        return _finished(out)
    floor = max(noise_floor(P, point, n_dy, problem, expected), scale_floor)
    with np.errstate(all="ignore"):
        try:
            out.failures += _nan_failures(problem.pull(rng.standard_normal(problem.m)),
                                          problem)
        except PullError as exc:
            out.failures.append(Failure(exc.kind, exc.message))
        if not out.failures:
            found, used, _ = compare_values(problem, mode, fdm, max(atol or 0.0, floor), rtol,
                                            rng, (), fail_fast)
            impossible = [f for f in found.failures if f.kind == "error"
                          and f.message.startswith("finite differences impossible")]
            if impossible:  # as at first order: this input cannot be checked, not a failure
                out.decided = False
                out.notes.append(f"not checked at this input: {impossible[0].message}")
                found.failures = [f for f in found.failures if f not in impossible]
            if kinked is not None:
                found.failures = _set_aside_kinks(found.failures, problem, kinked,
                                                  max(atol or 0.0, floor))
            out.failures += found.failures
            out.notes += found.notes
            out.mode = used
            out.max_error, out.tolerance = found.max_error, found.tolerance
    out.evaluations, out.pullbacks = problem.evaluations, problem.pullbacks
    if localise and not out.passed and tape.entries:
        found = first_wrong_rule(tape, mode=mode, fdm=fdm, atol=atol, rtol=rtol, seed=seed)
        if found is not None:
            loc, _, _ = found
            out.details.append(
                f"second order: the pullback of {name} calls {loc.rule} (line {loc.line} of "
                f"its Wengert list: {loc.wengert}), whose own rule is wrong; it is defined at "
                f"{loc.rule_source}")
    out.seconds = time.perf_counter() - start
    return _finished(out)


def function_kinks(problem: Problem, dy: np.ndarray, entries: np.ndarray | None = None
                   ) -> Callable[[int, float], str | None]:
    """``kinked(j, x_j)``: why ``⟨dy, F⟩`` (``F`` the first-order ``problem``'s function)
    has a kink along its flat input entry ``j`` (``entries[j]``, where ``P``'s inputs are
    some of ``problem``'s), or None where its one-sided derivatives agree (or that entry is
    not ``x_j``: another layout of the inputs).

    Where ``F`` is not differentiable, its gradient jumps and no second derivative exists:
    the pullback at the point takes the sign(0) = 0 branch, halfway between the sides, so
    finite differences of it read ``jump / h`` at every step (cond(p=1) of a matrix whose
    inverse has a zero where a switch of its 1-norm meets it). The sides are those of ``F``,
    not of the rule's pullback: a wrong rule cannot make a smooth ``F`` look kinked.

    >>> from adcheck.check.problem import FunctionProblem
    >>> x = np.array([0.0, 2.0])
    >>> p = FunctionProblem(np.abs, (x,), np.abs(x), None, ["x"])
    >>> kinked = function_kinks(p, np.array([1.0, 1.0]))
    >>> kinked(0, 0.0), kinked(1, 2.0)
    ('derivative -1 from the left, 1 from the right', None)
    """
    from .lines import LineEstimator

    est = LineEstimator(problem)
    seen: dict[int, str | None] = {}

    def kinked(j: int, value: float) -> str | None:
        if entries is not None:
            j = int(entries[j]) if 0 <= j < len(entries) else -1
        if not 0 <= j < problem.n or not problem.x0[j] == value:
            return None
        if j not in seen:
            sides = _kinked_sides(est, j, dy)
            seen[j] = (f"derivative {sides[0]:.6g} from the left, {sides[1]:.6g} from the "
                       "right") if sides else None
        return seen[j]

    return kinked


def _kinked_sides(est: Any, j: int, dy: np.ndarray) -> tuple[float, float] | None:
    """The left and right derivatives of ``⟨dy, F⟩`` along input entry ``j`` (``est`` a
    :class:`~adcheck.check.lines.LineEstimator` of ``F``) where they differ beyond their
    error bounds, else None."""
    from .tolerance import SAFETY

    problem = est.problem
    scale = float(problem.scales[j])
    v = np.zeros(problem.n)
    v[j] = scale
    with np.errstate(all="ignore"):
        sides = est.one_sided(v, dy)
    if not sides:
        return None
    right, left = (float(s.value[0]) / scale for s in sides)
    spread = SAFETY * sum(float(s.error[0]) for s in sides) / scale
    return (left, right) if abs(right - left) > spread else None


def _set_aside_kinks(failures: list[Failure], problem: Problem,
                     kinked: Callable[[int, float], str | None], slack: float) -> list[Failure]:
    """The failures, with those along an input entry where the function itself has a kink
    judged again: where the failing output of the pullback jumps (:func:`jumping_outputs`),
    a kink (there is no second derivative to get wrong); where it does not, measured again on
    its own (:func:`_measured_alone`: the outputs that jump took the shared steps down to
    round-off) and kept only if still wrong; a probe's cotangent that mixes outputs that
    jump with outputs that do not, inconclusive.
    """
    from .taylor import _column

    kept = []
    for f in failures:
        j = _column(problem, f) if f.kind == "value" and f.output is not None else None
        why = kinked(j, float(problem.x0[j])) if j is not None else None
        if not why:
            kept.append(f)
            continue
        jumps = jumping_outputs(problem, j)
        if isinstance(f.output, (int, np.integer)):
            weights = np.zeros(problem.m)
            weights[int(f.output)] = 1.0
        else:
            weights = np.asarray(f.output, dtype=np.float64)
        carried = weights != 0
        if not (jumps & carried).any():
            if isinstance(f.output, (int, np.integer)):
                kind, text = _measured_alone(problem, j, int(f.output), float(f.got), slack)
                if kind == "ok":
                    continue
                if kind == "kink":
                    f.kind = "kink"
                    f.message += f"; {text} (the function has a kink here: {why})"
                else:
                    f.message += text
            kept.append(f)
            continue
        if (jumps | ~carried).all():
            f.kind = "kink"
            f.message += (f"; the function itself has a kink along this input ({why}) and "
                          "the pullback jumps there: it has no second derivative here")
        else:
            f.kind = "inconclusive"
            f.message += (f"; finite differences cannot decide: the function itself has a "
                          f"kink along this input ({why}), and the cotangent mixes outputs "
                          "of the pullback that jump there with outputs that do not")
        kept.append(f)
    return kept


def _measured_alone(problem: Problem, j: int, i: int, got: float,
                    slack: float) -> tuple[str, str]:
    """``∂P_i/∂x_j`` by finite differences of output ``i`` alone, against the adjoint
    ``got``: ``("ok", "")`` when they agree, ``("kink", why)`` when that output's one-sided
    derivatives differ, else ``("value", text to add to the failure)`` (no text if it
    cannot be measured).

    Full mode measures a column as one line of every output, whose shared step the outputs
    that jump take down to round-off: cond(p=inf) read -5.6 for a slope of -0.49 at steps
    of 1e-16, where the pullback's own rounding is 3e-15.
    """
    from .lines import LineEstimator, NotEvaluable
    from .tolerance import SAFETY

    v = np.zeros(problem.n)
    scale = float(problem.scales[j])
    v[j] = scale
    dy = np.zeros(problem.m)
    dy[i] = 1.0
    est = LineEstimator(problem)
    try:
        line = est.estimate(v, dy=dy)
    except NotEvaluable:
        return "value", ""
    value, bound = float(line.value[0]) / scale, SAFETY * float(line.error[0]) / scale
    if abs(got - value) <= bound + slack:
        return "ok", ""
    sides = _kinked_sides(est, j, dy)
    if sides:  # a kink of this output too: no second derivative
        return "kink", (f"measured again on this output alone, its derivative is "
                        f"{sides[0]:.6g} from the left, {sides[1]:.6g} from the right")
    return "value", (f"; measured again on this output alone, finite differences give "
                     f"{value:.10g} (error bound {bound:.3g})")


#: Steps of ``2**-20`` and ``2**-40`` of an input's scale either side of the point: across
#: a jump the change stays, where the pullback is continuous it shrinks with the step.
JUMP_STEPS = (2.0**-20, 2.0**-40)


def jumping_outputs(problem: Problem, j: int) -> np.ndarray:
    """Per output of ``P``, whether it jumps along input entry ``j``: its change
    ``P(x + h·e_j) - P(x - h·e_j)`` does not shrink from the longer step to the shorter (by
    more than ``2**-10``, where a continuous output shrinks by ``2**-20``) and stays far
    above round-off.

    >>> from adcheck.check.problem import FunctionProblem
    >>> x = np.array([0.0, 2.0])
    >>> p = FunctionProblem(np.sign, (x,), np.sign(x), None, ["x"])
    >>> jumping_outputs(p, 0).tolist(), jumping_outputs(p, 1).tolist()
    ([True, False], [False, False])
    """
    x0 = problem.x0
    scale = float(problem.scales[j])
    change = []
    for step in JUMP_STEPS:
        up, down = x0.copy(), x0.copy()
        up[j] += step * scale
        down[j] -= step * scale
        try:
            with np.errstate(all="ignore"):
                a = np.asarray(problem.evaluate(up), dtype=np.float64)
                b = np.asarray(problem.evaluate(down), dtype=np.float64)
        except Exception:  # noqa: BLE001  (not evaluable beside the point: no jump seen)
            return np.zeros(problem.m, dtype=bool)
        change.append((np.abs(a - b), 1e3 * float(np.finfo(float).eps) * (np.abs(a)
                                                                          + np.abs(b))))
    (long, _), (short, noise) = change
    with np.errstate(invalid="ignore"):
        return np.isfinite(short) & (short > noise) & (short > 2.0**-10 * long)


#: The noise floor's factor: a finite difference of values that carry rounding noise ``σ``
#: errs by up to ``Σ|c_i|·σ / h``; this bounds that for steps down to 1e-6 of an input's
#: scale, far below any derivative a wrong pullback gets wrong (those are off by O(1)).
NOISE_FLOOR_FACTOR = 1e6


def _share_cotangent_scales(problem: Problem, k: int) -> None:
    """Give every cotangent entry (arguments ``k`` on) a direction scale of at least
    ``2**-10`` of the largest cotangent scale, across leaves. The pullback is linear in the
    whole cotangent, so a step of any size along it is exact, while its outputs round at
    the size of all its terms: ``qr``'s ``(dQ, dR) = (1, 8.2e-130)`` at ``[[0.5]]`` pulls
    back to exactly 0 (``dR`` is lost beside terms of 1), and steps of ``dR``'s own size
    read a slope of 0 where it is 1 (verify --builtin --order 2 --seed 402)."""
    rows = [leaf for leaf in problem.leaves if leaf.position >= k]
    if not rows:
        return
    parts = [slice(leaf.offset, leaf.offset + leaf.size) for leaf in rows]
    peak = max(float(np.max(problem.scales[sl], initial=0.0)) for sl in parts)
    for sl in parts:
        problem.scales[sl] = np.maximum(problem.scales[sl], peak * 2.0**-10)


def noise_floor(P: Callable, point: tuple, n_dy: int, problem: Any, expected: Any) -> float:
    """An absolute tolerance floor for ``P``'s derivatives from its measured rounding noise.

    The noise ``σ`` of ``P``'s outputs is measured two ways, both blind to ``P``'s smooth
    variation: ``P`` is linear in the cotangent, so ``P(x, c·Δ) / c`` equals ``P(x, Δ)`` but
    for rounding (two factors ``c`` near 1); and moving the inputs by ``k = ±1, ±2`` units in
    the last place (along fixed signs) changes ``P`` linearly in ``k`` but for rounding (the
    residual of the straight line through the four changes). ``σ`` is about ``eps·|P|`` for
    a well-conditioned pullback (the floor is then ~1e-10 of the values), but much larger
    where the pullback cancels terms to a value near 0 (``cond`` of a 1x1 matrix, and the
    ``corrcoef`` of one variable, are constant: their pullbacks are rounding noise of 1e-17
    from terms of size 1): finite differences of that noise must not be read as a
    derivative. Returns ``NOISE_FLOOR_FACTOR · σ`` over the smallest scale of ``P``'s inputs
    (0 when ``P`` takes no cotangent, or the noise cannot be measured).

    >>> from adcheck.check.problem import FunctionProblem
    >>> P = lambda x, dy: (dy * np.sin(x) + dy) - dy - dy * np.sin(x)  # 0, up to rounding
    >>> point = (np.array([0.3]), np.array([1.0]))
    >>> p = FunctionProblem(P, point, P(*point), None, ["x", "dy"])
    >>> q = FunctionProblem(np.multiply, point, np.multiply(*point), None, ["x", "dy"])
    >>> noise_floor(P, point, 1, p, P(*point)) > 0, noise_floor(np.multiply, point, 1, q,
    ...                                                         np.multiply(*point))
    (True, 0.0)
    """
    if n_dy == 0:
        return 0.0
    k = len(point) - n_dy
    base = problem.flat_outputs(expected)
    sigma = 0.0
    for c in (1.0 + 2.0**-20, 1.0 - 3 * 2.0**-22):
        try:
            with np.errstate(all="ignore"):
                scaled = P(*point[:k], *(np.multiply(d, c) for d in point[k:]))
                again = problem.flat_outputs(scaled) / c
        except Exception:  # noqa: BLE001  (the comparison itself will report it)
            return 0.0
        diff = np.abs(again - base)
        if np.all(np.isfinite(diff)):
            sigma = max(sigma, float(np.max(diff, initial=0.0)))
    sigma = max(sigma, _ulp_noise(problem, k))
    scale = float(np.min(problem.scales, initial=1.0)) if problem.n else 1.0
    return NOISE_FLOOR_FACTOR * sigma / scale


#: Multiplies ``eps`` in :func:`rounding_floor`.
ROUNDING_FLOOR_FACTOR = 1e3


def rounding_floor(first: Any, dy: np.ndarray) -> float:
    """An absolute floor for the second-order comparison: ``1e3·eps`` of the size second
    derivatives have at this point, ``|f|·(|Δ| / s² + 1 / s)`` (``s``: the smallest scale of
    the inputs; the ``1/s`` term for the derivatives in ``Δ``, which are first derivatives).

    Where a function is constant (``corrcoef`` of one variable, ``cond`` of a 1x1 matrix),
    its pullback is 0 exactly or up to rounding, and the engine's second-order pullback
    carries the rounding of its terms (1e-18 from terms of size 1) where the truth is 0;
    that rounding, unlike ``P``'s own (:func:`noise_floor`), cannot be measured from ``P``.
    A wrong second derivative is off by about that size itself, 1e13 times the floor.

    >>> from adcheck.check.problem import RuleProblem
    >>> first = RuleProblem(np.exp, None, (np.array([2.0, 4.0]),), {})
    >>> f"{rounding_floor(first, np.ones(2)):.2g}"  # 1e3 eps e^4 (1/2² + 1/2)
    '9.1e-12'
    """
    if first.n == 0 or first.m == 0:
        return 0.0
    peak = np.max(np.abs(first.flat_outputs(first.y0)), initial=0.0)
    s = np.min(first.scales)
    d = np.max(np.abs(dy), initial=0.0)
    with np.errstate(all="ignore"):  # tiny scales (subnormal inputs): no floor
        value = float(ROUNDING_FLOOR_FACTOR * np.finfo(np.float64).eps * peak
                      * (d / (s * s) + 1 / s))
    return value if np.isfinite(value) else 0.0


def _ulp_noise(problem: Any, k: int) -> float:
    """The rounding noise of ``P`` seen when its first ``k`` arguments move by 1, 2 and 3
    ulps to either side (the second difference on each side; see :func:`noise_floor`).

    Each side on its own: where ``P`` jumps at the point (``sign`` at an exact 0, a tie of
    ``max``), a line through both sides read the jump as noise, and the floor of
    ``norm(x, 1)`` at ``[0, 2]`` was 1.2e8, which let any wrong second derivative pass.
    """
    moving = np.zeros(problem.n, bool)
    for leaf in problem.leaves:
        if leaf.position < k:
            moving[leaf.offset : leaf.offset + leaf.size] = True
    if not moving.any():
        return 0.0
    x0 = problem.x0
    signs = np.where(np.arange(problem.n) % 3 == 1, -1.0, 1.0)
    step = np.where(moving, np.spacing(np.abs(x0)) * signs, 0.0)
    residuals = []
    try:
        with np.errstate(all="ignore"):
            for side in (1.0, -1.0):
                d = [problem.flat_outputs(problem.call_at(x0 + side * kk * step))
                     for kk in (1.0, 2.0, 3.0)]
                residuals.append(np.abs(d[0] - 2.0 * d[1] + d[2]))
    except Exception:  # noqa: BLE001  (the comparison itself will report it)
        return 0.0
    residual = np.concatenate(residuals)
    return float(np.max(residual, initial=0.0)) if np.all(np.isfinite(residual)) else 0.0


def _name_inputs(tape: Tape, point: tuple, names: list[str]) -> None:
    """Name ``P``'s traced inputs on its tape as the report does (``x``, ``dy``), when each
    argument is one array (``_pullback`` can only name them ``x1``, ``x2``, ...)."""
    if any(type(a) in (list, tuple, dict) for a in point) or len(tape.names) != len(point):
        return
    for slot, name in zip(sorted(tape.names), names):
        tape.names[slot] = name


def _finished(out: SecondOrder) -> SecondOrder:
    out.failures = _prefixed(out.failures)
    out.notes = [n if n.startswith("second order") else f"second order: {n}" for n in out.notes]
    return out


def add_to_result(result: CheckResult, found: SecondOrder) -> None:
    """Put what the second-order check found into a first-order ``result`` (and decide it)."""
    result.failures += found.failures
    result.notes += found.notes
    result.details += found.details
    result.evaluations += found.evaluations
    result.pullbacks += found.pullbacks
    cost = result.second_order or {"examples": 0, "evaluations": 0, "pullbacks": 0,
                                   "seconds": 0.0}
    cost["examples"] += int(found.decided)
    cost["evaluations"] += found.evaluations
    cost["pullbacks"] += found.pullbacks
    cost["seconds"] += found.seconds
    result.second_order = cost
    verdict = ("passed" if found.decided else "not decided") if found.passed else "FAILED"
    errors = (f"max |error| {found.max_error:.3g} within {found.tolerance:.3g}, "
              if found.passed and found.mode else "")
    result.notes.append(f"second order: {verdict} (the pullback's own pullback against finite "
                        f"differences of back(x, dy); {errors}{found.cost()})")
    result.decide()


def second_order_of_rule(result: CheckResult, problem: Any, *, cotangents: tuple = (),
                         mode: str = "auto", fdm: FiniteDifferenceMethod | None = None,
                         atol: float | None = None, rtol: float | None = None, seed: int = 0,
                         nondet_tol: float | None = None,
                         full_max: int | None = None, fail_fast: bool = False) -> None:
    """Check a rule's pullback at order 2 and add the findings to its first-order ``result``.

    ``problem`` is the first-order :class:`~adcheck.check.problem.RuleProblem`. The
    cotangent ``Δ`` at which ``P(x, Δ)`` is checked is the first of ``cotangents`` (the one
    ``verify`` drew) or a random one. Not run when the first order failed (its report comes
    first), nor for a rule without differentiable inputs or outputs. With ``mode="auto"``,
    ``P`` is checked in fast mode when it has more than ``full_max`` input entries.
    """
    if _nothing_to_check(result, problem):
        return
    rng = np.random.default_rng([seed, 2])
    flat = cotangents[0] if cotangents else rng.standard_normal(problem.m)
    flat = _one_output_zeroed(problem, np.array(flat, dtype=np.float64), rng)
    problem = _in_float64(problem, result)
    dy = problem.output_cotangent(np.asarray(flat, dtype=np.float64))
    P, point, names = rule_pullback_function(problem, dy)
    if mode == "auto" and full_max is not None:
        entries = problem.n + problem.m
        mode = "fast" if entries > full_max else mode
    found = check_pullback(P, point, names, problem.name, P.n_dy, mode=mode,
                           fdm=fdm, atol=atol, rtol=rtol, rng=rng, seed=seed,
                           nondet_tol=nondet_tol, localise=not fail_fast, fail_fast=fail_fast,
                           scale_floor=rounding_floor(problem, flat),
                           kinked=function_kinks(problem, np.asarray(flat, dtype=np.float64),
                                                 P.first_order_entries))
    add_to_result(result, found)


def _one_output_zeroed(problem: Any, flat: np.ndarray, rng: np.random.Generator
                       ) -> np.ndarray:
    """``flat`` with one output's cotangent set to 0 (or none: chosen by ``rng``) when there
    are several outputs. A pullback that skips a term when its cotangent is 0 at run time
    (``if np.any(dv != 0)``) is right in value but loses that term's derivative in the
    cotangent, which only such a ``Δ`` shows.

    >>> from adcheck.check.problem import RuleProblem
    >>> p = RuleProblem(np.linalg.eigh, None, (np.eye(2),), {})
    >>> rng = np.random.default_rng(1)  # eigh's w has 2 entries, v 4: w, v or none zeroed
    >>> sorted({int(np.count_nonzero(_one_output_zeroed(p, np.ones(6), rng)))
    ...         for _ in range(20)})
    [2, 4, 6]
    """
    leaves = problem.out_leaves
    if len(leaves) < 2:
        return flat
    k = int(rng.integers(len(leaves) + 1))
    if k < len(leaves):
        flat = flat.copy()
        flat[leaves[k].offset : leaves[k].offset + leaves[k].size] = 0.0
    return flat


def _widen(leaf: Any) -> Any:
    if (isinstance(leaf, (np.ndarray, np.floating)) and leaf.dtype.kind == "f"
            and leaf.dtype.itemsize < 8):
        return np.asarray(leaf, dtype=np.float64) if isinstance(leaf, np.ndarray) else (
            np.float64(leaf))
    return leaf


def _in_float64(problem: Any, result: CheckResult) -> Any:
    """The rule's problem at the float64 values of its float32/float16 inputs (a note says
    so), or ``problem`` itself when every input is float64 or the rule refuses float64.

    Second order is about whether the pullback can be differentiated at all; the rounding of
    a low-precision pullback is the first-order check's business (with its allowance), and
    finite differences of a float32 pullback would measure float32 noise.
    """
    from .problem import RuleProblem, parameter_names
    from .rounding import low_precision

    low = low_precision(problem)
    if low is None:
        return problem
    wide_args = tuple(map_leaves(_widen, a) for a in problem.args)
    try:
        with np.errstate(all="ignore"):
            wide = RuleProblem(problem.fn, problem.rule, wide_args, problem.kwargs,
                               name=problem.name,
                               arg_names=parameter_names([problem.rule, problem.fn],
                                                         len(wide_args)))
        if [o.shape for o in wide.out_leaves] != [o.shape for o in problem.out_leaves]:
            return problem
    except Exception:  # noqa: BLE001  (a rule that takes float32 only: checked as it is)
        return problem
    result.notes.append(f"second order: checked at the float64 values of the {low.name} "
                        "inputs (the rounding of the pullback is the first-order check's)")
    return wide


def _nothing_to_check(result: CheckResult, problem: Any) -> bool:
    """True (with a note saying why) when the second order is not checked: the first order
    failed (its report comes first), or there is no differentiable input or output."""
    if result.verdict == "fail":
        result.notes.append("second order: not checked, the first order failed")
        return True
    if problem.n == 0 or problem.m == 0:
        result.notes.append("second order: nothing to check (no differentiable input or "
                            "output)")
        return True
    return False


def second_order_of_function(result: CheckResult, f: Callable, problem: Any, tape: Any, *,
                             mode: str = "auto", fdm: FiniteDifferenceMethod | None = None,
                             atol: float | None = None, rtol: float | None = None,
                             seed: int = 0, nondet_tol: float | None = None,
                             localise: bool = True) -> None:
    """``gradcheck(order=2)``: check the engine's pullback of ``f`` at order 2, add the
    findings to ``result``; on a failure name the first rule on ``tape`` (``f``'s first-order
    recording) that fails its own second-order check at the values it saw."""
    if _nothing_to_check(result, problem):
        return
    rng = np.random.default_rng([seed, 2])
    flat = rng.standard_normal(problem.m)
    dy = problem.output_cotangent(flat)
    P, point, names = function_pullback_function(f, problem, dy)
    found = check_pullback(P, point, names, result.name, P.n_dy, mode=mode,
                           fdm=fdm, atol=atol, rtol=rtol, rng=rng, seed=seed,
                           nondet_tol=nondet_tol, localise=False,
                           scale_floor=rounding_floor(problem, flat),
                           kinked=function_kinks(problem, flat))
    if localise and not found.passed:
        culprit = first_rule_wrong_at_order_2(tape, mode=mode, fdm=fdm, atol=atol, rtol=rtol,
                                              seed=seed)
        if culprit is not None:
            line, wengert, checked = culprit
            result.location = checked.location
            found.details.append(f"second order: localised to line {line} of the Wengert "
                                 f"list, {wengert}; that rule on its own at order 2:")
            found.details += ["  | " + text for text in checked.report().splitlines()]
        elif first_order_only := sorted({e.rule.name for e in tape.entries
                                         if not getattr(e.rule, "higher_order", True)}):
            found.notes.append(
                f"second order: {', '.join(first_order_only)} declared higher_order=False: "
                f"the second derivative cannot be taken through it")
        elif tape.entries:
            found.notes.append(
                f"second order: each of the {len(tape.entries)} rules on the tape passed its "
                "own second-order check at the values it saw")
    add_to_result(result, found)


def first_rule_wrong_at_order_2(tape: Any, *, mode: str = "auto",
                                fdm: FiniteDifferenceMethod | None = None,
                                atol: float | None = None, rtol: float | None = None,
                                seed: int = 0) -> tuple[int, str, CheckResult] | None:
    """The first rule on ``tape`` that fails ``check_adjoint(order=2)`` at the values it saw:
    ``(line, Wengert text, its result)``, or None."""
    from ..engine.tracer import strip
    from .check_adjoint import run_rule_check

    lines = tape.lines()
    for k, entry in enumerate(tape.entries):
        rule = entry.rule
        if not getattr(rule, "higher_order", True):
            continue
        args = tuple(strip(a) for a in entry.args)
        kwargs = {key: strip(v) for key, v in entry.kwargs.items()}
        checked = run_rule_check(entry.fn, rule.rule, args, kwargs, mode=mode, fdm=fdm,
                                 atol=atol, rtol=rtol, seed=seed + k, name=rule.name,
                                 location=rule.source, order=2)
        if not checked.passed:
            return k + 1, lines[k] if k < len(lines) else rule.name, checked
    return None


def cost_note(cost: dict, examples: int) -> str:
    """The note ``verify(order=2)`` adds: at how many examples the second order was checked,
    and what it cost.

    >>> cost_note({"examples": 3, "evaluations": 120, "pullbacks": 30, "seconds": 0.25}, 4)
    'second order: checked at 3 of 4 examples (120 evaluations, 30 pullbacks, 0.25 s)'
    """
    return (f"second order: checked at {cost['examples']} of {examples} examples "
            f"({cost['evaluations']} evaluations, {cost['pullbacks']} pullbacks, "
            f"{cost['seconds']:.3g} s)")
