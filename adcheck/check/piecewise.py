"""Functions declared non-differentiable must be piecewise constant.

A function declared with :func:`adcheck.registry.nondifferentiable` (``np.floor``, ``np.sign``,
``np.argmax``, comparisons, a user's own) is run on plain values and its result is a
constant on the tape: its gradient is taken to be zero. That is right only if the function
is *piecewise constant*: a small enough step changes nothing, except across a jump. A
function declared so by mistake (a smooth one, ``np.sqrt``) gets a silently zero gradient,
the worst bug there is, so :func:`check_constant` checks the claim at a point and
:func:`verify_constant` (what :func:`adcheck.verify` runs for such a declaration) on inputs
drawn from the declared domain.

At every input entry ``x_j``, on each side, the function is evaluated at steps
``h = max(|x_j|, 1) · eps^p`` for ``p`` in :data:`STEP_POWERS` (about 1.5e-8, 1.6e-10 and
1.8e-12 of the entry in float64; ``eps`` is that of the coarsest dtype involved), and each
output is compared with its value at the point:

- **unchanged** at the smallest step (within a few float spacings of the output): constant
  there, whatever larger steps do (they may cross a jump);
- **the same at the two smallest steps** but not at the point: a jump at the point
  itself (``floor`` at an integer, ``sign`` at 0), which is allowed;
- **different at all three steps and at the point**: the output moves however small the
  step is, as a differentiable function's does (``sqrt``: by ``h/(2·sqrt(x))``). That is a
  ``"not constant"`` failure naming the input and output entries, the changes seen and the
  slope they imply. (Jumps closer together than about 1e-8 of the input look the same, and
  are reported too: adcheck cannot tell them from a slope.)

Outputs that differ between two calls at the same input (``np.empty_like``: its values are
whatever memory held) do not depend on the input's values at all and are not compared;
a note says so. Integer and boolean outputs change only by jumps, and pass by the same
test.

>>> import numpy as np
>>> r = check_constant(np.floor, (np.array([0.5, 2.0, -1.25]),), {})
>>> r.passed, r.probes
(True, 6)
>>> r = check_constant(np.sqrt, (np.array([4.0]),), {}, name="sqrt")
>>> r.failures[0].kind, r.failures[0].path
('not constant', 'x[0]')
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import registry
from ..tree import flatten
from .problem import RuleProblem, parameter_names
from .report import short_repr
from .result import CheckResult, Failure, GradientMismatch, check_policy

__all__ = ["STEP_POWERS", "check_constant", "verify_constant", "builtin_domain"]

#: Steps are ``max(|x_j|, 1) · eps ** p`` for these ``p`` (largest step first).
STEP_POWERS = (0.5, 0.625, 0.75)
#: Outputs within this many float spacings of each other count as unchanged.
NOISE_SPACINGS = 4.0


#: Functions whose output values are undefined (whatever memory held): only the structure
#: and shapes of their outputs are compared.
UNDEFINED_VALUES = (np.empty_like,)


def builtin_domain(fn: Any) -> Any:
    """Where the built-in declarations whose default inputs do not fit are checked; None
    for the others (default inputs). ``np.argpartition`` needs an integer ``kth``;
    ``np.spacing`` is piecewise constant away from 0 only (its jumps, at every power of two,
    pile up there: on ``[0, h]`` it grows like ``eps·h``, as a slope would), and
    ``np.floor_divide(x, y)`` jumps every ``|y|`` along ``x`` (so ``y`` stays away from 0);
    ``np.einsum_path`` takes a subscripts string.

    >>> builtin_domain(np.floor) is None, builtin_domain(np.argpartition) is not None
    (True, True)
    """
    from .. import domains

    if fn is np.spacing:
        return domains.nonzero()
    if fn is np.floor_divide:
        return (domains.real(), domains.nonzero())
    if fn is np.einsum_path:
        def draw_path(d: Callable) -> tuple[tuple, dict]:
            from hypothesis import strategies as st
            from hypothesis.extra import numpy as hnp

            i, j, k = (d(st.integers(1, 3)) for _ in range(3))
            floats = st.floats(-10, 10)
            a = d(hnp.arrays(np.float64, (i, j), elements=floats))
            b = d(hnp.arrays(np.float64, (j, k), elements=floats))
            return ("ij,jk->ik", a, b), {}
        return domains.custom(draw_path)
    if fn is np.argpartition:
        def draw(d: Callable) -> tuple[tuple, dict]:
            from hypothesis import strategies as st
            from hypothesis.extra import numpy as hnp

            n = d(st.integers(1, 4))
            a = d(hnp.arrays(np.float64, (n,), elements=st.floats(-10, 10)))
            return (a, d(st.integers(0, n - 1))), {}
        return domains.custom(draw)
    return None


def _outputs(value: Any) -> list[np.ndarray]:
    return [np.asarray(v) for v in flatten(value)[0]]


def _same(a: list[np.ndarray], b: list[np.ndarray], skip: set[int]) -> bool:
    """The outputs ``a`` and ``b`` are equal (floats: within a few spacings; NaN == NaN)."""
    if len(a) != len(b):
        return False
    for k, (u, v) in enumerate(zip(a, b)):
        if u.shape != v.shape:
            return False
        if k in skip:
            continue
        if u.dtype.kind in "fc" or v.dtype.kind in "fc":
            dtype = np.result_type(u, v)
            dtype = dtype if dtype.kind in "fc" else np.dtype(np.float64)
            with np.errstate(all="ignore"):
                uf, vf = u.astype(dtype), v.astype(dtype)
                noise = NOISE_SPACINGS * np.spacing(np.maximum(np.abs(uf), np.abs(vf)))
                close = (np.abs(uf - vf) <= np.abs(noise)) | (uf == vf) | (
                    np.isnan(uf) & np.isnan(vf))
            if not np.all(close):
                return False
        elif not np.array_equal(u, v):
            return False
    return True


def _coarsest_eps(problem: RuleProblem, outputs: list[np.ndarray]) -> float:
    dtypes = [np.dtype(np.float64) if problem.promoted else leaf.dtype for leaf in problem.leaves]
    dtypes += [o.dtype for o in outputs if o.dtype.kind == "f"]
    return max(float(np.finfo(d).eps) for d in dtypes)


def _output_name(outputs: list[np.ndarray], k: int, index: tuple) -> str:
    head = "y" if len(outputs) == 1 else f"y[{k}]"
    return head if not index else f"{head}[{', '.join(str(int(i)) for i in index)}]"


def _largest_change(y0: list[np.ndarray], ys: list[list[np.ndarray]],
                    skip: set[int]) -> tuple[int, tuple, list[float]] | None:
    """The float output entry that moved most at the smallest step, and its changes."""
    best = None
    for k, base in enumerate(y0):
        if k in skip or base.dtype.kind not in "f" or any(y[k].shape != base.shape for y in ys):
            continue
        with np.errstate(all="ignore"):
            change = np.abs(ys[-1][k].astype(np.float64) - base)
        change = np.where(np.isfinite(change), change, -1.0)
        if change.size == 0:
            continue
        flat = int(np.argmax(change))
        if best is None or change.ravel()[flat] > best[0]:
            index = np.unravel_index(flat, base.shape) if base.shape else ()
            moves = [float(np.ravel(y[k].astype(np.float64) - base)[flat]) for y in ys]
            best = (float(change.ravel()[flat]), k, tuple(int(i) for i in index), moves)
    return None if best is None else best[1:]


def check_constant(fn: Any, args: tuple, kwargs: dict, *, name: str | None = None,
                   location: str | None = None, kind: str = "check_adjoint",
                   inconclusive: str = "fail") -> CheckResult:
    """Check that ``fn`` is piecewise constant around ``args`` (see the module docstring).

    Returns a :class:`CheckResult` (never raises for a wrongly declared function): a
    ``"not constant"`` failure per input entry where some output moves at every step.

    >>> r = check_constant(np.sign, (np.array([0.0, -3.0]),), {})
    >>> r.passed, r.notes
    (True, ['a jump at x[0] (the output changes at the point itself, by the same at every small step)'])
    """  # noqa: E501
    name = name or registry.function_name(fn)
    result = CheckResult(passed=False, kind=kind, name=name, location=location,
                         inconclusive_policy=check_policy(inconclusive), mode="piecewise")
    kwargs = dict(kwargs)

    def call(a: tuple) -> list[np.ndarray]:
        result.evaluations += 1
        with np.errstate(all="ignore"):
            return _outputs(fn(*copy.deepcopy(a), **copy.deepcopy(kwargs)))

    try:
        problem = RuleProblem(fn, None, tuple(args), kwargs,
                              arg_names=parameter_names([fn], len(args)))
        x0 = problem.x0
        base = problem.args_at(x0, problem.promoted)
        y0 = call(base)
        again = call(base)
    except Exception as exc:  # noqa: BLE001  (the function may raise anything)
        result.failures.append(Failure("error", f"the function raised {type(exc).__name__}: "
                                       f"{exc}"))
        result.decide()
        return result
    # outputs that are not a function of the input's values (np.empty_like) are left out
    skip = {k for k, (u, v) in enumerate(zip(y0, again)) if not _same([u], [v], set())}
    if fn in UNDEFINED_VALUES:
        skip = set(range(len(y0)))
        result.notes.append(f"the values of {name}'s output are undefined (whatever memory "
                            "held): only its structure and shape are compared")
    elif skip:
        result.notes.append(f"output{'s' if len(skip) > 1 else ''} "
                            f"{', '.join(_output_name(y0, k, ()) for k in sorted(skip))} "
                            "differ between two calls at the same input (their values do not "
                            "depend on the input's): not compared")
    if problem.n == 0:
        result.notes.append("no floating-point input: nothing moves, nothing to check")
    eps = _coarsest_eps(problem, y0)
    jumps = []
    for j in range(problem.n):
        leaf = next(lf for lf in problem.leaves if lf.offset <= j < lf.offset + lf.size)
        entry = leaf.entry_name(j - leaf.offset)
        size = max(abs(float(x0[j])), 1.0) if np.isfinite(x0[j]) else 1.0
        steps = [size * eps**p for p in STEP_POWERS]
        for side in (1.0, -1.0):
            ys = []
            for h in steps:
                x = x0.copy()
                x[j] += side * h
                try:
                    ys.append(call(problem.args_at(x, problem.promoted)))
                except Exception:  # noqa: BLE001  (outside the function's domain there)
                    break
            result.probes += 1
            if len(ys) < len(steps):
                continue
            if _same(ys[-1], y0, skip):
                continue  # unchanged by a small enough step
            if _same(ys[-1], ys[-2], skip) or _same(ys[-2], ys[-3], skip):
                jumps.append(entry)  # a jump at (or just beside) the point
                continue
            _report_slope(result, problem, leaf, j, entry, side, steps, y0, ys, skip)
            break
    if jumps:
        unique = list(dict.fromkeys(jumps))
        result.notes.append(f"a jump at {', '.join(unique[:5])}"
                            f"{' and more' if len(unique) > 5 else ''} (the output changes at "
                            "the point itself, by the same at every small step)")
    result.decide()
    return result


def _report_slope(result: CheckResult, problem: RuleProblem, leaf: Any, j: int, entry: str,
                  side: float, steps: list[float], y0: list, ys: list, skip: set) -> None:
    found = _largest_change(y0, ys, skip)
    if found is None:
        what, detail, got = "the output", "changes (its structure or shape)", math.nan
    else:
        k, index, moves = found
        what = _output_name(y0, k, index)
        sign = "+" if side > 0 else "-"
        detail = ("moves by " + ", ".join(f"{m:.3g}" for m in moves) + " for steps "
                  + ", ".join(f"{sign}{h:.2g}" for h in steps))
        got = moves[-1] / (side * steps[-1])
        detail += f": a slope of about {got:.6g}"
    result.failures.append(Failure(
        "not constant",
        f"{entry}: {what} {detail}, however small the step; a function declared "
        "non-differentiable must be piecewise constant (unchanged by small steps except "
        "across a jump), or its zero gradient is wrong: register an adjoint for it instead "
        "of declaring it non-differentiable",
        argument=leaf.position, index=leaf.entry_index(j - leaf.offset), expected=0.0,
        got=got, path=entry))


def _shrunk(strategy: Any, example: Any, check: Callable, shrink: Callable) -> Any:
    """The smallest systematic example that still fails (see enumeration.shrink)."""
    last = [example]

    def fails(candidate: Any) -> bool:
        c = check(*candidate.value)
        if c is not None and not c.passed:
            last[0] = candidate
            return True
        return False

    shrink(strategy, example, fails)
    return last[0]


class _Found(AssertionError):
    def __init__(self, result: CheckResult, args: tuple, kwargs: dict):
        super().__init__(result.report())
        self.result, self.args, self.kwargs = result, args, kwargs


def verify_constant(rule: registry.Rule, inputs: Any = None, max_examples: int = 100,
                    seed: int = 0, *, kwargs: dict | None = None, settings: Any = None,
                    raise_exception: bool = True, inconclusive: str = "fail") -> CheckResult:
    """:func:`check_constant` on inputs drawn from the declaration's domain (systematic
    examples first, then hypothesis, as :func:`adcheck.verify` does); the smallest failing
    input is reported. ``rule`` is the declaration (``adcheck.registry.declaration(fn)``).

    >>> import adcheck as ad
    >>> r = verify_constant(ad.registry.declaration(np.floor), max_examples=10, seed=0)
    >>> r.passed, r.examples
    (True, 10)
    """
    import hypothesis
    from hypothesis import HealthCheck, Phase, Verbosity, given
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable

    from .enumeration import shrink, systematic_examples
    from .strategies import args_strategy

    declared = registry.declaration(rule.fn)
    if declared is not None and declared.rule is rule.rule:
        rule = declared  # the declaration itself, registered again as an adjoint for a run
    domain = rule.domain if rule.domain is not None else builtin_domain(rule.fn)
    strategy, notes = args_strategy(rule.fn, domain, inputs, kwargs)
    if domain is not None and rule.domain is None:
        notes = []
    total = settings.max_examples if settings is not None else int(max_examples)
    tally = {"examples": 0, "skipped": 0, "evaluations": 0, "probes": 0}
    jumps: list[str] = []

    def check(args: tuple, kw: dict) -> CheckResult | None:
        try:
            with np.errstate(all="ignore"):
                y = rule.fn(*copy.deepcopy(args), **copy.deepcopy(kw))
            finite = all(np.all(np.isfinite(v)) for v in _outputs(y) if v.dtype.kind in "fc")
        except Exception:  # noqa: BLE001  (outside the function's domain: skip)
            finite = False
        if not finite:
            tally["skipped"] += 1
            return None
        r = check_constant(rule.fn, args, kw, name=rule.name, location=rule.source,
                           kind="verify", inconclusive=inconclusive)
        if any(f.kind == "error" for f in r.failures):
            tally["skipped"] += 1
            return None
        tally["examples"] += 1
        tally["evaluations"] += r.evaluations
        tally["probes"] += r.probes
        if r.passed and any(n.startswith("a jump") for n in r.notes) and len(jumps) < 3:
            jumps.append(short_repr(args, 200))
        return r

    found: _Found | None = None
    budget = max(1, math.ceil(total * 0.5))
    for example in systematic_examples(strategy, seed, budget):
        if tally["examples"] >= budget:
            break
        r = check(*example.value)
        if r is not None and not r.passed:
            args, kw = _shrunk(strategy, example, check, shrink).value
            found = _Found(check(args, kw) or r, args, kw)
            break

    def example(data: Any) -> None:
        args, kw = data.draw(strategy, label="arguments")
        r = check(args, kw)
        if r is None:
            hypothesis.reject()
        if not r.passed:
            raise _Found(r, args, kw)

    remaining = total - tally["examples"]
    chosen = hypothesis.settings(
        settings, max_examples=max(remaining, 1), report_multiple_bugs=False,
        derandomize=False) if settings is not None else hypothesis.settings(
        max_examples=max(remaining, 1), database=None, deadline=None, derandomize=False,
        report_multiple_bugs=False, verbosity=Verbosity.quiet,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck))
    result = CheckResult(passed=True, kind="verify", name=rule.name, location=rule.source,
                         seed=seed, notes=list(notes), inconclusive_policy=inconclusive,
                         mode="piecewise")
    try:
        if found is None and remaining > 0:
            hypothesis.seed(seed)(chosen(given(st.data())(example)))()
    except _Found as exc:
        found = exc
    except Unsatisfiable:
        pass
    result.examples = tally["examples"]
    result.evaluations, result.probes = tally["evaluations"], tally["probes"]
    result.notes.insert(0, f"{rule.name} is declared non-differentiable: checked to be "
                        "piecewise constant (unchanged by small steps except across jumps)")
    if found is not None:
        final = check_constant(rule.fn, found.args, found.kwargs, name=rule.name,
                               location=rule.source, kind="verify", inconclusive=inconclusive)
        if final.passed:
            final = found.result
        result.failures = list(final.failures)
        result.notes += [n for n in final.notes if n not in result.notes]
        result.smallest_input = short_repr(found.args) + (
            ", " + ", ".join(f"{k}={short_repr(v)}" for k, v in found.kwargs.items())
            if found.kwargs else "")
        label = registry.function_label(rule.fn)
        budget_text = "" if total == 100 else f"max_examples={total}, "
        result.details.append(f"replay: adcheck.verify({label}, {budget_text}seed={seed})")
    elif tally["examples"] == 0:
        result.failures.append(Failure(
            "error", f"no drawn input could be checked: the function raised or was not finite "
            f"at all {tally['skipped']} inputs drawn; declare a domain, e.g. "
            f"adcheck.registry.nondifferentiable({rule.name}, domain=adcheck.domains.positive())"))
    if tally["skipped"]:
        result.notes.append(f"{tally['skipped']} drawn inputs were skipped (the function was "
                            "not finite there, or raised)")
    if jumps and found is None:
        result.notes.append(f"jumps met at the point itself, e.g. at {jumps[0]}")
    result.decide()
    if raise_exception and not result.passed:
        raise GradientMismatch(result)
    return result
