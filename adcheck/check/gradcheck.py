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
from ..tree import flatten, map_leaves
from .check_adjoint import _finish, choose_mode, new_seed, validate_inputs, validate_options
from .localise import first_wrong_rule
from .problem import FunctionProblem
from .result import CheckResult, Failure, GradientMismatch, check_policy
from .second_order import second_order_of_function, validate_order
from .structural import Snapshot, compare_primal, deep_copy_args

__all__ = ["gradcheck"]


def gradcheck(f: Callable, *args: Any, mode: str = "auto",
              fdm: FiniteDifferenceMethod | None = None, atol: float | None = None,
              rtol: float | None = None, seed: int | None = None,
              raise_exception: bool = True, localise: bool = True,
              inconclusive: str = "fail", nondet_tol: float | None = None,
              order: int = 1) -> CheckResult:
    """Check ``adcheck.pullback(f, *args)`` against finite differences of ``f`` at ``args``.

    ``args`` may be pytrees (tuples, lists, dicts, dataclasses, ...); every floating or
    integer leaf is an input. ``f`` may return a pytree. ``mode``, ``fdm``, ``atol``,
    ``rtol``, ``seed``, ``inconclusive`` and ``nondet_tol`` are as in
    :func:`~adcheck.check_adjoint`. With ``localise=True``
    (the default) a failure is traced to the first wrong rule on the tape.

    ``order=2`` also checks second derivatives: the engine's pullback of ``f``, as a function
    ``back(args, Δ)``, is differentiated by the engine (reverse over reverse) and compared
    with finite differences of ``back``; on a failure the first rule on the tape that fails
    its own second-order check is named (see :mod:`adcheck.check.second_order`).

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
    order = validate_order(order)
    seed = new_seed() if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    name = getattr(f, "__name__", type(f).__name__)
    result = CheckResult(passed=False, kind="gradcheck", name=name, seed=seed,
                         inconclusive_policy=check_policy(inconclusive))
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
    _finish(result, problem, rng, mode, fdm, atol, rtol, (), saved=None, nondet_tol=nondet_tol)
    for label in inputs.changed():
        result.failures.append(Failure("mutation", f"{name} changed its input {label}"))
    result.decide()
    if not result.passed and localise and not tape.entries:
        result.notes.append(
            "no primitive call was recorded on the tape, so the engine sees no dependence of "
            "the output on the inputs (a value escaped tracing?)")
    elif not result.passed and localise:
        found = first_wrong_rule(tape, mode=mode, fdm=fdm, atol=atol, rtol=rtol, seed=seed)
        if found is None and _only_rounding(result, f, args, mode, fdm, atol, rtol, seed):
            pass
        elif found is None and result.localisation is None:
            result.notes.append(
                f"each of the {len(tape.entries)} rules on the tape passed on its own at the "
                "values it saw: the mismatch comes from how they are combined (or from f "
                "not being a pure function of its arguments)")
        elif found is not None:
            loc, _, checked = found
            result.localisation = loc
            result.location = loc.rule_source
    result.decide()
    if order >= 2:
        second_order_of_function(result, f, problem, tape, mode=mode, fdm=fdm, atol=atol,
                                 rtol=rtol, seed=seed, nondet_tol=nondet_tol,
                                 localise=localise)
    if not result.passed:
        result.details.append(f"replay: the probes used seed={seed}")
    return _done(result, raise_exception)


def _only_rounding(result: CheckResult, f: Callable, args: tuple, mode: str,
                   fdm: FiniteDifferenceMethod | None, atol: float | None,
                   rtol: float | None, seed: int) -> bool:
    """Accept a low-precision mismatch that is rounding, not a wrong rule; True if accepted.

    A function of float32 inputs is differentiated in float32: a rule such as tanh's
    ``1 - y*y`` loses most of its digits once ``y`` rounds near 1, and the chain rule carries
    that loss on. Finite differences (taken in float64) see the exact derivative. The mismatch
    is accepted as rounding only when both halves of the computation are shown right on
    their own: every rule on the tape passes its own check at the float32 values it saw
    (with its rounding allowance), and the same function at the same inputs in float64
    passes gradcheck (so the engine's composition is right). Wrong shapes, dtypes, NaN or
    mutation are never accepted.
    """
    if not _has_low_precision(args):
        return False
    if any(fl.kind not in ("value", "kink") for fl in result.failures):
        return False
    try:
        wide = gradcheck(f, *_widened(args), mode=mode, fdm=fdm, atol=atol, rtol=rtol,
                         seed=seed, raise_exception=False, localise=True)
    except Exception:  # noqa: BLE001  (f may refuse float64 inputs: then no allowance)
        return False
    if not wide.passed:
        if wide.localisation is not None:
            # float32 rounds the wrong and the right cotangent alike here; float64 does not
            result.localisation = wide.localisation
            result.location = wide.localisation.rule_source
            result.notes.append(
                "at these float32 values every rule passes its own check (its result rounds "
                "like the right one); the same function in float64 localises the error")
        return False
    dtype = _low_dtype(args)
    result.failures = [fl for fl in result.failures if fl.kind != "value"]
    result.notes.append(
        f"the {dtype} pullback differs from finite differences by up to "
        f"{result.max_error:.3g}, over the finite-difference tolerance "
        f"{result.tolerance:.3g}; accepted as {dtype} rounding: every rule on the tape passes "
        f"its own check at the {dtype} values it saw, and the same function in float64 "
        f"passes (max |error| {wide.max_error:.3g} within {wide.tolerance:.3g})")
    # the tolerance now includes the observed excess, reported as the rounding allowance
    result.rounding = max(result.max_error - result.tolerance, 0.0)
    result.rounding_dtype = dtype
    result.tolerance = max(result.tolerance, result.max_error)
    return True


def _low_leaves(args: tuple) -> list:
    leaves = []
    for a in args:
        leaves += [leaf for leaf in flatten(a)[0]
                   if isinstance(leaf, (np.ndarray, np.floating))
                   and leaf.dtype.kind == "f" and leaf.dtype.itemsize < 8]
    return leaves


def _has_low_precision(args: tuple) -> bool:
    return bool(_low_leaves(args))


def _low_dtype(args: tuple) -> str:
    return min((leaf.dtype for leaf in _low_leaves(args)), key=lambda d: d.itemsize).name


def _widened(args: tuple) -> tuple:
    """The arguments with every float32 / float16 leaf as float64."""

    def widen(leaf: Any) -> Any:
        if (isinstance(leaf, (np.ndarray, np.floating)) and leaf.dtype.kind == "f"
                and leaf.dtype.itemsize < 8):
            return np.asarray(leaf, dtype=np.float64)
        return leaf

    return tuple(map_leaves(widen, a) for a in args)


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
    result.decide()
    if raise_exception and not result.passed:
        raise GradientMismatch(result)
    return result
