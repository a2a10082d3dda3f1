"""``check_adjoint``: one registered rule against finite differences of its function.

The rule is called directly, ``value, back = rule(*args, **kwargs)``, and what ``back``
returns is inspected as it is (no unbroadcasting, no casting: that is the engine's courtesy,
not the rule's correctness). Finite differences are taken of the *function* (``fn`` itself,
the NumPy function or the plain Python body of an ``@ad.primitive``), never of the rule.

>>> import numpy as np
>>> import adcheck as ad
>>> bool(ad.check_adjoint(np.sin, np.array([0.5, -1.0])))
True
"""

from __future__ import annotations

import re
import secrets
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import registry
from ..fd import FiniteDifferenceMethod
from ..tree import flatten, is_container, unflatten
from .compare import Outcome, compare_fast, compare_full
from .lines import NotEvaluable
from .oracle import Oracle
from .problem import PullError, RuleProblem, is_float_value, parameter_names
from .reentrancy import warm_up
from .reference import validate_reference
from .result import CheckResult, Failure, GradientMismatch, check_policy
from .rounding import RoundingProbe
from .structural import Snapshot, compare_primal, deep_copy_args, pullback_checks
from .tolerance import Tolerance

__all__ = ["check_adjoint", "run_rule_check", "choose_mode", "FULL_MAX_INPUTS",
           "promote_integer_inputs", "rule_order", "references_of",
           "FULL_MAX_OUTPUTS", "rule_for", "validate_inputs", "validate_options"]

# auto mode is full mode up to these sizes (input entries, output entries).
FULL_MAX_INPUTS = 32
FULL_MAX_OUTPUTS = 256
MODES = ("auto", "full", "fast")


def choose_mode(mode: str, n: int, m: int) -> str:
    """``full`` or ``fast`` for ``n`` input and ``m`` output entries.

    >>> choose_mode("auto", 10, 1), choose_mode("auto", 1000, 1), choose_mode("fast", 1, 1)
    ('full', 'fast', 'fast')
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return mode
    return "full" if n <= FULL_MAX_INPUTS and m <= FULL_MAX_OUTPUTS else "fast"


def new_seed() -> int:
    """A fresh 32-bit seed (reported, so that the run can be replayed)."""
    return secrets.randbits(32)


def tolerances_for(problem: Any, atol: float | None, rtol: float | None) -> list[Tolerance]:
    """One :class:`Tolerance` per input leaf, from its dtype and the outputs' dtypes."""
    outs = [o.dtype for o in problem.out_leaves]
    return [Tolerance.for_dtypes([leaf.dtype, *outs], atol, rtol) for leaf in problem.leaves]


def compare_values(problem: Any, mode: str, fdm: FiniteDifferenceMethod | None,
                   atol: float | None, rtol: float | None, rng: np.random.Generator,
                   cotangents: tuple = (), fail_fast: bool = False) -> tuple[Outcome, str, int]:
    """Run full or fast mode; failures to evaluate become ``error`` failures."""
    mode = choose_mode(mode, problem.n, problem.m)
    est = Oracle(problem, fdm)
    tols = tolerances_for(problem, atol, rtol)
    try:
        probe: RoundingProbe | None = RoundingProbe(problem, per_entry=mode == "full")
        if not probe.active:  # float64, or the rule does not run in float64: no allowance
            probe = None
        if mode == "full":
            out = compare_full(problem, est, tols, cotangents, fail_fast=fail_fast,
                               rounding=probe)
        else:
            out = compare_fast(problem, est, tols, rng, cotangents, fail_fast=fail_fast,
                               rounding=probe)
        if probe is not None:
            out.rounding_dtype = np.dtype(probe.dtype).name
    except NotEvaluable as exc:
        out = Outcome(failures=[Failure("error", f"finite differences impossible: {exc}")])
    except PullError as exc:
        out = Outcome(failures=[Failure(exc.kind, exc.message)])
    return out, mode, est.lines


def validate_options(atol: float | None, rtol: float | None) -> None:
    """Raise ``ValueError`` for a negative or non-finite ``atol``/``rtol``.

    >>> validate_options(-1.0, None)
    Traceback (most recent call last):
    ...
    ValueError: atol must be a finite number >= 0, got -1.0
    """
    for name, value in (("atol", atol), ("rtol", rtol)):
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def validate_inputs(args: tuple, names: list[str] | None = None,
                    parameters: bool = False,
                    nan_ok: Callable[[], bool] | None = None) -> None:
    """Raise ``ValueError`` naming the first NaN or infinite entry of a floating input.

    Finite differences need a finite point, and a NaN input would make every rule look wrong.
    With ``parameters=True`` a non-finite Python float after the first argument is a
    parameter, not an input (``np.linalg.cond(x, np.inf)``), and is let through. NaN entries
    are let through when ``nan_ok()`` says so (the function's outputs are finite there, as
    ``np.nansum``'s are: the checker takes such entries as constants, as ``verify`` does).

    >>> validate_inputs((np.array([1.0, np.nan]),))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: input x[1] is nan: checks need finite inputs (finite differences ...)
    """
    from .problem import _default_names, _leaf_paths

    names = names or _default_names(len(args))
    for pos, a in enumerate(args):
        leaves, _ = flatten(a)
        paths = _leaf_paths(a, names[pos] if pos < len(names) else f"x{pos + 1}")
        for path, leaf in zip(paths, leaves):
            if not (type(leaf) is float or (isinstance(leaf, (np.ndarray, np.generic))
                                            and leaf.dtype.kind in "fc")):
                continue
            if parameters and pos > 0 and type(leaf) is float and leaf is a:
                continue
            arr = np.asarray(leaf)
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size and np.isnan(arr.ravel()[bad]).all() and nan_ok is not None:
                if nan_ok():
                    continue
                nan_ok = None  # asked once
            if bad.size:
                j = int(bad[0])
                where = path if arr.ndim == 0 else (
                    f"{path}[{', '.join(str(int(i)) for i in np.unravel_index(j, arr.shape))}]")
                raise ValueError(f"input {where} is {arr.ravel()[j]}: checks need finite inputs "
                                 "(finite differences are taken around them)")


def _finite_outputs(fn: Callable, args: tuple, kwargs: dict) -> bool:
    """Whether ``fn`` runs at the point and every floating output entry is finite."""
    try:
        c_args, c_kwargs = deep_copy_args(args, kwargs)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            leaves, _ = flatten(fn(*c_args, **c_kwargs))
    except Exception:  # noqa: BLE001  (it does not run there: refuse the NaN input)
        return False
    return all(np.all(np.isfinite(v)) for v in leaves if is_float_value(v))


def _is_integer_input(a: Any) -> bool:
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (int, np.integer)):
        return True
    return isinstance(a, np.ndarray) and a.dtype.kind in "iu"


def promote_integer_inputs(rule: Callable, args: tuple, kwargs: dict,
                           names: list[str] | None = None) -> tuple[tuple, list[str]]:
    """Integer positional inputs the rule differentiates, promoted to float64, and a note.

    An integer argument is differentiated (as ``adcheck.gradient`` and ``gradcheck`` do,
    promoted to float) when the rule's pullback returns a cotangent for it, not ``None``;
    axes, shapes, counts and indices (``None``) stay as they are.

    >>> import adcheck as ad
    >>> rule = ad.registry.lookup(np.square).rule
    >>> promote_integer_inputs(rule, (np.array([1, 2]),), {})
    ((array([1., 2.]),), ['integer input x promoted to float64 (as adcheck.gradient does): the rule is checked at the float values'])
    """  # noqa: E501
    ints = [i for i, a in enumerate(args) if _is_integer_input(a)]
    if not ints:
        return args, []
    try:
        with np.errstate(all="ignore"):
            value, back = rule(*args, **kwargs)
            leaves, spec = flatten(value)
            ones = [np.ones(np.shape(v)) for v in leaves]
            dy = ones[0] if not is_container(value) else (
                tuple(ones) if type(value) in (tuple, list) else unflatten(spec, ones))
            grads = back(dy)
    except Exception:  # noqa: BLE001  (the check itself will report what goes wrong)
        return args, []
    if not isinstance(grads, (tuple, list)) or len(grads) != len(args):
        return args, []
    promote = [i for i in ints if grads[i] is not None]
    if not promote:
        return args, []
    new = list(args)
    for i in promote:
        a = args[i]
        new[i] = np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) else (
            np.float64(a) if isinstance(a, np.integer) else float(a))
    names = names or parameter_names([rule], len(args))
    which = ", ".join(names[i] if i < len(names) else f"argument {i}" for i in promote)
    plural = "s" if len(promote) > 1 else ""
    return tuple(new), [f"integer input{plural} {which} promoted to float64 (as "
                        "adcheck.gradient does): the rule is checked at the float values"]


def run_rule_check(fn: Any, rule: Callable, args: tuple, kwargs: dict, *, mode: str = "auto",
                   fdm: FiniteDifferenceMethod | None = None, atol: float | None = None,
                   rtol: float | None = None, seed: int | None = None,
                   cotangents: tuple = (), name: str | None = None,
                   location: str | None = None, kind: str = "check_adjoint",
                   fail_fast: bool = False, inconclusive: str = "fail",
                   nondet_tol: float | None = None, order: int = 1,
                   full_max: int | None = None, reference: Callable | None = None,
                   reference_vjp: Callable | None = None) -> CheckResult:
    """Check ``rule`` against ``fn`` at ``args`` and return the result (never raises for a
    wrong rule). ``cotangents`` are extra flat output cotangents to compare (``verify``);
    ``fail_fast`` stops at the first wrong value found (for shrinking); ``inconclusive``,
    ``nondet_tol``, ``order``, ``reference`` and ``reference_vjp`` are as in
    :func:`check_adjoint` (``full_max``: see
    :func:`~adcheck.check.second_order.second_order_of_rule`)."""
    seed = new_seed() if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    name = name or registry.function_name(fn)
    result = CheckResult(passed=False, kind=kind, name=name, location=location, seed=seed,
                         inconclusive_policy=check_policy(inconclusive))
    failures = result.failures
    args, promoted = promote_integer_inputs(rule, tuple(args), kwargs,
                                            parameter_names([rule, fn], len(args)))
    result.notes += promoted
    inputs = Snapshot((args, kwargs), "")
    warm_up(rule, args, kwargs)  # the checked call is never the rule's first (reentrancy)
    try:
        with np.errstate(all="ignore"):
            returned = rule(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001  (a rule may raise anything: report it)
        failures.append(Failure("error", f"the rule raised {type(exc).__name__}: {exc}"))
        return result
    if not (isinstance(returned, tuple) and len(returned) == 2 and callable(returned[1])):
        failures.append(Failure("count", f"the rule returned {type(returned).__name__}; it "
                                "must return (value, pullback)"))
        return result
    value, back = returned
    _mutation(inputs, failures, "the rule")
    try:
        c_args, c_kwargs = deep_copy_args(args, kwargs)
        with np.errstate(all="ignore"):
            expected = fn(*c_args, **c_kwargs)
    except Exception as exc:  # noqa: BLE001
        failures.append(Failure("error", f"the function itself raised {type(exc).__name__}: "
                                f"{exc}"))
        return result
    failures += compare_primal(value, expected)
    try:
        problem = RuleProblem(fn, rule, args, kwargs, back=back, value=value, name=name,
                              arg_names=parameter_names([rule, fn], len(args)))
    except Exception as exc:  # noqa: BLE001
        failures.append(Failure("error", f"cannot evaluate the function at these inputs: "
                                f"{type(exc).__name__}: {exc}"))
        return result
    _finish(result, problem, rng, mode, fdm, atol, rtol, cotangents, saved=value,
            fail_fast=fail_fast, nondet_tol=nondet_tol)
    if reference is not None or reference_vjp is not None:
        from .reference import compare_reference

        compare_reference(result, problem, reference, reference_vjp,
                          tolerances_for(problem, atol, rtol), rng, fdm, cotangents)
    _mutation(inputs, failures, "the pullback")
    result.decide()
    if order >= 2:
        from .second_order import second_order_of_rule

        second_order_of_rule(result, problem, cotangents=cotangents, mode=mode, fdm=fdm,
                             atol=atol, rtol=rtol, seed=seed, nondet_tol=nondet_tol,
                             full_max=full_max, fail_fast=fail_fast)
    return result


def _mutation(snapshot: Snapshot, failures: list[Failure], who: str) -> None:
    for label in snapshot.changed():
        if any(f.kind == "mutation" and label in f.message for f in failures):
            continue
        failures.append(Failure("mutation", f"{who} changed its input ({_input_label(label)}); "
                                "inputs must be left as they are"))


def _input_label(label: str) -> str:
    """``[0][1][2]`` (a Snapshot label of ``(args, kwargs)``) as ``argument 1, item [2]``."""
    match = re.match(r"\[(\d)\]\[([^\]]+)\](.*)", label)
    if not match:
        return label
    which, key, rest = match.groups()
    head = f"argument {key}" if which == "0" else f"keyword argument {key}"
    return head + (f", item {rest}" if rest else "")


def _finish(result: CheckResult, problem: Any, rng: np.random.Generator, mode: str,
            fdm: FiniteDifferenceMethod | None, atol: float | None, rtol: float | None,
            cotangents: tuple, saved: Any, fail_fast: bool = False,
            nondet_tol: float | None = None) -> None:
    """Structural checks, then values; fill ``result`` with what they found and cost."""
    failures = result.failures
    if problem.m == 0:
        result.notes.append("the function has no floating-point output: nothing to compare")
    if problem.n == 0:
        result.notes.append("no differentiable (floating-point) input: only the structure of "
                            "the pullback was checked")
    structural = (pullback_checks(problem, rng, saved=saved, nondet_tol=nondet_tol)
                  if problem.m else [])
    failures += structural
    fatal = any(f.kind in ("count", "error") and f.path is None for f in structural)
    if fail_fast and any(f.kind not in ("kink", "inconclusive") for f in failures):
        fatal = True
    if problem.n and problem.m and not fatal:
        out, used, _ = compare_values(problem, mode, fdm, atol, rtol, rng, cotangents,
                                      fail_fast)
        failures += out.failures
        result.notes += out.notes
        result.mode = used
        result.max_error, result.tolerance = out.max_error, out.tolerance
        result.worst_ratio, result.largest_error = out.ratio, out.largest
        if out.rounding and out.rounding_dtype:
            result.rounding, result.rounding_dtype = out.rounding, out.rounding_dtype
        result.probes = out.probes
    result.evaluations = problem.evaluations
    result.pullbacks = problem.pullbacks
    result.decide()


def rule_order(rule: registry.Rule, order: int) -> tuple[int, list[str]]:
    """The order ``rule`` is checked at, and a note when it is lower than asked for.

    >>> rule_order(registry.lookup(np.sin), 2)
    (2, [])
    """
    from .second_order import validate_order

    order = validate_order(order)
    if order >= 2 and not getattr(rule, "higher_order", True):
        return 1, [f"second order: not checked, the rule of {rule.name} declares "
                   "higher_order=False (its pullback is not differentiable itself)"]
    return order, []


def references_of(rule: registry.Rule, reference: Callable | None,
                  reference_vjp: Callable | None) -> tuple[Callable | None, Callable | None]:
    """The caller's reference if one was given, else the one registered with the rule.

    >>> references_of(registry.lookup(np.sin), None, None)
    (None, None)
    """
    if reference is not None or reference_vjp is not None:
        return reference, reference_vjp
    return getattr(rule, "reference", None), getattr(rule, "reference_vjp", None)


def rule_for(fn: Any, who: str) -> registry.Rule:
    """The rule registered for ``fn``; a ``TypeError`` that says what to do when there is none.

    >>> rule_for(3, "check_adjoint")
    Traceback (most recent call last):
    ...
    TypeError: check_adjoint needs a function with a registered adjoint rule, got int 3
    """
    if isinstance(fn, registry.Rule):
        return fn
    if not callable(fn):
        raise TypeError(f"{who} needs a function with a registered adjoint rule, got "
                        f"{type(fn).__name__} {fn!r:.60}")
    rule_obj = registry.lookup(fn) or registry.declaration(fn)
    if rule_obj is None:
        label = registry.function_name(fn)
        if registry.is_primitive(fn) or isinstance(fn, np.ufunc) or getattr(
                fn, "__module__", "").startswith("numpy"):
            hint = f"register one with @adcheck.adjoint({label})"
        else:
            hint = (f"{label} is not a primitive: decorate it with @adcheck.primitive and "
                    f"register a rule with @adcheck.adjoint({label}); to check the gradient of "
                    f"a composite function use adcheck.gradcheck({label}, ...)")
        raise TypeError(f"no adjoint is registered for {label}; {hint}")
    return rule_obj


def check_adjoint(fn: Any, *args: Any, mode: str = "auto",
                  fdm: FiniteDifferenceMethod | None = None, atol: float | None = None,
                  rtol: float | None = None, seed: int | None = None,
                  raise_exception: bool = True, fn_kwargs: dict | None = None,
                  inconclusive: str = "fail", nondet_tol: float | None = None,
                  order: int = 1, reference: Callable | None = None,
                  reference_vjp: Callable | None = None, **kwargs: Any) -> CheckResult:
    """Check the rule registered for ``fn`` at ``args`` against finite differences of ``fn``.

    ``fn`` is a NumPy function, a ufunc or an ``@ad.primitive`` (or a
    :class:`~adcheck.registry.Rule`). Keyword arguments other than the checker's own go to
    ``fn`` and its rule (``check_adjoint(np.sum, x, axis=0)``); pass ``fn_kwargs={...}`` for
    a keyword whose name the checker uses itself (``mode``, ``seed``, ...).

    ``mode``: ``"full"`` compares every Jacobian entry; ``"fast"`` runs dot-product probes
    whose cost does not grow with the input size; ``"auto"`` picks full mode for inputs of
    at most 32 entries. ``fdm`` is the finite-difference method (``central_fdm(5, 1)``);
    ``atol``/``rtol`` add to the tolerance (see :mod:`adcheck.check.tolerance`); ``seed``
    fixes the random probes. Besides values, the shapes, dtypes and count of the
    cotangents, linearity, mutation, NaN and the primal value are checked; so are each
    output's zero or ``None`` cotangent of a rule with several outputs
    (:mod:`~adcheck.check.undefined`), cotangents in other memory layouts
    (:mod:`~adcheck.check.layouts`) and calls that depend on each other
    (:mod:`~adcheck.check.reentrancy`).

    A comparison the finite differences cannot decide even on other steps (their error
    bound is not small beside the values compared, see :mod:`adcheck.check.decided`) is
    *inconclusive*: a failure with its reason, or with ``inconclusive="warn"`` a pass that
    lists it (``result.verdict == "inconclusive"``). Calling the pullback twice with the
    same ``Δ`` may differ by rounding (a sum in another order); ``nondet_tol`` bounds that
    difference absolutely (``0.0``: bit for bit; default: a few ulps of the terms), and
    the same bound applies to a strided ``Δ`` against a contiguous one and to a second
    call of the rule.

    ``order=2`` also checks second derivatives through the rule: its pullback, as a function
    ``back(x, Δ)`` of the inputs and the cotangent, is differentiated by the engine (reverse
    over reverse) and compared with finite differences of ``back`` (see
    :mod:`adcheck.check.second_order`); what it finds starts with ``second order:``. A rule
    registered with ``higher_order=False`` is checked at first order only, with a note.

    A caller's reference is a second oracle where finite differences are weak:
    ``reference=jac`` with ``jac(*args, **kwargs)`` returning the Jacobian as
    :func:`adcheck.jacobian` does (one ``out.shape + arg.shape`` array per positional
    argument; a bare array for one argument), or ``reference_vjp=vjp`` with
    ``vjp(dy, *args, **kwargs)`` returning one cotangent per positional argument, as a
    correct pullback would (pytrees and several outputs work). The pullback must agree with
    it (``"reference"`` failures name the entry), and it must agree with finite differences
    where they decide (``"bad reference"``): see :mod:`adcheck.check.reference`.

    A function declared with :func:`adcheck.registry.nondifferentiable` has no pullback to
    check: it is checked to be piecewise constant around ``args`` instead
    (:mod:`adcheck.check.piecewise`; ``"not constant"`` failures).

    Returns a :class:`CheckResult`; a failure raises :class:`GradientMismatch` (an
    ``AssertionError`` whose message is the report) unless ``raise_exception=False``.

    >>> import numpy as np
    >>> import adcheck as ad
    >>> r = ad.check_adjoint(np.sum, np.ones((2, 3)), axis=0, seed=0)
    >>> r.passed, r.mode
    (True, 'full')
    >>> with ad.scoped_rules():
    ...     @ad.adjoint(np.cos)
    ...     def _(x):
    ...         return np.cos(x), lambda dy: (dy * np.sin(x),)   # sign error
    ...     r = ad.check_adjoint(np.cos, np.array([1.0]), raise_exception=False)
    >>> r.passed, r.failures[0].path
    (False, 'x[0]')
    >>> ad.check_adjoint(np.tanh, np.array([0.3]), seed=0,
    ...                  reference=lambda x: np.diag(1 - np.tanh(x) ** 2)).passed
    True
    """
    rule_obj = rule_for(fn, "check_adjoint")
    validate_reference(reference, reference_vjp)
    reference, reference_vjp = references_of(rule_obj, reference, reference_vjp)
    if registry.is_declaration(rule_obj):  # declared non-differentiable: piecewise constant
        from .piecewise import check_constant

        result = check_constant(rule_obj.fn, args, {**kwargs, **(fn_kwargs or {})},
                                name=rule_obj.name, location=rule_obj.source,
                                inconclusive=check_policy(inconclusive))
        if raise_exception and not result.passed:
            raise GradientMismatch(result)
        return result
    choose_mode(mode, 0, 0)
    validate_options(atol, rtol)
    all_kwargs = {**kwargs, **(fn_kwargs or {})}
    validate_inputs(args, parameters=True,
                    nan_ok=lambda: _finite_outputs(rule_obj.fn, args, all_kwargs))
    check_policy(inconclusive)
    order, order_note = rule_order(rule_obj, order)
    result = run_rule_check(rule_obj.fn, rule_obj.rule, args, all_kwargs, mode=mode, fdm=fdm,
                            atol=atol, rtol=rtol, seed=seed, name=rule_obj.name,
                            location=rule_obj.source, inconclusive=inconclusive,
                            nondet_tol=nondet_tol, order=order, reference=reference,
                            reference_vjp=reference_vjp)
    result.notes += order_note
    if not result.passed:
        result.details.append(f"replay: the probes used seed={result.seed}")
    if raise_exception and not result.passed:
        raise GradientMismatch(result)
    return result
