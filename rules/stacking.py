"""Adjoint rules for joining and cutting arrays: vstack, hstack, dstack, column_stack,
row_stack, append, split and its variants, unstack, atleast_1d/2d/3d, broadcast_arrays.

Joining functions first give their inputs at least some number of dimensions (adding unit
axes), then concatenate: their pullbacks cut the cotangent back into pieces and reshape each
to its input. Splitting functions return a list of pieces; the engine hands their pullback
one cotangent per piece (zeros for pieces that were not used), which are joined back.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda a, b: np.sum(np.vstack([a, b]) * [[1.0, 2.0], [3.0, 4.0]]),
...             np.ones(2), np.ones(2))
(array([1., 2.]), array([3., 4.]))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.registry import adjoint

from .indexing import scatter_add
from .shape import draw_array_of, draw_float_dtype, draw_shape, nones, reject, sum_to


def _cut(dy: Any, lengths: list[int], axis: int) -> list:
    """``dy`` cut along ``axis`` into consecutive pieces of the given lengths."""
    lead = (slice(None),) * axis
    pieces, start = [], 0
    for n in lengths:
        pieces.append(dy[lead + (slice(start, start + n),)])
        start += n
    return pieces


def _shape_after(promote: Any, shape: tuple) -> tuple:
    """The shape an array of ``shape`` has after ``promote`` (e.g. ``np.atleast_2d``)."""
    return np.shape(promote(np.broadcast_to(np.float64(0), shape)))


def _column(a: Any) -> Any:
    # What np.column_stack does to each input.
    return np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a


def _hstack_axis(promoted: list[tuple]) -> int:
    return 0 if len(promoted[0]) == 1 else 1


# -- joins -----------------------------------------------------------------------------------


def _stack_spec(tup, *, dtype=None, casting="same_kind"):
    return dtype


def _joined(fn: Any, name: str, promote: Any, axis_of: Any, domain: Any, doc: str,
            compute: Any = None) -> None:
    """Register the rule of ``fn``: ``promote`` each input, then concatenate along an axis.
    ``compute`` makes the value when it is not ``fn`` itself (a deprecated alias)."""

    def rule(*args, **kwargs):
        tup = args[0]
        reject(name, dtype=_stack_spec(*args, **kwargs))
        value = (compute or fn)(*args, **kwargs)
        as_list = isinstance(tup, (list, tuple))
        shapes = [np.shape(a) for a in tup] if as_list else [np.shape(tup)[1:]] * len(tup)
        promoted = [_shape_after(promote, s) for s in shapes]
        axis = axis_of(promoted)

        def pullback(dy):
            pieces = _cut(dy, [p[axis] for p in promoted], axis)
            pieces = [np.reshape(p, s) for p, s in zip(pieces, shapes)]
            return (pieces if as_list else np.stack(pieces),) + nones(args)

        return value, pullback

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = doc
    adjoint(fn, domain=domain, builtin=True)(rule)


def _demotions(shape: tuple) -> list[tuple]:
    """Shapes with unit axes dropped at either end, which a promotion may bring back."""
    out = {shape}
    for lead in range(len(shape) + 1):
        for trail in range(len(shape) - lead + 1):
            kept = shape[lead:len(shape) - trail]
            dropped = shape[:lead] + shape[len(shape) - trail:]
            if all(s == 1 for s in dropped):
                out.add(kept)
    return sorted(out, key=lambda s: (len(s), s))


def _join_args(promote: Any, axis_of: Any, min_dims: int) -> Any:
    def draw_args(draw: Any) -> tuple[tuple, dict]:
        from hypothesis import strategies as st

        dtype = draw_float_dtype(draw)
        base = list(draw_shape(draw, min_dims=min_dims, max_dims=3, max_side=3))
        axis = axis_of([base])
        arrays = []
        for _ in range(draw(st.integers(1, 3))):
            target = list(base)
            target[axis] = draw(st.integers(1, 3))
            raws = [s for s in _demotions(tuple(target))
                    if list(_shape_after(promote, s)) == target]
            arrays.append(draw_array_of(draw, draw(st.sampled_from(raws)), dtype))
        if all(a.shape == arrays[0].shape for a in arrays) and draw(st.booleans()):
            return (np.stack(arrays),), {}  # one array: a sequence of its sub-arrays
        return ((tuple(arrays) if draw(st.booleans()) else arrays),), {}

    return draw_args


_JOINS = {
    # name: (promotion of each input, join axis from the promoted shapes, fewest dimensions)
    "vstack": (np.atleast_2d, lambda p: 0, 2),
    "row_stack": (np.atleast_2d, lambda p: 0, 2),
    "hstack": (np.atleast_1d, _hstack_axis, 1),
    "dstack": (np.atleast_3d, lambda p: 2, 3),
    "column_stack": (_column, lambda p: 1, 2),
}

for _name, (_promote, _axis_of, _min_dims) in _JOINS.items():
    if hasattr(np, _name):  # row_stack is deprecated and may go
        _joined(getattr(np, _name), _name, _promote, _axis_of,
                domains.custom(_join_args(_promote, _axis_of, _min_dims),
                               "1-3 arrays (lists, tuples or one stacked array), 0-3 dims"),
                f"Adjoint of np.{_name}: the cotangent is cut into one piece per input.",
                np.vstack if _name == "row_stack" else None)  # without the deprecation warning


def _append_spec(arr, values, axis=None):
    return axis


def _append_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    dtype = draw_float_dtype(draw)
    shape = draw_shape(draw, max_dims=3, max_side=3)
    if draw(st.booleans()) or not shape:
        other = draw_shape(draw, max_dims=3, max_side=3)
        return (draw_array_of(draw, shape, dtype), draw_array_of(draw, other, dtype)), {}
    n = len(shape)
    axis = draw(st.integers(-n, n - 1))
    other = list(shape)
    other[axis] = draw(st.integers(1, 3))
    arrays = draw_array_of(draw, shape, dtype), draw_array_of(draw, tuple(other), dtype)
    return arrays, {"axis": axis}


@adjoint(np.append, domain=domains.custom(_append_args, "axis None (any shapes) or an axis"),
         builtin=True)
def _append(*args, **kwargs):
    """Adjoint of ``np.append``: the cotangent is cut into the array's part and the values'.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a, b: np.sum(np.append(a, b) * [1.0, 2.0, 3.0]), np.ones(2), 1.0)
    (array([1., 2.]), 3.0)
    """
    arr, values = args[0], args[1]
    axis = _append_spec(*args, **kwargs)
    shapes = [np.shape(arr), np.shape(values)]
    value = np.append(*args, **kwargs)

    def pullback(dy):
        if axis is None:
            pieces = _cut(dy, [math.prod(s) for s in shapes], 0)
        else:
            ax = int(axis) % np.ndim(dy)
            pieces = _cut(dy, [s[ax] for s in shapes], ax)
        return tuple(np.reshape(p, s) for p, s in zip(pieces, shapes))

    return value, pullback


# -- splits ----------------------------------------------------------------------------------


def _split_spec(ary, indices_or_sections, axis=0):
    return indices_or_sections, axis


def _split_axis(name: str, ndim: int, axis: Any) -> int:
    if name == "hsplit":
        return 1 if ndim > 1 else 0
    fixed = {"vsplit": 0, "dsplit": 2}.get(name)
    return int(axis) % ndim if fixed is None else fixed


def _splitter(fn: Any, name: str, domain: Any) -> None:
    def rule(*args, **kwargs):
        ary = args[0]
        if name in ("split", "array_split"):
            sections, axis = _split_spec(*args, **kwargs)
        else:
            sections, axis = (args[1] if len(args) > 1 else kwargs["indices_or_sections"]), 0
        shape = np.shape(ary)
        ax = _split_axis(name, len(shape), axis)
        value = fn(*args, **kwargs)
        # Which positions along the axis each piece holds: the same split of 0, 1, 2, ...
        held = np.array_split(np.arange(shape[ax]), sections) if name == "array_split" else \
            np.split(np.arange(shape[ax]), sections)
        consecutive = np.array_equal(np.concatenate(held), np.arange(shape[ax]))

        def pullback(dys):
            if consecutive:
                return (np.concatenate(list(dys), axis=ax),) + nones(args)
            # Pieces overlap (a list of cuts that is not sorted): add each back where it was.
            lead = (slice(None),) * ax
            total = None
            for d, where in zip(dys, held):
                part = scatter_add(d, lead + (where,), shape)
                total = part if total is None else total + part
            return (total,) + nones(args)

        return value, pullback

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = (f"Adjoint of np.{name}: the cotangents of the pieces (zeros for unused "
                    "ones) are joined back.")
    adjoint(fn, domain=domain, builtin=True)(rule)


def _split_args(name: str, min_dims: int) -> Any:
    def draw_args(draw: Any) -> tuple[tuple, dict]:
        from hypothesis import strategies as st

        shape = draw_shape(draw, min_dims=min_dims, max_dims=3)
        x = draw_array_of(draw, shape, draw_float_dtype(draw))
        n = len(shape)
        axis = draw(st.integers(-n, n - 1)) if name in ("split", "array_split") else 0
        length = shape[_split_axis(name, n, axis)]
        if draw(st.booleans()):
            if name == "array_split":
                sections: Any = draw(st.integers(1, length + 1))
            else:
                sections = draw(st.sampled_from([d for d in range(1, length + 1)
                                                 if length % d == 0]))
        else:
            cuts = st.lists(st.integers(0, length), max_size=3)
            unsorted = st.lists(st.integers(-length, length + 1), max_size=3)
            sections = draw(st.one_of(cuts.map(sorted), unsorted))
        if name not in ("split", "array_split") or (axis == 0 and draw(st.booleans())):
            return (x, sections), {}
        return (x, sections), {"axis": axis}

    return draw_args


_SPLITS = {"split": 1, "array_split": 1, "hsplit": 1, "vsplit": 2, "dsplit": 3}
for _name, _min_dims in _SPLITS.items():
    _splitter(getattr(np, _name), _name,
              domains.custom(_split_args(_name, _min_dims),
                             "sections or lists of cuts (unsorted and out of range too)"))


def _unstack_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    n = len(shape)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    return (x,), {"axis": draw(st.integers(-n, n - 1))}


if hasattr(np, "unstack"):

    @adjoint(np.unstack, domain=domains.custom(_unstack_args, "any axis"), builtin=True)
    def _unstack(x, *, axis=0):
        """Adjoint of ``np.unstack``: the pieces' cotangents stacked back along the axis.

        >>> import adcheck as ad
        >>> ad.gradient(lambda x: np.unstack(x, axis=1)[1].sum(), np.ones((2, 2)))[0]
        array([[0., 1.],
               [0., 1.]])
        """
        return np.unstack(x, axis=axis), lambda dys: (np.stack(list(dys), axis=axis),)


# -- promotions and broadcasting -------------------------------------------------------------


def _several_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    dtype = draw_float_dtype(draw)
    count = draw(st.integers(1, 3))
    return tuple(draw_array_of(draw, draw_shape(draw, max_side=3), dtype)
                 for _ in range(count)), {}


def _atleast(fn: Any, name: str) -> None:
    def rule(*arys):
        shapes = [np.shape(a) for a in arys]
        value = fn(*arys)
        if len(arys) == 1:
            return value, lambda dy: (np.reshape(dy, shapes[0]),)
        return value, lambda dys: tuple(np.reshape(d, s) for d, s in zip(dys, shapes))

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = f"Adjoint of np.{name}: each cotangent reshaped back to its input."
    adjoint(fn, domain=domains.custom(_several_args, "1-3 arrays of 0-3 dims"),
            builtin=True)(rule)


for _name in ("atleast_1d", "atleast_2d", "atleast_3d"):
    _atleast(getattr(np, _name), _name)


def _broadcast_arrays_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    dtype = draw_float_dtype(draw)
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=draw(st.integers(1, 3)),
                                                    max_dims=3, max_side=3)).input_shapes
    return tuple(draw_array_of(draw, s, dtype) for s in shapes), {}


@adjoint(np.broadcast_arrays, domain=domains.custom(_broadcast_arrays_args, "1-3 mutually "
                                                    "broadcastable arrays"),
         builtin=True)
def _broadcast_arrays(*args, subok=False):
    """Adjoint of ``np.broadcast_arrays``: each cotangent summed back to its input's shape.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a, b: np.sum(np.broadcast_arrays(a, b)[0]), 1.0, np.ones(3))
    (3.0, array([0., 0., 0.]))
    """
    shapes = [np.shape(a) for a in args]
    value = np.broadcast_arrays(*args, subok=subok)
    return value, lambda dys: tuple(sum_to(d, s) for d, s in zip(dys, shapes))
