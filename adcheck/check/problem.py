"""The thing being checked, seen as one flat vector in and one flat vector out.

A :class:`Problem` holds a function, the point ``x0`` (every differentiable input entry, in
order, as one float64 vector), the function's outputs at ``x0``, and a pullback. The
comparisons in :mod:`adcheck.check.compare` only ever see

- ``evaluate(x)``: the function at a flat point, its floating outputs raveled into one vector;
- ``pull(dy)``: the pullback of a flat output cotangent, as a flat float64 vector plus the raw
  values the pullback returned (for shape and dtype checks).

Two kinds exist: :class:`RuleProblem` (one registered rule, called directly, its raw output
inspected: ``check_adjoint`` and ``verify``) and :class:`FunctionProblem` (the engine's
pullback of a composite function over pytrees: ``gradcheck``).

Float32 inputs are evaluated in float64 for finite differences when the function accepts
float64 (its float64 outputs are then a better reference than its float32 ones); otherwise in
their own precision, and the finite differences know it.

>>> import numpy as np
>>> p = RuleProblem(np.multiply, lambda x, y: (x * y, lambda dy: (dy * y, dy * x)),
...                 (np.array([1.0, 2.0]), 3.0), {})
>>> p.n, p.m, [leaf.path for leaf in p.leaves]
(3, 2, ['x', 'y'])
>>> p.evaluate(p.x0 + 1.0).tolist()
[8.0, 12.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.tape import resolve
from ..tree import flatten, is_container, unflatten

__all__ = ["Leaf", "OutLeaf", "Problem", "RuleProblem", "FunctionProblem", "Pulled", "PullError"]


class PullError(Exception):
    """The pullback raised, or returned something that is not one cotangent per input."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Leaf:
    """One differentiable input array (or number) and where its entries sit in ``x0``."""

    position: int  # positional argument of the function
    item: int | None  # index inside a list argument (rules) or leaf number in a pytree
    path: str  # readable name: "x", "xs[1]", "params['w']"
    shape: tuple
    dtype: np.dtype  # the dtype its cotangent must have
    offset: int
    size: int
    kind: str  # "array", "float" (Python), "scalar" (NumPy), "int" (promoted to float64)

    def entry_name(self, flat_index: int) -> str:
        """``x[1, 2]`` for the entry at ``flat_index`` (counted inside this leaf)."""
        if not self.shape:
            return self.path
        idx = np.unravel_index(flat_index, self.shape)
        return f"{self.path}[{', '.join(str(int(i)) for i in idx)}]"

    def entry_index(self, flat_index: int) -> tuple:
        return tuple(int(i) for i in np.unravel_index(flat_index, self.shape)) if self.shape else ()


@dataclass
class OutLeaf:
    """One floating output array and where its entries sit in the flat output vector."""

    position: int  # index among the flattened output leaves
    path: str
    shape: tuple
    dtype: np.dtype
    offset: int
    size: int


@dataclass
class Pulled:
    """One pullback call: the flat float64 cotangent and, per leaf, the raw value and issues."""

    flat: np.ndarray  # (n,) float64; entries of unusable leaves are 0
    raw: list  # per leaf: what the pullback returned (None, an array, a number)
    usable: np.ndarray  # (n,) bool: entries whose leaf had the right shape
    issues: list  # (kind, leaf index, message) for shape / dtype / count problems


def is_float_value(v: Any) -> bool:
    """True for Python floats, NumPy floating scalars and floating arrays.

    >>> is_float_value(1.0), is_float_value(np.float32(1)), is_float_value(1), is_float_value(True)
    (True, True, False, False)
    """
    if type(v) is float:
        return True
    if isinstance(v, (np.ndarray, np.generic)):
        return v.dtype.kind == "f"
    return False


def _leaf_kind(v: Any) -> str:
    if type(v) is float:
        return "float"
    if isinstance(v, np.generic):
        return "scalar"
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return "int"
    if isinstance(v, np.ndarray) and v.dtype.kind in "iu":
        return "int"
    return "array"


def _as_leaf_value(leaf: Leaf, flat: np.ndarray, dtype: np.dtype) -> Any:
    """The entries of ``leaf`` in ``flat`` as a value of the leaf's kind, in ``dtype``."""
    arr = flat[leaf.offset : leaf.offset + leaf.size].reshape(leaf.shape)
    if leaf.kind in ("float", "int") and not leaf.shape:
        return float(arr)
    if leaf.kind == "scalar":
        return dtype.type(arr[()])
    return arr.astype(dtype, copy=True)


def direction_scales(x0: np.ndarray, leaves: list[Leaf]) -> np.ndarray:
    """Per entry, a power of two near ``|x_j|``: probes move inputs relative to their size.

    Moving ``x_j`` by a fraction of itself keeps a positive input positive (so ``sqrt`` and
    ``log`` near 1e-8 stay in their domain) and moves an input near 1e8 by more than its
    float spacing. Entries much smaller than the largest in their leaf (or zero) use
    ``2**-10`` of that largest entry, up to ``2**10·max(|x_j|, 1)``; an all-zero leaf uses 1.

    >>> leaf = Leaf(0, None, "x", (3,), np.dtype(float), 0, 3, "array")
    >>> direction_scales(np.array([3.0, 1e-8, 0.0]), [leaf]).tolist()
    [4.0, 0.00390625, 0.00390625]
    """
    scales = np.ones(len(x0))
    for leaf in leaves:
        part = np.abs(x0[leaf.offset : leaf.offset + leaf.size])
        peak = float(part.max(initial=0.0))
        if peak == 0.0 or not np.isfinite(peak):
            continue
        floor = peak * 2.0**-10
        # ...but not above 2**10 times their own size (or 1): moving x = 1 beside 1e14 by
        # 1e11 units crossed cos's period inside one stencil, and read a kink there.
        mag = np.maximum(part, np.minimum(floor, np.maximum(part, 1.0) * 2.0**10))
        # At least 2**20 float spacings, so that small steps still move subnormal inputs.
        mag = np.maximum(mag, 2.0**20 * np.spacing(part))
        scales[leaf.offset : leaf.offset + leaf.size] = 2.0 ** np.round(np.log2(mag))
    return scales


class Problem:
    """A function, a point, and a pullback, flattened (see the module docstring)."""

    name: str
    leaves: list[Leaf]
    out_leaves: list[OutLeaf]
    x0: np.ndarray
    n: int
    m: int

    def __init__(self) -> None:
        self.evaluations = 0
        self.pullbacks = 0
        self.promoted = False  # evaluate float32 inputs in float64
        self.noise_factor = 1.0
        # At a kink (one-sided derivatives that differ) the adjoint must lie between them
        # (a subgradient); the second-order check lifts that, see second_order.py.
        self.kink_bounds_adjoint = True

    # -- set-up shared by both kinds ---------------------------------------------------

    def _init_outputs(self, y: Any) -> None:
        self.y0 = y
        self.out_spec, out = self._output_leaves(y)
        self.out_all = out
        self.out_leaves = []
        offset = 0
        for i, (path, v) in enumerate(out):
            if is_float_value(v):
                shape = np.shape(v)
                size = math.prod(shape)
                dtype = np.result_type(v) if type(v) is not float else np.dtype(np.float64)
                self.out_leaves.append(OutLeaf(i, path, shape, dtype, offset, size))
                offset += size
        self.m = offset
        self._single = len(out) == 1 and len(self.out_leaves) == 1
        # "y" names the output in reports, unless an input is called y already
        self.out_name = "out" if any(leaf.path.split("[")[0] == "y"
                                     for leaf in getattr(self, "leaves", [])) else "y"
        dtypes = [o.dtype for o in self.out_leaves]
        self.out_dtype = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)

    def _output_leaves(self, y: Any) -> tuple[Any, list[tuple[str, Any]]]:
        leaves, spec = flatten(y)
        if len(leaves) == 1 and not is_container(y):
            return spec, [("y", y)]
        return spec, [(f"y[{i}]", v) for i, v in enumerate(leaves)]

    def _init_inputs(self, leaves: list[Leaf], values: list[np.ndarray]) -> None:
        self.leaves = leaves
        self.n = sum(leaf.size for leaf in leaves)
        self.x0 = (
            np.concatenate([np.ravel(v).astype(np.float64) for v in values])
            if values else np.zeros(0)
        )
        self.scales = direction_scales(self.x0, leaves)

    def decide_precision(self) -> None:
        """Evaluate float32 inputs in float64 when the function accepts it (see module doc)."""
        low = [leaf for leaf in self.leaves if np.finfo(leaf.dtype).eps > np.finfo(float).eps]
        if low:
            try:
                self.promoted = True
                y = self._call_flat(self.x0)
                self.promoted = bool(
                    y is not None and y.dtype == np.float64 and y.shape == (self.m,)
                    and all(o.dtype == np.float64 or o.dtype in self._low_out_ok()
                            for o in self.out_leaves)
                )
            except Exception:  # noqa: BLE001  (any failure: evaluate in the native precision)
                self.promoted = False
        eval_dtypes = self._evaluation_output_dtypes()
        coarse = max(np.finfo(d).eps for d in eval_dtypes) if eval_dtypes else 0.0
        fine = np.finfo(np.result_type(*eval_dtypes)).eps if eval_dtypes else 1.0
        self.noise_factor = float(coarse / fine) if eval_dtypes else 1.0

    def _low_out_ok(self) -> tuple:
        return (np.dtype(np.float32), np.dtype(np.float16))

    def _evaluation_output_dtypes(self) -> list:
        if self.promoted:
            return [np.dtype(np.float64)]
        return [o.dtype for o in self.out_leaves]

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """The function at the flat point ``x``: its floating outputs, raveled and joined."""
        self.evaluations += 1
        return self._call_flat(x)

    def _call_flat(self, x: np.ndarray) -> np.ndarray:
        return self.flat_outputs(self.call_at(x))

    def flat_outputs(self, y: Any) -> np.ndarray:
        """The floating outputs of one call's result ``y``, raveled and joined."""
        if self._single and not is_container(y):
            o = self.out_leaves[0]
            if np.shape(y) != o.shape:
                raise ValueError(f"output has shape {np.shape(y)} here but {o.shape} at x0")
            return np.ravel(np.asarray(y))
        _, leaves = self._output_leaves(y)
        if len(leaves) != len(self.out_all):
            raise ValueError("the function returned a different number of outputs")
        parts = []
        for o in self.out_leaves:
            v = leaves[o.position][1]
            if np.shape(v) != o.shape:
                raise ValueError(
                    f"output {o.path} has shape {np.shape(v)} here but {o.shape} at x0"
                )
            parts.append(np.ravel(np.asarray(v)))
        if not parts:
            return np.zeros(0)
        return np.concatenate(parts)

    def call_at(self, x: np.ndarray) -> Any:
        raise NotImplementedError

    # -- pullbacks -----------------------------------------------------------------------

    def output_cotangent(self, flat: np.ndarray) -> Any:
        """A flat output cotangent in the structure the pullback expects."""
        raise NotImplementedError

    def pull_raw(self, dy: Any) -> Any:
        raise NotImplementedError

    def cotangent_leaves(self, grads: Any) -> tuple[list, list]:
        """Per leaf, the raw cotangent the pullback returned; and count problems found."""
        raise NotImplementedError

    def pull(self, flat_dy: np.ndarray) -> Pulled:
        """Pull the flat output cotangent back; shapes and dtypes are inspected, never fixed."""
        return self.pull_dy(self.output_cotangent(flat_dy))

    def back_at(self, x: np.ndarray) -> Callable | None:
        """A pullback at the flat point ``x`` instead of ``x0`` (None: not available)."""
        return None

    def pull_at(self, x: np.ndarray, flat_dy: np.ndarray) -> Pulled | None:
        """:meth:`pull` with the pullback taken at ``x``; None if it cannot be had there."""
        try:
            back = self.back_at(x)
        except Exception:  # noqa: BLE001  (off the domain there)
            return None
        if back is None:
            return None
        saved, self.back = self.back, back
        try:
            return self.pull(flat_dy)
        except PullError:
            return None
        finally:
            self.back = saved

    def pull_dy(self, dy: Any) -> Pulled:
        """Like :meth:`pull`, for a cotangent already in the output's structure."""
        self.pullbacks += 1
        try:
            grads = self.pull_raw(dy)
        except PullError:
            raise
        except Exception as exc:  # noqa: BLE001  (a rule may raise anything: that is a finding)
            raise PullError("error", f"the pullback raised {type(exc).__name__}: {exc}") from exc
        raw, issues = self.cotangent_leaves(grads)
        flat = np.zeros(self.n)
        usable = np.ones(self.n, bool)
        for k, (leaf, g) in enumerate(zip(self.leaves, raw)):
            sl = slice(leaf.offset, leaf.offset + leaf.size)
            if g is None:
                continue
            try:
                arr = np.asarray(g)
            except Exception as exc:  # noqa: BLE001
                issues.append(("count", k, f"returned {type(g).__name__} for {leaf.path}: {exc}"))
                usable[sl] = False
                continue
            if arr.shape != leaf.shape:
                hint = ""
                try:
                    if np.broadcast_shapes(arr.shape, leaf.shape) == arr.shape:
                        hint = " (a broadcast shape: the rule did not sum it back)"
                except ValueError:
                    pass
                issues.append(("shape", k, f"cotangent of {leaf.path} has shape {arr.shape}, "
                               f"but {leaf.path} has shape {leaf.shape}{hint}"))
                usable[sl] = False
                continue
            got = np.dtype(np.float64) if type(g) is float else arr.dtype
            if got != leaf.dtype:
                issues.append(("dtype", k, f"cotangent of {leaf.path} has dtype {got}, "
                               f"but {leaf.path} has dtype {leaf.dtype}"))
            if got.kind not in "fiu":
                if got.kind == "c":
                    arr = arr.real
                else:
                    usable[sl] = False
                    continue
            flat[sl] = np.ravel(arr).astype(np.float64)
        return Pulled(flat, raw, usable, issues)


class RuleProblem(Problem):
    """A registered rule ``rule(*args, **kwargs) -> (value, back)`` against ``fn`` itself.

    Differentiable inputs are the floating leaves of the positional arguments, which may be
    pytrees (dicts, lists, tuples, namedtuples, dataclasses: ``np.stack([a, b])``, a rule of
    ``{"w": W, "b": b}``); each leaf is checked on its own, and the pullback must return
    that argument's cotangent in the same structure (looked up by key, index or field).
    Integers, booleans, shapes, axes and ``None`` are constants (integer inputs a rule
    differentiates are promoted to float first, see
    :func:`~adcheck.check.check_adjoint.promote_integer_inputs`). ``back`` is the pullback the
    rule returned for ``args``.

    >>> p = RuleProblem(lambda d: d["a"] * d["b"], None,
    ...                 ({"a": np.ones(2), "b": 3.0},), {})
    >>> [leaf.path for leaf in p.leaves], p.n
    (["x['a']", "x['b']"], 3)
    """

    def __init__(self, fn: Callable, rule: Callable, args: tuple, kwargs: dict,
                 back: Callable | None = None, value: Any = None, name: str | None = None,
                 arg_names: list[str] | None = None):
        super().__init__()
        self.fn = fn
        self.rule = rule
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.back = back
        self.value = value
        self.name = name or getattr(fn, "__name__", "f")
        names = arg_names or _default_names(len(self.args))
        leaves, values = [], []
        self.specs: list = []
        self.arg_leaves: list[list] = []
        self.key_paths: list[list[tuple]] = []
        offset = 0
        for pos, a in enumerate(self.args):
            flat, spec = flatten(a)
            self.specs.append(spec)
            self.arg_leaves.append(flat)
            self.key_paths.append(key_paths(a))
            container = is_container(a)
            paths = _leaf_paths(a, names[pos]) if container else [names[pos]]
            for i, v in enumerate(flat):
                if not is_float_value(v):
                    continue
                shape = np.shape(v)
                dtype = np.dtype(np.float64) if type(v) is float else np.result_type(v)
                size = math.prod(shape)
                leaves.append(Leaf(pos, i if container else None, paths[i], shape, dtype,
                                   offset, size, _leaf_kind(v)))
                values.append(np.asarray(v))
                offset += size
        self._init_inputs(leaves, values)
        self._init_outputs(self._call(self.args))
        self.decide_precision()

    def _call(self, args: tuple) -> Any:
        return self.fn(*args, **self.kwargs)

    def args_at(self, x: np.ndarray, promoted: bool = False) -> tuple:
        """The positional arguments with every differentiable entry taken from ``x``."""
        args = list(self.args)
        trees: dict[int, list] = {}
        for leaf in self.leaves:
            dtype = np.dtype(np.float64) if promoted else leaf.dtype
            v = _as_leaf_value(leaf, x, dtype)
            if leaf.item is None:
                args[leaf.position] = v
            else:
                flat = trees.setdefault(leaf.position, list(self.arg_leaves[leaf.position]))
                flat[leaf.item] = v
        for pos, flat in trees.items():
            args[pos] = unflatten(self.specs[pos], flat)
        return tuple(args)

    def call_at(self, x: np.ndarray) -> Any:
        return self._call(self.args_at(x, self.promoted))

    def back_at(self, x: np.ndarray) -> Callable | None:
        if self.rule is None:
            return None
        with np.errstate(all="ignore"):
            return self.rule(*self.args_at(x), **self.kwargs)[1]

    def output_cotangent(self, flat: np.ndarray, dtype: Any = None) -> Any:
        """``flat`` in the outputs' structure, each part in its output's dtype (or ``dtype``)."""
        parts = []
        for i, (_, v) in enumerate(self.out_all):
            o = next((o for o in self.out_leaves if o.position == i), None)
            if o is None and not isinstance(v, (np.ndarray, np.generic, float, int, complex)):
                parts.append(None)  # not a number (None, a string): the engine passes None
            elif o is None:  # a non-floating numeric output: the engine hands the rule zeros
                parts.append(np.zeros(np.shape(v), np.result_type(v)))
            else:
                d = flat[o.offset : o.offset + o.size].reshape(o.shape).astype(dtype or o.dtype)
                parts.append(d)
        if type(self.y0) in (tuple, list) and not any(map(is_container, self.y0)):
            return tuple(parts)  # a multi-output primitive: one cotangent per output
        if is_container(self.y0):
            return unflatten(self.out_spec, parts)  # dicts, nested and named outputs
        return parts[0]

    def pull_raw(self, dy: Any) -> Any:
        if self.back is None:
            raise PullError("error", "the rule returned no pullback")
        grads = self.back(dy)
        if isinstance(grads, (tuple, list)):  # lazy cotangents (zero-argument functions)
            grads = resolve(tuple(grads))
        return grads

    def cotangent_leaves(self, grads: Any) -> tuple[list, list]:
        issues: list = []
        if isinstance(grads, list):
            grads = tuple(grads)
        if not isinstance(grads, tuple):
            raise PullError(
                "count",
                f"the pullback returned {type(grads).__name__}, not a tuple with one cotangent "
                f"per positional argument ({len(self.args)}); write e.g. "
                "`lambda dy: (dy * 2,)` for one argument",
            )
        if len(grads) != len(self.args):
            raise PullError(
                "count",
                f"the pullback returned {len(grads)} cotangent(s) for {len(self.args)} "
                "positional argument(s); it must return one per positional argument "
                "(None for those that are not differentiable)",
            )
        raw = []
        for k, leaf in enumerate(self.leaves):
            g = grads[leaf.position]
            if leaf.item is not None and g is not None:
                path = self.key_paths[leaf.position][leaf.item]
                try:
                    g = get_path(g, path)
                except (KeyError, IndexError, AttributeError, TypeError) as exc:
                    issues.append(("count", k, f"the cotangent of argument {leaf.position} "
                                   f"has no entry for {leaf.path} ({type(exc).__name__}: "
                                   f"{exc}); it must have the argument's structure"))
                    g = None
            raw.append(g)
        # Booleans, strings and the like carry no cotangent.
        for pos, (a, g) in enumerate(zip(self.args, grads)):
            if g is not None and (isinstance(a, (bool, np.bool_, str, type, np.dtype))
                                  or (isinstance(a, np.ndarray) and a.dtype.kind == "b")):
                issues.append(("count", None, f"returned a cotangent ({type(g).__name__}) for "
                               f"argument {pos}, which is {type(a).__name__} and not "
                               "differentiable; return None there"))
        return raw, issues


class FunctionProblem(Problem):
    """The engine's pullback of a function of pytrees (``gradcheck``).

    Every floating or integer leaf of the positional arguments is an input (integers are
    promoted to float64, as the engine does); booleans, strings and ``None`` are constants.
    ``pullback(f, args)`` is supplied by the caller (it records the tape).
    """

    def __init__(self, f: Callable, args: tuple, y: Any, back: Callable,
                 arg_names: list[str] | None = None, name: str | None = None):
        super().__init__()
        self.f = f
        self.args = tuple(args)
        self.back = back
        self.name = name or getattr(f, "__name__", "f")
        names = arg_names or _default_names(len(self.args))
        self.specs = []
        self.arg_leaves: list[list] = []
        leaves, values = [], []
        offset = 0
        for pos, a in enumerate(self.args):
            flat, spec = flatten(a)
            self.specs.append(spec)
            self.arg_leaves.append(flat)
            paths = _leaf_paths(a, names[pos])
            for i, v in enumerate(flat):
                if not (is_float_value(v) or _leaf_kind(v) == "int"):
                    continue
                shape = np.shape(v)
                kind = _leaf_kind(v)
                dtype = np.dtype(np.float64) if kind in ("int", "float") else np.result_type(v)
                size = math.prod(shape)
                leaves.append(Leaf(pos, i, paths[i], shape, dtype, offset, size, kind))
                values.append(np.asarray(v, dtype=np.float64 if kind == "int" else None))
                offset += size
        self._init_inputs(leaves, values)
        self._init_outputs(y)
        self.decide_precision()

    def args_at(self, x: np.ndarray, promoted: bool = False) -> tuple:
        new = [list(flat) for flat in self.arg_leaves]
        for leaf in self.leaves:
            dtype = np.dtype(np.float64) if promoted else leaf.dtype
            new[leaf.position][leaf.item] = _as_leaf_value(leaf, x, dtype)
        return tuple(unflatten(spec, leaves) for spec, leaves in zip(self.specs, new))

    def call_at(self, x: np.ndarray) -> Any:
        return self.f(*self.args_at(x, self.promoted))

    def back_at(self, x: np.ndarray) -> Callable | None:
        from ..engine.api import pullback

        with np.errstate(all="ignore"):
            return pullback(self.f, *self.args_at(x))[1]

    def output_cotangent(self, flat: np.ndarray) -> Any:
        leaves: list = []
        for i in range(len(self.out_all)):
            o = next((o for o in self.out_leaves if o.position == i), None)
            if o is None:
                leaves.append(None)
            else:
                leaves.append(flat[o.offset : o.offset + o.size].reshape(o.shape).astype(o.dtype))
        if len(self.out_all) == 1 and not is_container(self.y0):
            return leaves[0]
        return unflatten(self.out_spec, leaves)

    def pull_raw(self, dy: Any) -> Any:
        return self.back(dy)

    def cotangent_leaves(self, grads: Any) -> tuple[list, list]:
        if not isinstance(grads, tuple) or len(grads) != len(self.args):
            raise PullError("count", f"the pullback returned {type(grads).__name__} of "
                            f"length {len(grads) if hasattr(grads, '__len__') else '?'} for "
                            f"{len(self.args)} arguments")
        flat_grads = [flatten(g)[0] if g is not None else None for g in grads]
        raw = []
        issues: list = []
        for k, leaf in enumerate(self.leaves):
            fg = flat_grads[leaf.position]
            if fg is None or len(fg) != len(self.arg_leaves[leaf.position]):
                issues.append(("count", k, f"the cotangent of argument {leaf.position} does "
                               "not have the argument's structure"))
                raw.append(None)
                continue
            raw.append(fg[leaf.item])
        return raw, issues


def key_paths(tree: Any) -> list[tuple]:
    """How to reach every leaf of ``tree``, in :func:`~adcheck.tree.flatten` order: a tuple of
    steps ``("key", k)``, ``("index", i)`` or ``("attr", name)`` per leaf.

    >>> key_paths({"w": [1.0, 2.0], "b": 3.0})
    [(('key', 'w'), ('index', 0)), (('key', 'w'), ('index', 1)), (('key', 'b'),)]
    """
    if not is_container(tree):
        return [()]
    out: list[tuple] = []
    if isinstance(tree, dict):
        steps = [(("key", k), tree[k]) for k in tree]
    elif hasattr(tree, "_fields"):
        steps = [(("attr", f), getattr(tree, f)) for f in tree._fields]
    elif isinstance(tree, (list, tuple)):
        steps = [(("index", i), v) for i, v in enumerate(tree)]
    else:  # dataclasses and registered types: by position among their children
        leaves, spec = flatten(tree)
        if spec.aux and isinstance(spec.aux, tuple) and len(spec.aux) == len(spec.children):
            steps = [(("attr", name), getattr(tree, name)) for name in spec.aux]
        else:
            return [(("leaf", i),) for i in range(len(leaves))]
    for step, child in steps:
        out += [(step, *rest) for rest in key_paths(child)]
    return out


def get_path(tree: Any, path: tuple) -> Any:
    """The entry of ``tree`` at ``path`` (from :func:`key_paths`).

    >>> get_path({"w": [1.0, 2.0]}, (("key", "w"), ("index", 1)))
    2.0
    """
    for kind, key in path:
        if kind == "attr":
            tree = getattr(tree, key)
        elif kind == "leaf":
            tree = flatten(tree)[0][key]
        else:
            tree = tree[key]
    return tree


def parameter_names(candidates: list[Any], n: int) -> list[str]:
    """Names for ``n`` positional arguments: the first candidate callable whose signature has
    at least ``n`` named positional parameters (the rule, then its function), else defaults.

    >>> parameter_names([lambda A, x: None], 2), parameter_names([np.add], 2)
    (['A', 'x'], ['x1', 'x2'])
    """
    import inspect

    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for fn in candidates:
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            continue
        names = [p.name for p in params if p.kind in kinds]
        if len(names) >= n:
            return names[:n]
    return _default_names(n)


def _default_names(n: int) -> list[str]:
    if n == 1:
        return ["x"]
    if n <= 3:
        return ["x", "y", "z"][:n]
    return [f"x{i + 1}" for i in range(n)]


def _leaf_paths(tree: Any, prefix: str) -> list[str]:
    """Readable paths of the leaves of ``tree``, in flatten order: ``p['w']``, ``p[0]``."""
    out: list[str] = []

    def walk(node: Any, path: str) -> None:
        if not is_container(node):
            out.append(path)
            return
        if isinstance(node, dict):
            for k in node:
                walk(node[k], f"{path}[{k!r}]")
        elif isinstance(node, (list, tuple)) and not hasattr(node, "_fields"):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        else:
            leaves, spec = flatten(node)
            if spec.aux and isinstance(spec.aux, tuple) and len(spec.aux) == len(spec.children):
                for name, child in zip(spec.aux, _children(node, spec)):
                    walk(child, f"{path}.{name}")
            elif hasattr(node, "_fields"):
                for name in node._fields:
                    walk(getattr(node, name), f"{path}.{name}")
            else:
                for i, _ in enumerate(leaves):
                    out.append(f"{path}<{i}>")

    walk(tree, prefix)
    return out


def _children(node: Any, spec: Any) -> list:
    return [getattr(node, name) for name in spec.aux]
