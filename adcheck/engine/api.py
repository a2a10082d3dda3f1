"""Differentiation entry points: pullback, gradient, derivative, jacobian, hessian, trace.

>>> import numpy as np
>>> import adcheck as ad
>>> s = lambda x: np.sin(x ** 2) * 5
>>> y, back = ad.pullback(s, 4.0)
>>> float(y), back(1.0)
(-1.4395165833253265, (-38.30637921293538,))
"""

from __future__ import annotations

import contextlib
import copy
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..tree import flatten, is_container, leaf_paths, unflatten
from .errors import NotDifferentiable
from .params import Grads, Param, Params
from .tape import Tape
from .tracer import Traced, active_params, check_fresh, plain_array

__all__ = ["pullback", "gradient", "derivative", "jacobian", "hessian", "trace", "Trace"]


# -- turning inputs into traced values and back ---------------------------------------------


class _Input:
    """Bookkeeping for one differentiable leaf: its slot and how to hand its gradient back."""

    __slots__ = ("slot", "shape", "dtype", "kind")

    def __init__(self, slot: int, shape: tuple, dtype: np.dtype, kind: str):
        self.slot = slot
        self.shape = shape
        self.dtype = dtype
        self.kind = kind  # "python", "scalar" (a NumPy scalar), "array" or "traced"

    def gradient(self, cts: dict[int, Any]) -> Any:
        """The cotangent of this input, of the same kind as the input was."""
        g = cts.get(self.slot)
        if g is None:
            g = np.zeros(self.shape, self.dtype)
        if type(g) is Traced:
            return g
        if self.kind == "python":
            return float(g)
        if self.kind == "array" and type(g) is not np.ndarray:
            return np.asarray(g)
        if self.kind == "scalar" and type(g) is np.ndarray:
            return g[()]
        return g


def _box_leaf(leaf: Any, tape: Tape, name: str) -> tuple[Any, _Input | None]:
    """A traced stand-in for one leaf, or the leaf itself when it is not differentiable."""
    t = type(leaf)
    if leaf is None or t is bool or t is str or isinstance(leaf, (np.bool_, type)):
        return leaf, None
    if t is Param:  # a parameter passed explicitly is differentiated as its array
        leaf, t = leaf._data, np.ndarray
    if t is Traced:
        value = leaf
        shape, dtype, kind = leaf.shape, leaf.dtype, "traced"
    elif t is complex:
        raise TypeError(_COMPLEX)
    elif t is int or t is float:
        value = np.float64(leaf)
        shape, dtype, kind = (), value.dtype, "python"
    elif isinstance(leaf, (np.ndarray, np.generic)):
        if t is not np.ndarray and isinstance(leaf, np.ndarray):
            leaf = plain_array(leaf, f"passed as {name}")
        kind = leaf.dtype.kind
        if kind in "iu":
            value = np.asarray(leaf, dtype=np.float64)
        elif kind == "f":
            value = leaf.view(np.ndarray) if isinstance(leaf, np.ndarray) else leaf
        elif kind == "c":
            raise TypeError(_COMPLEX)
        else:
            return leaf, None
        shape, dtype = np.shape(value), value.dtype
        kind = "array" if isinstance(leaf, np.ndarray) else "scalar"
    else:
        return leaf, None
    slot = tape.new_slot(shape, dtype)
    tape.names[slot] = name
    if kind == "array" or kind == "traced":
        tape.add_input(value, name)
    return Traced(value, tape, slot), _Input(slot, shape, dtype, kind)


_COMPLEX = (
    "complex inputs are not supported by adcheck's rules yet; differentiate the real and "
    "imaginary parts as separate real arrays."
)


def _box_tree(tree: Any, tape: Tape, name: str) -> tuple[Any, list]:
    leaves, spec = flatten(tree)
    boxed, infos = [], []
    for leaf, path in zip(leaves, leaf_paths(tree, name)):
        b, info = _box_leaf(leaf, tape, path)
        boxed.append(b)
        infos.append(info)
    return unflatten(spec, boxed), [spec, infos]


def _grad_tree(record: list, cts: dict[int, Any]) -> Any:
    spec, infos = record
    return unflatten(spec, [None if i is None else i.gradient(cts) for i in infos])


def _arg_names(f: Callable, n: int) -> list[str]:
    code = getattr(f, "__code__", None)
    if code is not None and code.co_argcount >= n and not (code.co_flags & 0x04):
        return list(code.co_varnames[:n])
    if n == 1:
        return ["x"]
    return [f"x{i + 1}" for i in range(n)]


# -- what f closes over ----------------------------------------------------------------------


class _FunctionInputs:
    """Trace the values a function closes over, or a callable object's fields."""

    def __init__(self, f: Callable, tape: Tape, seen: set[int] | None = None):
        self.f = f
        self.tape = tape
        self.cells: list[tuple[Any, str, Any, list]] = []  # (cell, name, old, record)
        # what the gradient dict holds, in closure order: (name, record or inner function)
        self.names: list[tuple[str, Any]] = []
        self.object_record: list | None = None
        self.owner: Any = f  # the object whose fields are traced (a bound method's self)
        self.callable = f
        # functions and closure cells already traced (shared variables, recursion)
        self.seen = seen if seen is not None else set()

    def __enter__(self) -> Callable:
        f = self.f
        if isinstance(f, types.FunctionType):
            self.seen.add(id(f))
            for name, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):
                if id(cell) in self.seen:  # a variable shared with a closure seen already
                    continue
                self.seen.add(id(cell))
                try:
                    old = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
                if isinstance(old, types.FunctionType) and id(old) not in self.seen:
                    # A helper closure (def layer(x): return W @ x): what it closes over is
                    # part of what f closes over.
                    inner = _FunctionInputs(old, self.tape, self.seen)
                    inner.__enter__()
                    if inner.names:
                        self.names.append((name, inner))
                    else:
                        inner.__exit__()
                    continue
                if callable(old) and not is_container(old):
                    continue
                boxed, record = _box_tree(old, self.tape, name)
                if not any(i is not None for i in record[1]):
                    continue
                cell.cell_contents = boxed
                self.cells.append((cell, name, old, record))
                self.names.append((name, record))
        elif isinstance(f, types.MethodType):
            # A bound method: its object's fields, as for a callable object.
            owner = f.__self__
            if is_container(owner):
                boxed, self.object_record = _box_tree(owner, self.tape, type(owner).__name__)
                self.owner = owner
                self.callable = types.MethodType(f.__func__, boxed)
            elif hasattr(owner, "__dict__") and not isinstance(owner, (type, types.ModuleType)):
                self.callable = types.MethodType(f.__func__, self._boxed_object(owner))
        elif not isinstance(f, (types.BuiltinFunctionType, np.ufunc)):
            if is_container(f):
                boxed, self.object_record = _box_tree(f, self.tape, type(f).__name__)
                self.callable = boxed
            elif hasattr(f, "__dict__"):
                self.callable = self._boxed_object(f)
        return self.callable

    def _boxed_object(self, owner: Any) -> Any:
        obj = copy.copy(owner)
        fields = dict(vars(owner))
        boxed, self.object_record = _box_tree(fields, self.tape, type(owner).__name__)
        obj.__dict__.update(boxed)
        self.owner = owner
        return obj

    def __exit__(self, *exc: Any) -> None:
        for cell, _, old, _ in self.cells:
            cell.cell_contents = old
        for _, held in self.names:
            if isinstance(held, _FunctionInputs):
                held.__exit__()

    def gradient(self, cts: dict[int, Any]) -> Any:
        if self.names:
            return {
                name: held.gradient(cts) if isinstance(held, _FunctionInputs)
                else _grad_tree(held, cts)
                for name, held in self.names
            }
        if self.object_record is not None:
            grads = _grad_tree(self.object_record, cts)
            if is_container(self.owner):
                return grads
            obj = copy.copy(self.owner)
            obj.__dict__.update(grads)
            return obj
        return None


# -- the entry points ------------------------------------------------------------------------


def pullback(f: Callable, *args: Any, include_fn: bool = False) -> tuple[Any, Callable]:
    """Run ``f(*args)`` recording a tape; return the value and its pullback.

    ``back(dy)`` maps a cotangent of the output (same structure as the output; ``None`` in
    place of one output's cotangent stands for zeros, but ``back(None)`` raises) to a tuple with
    one cotangent per argument (same structure as the argument; ``None`` for arguments that
    are not differentiable, such as booleans). With ``include_fn=True`` the tuple starts with
    the gradient with respect to what ``f`` closes over (a dict by variable name) or, for a
    callable object, its fields (an object of the same type). ``back`` may be called again.

    ``back`` reads the arguments, the returned values and the constants ``f`` used: when
    one of them was changed in place since, it raises NotDifferentiable instead of
    pulling back through the new numbers (small constants are copied, so changing those is
    fine). Every array ``back`` returns is the caller's own (no two share memory, nor
    with ``dy``). ``back`` may be called from several threads at once.

    >>> import numpy as np
    >>> f = lambda x: np.array([1.0, 0.0]) * x[0] + np.array([0.0, 1.0]) * x[0] * x[1]
    >>> y, back = pullback(f, np.array([1.0, 2.0]))
    >>> back(np.array([0.0, 1.0]))
    (array([2., 1.]),)
    >>> addg = (lambda b: lambda a: a + b)(3)      # closes over b = 3
    >>> pullback(addg, 4, include_fn=True)[1](1.0)
    ({'b': 1.0}, 1.0)
    """
    y, back, _ = _pullback(f, args, include_fn, Tape(keep_args=False), guard=True)
    return y, back


def _pullback(
    f: Callable, args: tuple, include_fn: bool, tape: Tape, guard: bool = False
) -> tuple[Any, Callable, Callable]:
    """Record ``f(*args)`` on ``tape``; return the value, ``back`` and the raw ``sweep``.

    With ``guard``, the caller's arrays (inputs and the returned values) are fingerprinted,
    so that ``back`` raises when one was changed in place before it is called. Constants
    captured by rules are always kept safe (copied, or fingerprinted and checked).
    """
    names = _arg_names(f, len(args))
    boxed_args, records = [], []
    for a, name in zip(args, names):
        boxed, record = _box_tree(a, tape, name)
        boxed_args.append(boxed)
        records.append(record)
    fn_inputs = _FunctionInputs(f, tape) if include_fn else None
    if guard:
        for value, name in tape.inputs:
            tape.guard(value, f"the argument {name}")
    try:
        if fn_inputs is not None:
            with fn_inputs as g:
                out = g(*boxed_args)
        else:
            out = f(*boxed_args)
    finally:
        tape.close()

    out_leaves, out_spec = flatten(out)
    out_slots = []
    values = []
    for leaf in out_leaves:
        if type(leaf) is Traced and leaf._tape is tape:
            check_fresh(leaf)
            out_slots.append((leaf._slot, leaf.shape, leaf.dtype))
            values.append(leaf._value)
            if guard and isinstance(leaf._value, np.ndarray):
                tape.guard(leaf._value, "the value pullback returned")
        else:
            if type(leaf) is Traced and leaf._tape.level > tape.level:
                raise NotDifferentiable("a traced value of an inner level escaped its pullback")
            if np.iscomplexobj(leaf) and type(leaf) is not Traced:
                raise NotDifferentiable(
                    "the function returned a complex value; adcheck differentiates real "
                    "functions only so far. Return its real part or its absolute value."
                )
            out_slots.append(None)
            values.append(leaf)
    y = unflatten(out_spec, values)
    out_arrays = [v for v in values if isinstance(v, np.ndarray)]

    def sweep(dy: Any) -> dict[int, Any]:
        if dy is None:
            raise ValueError(
                "back(None): pass the cotangent of the output, e.g. back(1.0) for a scalar "
                "output or back(np.ones_like(y)); a zero cotangent gives zero gradients."
            )
        if out_spec.kind is None:  # one array out: dy may be any array-like, e.g. a list
            dy_leaves, dy_spec = [dy], out_spec
        else:
            dy_leaves, dy_spec = flatten(dy)
        if len(dy_leaves) != len(out_leaves) or (len(out_leaves) > 1 and dy_spec != out_spec):
            raise ValueError(
                f"the cotangent must have the output's structure {out_spec!r}, got {dy_spec!r}"
            )
        seeds: dict[int, Any] = {}
        for d, info in zip(dy_leaves, out_slots):
            if info is None or d is None:
                continue
            slot, shape, dtype = info
            if type(d) is not Traced:
                d = np.asarray(d)
                if d.dtype != dtype:
                    if d.dtype.kind == "c":
                        raise TypeError(
                            "a complex cotangent for a real output: its imaginary part "
                            "would be dropped. Pass a real cotangent (its real part is "
                            "np.real(dy))."
                        )
                    d = d.astype(dtype)
            if np.shape(d) != shape:
                raise ValueError(
                    f"the cotangent has shape {np.shape(d)} but the output has shape {shape}; "
                    "pass one value per output element."
                )
            seeds[slot] = d if slot not in seeds else seeds[slot] + d
        tape.verify()
        return tape.backward(seeds)

    def back(dy: Any) -> tuple:
        cts = sweep(dy)
        grads = tuple(_grad_tree(r, cts) for r in records)
        if fn_inputs is not None:
            grads = (fn_inputs.gradient(cts),) + grads
        return _own(grads, dy, tape, out_arrays)

    return y, back, sweep


def _own(grads: Any, dy: Any, tape: Tape, outputs: list = ()) -> Any:
    """``grads`` with every array the caller's own: an array that is another gradient's, or
    shares memory with the cotangent ``dy`` or an input, is copied (rules may return ``dy``
    itself or views of it, e.g. the adjoints of ``+`` and ``np.concatenate``), and so is a
    read-only one (a rule may return ``np.broadcast_to(dy, shape)`` without a copy)."""
    leaves, spec = flatten(grads)
    owners: dict[int, list] = {}
    for a in flatten(dy)[0] + [a for a, _ in tape.inputs] + list(outputs):
        if isinstance(a, np.ndarray):
            owners.setdefault(id(_owner(a)), []).append(a)
    changed = False
    for i, g in enumerate(leaves):
        if type(g) is not np.ndarray:
            continue
        key = id(_owner(g))
        others = owners.get(key)
        if not g.flags.writeable or (
                others is not None and any(np.may_share_memory(g, o) for o in others)):
            g = leaves[i] = g.copy()
            changed = True
            key = id(g)
        owners.setdefault(key, []).append(g)
    return unflatten(spec, leaves) if changed else grads


def _owner(a: np.ndarray) -> Any:
    base = a.base
    return a if base is None else base


def gradient(f: Callable, *args: Any) -> Any:
    """The gradient of a scalar function: one entry per argument, shaped like the argument.

    With a single :class:`Params` argument, ``f`` takes no arguments and the result is a
    :class:`Grads` indexed by parameter. While ``f`` runs, the array arguments are read-only
    (a write into one, e.g. through a global name, raises NotDifferentiable); their flags
    are restored before ``gradient`` returns.

    Thread safety: any number of threads may take gradients at the same time, also over
    the same parameters or of functions that share constants, as long as no thread changes
    in place an array another thread's differentiation reads (a parameter updated by
    ``W -= g`` while another thread differentiates through ``W``), and no thread registers
    rules or enters :func:`adcheck.scoped_rules` meanwhile (the rule registry is shared).

    >>> gradient(lambda x, y: 2 * x + 3 * y, 1, 1)
    (2.0, 3.0)
    """
    if len(args) == 1 and isinstance(args[0], Params):
        with _read_only([p._data for p in args[0]]):
            return _gradient_params(f, args[0])
    with _read_only(flatten(args)[0]):
        y, back, _ = _pullback(f, args, False, Tape(keep_args=False))
        return back(_scalar_seed(y))


# id(array) -> [array, holders]: the caller's arrays made read-only while a gradient is taken
_READ_ONLY: dict[int, list] = {}
_READ_ONLY_LOCK = threading.Lock()


@contextlib.contextmanager
def _read_only(leaves: list) -> Iterator[None]:
    """Make the caller's arrays among ``leaves`` read-only for the duration (the tape reads
    them when it sweeps back), restoring their flags after; NumPy's read-only error from a
    write into one becomes a NotDifferentiable that says why."""
    mine = []
    with _READ_ONLY_LOCK:
        for a in leaves:
            if type(a) is not np.ndarray:
                continue
            held = _READ_ONLY.get(id(a))
            if held is not None:  # another gradient (nested, or another thread) holds it
                held[1] += 1
            elif a.flags.writeable:
                a.flags.writeable = False
                _READ_ONLY[id(a)] = [a, 1]
            else:
                continue
            mine.append(a)
    try:
        yield
    except ValueError as exc:
        if mine and "read-only" in str(exc):
            raise NotDifferentiable(
                "the function wrote into one of its array arguments (through another name, "
                "e.g. a global) while its gradient was taken: NumPy's result would use the "
                "changed numbers, the tape the old ones. Arguments are read-only during "
                "adcheck.gradient; compute a new array instead."
            ) from exc
        raise
    finally:
        with _READ_ONLY_LOCK:
            for a in mine:
                held = _READ_ONLY[id(a)]
                held[1] -= 1
                if held[1] == 0:
                    del _READ_ONLY[id(a)]
                    try:
                        a.flags.writeable = True
                    except ValueError:  # its base became read-only meanwhile
                        pass


def _scalar_seed(y: Any) -> Any:
    if y is None:
        raise ValueError(
            "gradient needs one scalar output, but the function returned None: is a "
            "`return` missing?"
        )
    if type(y) is Traced:
        if y.shape != ():
            raise ValueError(_not_scalar(y.shape))
        return np.ones((), y.dtype)
    if is_container(y):
        raise ValueError(
            f"gradient needs one scalar output, but the function returned a "
            f"{type(y).__name__}; return one scalar, or use adcheck.pullback with a "
            "cotangent of the output's structure."
        )
    shape = np.shape(y)
    if shape != () or not np.issubdtype(np.result_type(y), np.number):
        raise ValueError(_not_scalar(shape) if shape != () else
                         f"gradient needs a real scalar output, got {type(y).__name__}")
    return np.ones((), np.result_type(y))


def _not_scalar(shape: tuple) -> str:
    return (
        f"gradient needs a scalar output, but the function returned shape {shape}; reduce it "
        "(e.g. .sum()) or use adcheck.pullback / adcheck.jacobian."
    )


def _gradient_params(f: Callable, params: Params) -> Grads:
    tape = Tape(keep_args=False)
    slots = []
    # This thread's parameters only: another thread may record its own gradient over the
    # same parameters, or use them as constants, at the same time.
    thread = threading.get_ident()
    outer = active_params.get(thread)
    mine = dict(outer) if outer else {}
    for p in params:
        slot = tape.new_slot(np.shape(p._data), p._data.dtype)
        tape.names[slot] = f"p{len(slots) + 1}"
        mine[id(p)] = box = Traced(p._data, tape, slot)
        tape.add_input(box._value)
        slots.append(slot)
    active_params[thread] = mine
    try:
        y, _, sweep = _pullback(f, (), False, tape)
    finally:
        if outer is None:
            del active_params[thread]
        else:
            active_params[thread] = outer
    cts = sweep(_scalar_seed(y))
    arrays = [cts.get(slot) for slot in slots]
    arrays = _own([np.zeros(p.shape, p.dtype) if g is None else g
                   for p, g in zip(params, arrays)], None, tape)
    return Grads({id(p): g for p, g in zip(params, arrays)}, params)


def derivative(f: Callable) -> Callable:
    """``f'`` for a scalar function of one scalar (Zygote's ``f'``).

    >>> derivative(lambda x: 5 * x + 3)(10)
    5.0
    """

    def df(x: Any) -> Any:
        return gradient(f, x)[0]

    df.__name__ = f"d{getattr(f, '__name__', 'f')}"
    return df


def jacobian(f: Callable, *args: Any, mode: str = "rev") -> tuple:
    """Jacobians, one per argument, shaped ``out.shape + arg.shape``.

    ``mode="rev"`` (the default) takes one reverse sweep per output entry (row by row);
    ``mode="fwd"`` one Jacobian-vector product per input entry (column by column, see
    :mod:`adcheck.engine.forward`), cheaper when the inputs are fewer than the outputs.

    >>> jacobian(lambda x: np.array([1.0, 0.0]) * x[0] * x[1], np.array([2.0, 3.0]))[0]
    array([[3., 2.],
           [0., 0.]])
    >>> jacobian(lambda x: np.array([1.0, 0.0]) * x[0] * x[1], np.array([2.0, 3.0]),
    ...          mode="fwd")[0]
    array([[3., 2.],
           [0., 0.]])
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"mode must be 'rev' or 'fwd', got {mode!r}")
    with _read_only(flatten(args)[0]):
        if mode == "fwd":
            from .forward import jacobian_fwd  # forward builds on this module

            return jacobian_fwd(f, args)
        return _jacobian(f, args)


def _jacobian(f: Callable, args: tuple) -> tuple:
    y, back, _ = _pullback(f, args, False, Tape(keep_args=False))
    if type(y) is Traced:
        out_shape = y.shape
    else:
        out_shape = np.shape(y)
        if is_container(y):
            raise TypeError("jacobian needs a function that returns one array")
    n_out = int(np.prod(out_shape))
    dtype = np.result_type(y) if type(y) is not Traced else y.dtype
    rows = []
    for k in range(n_out):
        e = np.zeros(n_out, dtype)
        e[k] = 1.0
        rows.append(back(e.reshape(out_shape)))
    result = []
    for i in range(len(args)):
        leaves = [r[i] for r in rows]
        if leaves[0] is None:
            result.append(None)
            continue
        stacked = np.stack([np.asarray(g) if type(g) is not Traced else g for g in leaves])
        result.append(np.reshape(stacked, out_shape + np.shape(leaves[0])))
    return tuple(result)


def hessian(f: Callable, x: Any) -> Any:
    """The exact Hessian of a scalar function, by differentiating its gradient (nested levels).

    >>> hessian(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return jacobian(lambda v: gradient(f, v)[0], x)[0]


class Trace:
    """A recorded Wengert list: ``str()`` prints one ``y_k = fn(args)`` line per primitive."""

    def __init__(self, tape: Tape, value: Any):
        self.tape = tape
        self.value = value

    @property
    def entries(self) -> list:
        return self.tape.entries

    def __len__(self) -> int:
        return len(self.tape.entries)

    def __str__(self) -> str:
        return str(self.tape)

    def __repr__(self) -> str:
        return f"Trace({len(self)} entries)\n{self}"


def trace(f: Callable, *args: Any, record_source: bool = False) -> Trace:
    """Record ``f(*args)`` and return its Wengert list.

    >>> print(trace(lambda x: np.sin(x ** 2) * 5.0, 4.0))
    y1 = square(x)
    y2 = sin(y1)
    y3 = multiply(y2, 5.0)
    """
    tape = Tape(record_source=record_source)
    y, _, _ = _pullback(f, args, False, tape)
    return Trace(tape, y)
