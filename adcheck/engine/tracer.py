"""Traced values: the boxes that carry an array through user code and record what happens to it.

A :class:`Traced` wraps a value (an array, or a ``Traced`` of a lower level when derivatives
are nested) together with its tape and slot. It speaks NumPy's protocols
(``__array_ufunc__``, ``__array_function__``) and Python's operators, so ``import numpy as np``
code runs unchanged; every primitive call goes through :func:`apply_primitive`, which asks the
registry for the rule, runs it on the unwrapped values, and appends one entry to the tape.

Anything that would let a value escape the tape (``np.asarray``, ``float``, ``math.sin``,
assignment into an array) raises :class:`NotDifferentiable` instead.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .. import domains, registry
from ..tree import rebuild_sequence
from .errors import HOW_TO_REGISTER, NotDifferentiable
from .tape import Tape, caller_source

__all__ = ["Traced", "apply_primitive", "has_traced", "strip", "cast", "getitem"]

_rules = registry._active
_nondiff = registry._nondiff

# id(param) -> the Traced standing for it while a gradient over Params is recorded
active_params: dict[int, Traced] = {}


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
            if len(inputs) == 1:
                return apply_unary(ufunc, inputs[0])
            return apply_primitive(ufunc, inputs, {})
        name = f"np.{ufunc.__name__}"
        if "out" in kwargs:
            raise NotDifferentiable(
                f"{name}(..., out=...) writes into an array, which the tape cannot record. "
                f"Assign the result instead: y = {name}(...)."
            )
        if method != "__call__":
            if ufunc in _nondiff:  # e.g. np.logical_and.reduce, from x.all()
                return getattr(ufunc, method)(*strip(inputs), **kwargs)
            reduction = _UFUNC_REDUCTIONS.get((ufunc, method))
            if reduction is not None:
                return reduction(*inputs, **kwargs)
            raise NotDifferentiable(
                f"{name}.{method} is not differentiable by adcheck. "
                + HOW_TO_REGISTER.format(fn=f"{name}.{method}")
            )
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
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
        raise NotDifferentiable(
            "a traced value was converted to a plain NumPy array (np.asarray, np.array, or "
            "assignment into an array), which would drop it from the tape and give a wrong "
            "gradient. Build arrays from traced values with np.stack / np.concatenate, or the "
            "helpers in adcheck.numpy (array, full, set_at); for a function NumPy cannot "
            "trace, make it a primitive with @adcheck.primitive and register an adjoint."
        )

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
        return bool(strip(self))

    def __setitem__(self, key, value):
        raise NotDifferentiable(
            "writing into a traced array (x[i] = v) is not recorded by the tape. Write it "
            "functionally: x = adcheck.numpy.set_at(x, i, v), or use np.where."
        )

    # -- array attributes ----------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return np.shape(self._value)

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
        return cast(self, dtype)

    def copy(self, order: str = "K"):
        # A new array, as ndarray.copy: +x records an identity whose value is a fresh array.
        return apply_unary(np.positive, self)

    def __copy__(self):
        return self.copy()

    def argmax(self, *args, **kwargs):
        return np.argmax(strip(self), *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return np.argmin(strip(self), *args, **kwargs)

    def tolist(self):
        self._escape("tolist()")

    def item(self, *args):
        self._escape("item()")

    def __round__(self, ndigits=None):
        # round(x) is piecewise constant, like np.round: the concrete result, a constant.
        return round(strip(self), ndigits)

    def __getattr__(self, name: str):
        # Only reached for names Traced does not define: ndarray methods and properties.
        # Methods that cannot be traced fail when called, so that hasattr() stays truthful.
        fn = _METHODS.get(name)
        if fn is not None:
            return lambda *args, **kwargs: fn(self, *args, **kwargs)
        prop = _PROPERTIES.get(name)
        if prop is not None:
            return prop(self)
        if name.startswith("__") or not hasattr(np.ndarray, name):
            raise AttributeError(f"'Traced' object has no attribute {name!r}")
        if name in _IN_PLACE_METHODS:
            message = (f"x.{name}(...) changes an array in place, which the tape cannot "
                       "record; " + _IN_PLACE_METHODS[name])
        else:
            message = (f"x.{name} on a traced array is not supported by adcheck (it would "
                       "leave the tape); use a NumPy function on the array instead, or make "
                       "the computation a primitive with @adcheck.primitive and register an "
                       "adjoint.")
        if not callable(getattr(np.ndarray, name)):
            raise AttributeError(message)

        def refuse(*args: Any, **kwargs: Any):
            raise NotDifferentiable(message)

        return refuse

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
        return apply_primitive(getitem, (self, strip(key)), {})

    def __neg__(self):
        return apply_unary(np.negative, self)

    def __pos__(self):
        return self

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
        return np.equal(strip(self), strip(other))

    def __ne__(self, other):  # type: ignore[override]
        return np.not_equal(strip(self), strip(other))

    def __lt__(self, other):
        return np.less(strip(self), strip(other))

    def __le__(self, other):
        return np.less_equal(strip(self), strip(other))

    def __gt__(self, other):
        return np.greater(strip(self), strip(other))

    def __ge__(self, other):
        return np.greater_equal(strip(self), strip(other))

    __hash__ = object.__hash__


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
        if active_params and id(a) in active_params:
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
            if type(v) is Traced:
                raise NotDifferentiable(
                    f"{registry.function_label(fn)} got a traced value as keyword argument "
                    f"{k}=; pass it positionally so that its cotangent can be recorded."
                )
    if tape is None:  # nothing traced after all (e.g. only inactive parameters)
        return fn(*args, **kwargs)
    if tape.closed:
        _raise_closed()

    # Unwrap the top level; remember which arguments were traced at it.
    unwrapped = list(args)
    inputs = []
    for pos, a in enumerate(args):
        t = type(a)
        if t is Traced:
            if a._tape is tape:
                v = a._value
                unwrapped[pos] = v
                inputs.append((pos, -1, a._slot, _shape(v), _dtype(v)))
        elif t is list or t is tuple:
            items = list(a)
            for i, b in enumerate(a):
                if type(b) is Traced and b._tape is tape:
                    v = b._value
                    items[i] = v
                    inputs.append((pos, i, b._slot, _shape(v), _dtype(v)))
            unwrapped[pos] = t(items)
    return _record(fn, tape, unwrapped, kwargs, inputs)


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
    if tape.closed:
        _raise_closed()
    inputs = []
    if ta:
        va = a._value
        inputs.append((0, -1, a._slot, _shape(va), _dtype(va)))
    else:
        va = a
    if tb:
        vb = b._value
        inputs.append((1, -1, b._slot, _shape(vb), _dtype(vb)))
    else:
        vb = b
    return _record(fn, tape, [va, vb], _NO_KWARGS, inputs)


def apply_unary(fn: Any, a: Traced) -> Any:
    """:func:`apply_primitive` for ``fn(a)`` with a traced ``a``: unary operators and ufuncs."""
    tape = a._tape
    if tape.closed:
        _raise_closed()
    v = a._value
    if v.__class__ is _NDARRAY:
        return _record(fn, tape, [v], _NO_KWARGS, [(0, -1, a._slot, v.shape, v.dtype)])
    return _record(fn, tape, [v], _NO_KWARGS, [(0, -1, a._slot, _shape(v), _dtype(v))])


def _raise_closed():
    raise NotDifferentiable(
        "a traced value was used after its pullback finished recording (it escaped the "
        "function being differentiated, e.g. through a global or a closure); return "
        "it from the function instead."
    )


def _record(fn: Any, tape: Tape, unwrapped: list, kwargs: dict, inputs: list) -> Any:
    """Call ``fn``'s rule on the unwrapped arguments and append the entry to ``tape``."""
    rule = _rules.get(fn)
    if rule is None:
        if fn in _nondiff:
            return fn(*strip(tuple(unwrapped)), **kwargs)
        label = registry.function_label(fn)
        raise NotDifferentiable(
            f"{label} has no adjoint rule, so adcheck cannot differentiate it. "
            + HOW_TO_REGISTER.format(fn=label)
        )
    value, pullback = rule.rule(*unwrapped, **kwargs) if kwargs else rule.rule(*unwrapped)

    if value.__class__ is _NDARRAY:  # the common case first
        if value.dtype.kind not in "fc":
            return value
        outputs = tape.n_slots
        tape.n_slots = outputs + 1
        meta = None
        result = Traced(value, tape, outputs)
    elif isinstance(value, (tuple, list)):  # several outputs (namedtuples too: np.linalg.eigh)
        kind = type(value)
        if not any(_is_differentiable_value(v) for v in value):
            return value
        outs = []
        slots = []
        shapes = []
        for v in value:
            shapes.append((_shape(v), _dtype(v)))
            if _is_differentiable_value(v):
                s = tape.new_slot()
                slots.append(s)
                outs.append(Traced(v, tape, s))
            else:
                slots.append(-1)
                outs.append(v)
        result: Any = rebuild_sequence(kind, outs)
        outputs: Any = tuple(slots)
        meta = (kind, shapes)
    else:
        if not _is_differentiable_value(value):
            return value
        outputs = tape.n_slots
        tape.n_slots = outputs + 1
        meta = None
        result = Traced(value, tape, outputs)
    source = caller_source() if tape.record_source else None
    # Field order of tape.Entry.
    tape.records.append(
        (fn, rule, unwrapped, kwargs, pullback, inputs, outputs, meta, source)
    )
    return result


_NDARRAY = np.ndarray
_NO_KWARGS: dict = {}


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


def _is_differentiable_value(v: Any) -> bool:
    if v.__class__ is np.ndarray:
        return v.dtype.kind in "fc"
    d = getattr(v, "dtype", None)
    if d is None:
        return isinstance(v, (float, complex)) or type(v) is Traced
    return d.kind in "fc"


def _substitute_params(args: tuple) -> tuple:
    out = []
    for a in args:
        t = type(a)
        if t is list or t is tuple:
            a = t(active_params.get(id(b), b) for b in a)
        else:
            a = active_params.get(id(a), a)
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
    """``self {symbol} other`` as ``self = fn(self, other)``, when NumPy's in-place write
    could not be seen through another name or view; otherwise NotDifferentiable."""
    refs = sys.getrefcount(self)
    value = strip(self)
    if isinstance(value, np.ndarray):  # NumPy scalars are immutable: += rebinds there too
        why = None
        if refs > _INPLACE_REFS:
            why = ("another name, container or the caller (for an argument) refers to the "
                   "same array and would see the change")
        elif value.base is not None:
            why = ("it is a view of another array (a slice, reshape or transpose, or an "
                   "argument of the function), which would change too")
        elif _has_views(self):
            why = "a view of it (a slice, reshape or transpose) taken earlier would change too"
        if why is not None:
            raise NotDifferentiable(
                f"x {symbol} y on a traced array: NumPy would write into x in place, and {why}; "
                "the tape records values, not writes. Write it as a new array: "
                f"x = x {symbol[:-1]} y (and use adcheck.numpy.set_at for x[i] {symbol} y)."
            )
    return apply_binary(fn, self, other)


class _RefProbe:
    def __iadd__(self, other):
        return _probe_refs(self, None, other, "+=")


def _probe_refs(self, fn, other, symbol):
    return sys.getrefcount(self)  # the same call depth as _inplace's count


def _baseline_refs() -> int:
    probe: Any = _RefProbe()
    probe += None
    return probe


# References to a traced value bound to one name only, counted inside _inplace.
_INPLACE_REFS = _baseline_refs()


def _has_views(t: Traced) -> bool:
    """True when an entry recorded since ``t`` was made takes a view of it."""
    slot = t._slot
    for record in reversed(t._tape.records):
        outs = record[6]
        if (outs if type(outs) is int else max(outs)) < slot:
            break  # recorded before t existed
        fn = record[0]
        if fn in _VIEW_FUNCTIONS or (fn is getitem and _is_view_key(*record[2])):
            if any(s == slot for _, _, s, _, _ in record[5]):
                return True
    return False


def _is_view_key(x: Any, key: Any) -> bool:
    items = key if type(key) is tuple else (key,)
    basic = all(k is None or k is Ellipsis or isinstance(k, (int, slice, np.integer))
                for k in items)
    scalar = all(isinstance(k, (int, np.integer)) for k in items) and len(items) == np.ndim(x)
    return basic and not scalar


_VIEW_FUNCTIONS = {
    getattr(np, name) for name in (
        "reshape", "transpose", "swapaxes", "moveaxis", "ravel", "squeeze", "expand_dims",
        "broadcast_to", "real", "imag", "diagonal", "atleast_1d", "atleast_2d", "atleast_3d",
        "split", "array_split", "hsplit", "vsplit", "dsplit", "flip", "fliplr", "flipud",
        "rot90", "matrix_transpose", "permute_dims", "unstack",
    ) if hasattr(np, name)
}


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
    # The conjugate of a real array is the array (a copy, as NumPy's); NumPy's complex
    # conjugate has no rule.
    return np.positive(a) if a.dtype.kind != "c" else np.conjugate(a)


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
    "sort": "use np.sort(x) (and register an adjoint for it).",
    "partition": "use np.partition(x, k) (and register an adjoint for it).",
    "fill": "use np.full_like(x, v) or adcheck.numpy.full.",
    "put": "use adcheck.numpy.set_at(x, i, v).",
    "itemset": "use adcheck.numpy.set_at(x, i, v).",
    "resize": "use np.resize(x, shape) or np.reshape.",
    "setfield": "build a new array instead.",
    "setflags": "build a new array instead.",
}
