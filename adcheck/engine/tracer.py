"""Traced values: the boxes that carry an array through user code and record what happens to it.

A :class:`Traced` wraps a value (an array, or a ``Traced`` of a lower level when derivatives
are nested) together with its tape and slot. It speaks NumPy's protocols
(``__array_ufunc__``, ``__array_function__``) and Python's operators, so ``import numpy as np``
code runs unchanged; every primitive call goes through :func:`apply_primitive`, which asks the
registry for the rule, runs it on the unwrapped values, and appends one entry to the tape.

Anything that would let a value escape the tape (``np.asarray``, ``float``, ``math.sin``,
assignment into an array) raises :class:`NotDifferentiable` instead.

In-place operators (``h += y``) record ``h = h + y`` in NumPy's dtype and shape. When
another name or view could see NumPy's write, the write is remembered and a later use of
a value it would have changed raises; a write NumPy would make into the caller's array
raises at once. Constant arrays that rules capture are copied when small and fingerprinted
when large (see :meth:`Tape.keep_constant`).
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys
import threading
from typing import Any

import numpy as np

from .. import domains, registry
from ..tree import flatten, is_container, rebuild_sequence, unflatten
from .errors import HOW_TO_REGISTER, NotDifferentiable
from .tape import Tape, _skipped_dirs, caller_source

__all__ = ["Traced", "apply_primitive", "has_traced", "strip", "cast", "getitem"]

_rules = registry._active
_nondiff = registry._nondiff

# thread ident -> {id(param): the Traced standing for it} while that thread records a gradient
# over Params. Empty while no thread does, so the hot path pays one truth test for it.
active_params: dict[int, dict[int, Traced]] = {}
_get_ident = threading.get_ident
_NO_PARAMS: dict = {}


def current_params() -> dict[int, Traced]:
    """This thread's parameters being recorded (id(param) -> traced stand-in), often empty."""
    return active_params.get(_get_ident(), _NO_PARAMS) if active_params else _NO_PARAMS


class Traced:
    """A value being differentiated. Behaves like the array it wraps; records every primitive.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    (array([2., 4.]),)
    """

    __slots__ = ("_value", "_tape", "_slot")
    __array_priority__ = 100.0

    def __init__(self, value: Any, tape: Tape, slot: int):
        self._value = value
        self._tape = tape
        self._slot = slot

    # -- NumPy's protocols ---------------------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            if len(inputs) == 2:
                return apply_binary(ufunc, inputs[0], inputs[1])
            if len(inputs) == 1:  # a unary ufunc of self: apply_unary, inline (the hot path)
                tape = self._tape
                if tape.watch:
                    _check_uses(tape, inputs)
                return _record(ufunc, tape, (self._value,), _NO_KWARGS, (0, -1, self._slot))
            return apply_primitive(ufunc, inputs, {})
        name = registry.function_label(ufunc)
        if kwargs.get("out") is not None:
            raise NotDifferentiable(_out_message(ufunc, method, inputs, kwargs["out"]))
        if method != "__call__":
            if ufunc in _nondiff:  # e.g. np.logical_and.reduce, from x.all()
                return getattr(ufunc, method)(*strip(inputs), **kwargs)
            reduction = _UFUNC_REDUCTIONS.get((ufunc, method))
            if reduction is not None:
                return reduction(*inputs, **kwargs)
            raise NotDifferentiable(
                f"{name}.{method} is not differentiable by adcheck, and a ufunc method cannot "
                "have an adjoint of its own. Write a primitive that computes it and register "
                "its adjoint:\n"
                "    @adcheck.primitive\n"
                f"    def {ufunc.__name__}_{method}(*args):\n"
                f"        return {name}.{method}(*args)\n"
                f"    @adcheck.adjoint({ufunc.__name__}_{method})\n"
                "    def _(*args):\n"
                f"        return {ufunc.__name__}_{method}(*args), "
                "lambda dy: (...one cotangent per positional argument...)"
            )
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        if kwargs and ufunc.signature is not None and kwargs.keys() <= _GUFUNC_KEYWORDS:
            return _apply_gufunc(ufunc, inputs, kwargs)
        if kwargs:
            raise NotDifferentiable(
                f"{name} with keyword argument(s) {sorted(kwargs)} is not differentiable "
                "by adcheck; call it without them (use np.where for `where=`, "
                "astype for `dtype=`)."
            )
        return apply_primitive(ufunc, inputs, {})

    def __array_function__(self, func, types, args, kwargs):
        if func in _INSPECT:
            return func(*strip(args), **strip(kwargs))
        return apply_primitive(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        raise NotDifferentiable(ARRAY_MESSAGE + _conversion_context())

    # -- conversions that would leave the tape ---------------------------------------------

    def _escape(self, what: str):
        raise NotDifferentiable(
            f"{what} of a traced value would drop it from the tape and give a wrong gradient. "
            "Use NumPy functions on the array (np.sin rather than math.sin); for a "
            "function NumPy cannot trace, make it a primitive with @adcheck.primitive and "
            "register an adjoint with @adcheck.adjoint."
        )

    def __float__(self):
        self._escape("float()")

    def __int__(self):
        self._escape("int()")

    def __complex__(self):
        self._escape("complex()")

    def __index__(self):
        self._escape("Using as an index (or int()/range())")

    def __bool__(self) -> bool:
        # Python control flow on values is fine: the branch taken is what gets recorded.
        return bool(_read(self))

    def __setitem__(self, key, value):
        raise NotDifferentiable(
            "writing into a traced array (x[i] = v) is not recorded by the tape. Write it "
            "functionally: x = adcheck.numpy.set_at(x, i, v), or use np.where."
        )

    # -- array attributes ----------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return np.shape(self._value)

    @shape.setter
    def shape(self, value: Any) -> None:
        raise NotDifferentiable(
            "x.shape = ... reshapes an array in place, which the tape cannot record; "
            "use x = np.reshape(x, shape) instead."
        )

    @property
    def flat(self) -> _Flat:
        return _Flat(self)

    @property
    def ndim(self) -> int:
        return np.ndim(self._value)

    @property
    def size(self) -> int:
        return int(np.size(self._value))

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self._value)

    @property
    def T(self) -> Traced:
        return np.transpose(self)

    @property
    def mT(self) -> Traced:
        return np.swapaxes(self, -1, -2)

    def __len__(self) -> int:
        return len(self._value)

    def __iter__(self):
        for i in range(len(self._value)):
            yield self[i]

    def __repr__(self) -> str:
        return f"Traced({strip(self)!r}, level={self._tape.level})"

    # -- methods that NumPy code uses ----------------------------------------------------

    def sum(self, *args, **kwargs):
        return np.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return np.mean(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return np.prod(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return np.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return np.min(self, *args, **kwargs)

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return np.reshape(self, shape, **kwargs)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def swapaxes(self, a: int, b: int):
        return np.swapaxes(self, a, b)

    def dot(self, other):
        return np.dot(self, other)

    def ravel(self, order: str = "C"):
        return np.ravel(self, order=order)

    def flatten(self, order: str = "C"):
        # ndarray.flatten copies: so does this (np.positive), so that `y = x.flatten();
        # y *= 2` is not mistaken for a write through a view of x.
        return np.positive(np.reshape(self, (-1,), order=order))

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def astype(self, dtype, copy: bool = True):
        if not copy and np.dtype(dtype) == self.dtype:
            return self  # NumPy returns the array itself: a write to one is seen by both
        return cast(self, dtype)

    def copy(self, order: str = "K"):
        # A new array, as ndarray.copy: +x records an identity whose value is a fresh array.
        return apply_unary(np.positive, self)

    def __copy__(self):
        return self.copy()

    def argmax(self, *args, **kwargs):
        return np.argmax(_read(self), *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return np.argmin(_read(self), *args, **kwargs)

    def tolist(self):
        self._escape("tolist()")

    def item(self, *args):
        self._escape("item()")

    def __round__(self, ndigits=None):
        # round(x) is piecewise constant, like np.round: the concrete result, a constant.
        return round(_read(self), ndigits)

    # -- operators -----------------------------------------------------------------------

    def __getitem__(self, key):
        t = type(key)
        if t is Traced or (t is tuple and any(type(k) is Traced for k in key)):
            raise NotDifferentiable(
                "x[i] with a traced index i: an index must be an integer, and every "
                "argument adcheck differentiates is a float (integer arguments are promoted). "
                "Pass the index through a closure instead, e.g. "
                "adcheck.gradient(lambda x: f(x, i), x)."
            )
        if t is list:  # NumPy reads a list index as an array (kept apart from the caller's list)
            key = np.array(key) if key else np.array(key, dtype=np.intp)
        return apply_primitive(getitem, (self, strip(key)), {})

    def __neg__(self):
        return apply_unary(np.negative, self)

    def __pos__(self):
        return apply_unary(np.positive, self)  # +x is a new array in NumPy

    def __abs__(self):
        return apply_unary(np.absolute, self)

    def __add__(self, other):
        return apply_binary(np.add, self, other)

    def __radd__(self, other):
        return apply_binary(np.add, other, self)

    def __sub__(self, other):
        return apply_binary(np.subtract, self, other)

    def __rsub__(self, other):
        return apply_binary(np.subtract, other, self)

    def __mul__(self, other):
        return apply_binary(np.multiply, self, other)

    def __rmul__(self, other):
        return apply_binary(np.multiply, other, self)

    def __truediv__(self, other):
        return apply_binary(np.true_divide, self, other)

    def __rtruediv__(self, other):
        return apply_binary(np.true_divide, other, self)

    def __matmul__(self, other):
        return apply_binary(np.matmul, self, other)

    def __rmatmul__(self, other):
        return apply_binary(np.matmul, other, self)

    def __pow__(self, other):
        if type(other) in (int, float) and other == 2:
            return apply_unary(np.square, self)
        return apply_binary(np.power, self, other)

    def __rpow__(self, other):
        return apply_binary(np.power, other, self)

    def __divmod__(self, other):
        return np.floor_divide(self, other), np.remainder(self, other)

    def __rdivmod__(self, other):
        return np.floor_divide(other, self), np.remainder(other, self)

    # In-place operators rebind the name to a new traced value (a traced value is never
    # changed). NumPy changes the array itself, and every alias or view of it; where that
    # could be seen, they raise (see _inplace).

    def __iadd__(self, other):
        return _inplace(self, np.add, other, "+=")

    def __isub__(self, other):
        return _inplace(self, np.subtract, other, "-=")

    def __imul__(self, other):
        return _inplace(self, np.multiply, other, "*=")

    def __itruediv__(self, other):
        return _inplace(self, np.true_divide, other, "/=")

    def __ipow__(self, other):
        return _inplace(self, np.power, other, "**=")

    def __imatmul__(self, other):
        return _inplace(self, np.matmul, other, "@=")

    def __ifloordiv__(self, other):
        return _inplace(self, np.floor_divide, other, "//=")

    def __imod__(self, other):
        return _inplace(self, np.remainder, other, "%=")

    def __floordiv__(self, other):
        return np.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return np.floor_divide(other, self)

    def __mod__(self, other):
        return np.remainder(self, other)

    def __rmod__(self, other):
        return np.remainder(other, self)

    def __eq__(self, other):  # type: ignore[override]
        return np.equal(_read(self), _read(other))

    def __ne__(self, other):  # type: ignore[override]
        return np.not_equal(_read(self), _read(other))

    def __lt__(self, other):
        return np.less(_read(self), _read(other))

    def __le__(self, other):
        return np.less_equal(_read(self), _read(other))

    def __gt__(self, other):
        return np.greater(_read(self), _read(other))

    def __ge__(self, other):
        return np.greater_equal(_read(self), _read(other))

    __hash__ = object.__hash__


ARRAY_MESSAGE = (
    "a traced value was converted to a plain NumPy array (np.asarray, np.array, np.r_/np.c_, "
    "np.full, or assignment into an array), which would drop it from the tape and give a "
    "wrong gradient. Build arrays from traced values with np.stack / np.concatenate, or the "
    "helpers in adcheck.numpy: array([...]) for np.array, block for np.block, r_[...] / "
    "c_[...] for np.r_ / np.c_, full / full_like for np.full / np.full_like, set_at / add_at "
    "for x[i] = v / x[i] += v; for a function NumPy cannot trace, make it a primitive with "
    "@adcheck.primitive and register an adjoint."
)

# scipy.special functions that convert their input, and what to use under adcheck instead.
_SCIPY_ALTERNATIVES = {
    "logsumexp": "adcheck.rules.special.logsumexp",
    "polygamma": "adcheck.rules.special.polygamma",
    "softmax": "np.exp(x - adcheck.rules.special.logsumexp(x, axis, keepdims=True))",
    "log_softmax": "x - adcheck.rules.special.logsumexp(x, axis, keepdims=True)",
}


def _conversion_context() -> str:
    """Where a conversion to a plain array happened (the user's line) and, when it happened
    inside a scipy.special function adcheck has a replacement for, that replacement. Only
    on the error path: walks the stack once."""
    skip = _skipped_dirs() + (os.path.dirname(os.path.dirname(np.__file__)) + os.sep + "scipy",)
    hint = ""
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        file = code.co_filename
        if not file.startswith(skip):
            line = linecache.getline(file, frame.f_lineno).strip()
            return hint + f"\n  at {file}:{frame.f_lineno}" + (f": {line}" if line else "")
        if (not hint and os.sep + "scipy" + os.sep + "special" in file
                and code.co_name in _SCIPY_ALTERNATIVES):
            hint = (f" scipy.special.{code.co_name} converts its input: use "
                    f"{_SCIPY_ALTERNATIVES[code.co_name]} instead.")
        frame = frame.f_back
    return hint


class _Flat:
    """``x.flat`` of a traced array: reading ``x.flat[i]`` is ``x.ravel()[i]``; writing refuses."""

    __slots__ = ("_x",)

    def __init__(self, x: Traced):
        self._x = x

    def __getitem__(self, key: Any) -> Any:
        return np.ravel(self._x)[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        raise NotDifferentiable(
            "x.flat[i] = v writes into a traced array, which the tape cannot record; write "
            "it as a new array: x = np.reshape(adcheck.numpy.set_at(x.ravel(), i, v), x.shape)."
        )

    def __iter__(self):
        return iter(np.ravel(self._x))

    def __len__(self) -> int:
        return self._x.size

    def __array__(self, dtype=None, copy=None):
        raise NotDifferentiable(ARRAY_MESSAGE + _conversion_context())


# Keywords of generalized ufuncs (np.matmul, np.vecdot, ...) passed on to their rules.
_GUFUNC_KEYWORDS = {"axis", "axes", "keepdims"}
_rule_keywords: dict[Any, Any] = {}


def _apply_gufunc(ufunc: Any, inputs: tuple, kwargs: dict) -> Any:
    """A generalized ufunc with axis=/axes=/keepdims=, when its rule takes those keywords."""
    rule = _rules.get(ufunc)
    if rule is not None:
        accepted = _rule_keywords.get(rule.rule)
        if accepted is None:
            try:
                params = inspect.signature(rule.rule).parameters.values()
            except (TypeError, ValueError):
                params = ()
            accepted = _rule_keywords[rule.rule] = (
                True if any(p.kind is p.VAR_KEYWORD for p in params)
                else frozenset(p.name for p in params))
        if accepted is True or kwargs.keys() <= accepted:
            return apply_primitive(ufunc, inputs, kwargs)
    name = registry.function_label(ufunc)
    given = ", ".join(f"{k}=" for k in sorted(kwargs))
    reason = "has no adjoint rule" if rule is None else f"has an adjoint rule without {given}"
    raise NotDifferentiable(
        f"{name} with {given} is not differentiable by adcheck: {name} {reason}. Move the "
        "axes with np.moveaxis so that the defaults apply, or register an adjoint for "
        f"{name} that takes {given} (@adcheck.adjoint({name}))."
    )


_OPERATORS = {
    np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/", np.power: "**",
    np.matmul: "@", np.floor_divide: "//", np.remainder: "%",
}


def _out_message(ufunc: Any, method: str, inputs: tuple, out: Any) -> str:
    """The refusal of ``out=``: for ``acc += traced`` on a plain array, ``acc = acc + ...``."""
    name = registry.function_label(ufunc)
    target = out[0] if type(out) is tuple and len(out) == 1 else out
    symbol = _OPERATORS.get(ufunc)
    if method == "__call__" and symbol and inputs and inputs[0] is target \
            and type(target) is not Traced:
        return (
            f"acc {symbol}= y with a traced y writes it into the plain NumPy array acc in "
            "place, which the tape cannot record (acc would hold a constant). Write "
            f"acc = acc {symbol} y instead."
        )
    call = name if method == "__call__" else f"{name}.{method}"
    return (
        f"{call}(..., out=...) writes into an array, which the tape cannot record: out= is "
        f"not supported by adcheck. Assign the result instead: y = {call}(...) without out=."
    )


# NumPy functions that only inspect an array: they get the concrete values.
_INSPECT = {
    np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
    np.can_cast, np.min_scalar_type,
}


def strip(x: Any) -> Any:
    """The concrete value under every level of tracing (containers are stripped one deep).

    >>> strip([1.0, (2.0,)])
    [1.0, (2.0,)]
    """
    t = type(x)
    if t is Traced:
        while type(x) is Traced:
            x = x._value
        return x
    if t is tuple or t is list:
        return t(strip(v) for v in x)
    if t is dict:
        return {k: strip(v) for k, v in x.items()}
    return x


def has_traced(args: tuple, kwargs: dict) -> bool:
    """True when any argument (or an item of a list/tuple argument) is traced."""
    for a in args:
        t = type(a)
        if t is Traced:
            return True
        if (t is list or t is tuple) and any(type(b) is Traced for b in a):
            return True
        if active_params and id(a) in current_params():
            return True
    return any(type(v) is Traced for v in kwargs.values())


def apply_primitive(fn: Any, args: tuple, kwargs: dict) -> Any:
    """Run ``fn``'s rule on unwrapped ``args`` and record one tape entry for the top level.

    The highest tracing level among the arguments is handled here; lower levels are
    handled when the rule's own NumPy calls meet their values.
    """
    if active_params:
        args = _substitute_params(args)
    # Find the top tape among the arguments (and items of list arguments).
    tape = None
    level = 0
    for a in args:
        t = type(a)
        if t is Traced:
            if a._tape.level > level:
                tape = a._tape
                level = tape.level
        elif t is list or t is tuple:
            for b in a:
                if type(b) is Traced and b._tape.level > level:
                    tape = b._tape
                    level = tape.level
    if kwargs:
        for k, v in kwargs.items():
            if k == "out" and v is not None:
                label = registry.function_label(fn)
                raise NotDifferentiable(
                    f"{label}(..., out=...) writes into an array, which the tape cannot "
                    "record: out= is not supported by adcheck. Assign the result instead: "
                    f"y = {label}(...) without out=."
                )
            if type(v) is Traced:
                raise NotDifferentiable(
                    f"{registry.function_label(fn)} got a traced value as keyword argument "
                    f"{k}=; pass it positionally so that its cotangent can be recorded."
                )
    if tape is None:  # nothing traced at the levels looked at (e.g. only inactive parameters)
        if _holds_traced(args) or _holds_traced(kwargs):
            _refuse_nested(fn)  # calling fn would dispatch back here, or drop the value
        return fn(*args, **kwargs)
    if tape.watch:
        _check_uses(tape, [b for a in args for b in (a if type(a) in (list, tuple) else (a,))])

    # Unwrap the top level; remember which arguments were traced at it. Constant arrays
    # are kept safe from later changes by the caller (Tape.keep_constant).
    unwrapped = list(args)
    inputs = []
    for pos, a in enumerate(args):
        t = type(a)
        if t is Traced:
            if a._tape is tape:
                v = a._value
                unwrapped[pos] = v
                inputs += (pos, -1, a._slot)
        elif t is list or t is tuple:
            items = list(a)
            for i, b in enumerate(a):
                if type(b) is Traced:
                    if b._tape is tape:
                        v = b._value
                        items[i] = v
                        inputs += (pos, i, b._slot)
                else:
                    items[i] = _constant(tape, b, fn)
            unwrapped[pos] = rebuild_sequence(t, items) if t is tuple else items
        else:
            unwrapped[pos] = _constant(tape, a, fn)
    if kwargs:
        kwargs = {k: _constant(tape, v, fn) for k, v in kwargs.items()}
    return _record(fn, tape, tuple(unwrapped), kwargs, tuple(inputs))


def apply_binary(fn: Any, a: Any, b: Any) -> Any:
    """:func:`apply_primitive` for ``fn(a, b)`` with plain (non-list) arguments: the hot path
    of Python's operators and two-argument ufuncs."""
    ta = type(a) is Traced
    tb = type(b) is Traced
    if active_params or not (ta or tb):
        return apply_primitive(fn, (a, b), {})
    if ta and tb and a._tape is not b._tape:
        if a._tape.level > b._tape.level:
            tb = False
        else:
            ta = False
    tape = a._tape if ta else b._tape
    if tape.watch:
        _check_uses(tape, (a, b))
    # Tuples, not lists, for what the entry keeps (see Tape.records): the GC untracks them.
    if ta:
        if tb:
            return _record(fn, tape, (a._value, b._value), _NO_KWARGS,
                           (0, -1, a._slot, 1, -1, b._slot))
        vb = b if type(b) is float else _constant(tape, b, fn)
        return _record(fn, tape, (a._value, vb), _NO_KWARGS, (0, -1, a._slot))
    va = a if type(a) is float else _constant(tape, a, fn)
    return _record(fn, tape, (va, b._value), _NO_KWARGS, (1, -1, b._slot))


def apply_unary(fn: Any, a: Traced) -> Any:
    """:func:`apply_primitive` for ``fn(a)`` with a traced ``a``: unary operators and ufuncs."""
    tape = a._tape
    if tape.watch:
        _check_uses(tape, (a,))
    return _record(fn, tape, (a._value,), _NO_KWARGS, (0, -1, a._slot))


def _raise_closed():
    raise NotDifferentiable(
        "a traced value was used after its pullback finished recording (it escaped the "
        "function being differentiated, e.g. through a global or a closure); return "
        "it from the function instead."
    )


def _check_uses(tape: Tape, args: Any) -> None:
    """The slow path of a use, once ``tape.watch`` is set: refuse a closed tape or a value
    that an in-place write made stale."""
    if tape.closed:
        _raise_closed()
    for a in args:
        if type(a) is Traced and a._tape is tape:
            check_fresh(a)


def check_fresh(t: Traced) -> None:
    """Raise NotDifferentiable when NumPy would see an in-place write in ``t`` that the tape,
    which records values, did not apply to it (``h2 = h; h += 1; use(h2)``)."""
    writes = t._tape.writes
    if not writes:
        return
    value = strip(t)
    if not isinstance(value, np.ndarray):
        return
    for made_after, region, what in writes:
        if t._slot < made_after and _shares(value, region):
            raise NotDifferentiable(
                f"this value was changed in place by {what}: NumPy writes through every "
                "name and view of an array, so here, where the value is read after that "
                "write, NumPy would see the new numbers, but the tape recorded the old ones. "
                "Write the update as a new array (x = x * y instead of x *= y), or copy the "
                "array before changing it (x = x.copy())."
            )


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10_000))
    except np.exceptions.TooHardError:
        return True


def _read(x: Any) -> Any:
    """``strip(x)`` for a use that reads the numbers (a comparison, bool, argmax)."""
    if type(x) is Traced and x._tape.watch:
        _check_uses(x._tape, (x,))
    return strip(x)


def _constant(tape: Tape, v: Any, fn: Any) -> Any:
    """A constant argument as the rule gets it: arrays kept safe from later changes."""
    c = type(v)
    if c is _NDARRAY:
        return tape.keep_constant(v, fn)
    if c is list or c is tuple:
        items = []
        for b in v:
            if type(b) is Traced:
                _refuse_nested(fn)
            items.append(_constant(tape, b, fn))
        return items if c is list else rebuild_sequence(c, items)
    if isinstance(v, np.ndarray):
        return tape.keep_constant(plain_array(v, f"used with a traced value in "
                                                 f"{registry.function_label(fn)}"), fn)
    return v


def _holds_traced(v: Any) -> bool:
    """True when a traced value is anywhere inside lists, tuples and dicts of ``v``."""
    c = type(v)
    if c is Traced:
        return True
    if c is list or c is tuple:
        return any(_holds_traced(b) for b in v)
    if c is dict:
        return any(_holds_traced(b) for b in v.values())
    return False


# Functions with a tracing counterpart for traced values nested in lists of lists.
_NESTED_ALTERNATIVES = {np.block: "adcheck.numpy.block", np.array: "adcheck.numpy.array"}


def _refuse_nested(fn: Any) -> None:
    label = registry.function_label(fn)
    other = _NESTED_ALTERNATIVES.get(fn)
    advice = (f"Use {other} instead, which traces them." if other else
              "Pass the traced values as positional arguments or as items of one list "
              "(np.stack / np.concatenate the inner lists first), or make the computation "
              "a primitive with @adcheck.primitive and register an adjoint.")
    raise NotDifferentiable(
        f"{label} got a traced value nested in a list inside a list (or deeper), where "
        f"adcheck does not look for traced values, so its derivative would be lost. {advice}"
    )


def plain_array(a: np.ndarray, where: str) -> np.ndarray:
    """``a`` as a plain ndarray; np.matrix and masked arrays raise (their operators and
    masks mean something else than the plain array's, which is what the rules compute)."""
    if isinstance(a, np.matrix):
        raise NotDifferentiable(
            f"an np.matrix {where}: adcheck traces plain arrays, where * is elementwise "
            "(a matrix's * is a matrix product), so the result would differ from NumPy's. "
            "Convert it with np.asarray(m) and write matrix products with @."
        )
    if isinstance(a, np.ma.MaskedArray):
        raise NotDifferentiable(
            f"a masked array {where}: adcheck's rules do not carry a mask, so masked entries "
            "would count. Fill the masked entries (m.filled(value)) or select the valid ones "
            "(m.compressed(), np.where(mask, ...)) first."
        )
    return a.view(np.ndarray)


def _refuse_complex(fn: Any, tape: Tape) -> None:
    source = caller_source()
    where = f" (at {source[0]}:{source[1]})" if source else ""
    raise NotDifferentiable(
        f"{registry.function_label(fn)} made a complex value{where} from real ones (a complex "
        "constant, or a function with a complex result). adcheck's rules are real-only so "
        "far: the gradient would silently drop the imaginary parts. Keep the computation "
        "real, e.g. carry real and imaginary parts as two real arrays "
        "(|x·(a+ib)| = |x|·sqrt(a²+b²))."
    )


def _record(fn: Any, tape: Tape, unwrapped: tuple, kwargs: dict, inputs: tuple) -> Any:
    """Call ``fn``'s rule on the unwrapped arguments and append the entry to ``tape``."""
    rule = _rules.get(fn)
    if rule is None and registry._lazy:  # rules not registered until their module is imported
        rule = registry.lookup(fn)
    if rule is None:
        if fn in _nondiff:
            return fn(*strip(unwrapped), **kwargs)
        label = registry.function_label(fn)
        if fn is np.copyto:
            raise NotDifferentiable(
                "np.copyto writes a traced value into an array, which the tape cannot "
                "record. Build the array instead: adcheck.numpy.full_like(x, v) or "
                "adcheck.numpy.full(shape, v) for a filled one, adcheck.numpy.set_at(a, i, v) "
                "for some entries."
            )
        raise NotDifferentiable(
            f"{label} has no adjoint rule, so adcheck cannot differentiate it. "
            + HOW_TO_REGISTER.format(fn=label)
        )
    value, pullback = rule.rule(*unwrapped, **kwargs) if kwargs else rule.rule(*unwrapped)

    if type(value) is _NDARRAY:  # the common case first
        dtype = value.dtype
        if dtype is not _FLOAT64:  # float64 (the usual dtype) saves reading its kind
            kind = dtype.kind
            if kind != "f":
                if kind != "c":
                    return value
                _refuse_complex(fn, tape)
        shapes = tape.shapes
        shape = value.shape
        if shape == shapes[-1]:  # a run of equal shapes shares one tuple: one GC object fewer
            shape = shapes[-1]
        outputs = tape.n_slots  # tape.new_slot(shape, dtype), inline
        tape.n_slots = outputs + 1
        shapes.append(shape)
        tape.dtypes.append(dtype)
        meta = None
        if value.base is not None or value is unwrapped[0]:
            value = _note_view(tape, outputs, value, unwrapped)
        result = _new(Traced)  # Traced(value, tape, outputs) without the cost of calling __init__
        result._value = value
        result._tape = tape
        result._slot = outputs
    elif type(value) is not Traced and is_container(value):
        # several outputs: tuples, lists, namedtuples (np.linalg.eigh), dicts, dataclasses,
        # registered pytrees, nested: traced leaf by leaf, the cotangent of the same structure
        leaves, spec = flatten(value)
        if not any(_is_differentiable_value(v, fn) for v in leaves):
            return value
        outs = []
        slots = []
        shapes = []
        for v in leaves:
            shapes.append(_leaf_meta(v))
            if _is_differentiable_value(v, fn):
                s = tape.new_slot(*shapes[-1])
                if isinstance(v, np.ndarray) and v.base is not None:
                    v = _note_view(tape, s, v, unwrapped)
                slots.append(s)
                outs.append(Traced(v, tape, s))
            else:
                slots.append(-1)
                outs.append(v)
        result: Any = unflatten(spec, outs)
        outputs: Any = tuple(slots)
        meta = (spec, shapes)
    else:
        if not _is_differentiable_value(value, fn):
            _refuse_hidden_floats(value, fn)
            return value
        outputs = tape.new_slot(_shape(value), _dtype(value))
        meta = None
        concrete = strip(value)
        if isinstance(concrete, np.ndarray) and concrete.base is not None:
            tape.views.append((outputs, concrete))
        result = Traced(value, tape, outputs)
    if not rule.higher_order:  # a pullback that must not be differentiated again
        pullback = _first_order_only(rule, pullback, unwrapped, kwargs)
    source = caller_source() if tape.record_source else None
    # Without keep_args only the number of arguments is kept, so that an intermediate array
    # is freed once no pullback holds it.
    tape.records.append((unwrapped if tape.keep_args else len(unwrapped), kwargs or None,
                         inputs, outputs, meta, source))
    tape.rules.append(rule)
    tape.pullbacks.append(pullback)
    return result


def _first_order_only(rule: Any, pullback: Any, unwrapped: tuple, kwargs: dict) -> Any:
    """The pullback of a rule registered with ``higher_order=False``: it refuses to run
    where an outer level would differentiate it, that is when the cotangent or the values
    the rule captured are traced by an outer level (a nested gradient, ``hessian``,
    ``hvp``, ``jvp``), instead of giving a wrong second derivative; else it is the rule's."""
    captured = any(type(v) is Traced for v in flatten((unwrapped, kwargs))[0])

    def first_order_pullback(dy: Any) -> Any:
        if captured or any(type(d) is Traced for d in flatten(dy)[0]):
            label = registry.function_label(rule.fn)
            raise NotDifferentiable(
                f"the adjoint of {label} was registered with higher_order=False (its pullback "
                "cannot itself be differentiated), but a derivative of it is being taken here "
                "(a nested gradient, ad.hessian, ad.hvp or ad.jvp), which would be wrong. "
                "Make its pullback differentiable (NumPy operations on the values it "
                f"captures, no float() or np.asarray) and register it with "
                f"@adcheck.adjoint({label}, higher_order=True) (the default; "
                "verify(order=2) checks it), or differentiate through it once only."
            )
        return pullback(dy)

    return first_order_pullback


_NDARRAY = np.ndarray
_NO_KWARGS: dict = {}
_new = object.__new__


def _shape(v: Any) -> tuple:
    s = getattr(v, "shape", None)
    return s if s is not None else np.shape(v)


def _dtype(v: Any) -> np.dtype:
    d = getattr(v, "dtype", None)
    if d is not None:
        return d
    if type(v) is float:
        return _FLOAT64
    return np.result_type(v)


_FLOAT64 = np.dtype(np.float64)


def _leaf_meta(v: Any) -> tuple | None:
    """(shape, dtype) of an output leaf, for the zero cotangent of an unused one; None for
    a leaf that is not a number (None, a string): its cotangent is None."""
    if type(v) is Traced or isinstance(v, (np.ndarray, np.generic, float, int, complex)):
        return _shape(v), _dtype(v)
    return None


def _refuse_hidden_floats(value: Any, fn: Any, depth: int = 0) -> None:
    """Raise when an output the engine does not know (an object of a class that is not a
    pytree) holds float arrays or traced values: treating it as a constant would silently
    drop their derivative."""
    if value is None or isinstance(value, (np.ndarray, np.generic, int, str, bytes, bool)):
        return
    fields = getattr(value, "__dict__", None)
    found = []
    if isinstance(fields, dict):
        found = list(fields.values())
    if isinstance(value, dict):
        found += list(value.values())
    elif isinstance(value, (list, tuple)):
        found += list(value)
    for name in getattr(type(value), "__slots__", ()) or ():
        if isinstance(name, str) and hasattr(value, name):
            found.append(getattr(value, name))
    for v in found:
        if type(v) is Traced or _has_float(v, depth):
            label = registry.function_label(fn)
            raise NotDifferentiable(
                f"{label} returned an object of type {type(value).__name__}, which adcheck "
                "does not know how to trace: it holds float arrays whose derivative would be "
                "silently dropped. Make it a pytree (a dataclass, or register it with "
                "adcheck.tree.register_pytree), or return its arrays in a tuple or dict."
            )


def _has_float(v: Any, depth: int) -> bool:
    if type(v) is Traced:
        return True
    d = getattr(v, "dtype", None)
    if isinstance(d, np.dtype):
        return d.kind in "fc"
    if isinstance(v, float):
        return True
    if depth < 3 and is_container(v):
        return any(_has_float(leaf, depth + 1) for leaf in flatten(v)[0])
    if depth < 3 and not isinstance(v, (int, str, bytes, type)) and v is not None \
            and hasattr(v, "__dict__") and not callable(v):
        return any(_has_float(x, depth + 1) for x in vars(v).values())
    return False


def _is_differentiable_value(v: Any, fn: Any) -> bool:
    if type(v) is Traced:
        return True
    d = getattr(v, "dtype", None)
    if d is None:
        if isinstance(v, complex):
            _refuse_complex(fn, None)
        return isinstance(v, float)
    if d.kind == "c":
        _refuse_complex(fn, None)
    return d.kind == "f"


def _note_view(tape: Tape, slot: int, value: np.ndarray, unwrapped: list) -> np.ndarray:
    """Remember an output that shares memory with an input (so an in-place write to either
    is seen by the other, as in NumPy); a rule that returned its input itself gets a view."""
    if any(value is a for a in unwrapped):
        value = value.view()
    tape.views.append((slot, value))
    return value


def _substitute_params(args: tuple) -> tuple:
    mine = current_params()
    if not mine:
        return args
    out = []
    for a in args:
        t = type(a)
        if t is list or t is tuple:
            a = t(mine.get(id(b), b) for b in a)
        else:
            a = mine.get(id(a), a)
        out.append(a)
    return tuple(out)


# -- a few primitives the engine itself needs ------------------------------------------------


@registry.primitive
def getitem(x: Any, key: Any) -> Any:
    """``x[key]`` as a primitive (its adjoint lives in ``adcheck.rules.indexing``)."""
    return x[key]


@registry.primitive
def cast(x: Any, dtype: Any) -> Any:
    """``x.astype(dtype)`` as a primitive: the cotangent is cast back to ``x``'s dtype."""
    return np.asarray(x).astype(dtype) if type(x) is not Traced else x.astype(dtype)


def _cast_args(draw) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)))
    return (x, draw(st.sampled_from([np.float64, np.float32]))), {}


@registry.adjoint(cast, domain=domains.custom(_cast_args, "a float array, a float dtype"),
                  builtin=True)
def _cast_adjoint(x, dtype):
    source = _dtype(x)
    return cast(x, dtype), lambda dy: (cast(dy, source), None)


def _reduction(ufunc, fn):
    """``ufunc.reduce`` (which ndarray methods such as ``var`` call) as the NumPy function."""

    def reduce(x, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue,
               where=True):
        given = {"dtype": dtype, "out": out, "initial": initial, "where": where}
        unsupported = sorted(k for k, v in given.items()
                             if v is not None and v is not np._NoValue and v is not True)
        if unsupported:
            raise NotDifferentiable(
                f"np.{ufunc.__name__}.reduce with {', '.join(k + '=' for k in unsupported)} "
                f"is not differentiable by adcheck; call {registry.function_label(fn)}(x, "
                "axis) without them (mask the input with np.where for where=)."
            )
        return fn(x, axis=axis, keepdims=keepdims)

    return reduce


_UFUNC_REDUCTIONS = {
    (np.add, "reduce"): _reduction(np.add, np.sum),
    (np.multiply, "reduce"): _reduction(np.multiply, np.prod),
    (np.maximum, "reduce"): _reduction(np.maximum, np.max),
    (np.minimum, "reduce"): _reduction(np.minimum, np.min),
}


# -- in-place operators ----------------------------------------------------------------------


def _inplace(self: Traced, fn: Any, other: Any, symbol: str) -> Traced:
    """``self {symbol} other`` as NumPy computes it, recorded as ``self = fn(self, other)``.

    NumPy writes into the array, and every name and view of it sees the change; the tape
    records a new value instead. That is the same whenever nobody else can see the write.
    Otherwise the write is remembered, and a later use of a value it would have changed
    raises (see check_fresh); a write NumPy would make into the caller's array raises here.
    """
    refs = sys.getrefcount(self)
    base_refs = _INPLACE_REFS_SELF if other is self else _INPLACE_REFS
    value = strip(self)
    if not isinstance(value, np.ndarray):  # NumPy scalars are immutable: += rebinds there too
        return apply_binary(fn, self, other)
    tape = self._tape
    op = symbol[:-1]
    owner = _callers_array(tape, value)
    if owner is not None:
        raise NotDifferentiable(
            f"x {symbol} y on a traced array: NumPy would write into {owner} in place (the "
            "caller's array, or a view of it), a change the tape cannot record. Write it as "
            f"a new array: x = x {op} y (and use adcheck.numpy.set_at for x[i] {symbol} y)."
        )
    if refs > base_refs:
        seen = "another name or container refers to the same array"
    elif value.base is not None:
        seen = "it is a view of another array (a slice, reshape, transpose or alias)"
    elif _has_views(self, value):
        seen = "a view of it (a slice, reshape or transpose) was taken earlier"
    else:
        seen = ""
    if seen and not value.flags.writeable:
        raise NotDifferentiable(
            f"x {symbol} y on a read-only array (a view such as np.broadcast_to makes): NumPy "
            f"refuses this write too. Write it as a new array: x = x {op} y."
        )
    made_after = tape.n_slots
    result = apply_binary(fn, self, other)
    result = _as_written(result, value, symbol)
    if seen:  # another name or view could see the write: values older than it are stale
        source = caller_source()
        where = f" at {source[0]}:{source[1]}" if source else ""
        tape.writes.append((made_after, value, f"`x {symbol} ...`{where} ({seen})"))
        tape.watch = True
    return result


def _as_written(result: Any, value: np.ndarray, symbol: str) -> Any:
    """NumPy's in-place result keeps the array's shape and dtype."""
    shape = np.shape(strip(result))
    if shape != value.shape:
        raise ValueError(
            f"x {symbol} y: non-broadcastable output operand with shape {value.shape} "
            f"doesn't match the broadcast shape {shape} (NumPy raises this too)"
        )
    if _dtype(strip(result)) != value.dtype:
        result = cast(result, value.dtype)
    return result


def _callers_array(tape: Tape, value: np.ndarray) -> str | None:
    """The name of the caller's array that ``value`` shares memory with, if any."""
    for array, name in tape.inputs:
        if value is array or (value.base is not None and _shares(value, array)):
            return f"the argument {name}" if name else "a parameter"
    return None


class _RefProbe:
    def __iadd__(self, other):
        return _probe_refs(self, None, other, "+=")


def _probe_refs(self, fn, other, symbol):
    return sys.getrefcount(self)  # the same call depth as _inplace's count


def _baseline_refs(with_itself: bool) -> int:
    probe: Any = _RefProbe()
    if with_itself:
        probe += probe
    else:
        probe += None
    return probe


# References to a traced value bound to one name only, counted inside _inplace (for
# `x += y` and for `x += x`).
_INPLACE_REFS = _baseline_refs(False)
_INPLACE_REFS_SELF = _baseline_refs(True)


def _has_views(t: Traced, value: np.ndarray) -> bool:
    """True when an output recorded since ``t`` was made is a view of ``t``'s memory."""
    slot = t._slot
    for s, view in reversed(t._tape.views):
        if s < slot:
            break  # recorded before t existed
        if s != slot and _shares(view, value):
            return True
    return False


# -- ndarray methods and properties, as the NumPy functions -----------------------------------

# x.name(*args) is np.function(x, *args) with the same arguments (so existing rules apply, and
# a function without a rule raises NotDifferentiable naming it).
_METHODS = {
    name: getattr(np, name) for name in (
        "all", "any", "argsort", "argpartition", "clip", "conjugate", "cumprod", "cumsum",
        "diagonal", "nonzero", "repeat", "round", "searchsorted", "std", "take", "trace",
        "var",
    )
}


def _conjugate(a: Any) -> Any:
    # ndarray.conj() of a real array returns the array itself (a write to one is seen by
    # both, as in NumPy); NumPy's complex conjugate has no rule.
    return a if a.dtype.kind != "c" else np.conjugate(a)


_METHODS["conj"] = _METHODS["conjugate"] = _conjugate
_METHODS["compress"] = lambda a, condition, *args, **kwargs: np.compress(
    condition, a, *args, **kwargs)
_METHODS["choose"] = lambda a, choices, *args, **kwargs: np.choose(a, choices, *args, **kwargs)

_PROPERTIES = {
    "real": np.real,
    "imag": np.imag,
    "itemsize": lambda t: strip(t).itemsize if isinstance(strip(t), np.generic) else
    np.dtype(t.dtype).itemsize,
    "nbytes": lambda t: t.size * np.dtype(t.dtype).itemsize,
}

_IN_PLACE_METHODS = {
    "sort": "use y = np.sort(x).",
    "partition": "use y = np.partition(x, k).",
    "fill": "use adcheck.numpy.full_like(x, v).",
    "put": "use adcheck.numpy.set_at(x, i, v).",
    "itemset": "use adcheck.numpy.set_at(x, i, v).",
    "resize": "use np.resize(x, shape) or np.reshape.",
    "setfield": "build a new array instead.",
    "setflags": "build a new array instead.",
}


def _ndarray_attribute(name: str) -> Any:
    """What a traced value has for the ndarray attribute ``name`` that Traced does not define:
    the NumPy function (``_METHODS``), a property (``_PROPERTIES``), else a refusal. A method
    that cannot be traced refuses when called, so that hasattr() stays truthful; another
    attribute raises AttributeError."""
    fn = _METHODS.get(name)
    if fn is not None:
        def method(self: Traced, *args: Any, **kwargs: Any) -> Any:
            return fn(self, *args, **kwargs)

        method.__name__ = name
        return method
    prop = _PROPERTIES.get(name)
    if prop is not None:
        return property(prop)
    if name in _IN_PLACE_METHODS:
        message = (f"x.{name}(...) changes an array in place, which the tape cannot "
                   "record; " + _IN_PLACE_METHODS[name])
    else:
        message = (f"x.{name} on a traced array is not supported by adcheck (it would "
                   "leave the tape); use a NumPy function on the array instead, or make "
                   "the computation a primitive with @adcheck.primitive and register an "
                   "adjoint.")
    if not callable(getattr(np.ndarray, name)):
        def unsupported(self: Traced) -> Any:
            raise AttributeError(message)

        return property(unsupported)

    def refuse(self: Traced, *args: Any, **kwargs: Any) -> Any:
        raise NotDifferentiable(message)

    refuse.__name__ = name
    return refuse


# Set on the class rather than found by a __getattr__: with one, CPython reads every
# attribute of a traced value (t._value, t._tape on the hot path) on its slow path.
for _name in sorted(set(dir(np.ndarray)) | _METHODS.keys() | _PROPERTIES.keys()):
    if not _name.startswith("__") and _name not in vars(Traced):
        setattr(Traced, _name, _ndarray_attribute(_name))
