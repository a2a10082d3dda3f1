"""The adjoint registry: which rule differentiates which function.

A rule is ``rule(*args, **kwargs) -> (value, pullback)`` where ``pullback(dy)`` returns one
cotangent per positional argument (``None`` where an argument is not differentiable). A
cotangent may also be a zero-argument function (``lambda: dy * y``): the engine calls it only
when that argument is being differentiated, which saves the work for constants. User rules
override built-in ones; :func:`scoped_rules` restores the previous rules on exit.

>>> import numpy as np
>>> import adcheck as ad
>>> @ad.primitive
... def cube(x):
...     return x ** 3
>>> @ad.adjoint(cube)
... def _(x):
...     return cube(x), lambda dy: (3 * x ** 2 * dy,)
>>> ad.gradient(cube, 2.0)
(12.0,)
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "Rule",
    "adjoint",
    "builtin_rules",
    "display_path",
    "function_label",
    "function_name",
    "source_location",
    "primitive",
    "nondifferentiable",
    "is_declaration",
    "declaration",
    "lookup",
    "register_lazily",
    "rules",
    "scoped_rules",
    "is_primitive",
]


class Rule:
    """A registered adjoint: the function it differentiates, the rule, and its input domain.

    ``higher_order`` is the rule's claim that its pullback can itself be differentiated
    (it is written with operations that have rules), so second derivatives nest through it;
    ``verify(order=2)`` checks that claim. ``reference``/``reference_vjp`` are the caller's
    analytic Jacobian or VJP, compared by every check of the rule (see
    :mod:`adcheck.check.reference`).
    """

    __slots__ = ("fn", "rule", "domain", "builtin", "name", "_source", "higher_order",
                 "reference", "reference_vjp", "__weakref__")

    def __init__(self, fn: Any, rule: Callable, domain: Any, builtin: bool,
                 higher_order: bool = True, reference: Callable | None = None,
                 reference_vjp: Callable | None = None):
        self.fn = fn
        self.rule = rule
        self.domain = domain
        self.builtin = builtin
        self.higher_order = bool(higher_order)
        self.reference = reference
        self.reference_vjp = reference_vjp
        self.name = function_name(fn)
        self._source: str | None = None

    @property
    def source(self) -> str:
        """``file:line`` of the rule, looked up when first asked for (reading the source of
        every rule at registration took a third of ``import adcheck``)."""
        if self._source is None:
            self._source = _source_of(self.rule)
        return self._source

    @source.setter
    def source(self, where: str) -> None:
        self._source = where

    def __repr__(self) -> str:
        kind = "builtin" if self.builtin else "user"
        return f"<Rule {self.name} ({kind}) at {self.source}>"


def function_name(fn: Any) -> str:
    """A short readable name: ``sin`` for ``np.sin``, ``linalg.inv`` for ``np.linalg.inv``.

    >>> function_name(np.linalg.inv), function_name(np.sin)
    ('linalg.inv', 'sin')
    """
    name = getattr(fn, "__name__", None) or type(fn).__name__
    module = getattr(fn, "__module__", None) or ""
    if module.startswith("numpy.") and not module.startswith("numpy._core"):
        sub = module.split(".")[1]
        if sub in ("linalg", "fft"):
            return f"{sub}.{name}"
    return name


def function_label(fn: Any) -> str:
    """The name as user code spells it: ``np.sin``, ``np.linalg.inv``, ``softplus``, and
    ``scipy.special.erfcx`` for SciPy's functions and ufuncs.

    >>> function_label(np.sin), function_label(np.linalg.inv), function_label(function_label)
    ('np.sin', 'np.linalg.inv', 'function_label')
    """
    name = function_name(fn)
    module = getattr(fn, "__module__", "") or ""
    if isinstance(fn, np.ufunc):
        if getattr(np, fn.__name__, None) is fn:
            return f"np.{name}"
        # ufuncs of other packages (scipy.special's) say no module: find the public one
        return _public_module_label(fn, ("scipy.special",)) or name
    if module == "numpy" or module.startswith("numpy."):
        return f"np.{name}"
    if module.startswith("scipy."):
        # scipy.special._logsumexp.logsumexp is spelled scipy.special.logsumexp
        parts = module.split(".")
        while parts and parts[-1].startswith("_"):
            parts.pop()
        return _public_module_label(fn, (".".join(parts),)) or name
    return name


def _public_module_label(fn: Any, modules: tuple[str, ...]) -> str | None:
    """``module.name`` for the first already imported ``module`` that exposes ``fn``."""
    for module in modules:
        mod = sys.modules.get(module)
        if mod is not None and getattr(mod, fn.__name__, None) is fn:
            return f"{module}.{fn.__name__}"
    return None


def _source_of(obj: Any) -> str:
    return source_location(obj) or "?"


def source_location(obj: Any) -> str | None:
    """``file:line`` where ``obj`` is defined (an absolute path), or None when unknown.

    >>> line = function_name.__code__.co_firstlineno
    >>> source_location(function_name).endswith(f"registry.py:{line}")
    True
    """
    try:
        obj = inspect.unwrap(obj)
        file = inspect.getsourcefile(obj)
        line = inspect.getsourcelines(obj)[1]
    except (TypeError, OSError):
        return None
    return f"{file}:{line}" if file else None


def display_path(path: str) -> str:
    """``path`` (optionally ``file:line``) relative to the current directory when below it.

    >>> display_path(os.path.join(os.getcwd(), "a", "b.py:3")) == os.path.join("a", "b.py:3")
    True
    """
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


# Two layers so that a user rule never destroys a built-in one: lookups read the merged view.
_builtin: dict[Any, Rule] = {}
_user: dict[Any, Rule] = {}
_active: dict[Any, Rule] = {}
# Functions whose output carries no derivative (comparisons, floor, argmax, ...).
_nondiff: set[Any] = set()
# Rule modules registered when first needed (see register_lazily): subject -> rule module.
_lazy: dict[str, str] = {}
_lazy_lock = threading.RLock()


def register_lazily(subject: str, rule_module: str) -> None:
    """Register the rules of ``rule_module`` only once the module ``subject`` is imported.

    ``import adcheck`` then costs nothing for a library the user never imports (scipy takes
    0.7 s). The rules are registered at the first lookup that misses after ``subject`` was
    imported (a user calling ``scipy.special.erf`` has imported it), and whenever every
    rule is listed (:func:`rules`, :func:`builtin_rules`).

    >>> import scipy.special
    >>> lookup(scipy.special.erf).name  # registered by this lookup if not before
    'erf'
    """
    _lazy[subject] = rule_module


def _load_lazy(everything: bool = False) -> None:
    """Import the deferred rule modules whose subject is imported (all with ``everything``)."""
    due = [s for s in _lazy if everything or s in sys.modules]
    if not due:
        return
    with _lazy_lock:  # another thread's miss waits here until the rules are registered
        for subject in due:
            module = _lazy.get(subject)
            if module is not None:
                try:
                    importlib.import_module(module)
                finally:  # popped only once registered: a miss without it may retry at once
                    _lazy.pop(subject, None)


def lookup(fn: Any) -> Rule | None:
    """The rule in force for ``fn``, or None.

    >>> lookup(np.sin).name
    'sin'
    """
    rule = _active.get(fn)
    if rule is None and _lazy:
        _load_lazy()
        rule = _active.get(fn)
    return rule


def rules(include_builtin: bool = True) -> list[Rule]:
    """All rules in force, user rules first, then the user's :func:`nondifferentiable`
    declarations (:func:`builtin_rules` lists the built-in ones).

    >>> any(r.name == "sin" for r in rules())
    True
    """
    out = list(_user.values())
    if include_builtin:
        _load_lazy(everything=True)
        out += [r for f, r in _builtin.items() if f not in _user]
    out += [r for f, r in _declared_user.items() if f not in _active]
    return out


def builtin_rules() -> list[Rule]:
    """Every built-in rule, including those a user rule currently overrides, then the
    built-in :func:`nondifferentiable` declarations (see :func:`is_declaration`).

    >>> any(r.name == "matmul" for r in builtin_rules())
    True
    """
    _load_lazy(everything=True)
    return list(_builtin.values()) + [r for f, r in _declared_builtin.items()
                                      if f not in _builtin]


def _refresh() -> None:
    _active.clear()
    _active.update(_builtin)
    _active.update(_user)


_PRIMITIVE_ATTR = "__adcheck_primitive__"
_NO_KWARGS: dict = {}


def is_primitive(fn: Any) -> bool:
    """True for NumPy functions, ufuncs, and functions decorated with :func:`primitive`.

    >>> is_primitive(np.sum), is_primitive(lambda x: x)
    (True, False)
    """
    if isinstance(fn, np.ufunc) or getattr(fn, _PRIMITIVE_ATTR, False):
        return True
    module = getattr(fn, "__module__", None) or ""
    return module == "numpy" or module.startswith("numpy.")


def adjoint(
    fn: Any, domain: Any = None, *, builtin: bool = False, higher_order: bool = True,
    reference: Callable | None = None, reference_vjp: Callable | None = None,
) -> Callable[[Callable], Callable]:
    """Register the decorated rule as the adjoint of ``fn`` (Zygote's ``@adjoint``).

    ``fn`` is a NumPy function or ufunc, or a function made a primitive with :func:`primitive`.
    The rule returns ``(value, pullback)``; the engine uses that value, so a rule may compute
    the primal differently for AD while ``fn`` itself stays untouched. ``domain`` tells the
    checker where to draw inputs (see :mod:`adcheck.domains`). ``higher_order=False``
    declares that the pullback is not itself differentiable (it leaves the tape, or its
    derivative is not the second derivative): first derivatives through it work, a nested
    one (``hessian``, ``hvp``, ``jvp``, a gradient of a gradient) raises
    :class:`~adcheck.NotDifferentiable`, and checks with ``order=2`` check the first order
    only, and say so. ``reference=jac`` (``jac(*args)`` returns the Jacobian) or
    ``reference_vjp=vjp`` (``vjp(dy, *args)`` returns the cotangents) is an analytic
    derivative the checks (``check_adjoint``, ``verify``, the CLI, the plugin) compare the
    rule with, beside finite differences (see :mod:`adcheck.check.reference`).

    >>> @primitive
    ... def add(a, b):
    ...     return a + b
    >>> @adjoint(add)
    ... def _(a, b):
    ...     return add(a, b), lambda dy: (dy, dy)
    >>> import adcheck as ad
    >>> y, back = ad.pullback(add, 2.0, 3.0)
    >>> float(y), back(2.0)
    (5.0, (2.0, 2.0))
    """
    if not is_primitive(fn):
        name = getattr(fn, "__name__", repr(fn))
        raise TypeError(
            f"cannot register an adjoint for {name!r}: the engine traces through plain Python "
            f"functions, so calls to it are never seen. Decorate it with @adcheck.primitive "
            f"first, then register the rule with @adcheck.adjoint({name})."
        )

    from .check.reference import validate_reference

    validate_reference(reference, reference_vjp)

    def register(rule: Callable) -> Callable:
        entry = Rule(fn, rule, domain, builtin, higher_order, reference, reference_vjp)
        (_builtin if builtin else _user)[fn] = entry
        # One key changes: no moment without rules for another thread, which may be tracing
        # while rules are registered lazily.
        if not builtin or fn not in _user:
            _active[fn] = entry
        return rule

    return register


# Declarations of nondifferentiable(), as rules the checker can verify (piecewise constant).
_declared_builtin: dict[Any, Rule] = {}
_declared_user: dict[Any, Rule] = {}


def _no_derivative(fn: Any) -> Callable:
    """The rule a declaration stands for: the function's value, ``None`` for every input."""
    def rule(*args: Any, **kwargs: Any) -> tuple[Any, Callable]:
        return fn(*args, **kwargs), lambda dy: (None,) * len(args)

    rule.__adcheck_nondiff__ = True  # type: ignore[attr-defined]
    return rule


def is_declaration(rule: Rule) -> bool:
    """True for the rule of a :func:`nondifferentiable` declaration (checked to be piecewise
    constant by :func:`adcheck.verify`, not against finite differences).

    >>> is_declaration(lookup(np.sin)), is_declaration(builtin_rules()[-1])
    (False, True)
    """
    return bool(getattr(rule.rule, "__adcheck_nondiff__", False))


def declaration(fn: Any) -> Rule | None:
    """The :func:`nondifferentiable` declaration of ``fn`` (the user's first), or None.

    >>> declaration(np.floor).name, declaration(np.sin)
    ('floor', None)
    """
    if fn not in _nondiff and _lazy:
        _load_lazy()
    return _declared_user.get(fn) or _declared_builtin.get(fn)


def nondifferentiable(*fns: Any, domain: Any = None) -> None:
    """Declare functions whose outputs carry no derivative (their result is never traced).

    Such a function must be piecewise constant (``floor``, ``sign``, ``argmax``, a
    comparison): its gradient is taken to be zero. :func:`adcheck.verify` checks that claim
    on inputs drawn from ``domain`` (as for :func:`adjoint`; default inputs when omitted),
    and ``adcheck verify`` lists each declaration beside the adjoints.

    >>> @primitive
    ... def bucket(x):
    ...     return np.floor(x / 2)
    >>> with scoped_rules():
    ...     nondifferentiable(bucket)
    ...     is_nondifferentiable(bucket), rules(False)[-1].name
    (True, 'bucket')
    >>> is_nondifferentiable(bucket)
    False
    """
    frame = sys._getframe(1)
    builtin = frame.f_globals.get("__name__", "").startswith("adcheck.rules")
    where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    for fn in fns:
        entry = Rule(fn, _no_derivative(fn), domain, builtin)
        entry.source = where
        (_declared_builtin if builtin else _declared_user)[fn] = entry
    _nondiff.update(fns)


def is_nondifferentiable(fn: Any) -> bool:
    if fn not in _nondiff and _lazy:
        _load_lazy()
    return fn in _nondiff


@contextlib.contextmanager
def scoped_rules() -> Iterator[None]:
    """Rules registered inside the block are removed, and overridden ones restored, on exit.

    >>> with scoped_rules():
    ...     @adjoint(np.sin)
    ...     def _(x):
    ...         return np.sin(x), lambda dy: (-dy,)   # deliberately wrong, only in here
    >>> lookup(np.sin).builtin
    True
    """
    saved = dict(_user)
    declared, nondiff = dict(_declared_user), set(_nondiff)
    try:
        yield
    finally:
        _user.clear()
        _user.update(saved)
        _refresh()
        _declared_user.clear()
        _declared_user.update(declared)
        _nondiff.intersection_update(nondiff)  # in place: the engine holds this set


def primitive(fn: Callable) -> Callable:
    """Make ``fn`` a primitive: traced calls go through its registered adjoint, never inside.

    >>> @primitive
    ... def safe_log(x):
    ...     return np.log(np.maximum(x, 1e-300))
    >>> float(safe_log(np.e))
    1.0
    """
    from .engine.tracer import Traced, active_params, apply_primitive, has_traced

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # The untraced call is the hot path: one type test per argument, no helper call.
        if kwargs or active_params:  # keywords, or parameters being recorded: the full test
            if has_traced(args, kwargs):
                return apply_primitive(wrapper, args, kwargs)
            return fn(*args, **kwargs)
        for a in args:
            t = type(a)
            if t is Traced or ((t is list or t is tuple) and has_traced(a, _NO_KWARGS)):
                return apply_primitive(wrapper, args, kwargs)
        return fn(*args)

    setattr(wrapper, _PRIMITIVE_ATTR, True)
    return wrapper
