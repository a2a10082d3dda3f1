"""``verify``: property-based checking of a rule, with hypothesis.

Each example draws the rule's inputs (from its declared domain, see
:mod:`adcheck.check.strategies`), an output cotangent, and the seed of the random probes,
and runs :func:`~adcheck.check.check_adjoint.run_rule_check` (values, shapes, dtypes,
linearity, mutation, NaN, primal) plus a comparison of ``back(Δ)`` with ``J'·Δ`` for the drawn
``Δ``. Inputs where the function itself is not finite, or raises, are skipped (hypothesis
``reject``). A failure is shrunk by hypothesis to the smallest input that still fails; the
result reports it with the seed that replays the whole run.

Reproducibility: hypothesis runs with ``@seed(seed)`` and ``database=None``, so the same
``seed`` draws the same examples and shrinks to the same input. Without ``seed`` a fresh one
is drawn and reported (``result.seed``).

>>> import numpy as np
>>> import adcheck as ad
>>> r = ad.verify(np.tanh, max_examples=10, seed=1)
>>> r.passed, r.examples, r.seed
(True, 10, 1)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .. import registry
from ..fd import FiniteDifferenceMethod
from ..tree import flatten
from .check_adjoint import choose_mode, new_seed, rule_for, run_rule_check, validate_options
from .problem import is_float_value
from .report import short_repr
from .result import CheckResult, Failure, GradientMismatch
from .strategies import args_strategy, cotangent_strategy

__all__ = ["verify"]


class _ExampleFailed(AssertionError):
    def __init__(self, result: CheckResult, args: tuple, kwargs: dict, probe_seed: int,
                 cotangents: tuple):
        super().__init__(result.report())
        self.result = result
        self.args = args
        self.kwargs = kwargs
        self.probe_seed = probe_seed
        self.cotangents = cotangents


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

    def add(self, r: CheckResult) -> None:
        self.examples += 1
        self.evaluations += r.evaluations
        self.pullbacks += r.pullbacks
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


def _call_text(name: str, args: tuple, kwargs: dict) -> str:
    inner = ", ".join([short_repr(a) for a in args]
                      + [f"{k}={short_repr(v)}" for k, v in kwargs.items()])
    return f"{name}({inner})"


def verify(fn: Any, inputs: Any = None, max_examples: int = 100, seed: int | None = None, *,
           mode: str = "auto", fdm: FiniteDifferenceMethod | None = None,
           atol: float | None = None, rtol: float | None = None, kwargs: dict | None = None,
           settings: Any = None, raise_exception: bool = True) -> CheckResult:
    """Property-based check of the rule registered for ``fn`` on inputs drawn by hypothesis.

    ``inputs``: ``None`` draws from the rule's declared domain (or default inputs when it
    declared none, and the result notes it); a strategy drawing the tuple of positional
    arguments; or a tuple of strategies, one per argument. ``kwargs`` go to every call.
    ``max_examples`` bounds the examples; ``seed`` makes the run reproducible (one is drawn
    and reported when omitted). ``settings`` (a ``hypothesis.settings``) replaces the
    defaults (the active profile with ``database=None``, no deadline, quiet). ``mode``,
    ``fdm``, ``atol``, ``rtol`` are as in :func:`~adcheck.check_adjoint`.

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
    choose_mode(mode, 0, 0)
    validate_options(atol, rtol)
    if settings is None and (isinstance(max_examples, bool) or not isinstance(
            max_examples, (int, np.integer)) or max_examples < 1):
        raise ValueError(f"max_examples must be an integer >= 1, got {max_examples!r}")
    seed = new_seed() if seed is None else int(seed)
    strategy, notes = args_strategy(rule.fn, rule.domain, inputs, kwargs)
    tally = _Tally()

    def example(data: Any) -> None:
        args, kw = data.draw(strategy, label="arguments")
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
            hypothesis.reject()
        shapes = [(np.shape(v), np.dtype(np.float64) if type(v) is float else np.result_type(v))
                  for v in outs]
        dy = data.draw(cotangent_strategy(shapes), label="cotangent") if shapes else ()
        flat_dy = (np.concatenate([np.ravel(d) for d in dy]) if dy else np.zeros(0),)
        probe_seed = data.draw(st.integers(0, 2**32 - 1), label="probe seed")
        r = run_rule_check(rule.fn, rule.rule, args, kw, mode=mode, fdm=fdm, atol=atol,
                           rtol=rtol, seed=probe_seed, cotangents=flat_dy if shapes else (),
                           name=rule.name, location=rule.source, kind="verify",
                           fail_fast=True)
        if not r.passed and all(f.kind in ("error", "kink") for f in r.failures) and any(
                f.message.startswith("finite differences impossible") for f in r.failures):
            tally.skipped += 1
            hypothesis.reject()
        tally.add(r)
        if not r.passed:
            failure = _ExampleFailed(r, args, kw, probe_seed, flat_dy if shapes else ())
            tally.last_failure = failure
            raise failure

    if settings is None:
        chosen = hypothesis.settings(
            max_examples=max_examples, database=None, deadline=None, derandomize=False,
            report_multiple_bugs=False, verbosity=Verbosity.quiet,
            # No "explain" phase: it re-runs the failing example many times to annotate it.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck))
    else:
        chosen = hypothesis.settings(settings, report_multiple_bugs=False, derandomize=False)
    test = hypothesis.seed(seed)(chosen(given(st.data())(example)))

    result = CheckResult(passed=True, kind="verify", name=rule.name, location=rule.source,
                         seed=seed, notes=list(notes))
    failed: _ExampleFailed | None = None
    try:
        test()
    except _ExampleFailed as exc:
        failed = exc
    except Flaky:
        failed = tally.last_failure
        result.notes.append("the failure did not always reproduce (flaky): the rule may not "
                            "be deterministic")
    except Unsatisfiable:
        result.failures.append(Failure("error", _unsatisfiable_message(rule, inputs, tally)))
    result.examples = tally.examples
    result.evaluations, result.pullbacks = tally.evaluations, tally.pullbacks
    result.probes = tally.probes
    result.mode = "/".join(sorted(tally.modes)) or None
    result.max_error, result.tolerance = tally.max_error, tally.tolerance
    if failed is not None:
        # Shrinking stopped each check at its first wrong value; report the whole picture.
        r = run_rule_check(rule.fn, rule.rule, failed.args, failed.kwargs, mode=mode, fdm=fdm,
                           atol=atol, rtol=rtol, seed=failed.probe_seed,
                           cotangents=failed.cotangents, name=rule.name,
                           location=rule.source, kind="verify")
        if r.passed:  # cannot happen for a deterministic rule; keep what shrinking saw
            r = failed.result
        result.failures = list(r.failures)
        result.max_error, result.tolerance = r.max_error, r.tolerance
        result.notes += [n for n in r.notes if n not in result.notes]
        result.smallest_input = short_repr(failed.args)
        if failed.kwargs:
            result.smallest_input += ", " + ", ".join(
                f"{k}={short_repr(v)}" for k, v in failed.kwargs.items())
        result.details.append(f"replay: adcheck.verify({rule.name}, seed={seed}) (with the "
                              f"same max_examples={max_examples})")
        call = _call_text(registry.function_label(rule.fn), failed.args, failed.kwargs)
        result.details.append("or check that input alone: adcheck.check_adjoint("
                              + call[:-1].replace("(", ", ", 1) + ")")
    if tally.skipped:
        result.notes.append(f"{tally.skipped} drawn inputs were skipped (the function was not "
                            "finite there, or finite differences were impossible)")
    if tally.kinks:
        result.notes.append(f"{tally.kinks} examples hit non-differentiable points (kinks), "
                            "which were not checked")
    result.passed = not any(f.kind != "kink" for f in result.failures)
    if raise_exception and not result.passed:
        raise GradientMismatch(result)
    return result
