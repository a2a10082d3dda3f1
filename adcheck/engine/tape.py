"""The tape: a Wengert list of primitive calls in execution order, and the reverse sweep.

Every traced value names a *slot* on its tape. Each entry records one primitive call: the
slots it read, the slot(s) it wrote, and the pullback its rule returned. The reverse sweep
walks the entries backwards, hands each pullback the cotangent of its output, and adds what
comes back into the cotangents of the inputs (the chain rule, one line at a time). It frees
each output's cotangent as soon as it has been pulled back.

>>> import numpy as np
>>> import adcheck as ad
>>> print(ad.trace(lambda x: np.sin(x ** 2) * 5.0, 4.0))
y1 = square(x)
y2 = sin(y1)
y3 = multiply(y2, 5.0)
"""

from __future__ import annotations

import itertools
import os
import sys
import types
import zlib
from typing import Any

import numpy as np

from ..tree import unflatten
from .errors import NotDifferentiable, RuleError

__all__ = ["Tape", "Entry"]

_level_counter = itertools.count(1)


class Entry:
    """One line of the Wengert list: ``outputs = fn(*args, **kwargs)`` and its pullback.

    ``inputs`` holds ``(position, item, slot, shape, dtype)`` for each traced argument
    (``item`` is the index inside a list argument such as ``np.stack([a, b])``, else -1).
    ``args`` are the values the rule saw, so a checker can re-run the rule right there; on a
    tape that does not keep them (``Tape(keep_args=False)``) it is only their number.
    """

    __slots__ = ("fn", "rule", "args", "kwargs", "pullback", "inputs", "outputs", "out_meta",
                 "source")

    def __init__(self, fn, rule, args, kwargs, pullback, inputs, outputs, out_meta, source):
        self.fn = fn
        self.rule = rule
        self.args = args
        self.kwargs = kwargs
        self.pullback = pullback
        self.inputs = inputs
        self.outputs = outputs  # a slot, or a tuple of slots for a tuple-valued primitive
        # for a primitive with several outputs: (TreeSpec, [(shape, dtype) or None per leaf])
        self.out_meta = out_meta
        self.source = source  # (file, line, function) of the user's call, when recorded


class Tape:
    """The recording of one differentiation level.

    Levels nest: a pullback taken while another is being recorded gets a higher level, and
    values of both levels may meet in one operation (the higher level is handled first).
    """

    __slots__ = ("level", "records", "rules", "pullbacks", "n_slots", "shapes", "dtypes", "names",
                 "closed", "record_source", "keep_args", "watch", "writes", "views", "inputs",
                 "guards", "guarded")

    def __init__(self, record_source: bool = False, keep_args: bool = True):
        self.level = next(_level_counter)
        # One per primitive call, in three lists: the rule (which knows the function), the
        # pullback, and the plain data of the call. The cyclic GC untracks a tuple that holds
        # only numbers, arrays, None and such tuples (one level of nesting per pass), so a
        # record holds no function or dict (kwargs None when empty) and nests two deep at
        # most (inputs flat: position, item, slot, ...): it is untracked before it reaches
        # the oldest generation, and a long tape costs fewer full collections.
        self.records: list[tuple] = []  # (args, kwargs, inputs, outputs, out_meta, source)
        self.rules: list[Any] = []
        self.pullbacks: list[Any] = []
        # every slot's shape and dtype (what its cotangent must have), indexed by slot
        self.n_slots = 0
        self.shapes: list[tuple] = []
        self.dtypes: list[Any] = []
        self.names: dict[int, str] = {}  # input slot -> readable name
        self.closed = False
        self.record_source = record_source
        # The arguments of each call, for checkers that re-run a rule where it was used.
        # gradient and pullback do without: an intermediate array then lives only as long
        # as a pullback needs it (sum(sin(x)) keeps no copy of sin(x) for the sum's entry).
        self.keep_args = keep_args
        # True once every use of a traced value must be checked (the tape is closed, or an
        # in-place write made older values stale): the hot path tests only this flag.
        self.watch = False
        # in-place writes others could see: (first slot made after the write, the array
        # NumPy would have written, what wrote it)
        self.writes: list[tuple[int, Any, str]] = []
        self.views: list[tuple[int, Any]] = []  # (slot, value) of outputs that are views
        self.inputs: list[tuple[Any, str]] = []  # (array, name): the caller's arrays
        # arrays the pullbacks read that the caller can change: (array, fingerprint, what)
        self.guards: list[tuple[Any, Any, str]] = []
        self.guarded: set[int] = set()  # their ids

    @property
    def entries(self) -> list[Entry]:
        """The recorded lines, as :class:`Entry` objects."""
        out = []
        for (args, kwargs, flat, outputs, meta, source), rule, pullback in zip(
                self.records, self.rules, self.pullbacks):
            it = iter(flat)
            inputs = [(pos, item, slot, self.shapes[slot], self.dtypes[slot])
                      for pos, item, slot in zip(it, it, it)]
            out.append(Entry(rule.fn, rule, args, kwargs or {}, pullback, inputs, outputs, meta,
                             source))
        return out

    def new_slot(self, shape: tuple, dtype: Any) -> int:
        """A new slot for a value of this shape and dtype."""
        s = self.n_slots
        self.n_slots = s + 1
        self.shapes.append(shape)
        self.dtypes.append(dtype)
        return s

    def close(self) -> None:
        """End the recording: a traced value used from now on raises."""
        self.closed = True
        self.watch = True

    def add_input(self, value: Any, name: str = "") -> None:
        """Note an array of the caller's that a traced input stands for."""
        from .tracer import strip

        value = strip(value)
        if isinstance(value, np.ndarray):
            self.inputs.append((value, name))

    # -- arrays the caller could change before the reverse sweep reads them ------------------

    def keep_constant(self, a: np.ndarray, fn: Any) -> np.ndarray:
        """What a rule gets for the constant array ``a``: a copy when it is small (so that
        changing ``a`` later changes nothing, as in NumPy), else ``a`` itself with a
        fingerprint that :meth:`verify` compares before the reverse sweep reads it."""
        if a.nbytes <= COPY_BYTES or a.dtype.hasobject:
            return a.copy(order="K")
        if id(a) not in self.guarded:  # once per array: the label walks the stack
            self.guard(a, f"an array that {_label(fn)} used as a constant{_where()}")
        return a

    def guard(self, a: np.ndarray, what: str) -> None:
        """Fingerprint ``a`` now, so that :meth:`verify` can tell whether it was changed."""
        if id(a) not in self.guarded:
            self.guarded.add(id(a))
            self.guards.append((a, fingerprint(a), what))

    def verify(self) -> None:
        """Raise NotDifferentiable when an array the pullbacks read was changed in place."""
        for a, fp, what in self.guards:
            if fingerprint(a) != fp:
                raise NotDifferentiable(
                    f"{what} was changed in place after it was used, so the pullback would "
                    "read the new values while the result was computed from the old ones. "
                    "Change a copy instead (a = a.copy() before changing it), or call back() "
                    "before changing it."
                )

    # -- the reverse sweep -------------------------------------------------------------

    def backward(self, seeds: dict[int, Any]) -> dict[int, Any]:
        """Pull the output cotangents ``seeds`` (slot -> cotangent) back to every input slot.

        Returns the cotangents left at the end: those of slots no entry produced (the inputs).
        """
        cts = dict(seeds)
        pop = cts.pop
        records, rules, pullbacks = self.records, self.rules, self.pullbacks
        shapes, dtypes = self.shapes, self.dtypes
        for k in range(len(records) - 1, -1, -1):
            args, _, inputs, outs, out_meta, _ = records[k]
            if type(outs) is int:
                dy = pop(outs, None)
                if dy is None:
                    continue
            else:
                dys = [pop(s, None) for s in outs]
                if all(d is None for d in dys):
                    continue
                spec, metas = out_meta
                dys = [
                    d if d is not None else None if m is None else np.zeros(m[0], m[1])
                    for d, m in zip(dys, metas)
                ]
                # the cotangent has the output's structure (a namedtuple or dataclass stays one)
                dy = unflatten(spec, dys)
            grads = pullbacks[k](dy)
            if type(grads) is not tuple:
                grads = _as_tuple(grads, rules[k].fn)
            n_args = args if type(args) is int else len(args)
            if len(grads) != n_args:
                raise RuleError(
                    f"the adjoint of {_name(rules[k].fn)} returned {len(grads)} cotangent(s) for "
                    f"{n_args} positional argument(s); its pullback must return one "
                    "per positional argument (None for those that are not differentiable)."
                )
            # inputs is flat: (position, item, slot)*; most entries have one, unpacked as is
            for pos, item, slot in (inputs,) if len(inputs) == 3 else _triples(inputs):
                g = grads[pos]
                if type(g) is _FUNCTION:  # a lazy cotangent: computed only when needed
                    g = g()
                    if item >= 0:  # the other items of this list argument reuse it
                        grads = grads[:pos] + (g,) + grads[pos + 1:]
                if item >= 0 and g is not None:
                    g = g[item]
                if g is None:
                    continue
                shape, dtype = shapes[slot], dtypes[slot]
                if type(g) is not _NDARRAY or g.shape != shape or (
                        g.dtype is not dtype and g.dtype != dtype):
                    g = project(g, shape, dtype, rules[k].fn, pos)
                prev = cts.get(slot)
                cts[slot] = g if prev is None else prev + g
            # Let go of this entry's cotangents (and the lazy ones, which hold dy) before
            # the next pullback runs: only cts holds what is still needed.
            dy = grads = g = prev = None
        return cts

    # -- printing ------------------------------------------------------------------------

    def lines(self) -> list[str]:
        """The Wengert list as text, one ``y_k = fn(args)`` line per entry."""
        names = dict(self.names)
        counter = itertools.count(1)
        out = []
        for entry in self.entries:
            if type(entry.args) is int:  # a tape that kept no arguments: "..." for each
                entry.args = (_Unkept(),) * entry.args
            args: list = [_show(a) for a in entry.args]
            for pos, item, slot, _, _ in entry.inputs:
                label = names.get(slot, f"s{slot}")
                if item >= 0:
                    inner = args[pos]
                    if not isinstance(inner, list):
                        given = entry.args[pos]
                        inner = [_show(v) for v in given] if type(given) is not _Unkept else []
                    inner += ["..."] * (item + 1 - len(inner))
                    inner[item] = label
                    args[pos] = inner
                else:
                    args[pos] = label
            text = ", ".join(
                "[" + ", ".join(a) + "]" if isinstance(a, list) else a for a in args
            )
            if entry.kwargs:
                text += ", " + ", ".join(f"{k}={_show(v)}" for k, v in entry.kwargs.items())
            outs = (entry.outputs,) if type(entry.outputs) is int else entry.outputs
            labels = []
            for s in outs:
                names[s] = f"y{next(counter)}"
                labels.append(names[s])
            out.append(f"{', '.join(labels)} = {_name(entry.fn)}({text})")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


# Constants up to this size are copied when a rule captures them; larger ones fingerprinted.
COPY_BYTES = 4096


def fingerprint(a: np.ndarray) -> tuple:
    """What identifies ``a``'s contents, shape and layout (CRC-32 of its bytes).

    >>> a = np.arange(3.0)
    >>> before = fingerprint(a)
    >>> a[1] = 5.0
    >>> fingerprint(a) == before
    False
    """
    layout = (a.shape, a.strides, a.dtype.str, a.__array_interface__["data"][0])
    data = a
    if not data.flags.c_contiguous:
        data = data.T if data.flags.f_contiguous else np.ascontiguousarray(data)
    return layout, zlib.crc32(data) if data.size else 0


def _label(fn: Any) -> str:
    from ..registry import function_label

    return function_label(fn)


def _where() -> str:
    source = caller_source()
    if source is None:
        return ""
    return f" at {os.path.basename(source[0])}:{source[1]}"


def resolve(grads: tuple) -> tuple:
    """A pullback's cotangents with every lazy one (a zero-argument function) computed.

    Rules may return ``lambda: ...`` in place of a cotangent that is costly and often unused
    (the cotangent of a constant factor, say); the engine calls it only for arguments that
    are being differentiated. Checkers call this to see every cotangent.

    >>> resolve((1.0, lambda: 2.0, None))
    (1.0, 2.0, None)
    """
    return tuple(g() if type(g) is _FUNCTION else g for g in grads)


def _name(fn: Any) -> str:
    from ..registry import function_name

    return function_name(fn)


class _Unkept:
    """An argument a tape did not keep (``Tape(keep_args=False)``), printed as ``...``."""

    def __repr__(self) -> str:
        return "..."


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, type) or isinstance(value, np.dtype):
        return np.dtype(value).name
    return repr(value)


def _triples(flat: tuple) -> Any:
    """``(a, b, c, d, e, f)`` -> ``(a, b, c), (d, e, f)``."""
    it = iter(flat)
    return zip(it, it, it)


def _as_tuple(grads: Any, fn: Any) -> tuple:
    if isinstance(grads, list):
        return tuple(grads)
    raise RuleError(
        f"the adjoint of {_name(fn)} returned {type(grads).__name__} from its pullback; "
        "it must return a tuple with one cotangent per positional argument, "
        "e.g. `lambda dy: (dy * 2,)` for a function of one argument."
    )


# -- unbroadcasting and dtype projection, done once here so that rules stay short ----------


_NDARRAY = np.ndarray
_FUNCTION = types.FunctionType


def project(g: Any, shape: tuple, dtype: np.dtype, fn: Any, pos: int) -> Any:
    """Bring a rule's cotangent to its primal's shape (sum over broadcast axes) and dtype.

    >>> project(np.ones((4, 3)), (3,), np.dtype("float32"), None, 0)
    array([4., 4., 4.], dtype=float32)
    """
    g_shape = getattr(g, "shape", None)
    if g_shape is None:
        g = np.asarray(g)
        g_shape = g.shape
    if g_shape != shape:
        g = _unbroadcast(g, g_shape, shape, fn, pos)
    g_dtype = g.dtype
    if g_dtype != dtype:
        if g_dtype.kind == "c" and dtype.kind != "c":
            g = np.real(g)
        if g.dtype != dtype:
            g = _cast(g, dtype)
    return g


def _unbroadcast(g: Any, g_shape: tuple, shape: tuple, fn: Any, pos: int) -> Any:
    try:
        return sum_to(g, shape)
    except ValueError:
        who = f"the adjoint of {_name(fn)}" if fn is not None else "a cotangent"
        raise RuleError(
            f"{who} returned a cotangent of shape {g_shape} for argument {pos}, whose shape "
            f"is {shape}; a cotangent must have its argument's shape (or a shape that "
            "broadcasting produced from it)."
        ) from None


def sum_to(g: Any, shape: tuple) -> Any:
    """Sum ``g`` over the axes broadcasting added to ``shape``: the adjoint of broadcasting.

    Raises ValueError when broadcasting cannot have made ``g``'s shape from ``shape``.

    >>> sum_to(np.ones((4, 2, 3)), (2, 1))
    array([[12.],
           [12.]])
    """
    g_shape = np.shape(g)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, g_shape[lead:])):
        raise ValueError(f"shape {g_shape} is not a broadcast of {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g_shape[lead + i] != 1
    )
    if axes:
        g = np.sum(g, axis=axes)
    if np.shape(g) != shape:
        g = np.reshape(g, shape)
    return g


def fit(g: Any, like: Any) -> Any:
    """The cotangent ``g`` brought to the shape and dtype of its primal ``like``.

    Rules call this where broadcasting or type promotion may have changed the cotangent
    (binary ufuncs): it sums over broadcast axes and casts to ``like``'s float dtype, the same
    projection the engine applies, so a rule's own output is exact.

    >>> fit(np.ones((2, 3)), np.float32(1.0))
    np.float32(6.0)
    """
    if (type(like) is _NDARRAY and type(g) is _NDARRAY and g.shape == like.shape
            and (g.dtype is like.dtype or g.dtype == like.dtype)):
        return g  # the common case, kept cheap: rules call this on every pullback
    shape = np.shape(like)
    dtype = getattr(like, "dtype", None)
    if dtype is None:
        dtype = np.asarray(like).dtype
    if dtype.kind not in "fc":
        dtype = _FLOAT64
    g = project(g, shape, dtype, None, 0)
    if shape == () and type(g) is _NDARRAY and not isinstance(like, _NDARRAY):
        g = g[()]  # a scalar primal gets a scalar cotangent
    return g


_FLOAT64 = np.dtype(np.float64)


def _cast(g: Any, dtype: np.dtype) -> Any:
    from .tracer import Traced, cast

    if type(g) is Traced:
        return cast(g, dtype)
    return np.asarray(g).astype(dtype, copy=False)


def caller_source() -> tuple[str, int, str] | None:
    """The first frame outside adcheck and NumPy: where the user's code made the call."""
    skip = _skipped_dirs()
    frame = sys._getframe(1)
    while frame is not None:
        file = frame.f_code.co_filename
        if not file.startswith(skip):
            return file, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None


_SKIP: tuple[str, ...] = ()


def _skipped_dirs() -> tuple[str, ...]:
    global _SKIP
    if not _SKIP:
        from .. import rules

        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        _SKIP = (
            here + os.sep,
            os.path.dirname(os.path.abspath(rules.__file__)) + os.sep,
            os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
            "<__array_function__",
        )
    return _SKIP
