"""``verify``: property-based checking of a rule, systematic first, then with hypothesis.

Each example draws the rule's inputs (from its declared domain, see
:mod:`adcheck.check.strategies`), an output cotangent, and the seed of the random probes,
and runs :func:`~adcheck.check.check_adjoint.run_rule_check` (values, shapes, dtypes,
linearity, mutation, NaN, primal) plus a comparison of ``back(Δ)`` with ``J'·Δ`` for the drawn
``Δ``. Inputs where the function itself is not finite, or raises, are skipped.

Two phases share ``max_examples``:

1. **Systematic** (up to half of it, :data:`SYSTEMATIC_SHARE`): the domain's draw function
   runs with a planned ``draw`` (:mod:`adcheck.check.enumeration`) that takes every value of
   every small discrete choice (axes including None and negative ones, keepdims both ways,
   0-d, size-one and non-square shapes, dtypes) and every pair of them, with random
   continuous values. A bug confined to ``axis=0`` on non-square input is found by every
   seed. A failure here is shrunk by the same planner (choices lowered, values simplified).
2. **Random**: hypothesis draws the rest and shrinks a failure to the smallest input.

Reproducibility: the seed drives both phases (hypothesis runs with ``@seed(seed)`` and
``database=None``). Without ``seed`` it is derived from the rule's name (:func:`seed_for`),
so the same call gives the same verdict in every process, as the CLI and the pytest plugin
do by default; ``seed="random"`` explores with a fresh seed. ``result.seed`` replays it.

>>> import numpy as np
>>> import adcheck as ad
>>> r = ad.verify(np.tanh, max_examples=10, seed=1)
>>> r.passed, r.examples, r.seed
(True, 10, 1)
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import registry
from ..domains import validate as validate_domain
from ..fd import FiniteDifferenceMethod
from ..tree import flatten
from .check_adjoint import (
    choose_mode,
    new_seed,
    references_of,
    rule_for,
    rule_order,
    run_rule_check,
    validate_options,
)
from .enumeration import Example, SystematicDraw, shrink, systematic_examples
from .kinds import KindLog
from .problem import is_float_value
from .reference import validate_reference
from .report import short_repr
from .result import CheckResult, Failure, GradientMismatch, check_policy
from .strategies import args_strategy, cotangent_strategy

__all__ = ["verify", "seed_for", "resolve_seed"]


class _ExampleFailed(AssertionError):
    def __init__(self, result: CheckResult, args: tuple, kwargs: dict, probe_seed: int,
                 cotangents: tuple):
        super().__init__(result.report())
        self.result = result
        self.args = args
        self.kwargs = kwargs
        self.probe_seed = probe_seed
        self.cotangents = cotangents


@dataclass
class _Checked:
    """One checked example and what replays it."""

    result: CheckResult
    args: tuple
    kwargs: dict
    probe_seed: int
    cotangents: tuple

    def failure(self) -> _ExampleFailed:
        return _ExampleFailed(self.result, self.args, self.kwargs, self.probe_seed,
                              self.cotangents)


def _quiet(check: Callable) -> Callable:
    """``check`` with NumPy's RuntimeWarnings silenced: drawn inputs reach all-NaN slices and
    zero degrees of freedom on purpose, and hundreds of such lines would bury the report."""
    @functools.wraps(check)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return check(*args, **kwargs)
    return quiet


def seed_for(name: str) -> int:
    """The default seed of a rule's ``verify``: a 32-bit hash of its name, the same in every
    process and on every machine (not Python's salted ``hash``), so a run is reproducible
    without being told a seed, and CI cannot pass by luck.

    >>> seed_for("sin") == seed_for("sin") != seed_for("cos")
    True
    """
    return zlib.crc32(name.encode("utf-8"))


def resolve_seed(seed: int | str | None, name: str) -> int:
    """``seed`` as an int: ``None`` gives :func:`seed_for` the rule's name, ``"random"`` a
    fresh random seed (exploration; it is reported in ``result.seed`` to replay the run).

    >>> resolve_seed(None, "sin") == seed_for("sin"), resolve_seed(7, "sin")
    (True, 7)
    """
    if seed is None:
        return seed_for(name)
    if isinstance(seed, str):
        if seed != "random":
            raise ValueError(f"seed must be an integer, None or 'random', got {seed!r}")
        return new_seed()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, None or 'random', got {seed!r}")
    return int(seed)


#: Examples with more float input entries than this are checked in fast mode when the mode
#: is "auto": a full Jacobian costs one finite difference per entry (a (2, 3, 4) example
#: took three times a (2, 3) one), while the dot-product probes, sparse ones included, cost
#: the same at any size. ``check_adjoint`` on its own keeps its larger limit.
VERIFY_FULL_MAX_INPUTS = 12


def example_mode(mode: str, args: tuple, kwargs: dict) -> str:
    """The mode one example is checked in: ``mode`` itself, unless it is "auto" and the
    example has more than :data:`VERIFY_FULL_MAX_INPUTS` float entries ("fast").

    >>> example_mode("auto", (np.ones((2, 3)),), {}), example_mode("auto", (np.ones(13),), {})
    ('auto', 'fast')
    """
    if mode != "auto":
        return mode
    entries = sum(int(np.size(leaf)) for leaf in flatten((args, kwargs))[0]
                  if is_float_value(leaf))
    return "fast" if entries > VERIFY_FULL_MAX_INPUTS else mode


#: Share of ``max_examples`` given to the systematic phase; hypothesis draws the rest.
SYSTEMATIC_SHARE = 0.5


def _extra_draw(example: Example) -> Callable:
    """Draws of the cotangent and probe seed of a systematic example (random, replayable)."""
    d = SystematicDraw(lambda site, keys, prior: 0, np.random.default_rng(example.rng_seed + 1))
    return lambda strategy, label: d.random(strategy)


def _systematic_phase(strategy: Any, seed: int, total: int, check_example: Callable,
                      tally: _Tally) -> tuple[_ExampleFailed | None, list]:
    """Check the planned examples of :mod:`~adcheck.check.enumeration`; a failure is shrunk.

    After the first failure (shrunk) the rest of the budget is still checked, so that
    failures of other kinds are found too (:class:`~adcheck.check.kinds.KindLog`).
    Returns the failure (or None) and the list of failures it found (to tell them apart).
    """
    budget = max(1, math.ceil(total * SYSTEMATIC_SHARE))
    failure = None
    for example in systematic_examples(strategy, seed, budget):
        if tally.examples >= budget:
            break
        checked = check_example(*example.value, _extra_draw(example))
        if checked is None or checked.result.passed or failure is not None:
            continue
        smallest = _shrunk(strategy, example, checked, check_example)
        failure = smallest.failure()
    return (failure, [failure]) if failure is not None else (None, [])


def _shrunk(strategy: Any, example: Example, checked: _Checked,
            check_example: Callable) -> _Checked:
    """The check of the smallest failing example :func:`shrink` finds from ``example``."""
    last = [checked]

    def fails(candidate: Example) -> bool:
        c = check_example(*candidate.value, _extra_draw(candidate))
        if c is not None and not c.result.passed:
            last[0] = c
            return True
        return False

    shrink(strategy, example, fails)
    return last[0]


class _Tally:
    """What the examples found, for the final result."""

    def __init__(self) -> None:
        self.examples = 0
        self.skipped = 0
        self.kinks = 0
        self.evaluations = 0
        self.pullbacks = 0
        self.probes = 0
        self.ratio = -1.0
        self.max_error = 0.0
        self.tolerance = 0.0
        self.modes: set[str] = set()
        self.last_failure: _ExampleFailed | None = None
        self.inconclusive = 0
        self.first_undecided: tuple[str, str] | None = None  # (input, reason)
        self.kinds = KindLog()  # every kind of failure seen, with its smallest input
        self.second_order: dict | None = None  # order=2: its cost, summed over examples

    def undecided(self, r: CheckResult, args: tuple, kwargs: dict) -> None:
        """An example the finite differences could not decide (set aside, see verify)."""
        self.inconclusive += 1
        if self.first_undecided is None:
            reason = next(f.message for f in r.failures if f.kind == "inconclusive")
            self.first_undecided = (_input_text(args, kwargs), reason)

    def add(self, r: CheckResult) -> None:
        self.examples += 1
        self.evaluations += r.evaluations
        self.pullbacks += r.pullbacks
        if r.second_order is not None:
            self.second_order = {k: v + (self.second_order or {}).get(k, 0)
                                 for k, v in r.second_order.items()}
        self.probes += r.probes
        if r.mode:
            self.modes.add(r.mode)
        if r.kinks:
            self.kinks += 1
        ratio = r.max_error / r.tolerance if r.tolerance > 0 else (
            0.0 if r.max_error == 0 else np.inf)
        if r.passed and ratio > self.ratio:
            self.ratio, self.max_error, self.tolerance = ratio, r.max_error, r.tolerance


def _unsatisfiable_message(rule: registry.Rule, inputs: Any, tally: _Tally) -> str:
    """Why hypothesis found nothing to check: the draw itself, or the function."""
    from ..domains import describe

    source = "the inputs strategy" if inputs is not None else (
        f"the domain {describe(rule.domain)!r}" if rule.domain is not None
        else "the default inputs")
    if tally.skipped == 0:
        return (f"{source} could not generate any input: hypothesis gave up (its filters or "
                "assume() calls reject nearly every draw); draw valid values directly instead "
                "of filtering")
    hint = (f"declare a domain, e.g. @ad.adjoint({rule.name}, domain=ad.domains.positive())"
            if rule.domain is None and inputs is None
            else f"check that {source} lies where the function is defined")
    return (f"no drawn input could be checked: the function was not finite (or raised) at "
            f"every one of the {tally.skipped} inputs drawn from {source}; {hint}")


def _input_text(args: tuple, kwargs: dict) -> str:
    text = short_repr(args)
    if kwargs:
        text += ", " + ", ".join(f"{k}={short_repr(v)}" for k, v in kwargs.items())
    return text


def _report_undecided(result: CheckResult, tally: _Tally) -> None:
    """Inconclusive when fewer than half of the examples were decided; else a note."""
    where, reason = tally.first_undecided
    n, decided = tally.inconclusive, tally.examples
    what = (f"{n} of {n + decided} drawn inputs could not be decided by finite differences, "
            f"e.g. at {where}: {reason}")
    if decided < n or decided == 0:
        result.failures.append(Failure("inconclusive", what))
    else:
        result.notes.append(what + " (set aside: the others were decided)")


def _call_text(name: str, args: tuple, kwargs: dict) -> str:
    inner = ", ".join([short_repr(a) for a in args]
                      + [f"{k}={short_repr(v)}" for k, v in kwargs.items()])
    return f"{name}({inner})"


def verify(fn: Any, inputs: Any = None, max_examples: int = 100,
           seed: int | str | None = None, *,
           mode: str = "auto", fdm: FiniteDifferenceMethod | None = None,
           atol: float | None = None, rtol: float | None = None, kwargs: dict | None = None,
           settings: Any = None, raise_exception: bool = True, inconclusive: str = "fail",
           nondet_tol: float | None = None, order: int = 1,
           reference: Callable | None = None,
           reference_vjp: Callable | None = None) -> CheckResult:
    """Property-based check of the rule registered for ``fn`` on inputs drawn by hypothesis.

    ``inputs``: ``None`` draws from the rule's declared domain (or default inputs when it
    declared none, and the result notes it); a strategy drawing the tuple of positional
    arguments; or a tuple of strategies, one per argument. ``kwargs`` go to every call.
    ``max_examples`` bounds the examples (systematic ones included); ``seed`` (an int) makes
    the run reproducible; omitted, it is derived from the rule's name (the same in every
    process); ``"random"`` draws a fresh one. Either way it is reported in ``result.seed``.
    ``settings`` (a ``hypothesis.settings``) replaces the defaults (the active profile with
    ``database=None``, no deadline, quiet); its ``max_examples`` is the budget. ``mode``,
    ``fdm``, ``atol``, ``rtol``, ``nondet_tol``, ``order`` are as in
    :func:`~adcheck.check_adjoint` (``order=2`` checks second derivatives at every example,
    at the drawn cotangent; ``result.second_order`` holds what that cost).
    ``reference``/``reference_vjp``, the caller's analytic Jacobian or VJP, are called at
    every drawn input and compared as in :func:`~adcheck.check_adjoint`
    (:mod:`adcheck.check.reference`).

    For a function declared with :func:`adcheck.registry.nondifferentiable` there is no
    pullback: the drawn inputs check that it is piecewise constant
    (:mod:`adcheck.check.piecewise`).

    A drawn input where the finite differences cannot decide (an *inconclusive* comparison)
    is set aside like one outside the domain, and another is drawn. When fewer than half of
    the examples could be decided, the verdict is *inconclusive*, with the reason and an
    input where it happened: a failure, or with ``inconclusive="warn"`` a pass that says so.

    Returns a :class:`CheckResult` (``examples``, ``seed``, ``smallest_input`` of the shrunk
    failure); a failure raises :class:`GradientMismatch` unless ``raise_exception=False``.

    >>> import numpy as np
    >>> import adcheck as ad
    >>> with ad.scoped_rules():
    ...     @ad.adjoint(np.exp)
    ...     def _(x):
    ...         y = np.exp(x)
    ...         return y, lambda dy: (dy * np.where(x < 1, y, 2 * y),)  # wrong above 1
    ...     r = ad.verify(np.exp, max_examples=50, seed=0, raise_exception=False)
    >>> x = eval(r.smallest_input, {"array": np.array})[0]
    >>> r.passed, np.ravel(x).tolist()
    (False, [1.0])
    """
    import hypothesis
    from hypothesis import HealthCheck, Phase, Verbosity, given
    from hypothesis import strategies as st
    from hypothesis.errors import Flaky, Unsatisfiable

    rule = rule_for(fn, "verify")
    order, order_note = rule_order(rule, order)
    choose_mode(mode, 0, 0)
    validate_options(atol, rtol)
    check_policy(inconclusive)
    if settings is None and (isinstance(max_examples, bool) or not isinstance(
            max_examples, (int, np.integer)) or max_examples < 1):
        raise ValueError(f"max_examples must be an integer >= 1, got {max_examples!r}")
    seed = resolve_seed(seed, rule.name)
    validate_domain(rule.domain, rule.name)
    validate_reference(reference, reference_vjp)
    reference, reference_vjp = references_of(rule, reference, reference_vjp)
    if registry.is_declaration(rule):
        from .piecewise import verify_constant

        return verify_constant(rule, inputs, max_examples, seed, kwargs=kwargs,
                               settings=settings, raise_exception=raise_exception,
                               inconclusive=inconclusive)
    strategy, notes = args_strategy(rule.fn, rule.domain, inputs, kwargs)
    tally = _Tally()
    total = settings.max_examples if settings is not None else int(max_examples)

    @_quiet
    def check_example(args: tuple, kw: dict, draw: Callable) -> _Checked | None:
        """Check one input; None when it is skipped (outside the function's domain)."""
        try:
            c_args, c_kw = copy.deepcopy(args), copy.deepcopy(kw)
            with np.errstate(all="ignore"):
                y = rule.fn(*c_args, **c_kw)
            outs = [v for v in flatten(y)[0] if is_float_value(v)]
            finite = all(np.all(np.isfinite(v)) for v in outs)
        except Exception:  # noqa: BLE001  (outside the function's domain: skip)
            finite = False
        if not finite:
            tally.skipped += 1
            return None
        shapes = [(np.shape(v), np.dtype(np.float64) if type(v) is float else np.result_type(v))
                  for v in outs]
        dy = draw(cotangent_strategy(shapes), "cotangent") if shapes else ()
        flat_dy = (np.concatenate([np.ravel(d) for d in dy]) if dy else np.zeros(0),)
        probe_seed = draw(st.integers(0, 2**32 - 1), "probe seed")
        cotangents = flat_dy if shapes else ()
        r = run_rule_check(rule.fn, rule.rule, args, kw, mode=example_mode(mode, args, kw),
                           fdm=fdm, atol=atol,
                           rtol=rtol, seed=probe_seed, cotangents=cotangents,
                           name=rule.name, location=rule.source, kind="verify",
                           fail_fast=True, inconclusive=inconclusive, nondet_tol=nondet_tol,
                           order=order, full_max=VERIFY_FULL_MAX_INPUTS,
                           reference=reference, reference_vjp=reference_vjp)
        if r.verdict == "inconclusive":
            tally.undecided(r, args, kw)
            return None
        if not r.passed and all(f.kind in ("error", "kink") for f in r.failures) and any(
                f.message.startswith("finite differences impossible") for f in r.failures):
            tally.skipped += 1
            return None
        tally.add(r)
        tally.kinds.note(r, args, kw)
        return _Checked(r, args, kw, probe_seed, cotangents)

    def example(data: Any) -> None:
        args, kw = data.draw(strategy, label="arguments")
        checked = check_example(args, kw, lambda s, label: data.draw(s, label=label))
        if checked is None:
            hypothesis.reject()
        if not checked.result.passed:
            tally.last_failure = checked.failure()
            raise tally.last_failure

    failed, systematic = _systematic_phase(strategy, seed, total, check_example, tally)
    remaining = total - tally.examples
    if settings is None:
        chosen = hypothesis.settings(
            max_examples=max(remaining, 1), database=None, deadline=None, derandomize=False,
            report_multiple_bugs=False, verbosity=Verbosity.quiet,
            # No "explain" phase: it re-runs the failing example many times to annotate it.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck))
    else:
        chosen = hypothesis.settings(settings, report_multiple_bugs=False, derandomize=False,
                                     max_examples=max(remaining, 1))
    test = hypothesis.seed(seed)(chosen(given(st.data())(example)))

    result = CheckResult(passed=True, kind="verify", name=rule.name, location=rule.source,
                         seed=seed, notes=list(notes), inconclusive_policy=inconclusive)
    try:
        if failed is None and remaining > 0:
            test()
    except _ExampleFailed as exc:
        failed = exc
    except Flaky:
        failed = tally.last_failure
        result.notes.append("the failure did not always reproduce (flaky): the rule may not "
                            "be deterministic")
    except Unsatisfiable:
        if tally.examples == 0 and not tally.inconclusive:
            result.failures.append(
                Failure("error", _unsatisfiable_message(rule, inputs, tally)))
    result.examples = tally.examples
    result.evaluations, result.pullbacks = tally.evaluations, tally.pullbacks
    result.second_order = tally.second_order
    result.notes += order_note
    if tally.second_order is not None:
        from .second_order import cost_note

        result.notes.append(cost_note(tally.second_order, tally.examples))
    result.probes = tally.probes
    result.mode = "/".join(sorted(tally.modes)) or None
    result.max_error, result.tolerance = tally.max_error, tally.tolerance
    if failed is not None:
        # Shrinking stopped each check at its first wrong value; report the whole picture.
        r = run_rule_check(rule.fn, rule.rule, failed.args, failed.kwargs,
                           mode=example_mode(mode, failed.args, failed.kwargs), fdm=fdm,
                           atol=atol, rtol=rtol, seed=failed.probe_seed,
                           cotangents=failed.cotangents, name=rule.name,
                           location=rule.source, kind="verify", inconclusive=inconclusive,
                           nondet_tol=nondet_tol, order=order,
                           full_max=VERIFY_FULL_MAX_INPUTS, reference=reference,
                           reference_vjp=reference_vjp)
        if r.passed:  # cannot happen for a deterministic rule; keep what shrinking saw
            r = failed.result
        result.failures = list(r.failures)
        result.max_error, result.tolerance = r.max_error, r.tolerance
        result.notes += [n for n in r.notes if n not in result.notes]
        result.smallest_input = _input_text(failed.args, failed.kwargs)
        result.failures += tally.kinds.others(result.failures)  # the kinds found elsewhere
        label = registry.function_label(rule.fn)
        if failed in systematic:
            result.details.append("found by the systematic phase (every small discrete choice "
                                  "of the domain, before random examples), so by every seed")
        budget = "" if total == 100 else f"max_examples={total}, "
        result.details.append(f"replay: adcheck.verify({label}, {budget}seed={seed})")
        call = _call_text(label, failed.args, failed.kwargs)
        result.details.append("or check that input alone: adcheck.check_adjoint("
                              + call[:-1].replace("(", ", ", 1) + ")")
    if tally.skipped:
        result.notes.append(f"{tally.skipped} drawn inputs were skipped (the function was not "
                            "finite there, or finite differences were impossible)")
    if tally.kinks:
        result.notes.append(f"{tally.kinks} examples hit non-differentiable points (kinks), "
                            "which were not checked")
    if tally.inconclusive:
        _report_undecided(result, tally)
    result.decide()
    if raise_exception and not result.passed:
        raise GradientMismatch(result)
    return result
