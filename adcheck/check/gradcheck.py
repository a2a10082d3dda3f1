"""``gradcheck``: the engine's pullback of a whole function against finite differences.

``f`` is differentiated with whatever rules are in force, its tape recorded with source
lines; the pullback is compared with finite differences of ``f`` (called on plain arrays).
On a failure every rule on the tape is checked at the values it saw (see
:mod:`adcheck.check.localise`) and the report names the first wrong one.

>>> import numpy as np
>>> import adcheck as ad
>>> r = ad.gradcheck(lambda x, y: np.sum(np.sin(x) * y), np.ones(3), np.arange(3.0), seed=0)
>>> r.passed, r.mode
(True, 'full')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine.api import _arg_names, _pullback
from ..engine.tape import Tape
from ..fd import FiniteDifferenceMethod
from ..tree import map_leaves
from .check_adjoint import _finish, choose_mode, new_seed, validate_inputs, validate_options
from .localise import first_wrong_rule
from .problem import FunctionProblem
from .result import CheckResult, Failure, GradientMismatch
from .structural import Snapshot, compare_primal, deep_copy_args

__all__ = ["gradcheck"]


def gradcheck(f: Callable, *args: Any, mode: str = "auto",
              fdm: FiniteDifferenceMethod | None = None, atol: float | None = None,
              rtol: float | None = None, seed: int | None = None,
              raise_exception: bool = True, localise: bool = True) -> CheckResult:
    """Check ``adcheck.pullback(f, *args)`` against finite differences of ``f`` at ``args``.

    ``args`` may be pytrees (tuples, lists, dicts, dataclasses, ...); every floating or
    integer leaf is an input. ``f`` may return a pytree. ``mode``, ``fdm``, ``atol``,
    ``rtol`` and ``seed`` are as in :func:`~adcheck.check_adjoint`. With ``localise=True``
    (the default) a failure is traced to the first wrong rule on the tape.

    Returns a :class:`CheckResult`; a failure raises :class:`GradientMismatch` unless
    ``raise_exception=False``.

    >>> import numpy as np
    >>> import adcheck as ad
    >>> bool(ad.gradcheck(lambda p: np.tanh(p["w"] @ p["b"]),
    ...                   {"w": np.ones((2, 3)), "b": np.arange(3.0)}, seed=1))
    True
    """
    if not callable(f):
        raise TypeError(f"gradcheck needs a function, got {type(f).__name__} {f!r:.60}")
    choose_mode(mode, 0, 0)
    validate_options(atol, rtol)
    validate_inputs(args, _arg_names(f, len(args)))
    seed = new_seed() if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    name = getattr(f, "__name__", type(f).__name__)
    result = CheckResult(passed=False, kind="gradcheck", name=name, seed=seed)
    inputs = Snapshot(args, "")
    tape = Tape(record_source=True)
    try:
        with np.errstate(all="ignore"):
            y, back, _ = _pullback(f, args, False, tape)
    except Exception as exc:  # noqa: BLE001
        result.failures.append(Failure("error", f"differentiating {name} raised "
                                       f"{type(exc).__name__}: {exc}"))
        return _done(result, raise_exception)
    try:
        c_args = _promote_integers(deep_copy_args(args, {})[0])
        with np.errstate(all="ignore"):
            expected = f(*c_args)
    except Exception as exc:  # noqa: BLE001
        result.failures.append(Failure("error", f"{name} raised {type(exc).__name__}: {exc}"))
        return _done(result, raise_exception)
    result.failures += compare_primal(y, expected)
    try:
        problem = FunctionProblem(f, args, expected, back, _arg_names(f, len(args)), name)
    except Exception as exc:  # noqa: BLE001
        result.failures.append(Failure("error", f"cannot evaluate {name} at these inputs: "
                                       f"{type(exc).__name__}: {exc}"))
        return _done(result, raise_exception)
    _finish(result, problem, rng, mode, fdm, atol, rtol, (), saved=None)
    for label in inputs.changed():
        result.failures.append(Failure("mutation", f"{name} changed its input {label}"))
    result.passed = not any(f.kind != "kink" for f in result.failures)
    if not result.passed and localise and not tape.entries:
        result.notes.append(
            "no primitive call was recorded on the tape, so the engine sees no dependence of "
            "the output on the inputs (a value escaped tracing?)")
    elif not result.passed and localise:
        found = first_wrong_rule(tape, mode=mode, fdm=fdm, atol=atol, rtol=rtol, seed=seed)
        if found is None:
            result.notes.append(
                f"each of the {len(tape.entries)} rules on the tape passed on its own at the "
                "values it saw: the mismatch comes from how they are combined (or from f "
                "not being a pure function of its arguments)")
        else:
            loc, _, checked = found
            result.localisation = loc
            result.location = loc.rule_source
    if not result.passed:
        result.details.append(f"replay: the probes used seed={seed}")
    return _done(result, raise_exception)


def _promote_integers(args: tuple) -> tuple:
    """Integer leaves as float64, as the engine differentiates them."""

    def promote(leaf: Any) -> Any:
        if isinstance(leaf, (bool, np.bool_)):
            return leaf
        if isinstance(leaf, int):
            return float(leaf)
        if isinstance(leaf, (np.ndarray, np.integer)) and np.result_type(leaf).kind in "iu":
            return np.asarray(leaf, dtype=np.float64)
        return leaf

    return tuple(map_leaves(promote, a) for a in args)


def _done(result: CheckResult, raise_exception: bool) -> CheckResult:
    result.passed = not any(f.kind != "kink" for f in result.failures)
    if raise_exception and not result.passed:
        raise GradientMismatch(result)
    return result
