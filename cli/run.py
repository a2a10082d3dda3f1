"""Running the checker over collected rules: one at a time, or spread over processes.

Each rule is checked by :func:`adcheck.verify` and summarised as a :class:`RuleOutcome`, a
plain dataclass that crosses process boundaries and feeds every output format. A rule that
raises, runs past the time limit, or has no adjoint at all becomes an outcome too, so one bad
rule never stops the run.

>>> from adcheck.cli.collect import collect
>>> entry = next(r for r in collect("adcheck.rules").rules if r.name == "sin")
>>> check_rule(entry, VerifyOptions(max_examples=5, seed=1)).status
'passed'
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

from adcheck import registry

from .collect import CollectedRule, collect

__all__ = ["VerifyOptions", "RuleOutcome", "RuleTimeout", "check_rule", "run_checks"]

#: The verdicts, from best to worst. Every one but "passed" makes ``adcheck verify`` exit 1.
#: "inconclusive": the finite differences could not decide (a failure unless
#: ``--inconclusive warn``, which makes it a pass whose verdict cell says so).
STATUSES = ("passed", "inconclusive", "failed", "error", "timeout", "no-rule")

DEFAULT_INPUTS_NOTE = (
    "no domain declared: checked on default inputs (real floats, small shapes and scalars)"
)


@dataclass(frozen=True)
class VerifyOptions:
    """The knobs of one run, passed unchanged to :func:`adcheck.verify` for every rule.

    ``None`` leaves the checker's own default in force: for ``seed``, one derived from each
    rule's name (deterministic); ``seed="random"`` draws a fresh seed for each rule (it is
    reported, to replay). ``timeout`` is in seconds per rule.
    ``settings`` (a ``hypothesis.settings``) replaces the checker's hypothesis defaults; the
    pytest plugin passes the active profile this way (the CLI does not).

    >>> VerifyOptions(max_examples=20).verify_kwargs()["max_examples"]
    20
    """

    max_examples: int | None = None
    seed: int | str | None = None
    mode: str = "auto"
    fdm_order: int | None = None
    atol: float | None = None
    rtol: float | None = None
    timeout: float | None = None
    settings: Any = None
    inconclusive: str = "fail"
    order: int = 1

    def cli_flags(self) -> list[str]:
        """The ``adcheck verify`` flags that reproduce these options (defaults left out).

        >>> VerifyOptions(max_examples=10, mode="fast").cli_flags()
        ['--max-examples', '10', '--mode', 'fast']
        """
        flags: list[str] = []
        if self.max_examples is not None and self.max_examples != 100:
            flags += ["--max-examples", str(self.max_examples)]
        if self.mode != "auto":
            flags += ["--mode", self.mode]
        if self.inconclusive != "fail":
            flags += ["--inconclusive", self.inconclusive]
        if self.order != 1:
            flags += ["--order", str(self.order)]
        for name in ("fdm_order", "atol", "rtol"):
            value = getattr(self, name)
            if value is not None:
                flags += [f"--{name.replace('_', '-')}", f"{value:g}"]
        return flags

    def verify_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`adcheck.verify` (only those that were set)."""
        kwargs: dict[str, Any] = {"mode": self.mode}
        if self.inconclusive != "fail":
            kwargs["inconclusive"] = self.inconclusive
        if self.order != 1:
            kwargs["order"] = self.order
        for name in ("max_examples", "seed", "atol", "rtol", "settings"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        if self.fdm_order is not None:
            from adcheck.fd import central_fdm

            kwargs["fdm"] = central_fdm(self.fdm_order, 1)
        return kwargs


@dataclass
class RuleOutcome:
    """What checking one rule found: the verdict and the numbers behind it.

    ``status`` is one of :data:`STATUSES`. ``report`` is the checker's readable report (or
    the error), ``check`` the checker's ``CheckResult.to_dict()`` when it produced one.
    """

    target: str
    name: str
    location: str | None
    domain: str
    declared_domain: bool
    status: str
    examples: int | None = None
    max_error: float | None = None
    tolerance: float | None = None
    seed: int | None = None
    smallest_input: str | None = None
    report: str = ""
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    check: dict | None = None

    @property
    def id(self) -> str:
        """``target::name``, as in :attr:`CollectedRule.id`."""
        return f"{self.target}::{self.name}"

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``rules`` entries of ``adcheck verify --format json``)."""
        d = asdict(self)
        d = {"id": self.id, **d}
        return d


class RuleTimeout(BaseException):
    """Raised inside a rule's check when it runs past its time limit.

    A ``BaseException``, so that neither the rule nor hypothesis mistakes it for a failing
    example and keeps going.
    """


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`RuleTimeout` in the block after ``seconds`` (POSIX main thread only).

    Elsewhere (Windows, a worker thread) the block runs without a limit.

    >>> with time_limit(5):
    ...     pass
    """
    usable = (
        seconds
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise RuleTimeout(f"gave up after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def rule_in_force(rule: registry.Rule) -> Iterator[None]:
    """Make ``rule`` the one the registry uses for its function, for the block only.

    Another target may have registered a rule for the same function since; the check must
    see the rule it was asked about.

    >>> import numpy as np
    >>> builtin_sin = registry.lookup(np.sin)
    >>> with registry.scoped_rules():
    ...     _ = registry.adjoint(np.sin)(lambda x: (np.sin(x), lambda dy: (-dy,)))
    ...     with rule_in_force(builtin_sin):
    ...         registry.lookup(np.sin).rule is builtin_sin.rule
    True
    """
    if registry.lookup(rule.fn) is rule or registry.is_declaration(rule):
        yield  # a declaration is checked on its function alone: nothing to put in force
        return
    with registry.scoped_rules():
        registry.adjoint(rule.fn, domain=rule.domain,
                         higher_order=getattr(rule, "higher_order", True),
                         reference=getattr(rule, "reference", None),
                         reference_vjp=getattr(rule, "reference_vjp", None))(rule.rule)
        yield


def _short_traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()


def check_rule(entry: CollectedRule, options: VerifyOptions) -> RuleOutcome:
    """Check one collected rule with :func:`adcheck.verify`; never raises (but Ctrl-C).

    >>> from adcheck.cli.collect import collect
    >>> cos = next(r for r in collect("adcheck.rules").rules if r.name == "cos")
    >>> out = check_rule(cos, VerifyOptions(max_examples=5, seed=3))
    >>> out.status, out.seed
    ('passed', 3)
    """
    from adcheck.check import verify

    outcome = RuleOutcome(
        target=entry.target,
        name=entry.name,
        location=entry.location,
        domain=entry.domain,
        declared_domain=entry.declared_domain,
        status="error",
        seed=options.seed if isinstance(options.seed, int) else None,
    )
    if entry.rule is None:
        outcome.status = "no-rule"
        outcome.report = (
            f"{entry.name} is an @ad.primitive without an adjoint, so nothing can "
            f"differentiate it. Register one:\n"
            f"    @ad.adjoint({entry.name})\n"
            f"    def _(*args):\n"
            f"        return {entry.name}(*args), lambda dy: (...one cotangent per argument...)"
        )
        return outcome

    if not entry.declared_domain:
        outcome.notes.append(DEFAULT_INPUTS_NOTE)
    kwargs = {"raise_exception": False, **options.verify_kwargs()}
    start = time.perf_counter()
    try:
        with rule_in_force(entry.rule), time_limit(options.timeout):
            result = verify(entry.rule.fn, **kwargs)
    except RuleTimeout as exc:
        outcome.status = "timeout"
        outcome.report = f"{entry.name}: {exc} (--timeout {options.timeout:g})"
    except Exception as exc:  # noqa: BLE001  (a rule may raise anything; report it, go on)
        outcome.status = "error"
        outcome.report = f"checking {entry.name} raised:\n{_short_traceback(exc)}"
    else:
        _fill_from_result(outcome, result)
    outcome.duration = time.perf_counter() - start
    if not entry.declared_domain and outcome.status == "error":
        outcome.notes.append(_declare_domain_hint(entry.name))
    return outcome


def _declare_domain_hint(name: str) -> str:
    return (
        f"no default input worked: declare where {name} may be evaluated, e.g. "
        f"@ad.adjoint({name}, domain=ad.domains.positive()), a tuple with one domain per "
        f"argument, or ad.domains.custom(draw) for dependent shapes"
    )


def _fill_from_result(outcome: RuleOutcome, result: Any) -> None:
    if result.passed:
        outcome.status = "passed"
    else:
        outcome.status = "inconclusive" if result.verdict == "inconclusive" else "failed"
    outcome.examples = result.examples
    outcome.max_error = _float_or_none(result.max_error)
    outcome.tolerance = _float_or_none(result.tolerance)
    if result.seed is not None:
        outcome.seed = result.seed
    outcome.smallest_input = result.smallest_input
    outcome.notes += [n for n in result.notes if n not in outcome.notes]
    outcome.report = result.report()
    outcome.check = result.to_dict()


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# -- many rules ----------------------------------------------------------------------------


def _check_in_worker(
    target: str, index: int, name: str, options: VerifyOptions, cwd: str, path: list[str]
) -> RuleOutcome:
    """Worker side of :func:`run_checks`: collect the target again, check rule ``index``.

    The worker takes the parent's directory and import path first (a fork server keeps those
    of the moment it started), so that the target resolves to the same module.
    """
    if os.getcwd() != cwd:
        os.chdir(cwd)
    sys.path[:0] = [p for p in path if p not in sys.path]
    found = collect(target)
    if found.error is None and index < len(found.rules) and found.rules[index].name == name:
        return check_rule(found.rules[index], options)
    why = found.error.message if found.error else "the worker found a different set of rules"
    return RuleOutcome(target, name, None, "-", False, "error", report=f"in a worker: {why}")


# Imported once by the fork server, so that each worker starts with them loaded. (findiff is
# not needed: the stencils the checker uses are tabled, see adcheck.fd.stencil.)
_PRELOAD = ["adcheck", "adcheck.cli.run", "hypothesis.extra.numpy"]


def _worker_context() -> multiprocessing.context.BaseContext:
    """"forkserver" where there is one (workers fork from a process that has imported adcheck
    once, and never inherit this one's threads), else "spawn"."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def run_checks(
    entries: list[CollectedRule],
    options: VerifyOptions,
    jobs: int = 1,
    on_done: Callable[[RuleOutcome], None] | None = None,
) -> list[RuleOutcome]:
    """Check every entry and return the outcomes in the entries' order.

    With ``jobs > 1`` the rules are spread over that many processes (started with "spawn",
    which is safe with NumPy's threads); each worker imports the targets itself. ``on_done``
    is called with each outcome as it arrives (for a progress bar).

    >>> from adcheck.cli.collect import collect
    >>> entries = [r for r in collect("adcheck.rules").rules if r.name in ("sin", "cos")]
    >>> [o.status for o in run_checks(entries, VerifyOptions(max_examples=3, seed=0))]
    ['passed', 'passed']
    """
    done = on_done or (lambda outcome: None)
    if jobs <= 1 or len(entries) <= 1:
        outcomes = []
        for entry in entries:
            outcome = check_rule(entry, options)
            done(outcome)
            outcomes.append(outcome)
        return outcomes

    results: dict[int, RuleOutcome] = {}
    context = _worker_context()
    with ProcessPoolExecutor(max_workers=min(jobs, len(entries)), mp_context=context) as pool:
        futures = {
            pool.submit(
                _check_in_worker, e.target, e.index, e.name, options, os.getcwd(), sys.path
            ): i
            for i, e in enumerate(entries)
        }
        for future in as_completed(futures):
            i = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001  (a worker that died, an unpicklable result)
                e = entries[i]
                outcome = RuleOutcome(
                    e.target, e.name, e.location, e.domain, e.declared_domain, "error",
                    report=f"the worker process failed: {type(exc).__name__}: {exc}",
                )
            results[i] = outcome
            done(outcome)
    return [results[i] for i in range(len(entries))]
