"""Adjoint rules for functions that copy entries to new places: flip, roll, rot90, tile, repeat,
pad, triu/tril, diag, diagflat, rollaxis, resize, delete, insert.

Most of them are *gathers*: every output entry is a copy of one input entry, or a constant.
Their rules find which entry by running the function itself on the input's flat positions
(:func:`source_index`), and pull the cotangent back with :func:`scatter_back`, which adds it
at those positions, so that an entry copied several times (``tile``, ``repeat``, ``pad``)
collects every copy's cotangent. Where the inverse is plain (``flip``, ``roll``, ``rot90``,
the triangles, ``rollaxis``) the pullback is that inverse. Pullbacks use only functions with
rules of their own (``scatter_add``, indexing, ``reshape``), so higher derivatives work.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.sum(np.tile(x, 3) * np.arange(6.0)), np.ones(2))[0]
array([6., 9.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.registry import adjoint

from .indexing import scatter_add
from .shape import (
    draw_array_of,
    draw_axis,
    draw_float_dtype,
    draw_shape,
    nones,
    sum_to,
)

__all__ = ["source_positions", "source_index", "scatter_back", "gather_back", "gather_rule"]


# -- gathers ---------------------------------------------------------------------------------


def source_positions(shapes: list[tuple]) -> list[np.ndarray]:
    """One integer array per shape: the positions 1, 2, ... of the inputs' entries, numbered
    one after the other (0 is left for entries that are no copy of an input).

    >>> source_positions([(2,), (1, 2)])
    [array([1, 2]), array([[3, 4]])]
    """
    out, start = [], 1
    for shape in shapes:
        size = math.prod(shape)
        out.append(np.arange(start, start + size).reshape(shape))
        start += size
    return out


def source_index(fn: Any, shape: tuple, *args: Any, **kwargs: Any) -> np.ndarray:
    """For every entry of ``fn(x, *args, **kwargs)``, the flat position in ``x`` (of ``shape``)
    that it copies, or -1 where the entry is no copy (a zero ``fn`` filled in).

    >>> source_index(np.repeat, (3,), 2)
    array([0, 0, 1, 1, 2, 2])
    >>> source_index(np.diag, (2,))
    array([[ 0, -1],
           [-1,  1]])
    """
    (positions,) = source_positions([shape])
    return np.asarray(fn(positions, *args, **kwargs)) - 1


def scatter_back(dy: Any, index: np.ndarray, shape: tuple) -> Any:
    """The cotangent of ``x`` (of ``shape``) for ``y = x.flat[index]``, where ``dy`` is ``y``'s:
    ``dy`` added at the positions in ``index`` (repeats accumulate, -1 entries are dropped).

    >>> scatter_back(np.array([1.0, 2.0, 3.0]), np.array([1, 1, -1]), (2,))
    array([0., 3.])
    """
    n = math.prod(shape)
    if index.size and index.min() < 0:
        flat = scatter_add(dy, np.where(index < 0, n, index), (n + 1,))[:n]
    else:
        flat = scatter_add(dy, index, (n,))
    return np.reshape(flat, shape)


def gather_back(dy: Any, index: np.ndarray, shapes: list[tuple]) -> list:
    """Like :func:`scatter_back` for several inputs numbered by :func:`source_positions`:
    one cotangent per shape.

    >>> gather_back(np.array([1.0, 2.0, 3.0]), np.array([2, 0, 2]), [(1,), (2,)])
    [array([2.]), array([0., 4.])]
    """
    sizes = [math.prod(s) for s in shapes]
    flat = scatter_back(dy, index, (sum(sizes),))
    out, start = [], 0
    for shape, size in zip(shapes, sizes):
        out.append(np.reshape(flat[start:start + size], shape))
        start += size
    return out


def gather_rule(fn: Any, name: str, domain: Any, doc: str, check: Any = None) -> None:
    """Register the built-in rule of ``fn``, a gather of its first argument's entries: the
    value is ``fn``'s, the pullback :func:`scatter_back` at :func:`source_index`.
    ``check(*args, **kwargs)`` may refuse arguments first. Used at import, e.g.
    ``gather_rule(np.tile, "tile", domain, "Adjoint of np.tile: ...")`` made this rule:

    >>> from adcheck.registry import lookup
    >>> lookup(np.tile).rule.__name__
    'tile_adjoint'
    """

    def rule(*args, **kwargs):
        if check is not None:
            check(*args, **kwargs)
        a = args[0]
        shape = np.shape(a)
        index = source_index(fn, shape, *args[1:], **kwargs)
        value = fn(*args, **kwargs)
        return value, lambda dy: (scatter_back(dy, index, shape),) + nones(args)

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = doc
    adjoint(fn, domain=domain, builtin=True)(rule)


# -- domains ---------------------------------------------------------------------------------


def _flip_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    axis = draw_axis(draw, len(shape))
    if draw(st.booleans()):
        return (x, axis), {}
    return (x,), {"axis": axis}


def _array_args(min_dims: int, max_dims: int = 3) -> Any:
    def draw_args(draw: Any) -> tuple[tuple, dict]:
        shape = draw_shape(draw, min_dims=min_dims, max_dims=max_dims)
        return (draw_array_of(draw, shape, draw_float_dtype(draw)),), {}

    return draw_args


def _axis_pair(draw: Any, ndim: int) -> tuple[int, int]:
    from hypothesis import strategies as st

    a, b = draw(st.permutations(range(ndim)))[:2]
    return draw(st.sampled_from([a, a - ndim])), draw(st.sampled_from([b, b - ndim]))


def _rot90_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=2)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    k = draw(st.integers(-3, 5))
    if len(shape) == 2 and draw(st.booleans()):
        return (x, k), {}
    return (x,), {"k": k, "axes": _axis_pair(draw, len(shape))}


def _roll_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    axis = draw_axis(draw, len(shape))
    if isinstance(axis, tuple) and axis and draw(st.booleans()):
        shift: Any = tuple(draw(st.integers(-5, 5)) for _ in axis)
    else:
        shift = draw(st.integers(-5, 5))
    if axis == () or (axis is not None and len(shape) == 0):
        axis = None
    return (x, shift), ({} if axis is None else {"axis": axis})


def _rollaxis_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    n = len(shape)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    axis, start = draw(st.integers(-n, n - 1)), draw(st.integers(-n, n))
    if draw(st.booleans()):
        return (x, axis), {"start": start}
    return (x, axis, start), {}


def _tile_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, max_side=3)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    reps = draw(st.one_of(st.integers(1, 3),
                          st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)))
    return (x, reps), {}


def _repeat_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1))) if n else None
    length = math.prod(shape) if axis is None else shape[axis]
    repeats = draw(st.one_of(
        st.integers(0, 3),
        st.lists(st.integers(0, 3), min_size=length, max_size=length).map(np.array),
        st.lists(st.integers(0, 3), min_size=1, max_size=1),
    ))
    if axis is None and draw(st.booleans()):
        return (x, repeats), {}
    return (x, repeats), {"axis": axis}


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def _pad_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    side = st.integers(0, 3)
    form = draw(st.sampled_from(["int", "pair", "per-axis", "one-pair"]))
    if form == "int":
        width: Any = draw(side)
    elif form == "pair":
        width = (draw(side), draw(side))
    elif form == "one-pair":
        width = ((draw(side), draw(side)),)
    else:
        width = tuple((draw(side), draw(side)) for _ in shape)
    mode = draw(st.sampled_from(_PAD_MODES))
    kwargs: dict = {} if mode == "constant" and draw(st.booleans()) else {"mode": mode}
    if mode == "constant" and draw(st.booleans()):
        kwargs["constant_values"] = draw(st.sampled_from([1.5, (-1.0, 2.0)]))
    if mode in ("reflect", "symmetric") and draw(st.booleans()):
        kwargs["reflect_type"] = "even"
    return (x, width), kwargs


def _triangle_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    k = draw(st.integers(-3, 3))
    return ((x, k), {}) if draw(st.booleans()) else ((x,), {"k": k})


def _diag_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1, max_dims=2)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    k = draw(st.integers(-3, 3))
    return ((x, k), {}) if draw(st.booleans()) else ((x,), {"k": k})


def _diagflat_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, max_dims=2)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    return (x,), {"k": draw(st.integers(-3, 3))}


def _resize_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, max_dims=2)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    new = draw(st.one_of(st.integers(1, 6),
                         st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)))
    return (x, new), {}


def _delete_obj(draw: Any, length: int) -> Any:
    from hypothesis import strategies as st

    index = st.integers(-length, length - 1)
    return draw(st.one_of(
        index,
        st.lists(index, max_size=length, unique=True),
        st.builds(slice, st.none() | st.integers(0, length), st.none() | st.integers(0, length),
                  st.sampled_from([None, 1, 2, -1])),
    ))


def _delete_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    length = math.prod(shape) if axis is None else shape[axis]
    obj = _delete_obj(draw, length)
    return ((x, obj), {} if axis is None else {"axis": axis})


def _insert_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1, max_dims=2)
    dtype = draw_float_dtype(draw)
    x = draw_array_of(draw, shape, dtype)
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    length = math.prod(shape) if axis is None else shape[axis]
    if draw(st.booleans()):
        obj: Any = draw(st.integers(-length, length))
        # a scalar position: one slice of x's shape along axis (or a broadcastable value)
        rest = () if axis is None else tuple(int(s) for s in np.delete(shape, axis))
        vshape = draw(st.sampled_from([(), rest, (1,) * len(rest)]))
    else:
        obj = draw(st.lists(st.integers(-length, length), min_size=1, max_size=3))
        vshape = draw(st.sampled_from([(), (len(obj),)]))
        if axis is not None and vshape == (len(obj),):
            vshape = tuple(len(obj) if i == axis % n else s for i, s in enumerate(shape))
    values = draw_array_of(draw, vshape, dtype)
    return ((x, obj, values), {} if axis is None else {"axis": axis})


# -- rules with a plain inverse --------------------------------------------------------------


def _flip_spec(m, axis=None):
    return axis


@adjoint(np.flip, domain=domains.custom(_flip_args, "flip over None, an axis or a tuple"),
         builtin=True)
def _flip(*args, **kwargs):
    """Adjoint of ``np.flip``: flipping the cotangent over the same axes.

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.flip(x), np.ones(3))[1](np.arange(3.0))
    (array([2., 1., 0.]),)
    """
    axis = _flip_spec(*args, **kwargs)
    return np.flip(args[0], axis), lambda dy: (np.flip(dy, axis),) + nones(args)


def _self_inverse(fn: Any, name: str, domain: Any) -> None:
    def rule(m):
        return fn(m), lambda dy: (fn(dy),)

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = f"Adjoint of np.{name}: the same flip of the cotangent."
    adjoint(fn, domain=domain, builtin=True)(rule)


_self_inverse(np.fliplr, "fliplr", domains.custom(_array_args(2), "2-3 dims"))
_self_inverse(np.flipud, "flipud", domains.custom(_array_args(1), "1-3 dims"))


def _rot90_spec(m, k=1, axes=(0, 1)):
    return k, axes


@adjoint(np.rot90, domain=domains.custom(_rot90_args, "k from -3 to 5, any two axes"),
         builtin=True)
def _rot90(*args, **kwargs):
    """Adjoint of ``np.rot90``: rotating the cotangent back (``-k`` quarter turns).

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.rot90(x), np.ones((1, 2)))[1](np.array([[1.0], [2.0]]))
    (array([[2., 1.]]),)
    """
    k, axes = _rot90_spec(*args, **kwargs)
    return np.rot90(args[0], k, axes), lambda dy: (np.rot90(dy, -k, axes),) + nones(args)


def _roll_spec(a, shift, axis=None):
    return shift, axis


@adjoint(np.roll, domain=domains.custom(_roll_args, "shift int or tuple, axis None/int/tuple"),
         builtin=True)
def _roll(*args, **kwargs):
    """Adjoint of ``np.roll``: rolling the cotangent back by ``-shift``.

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.roll(x, 1), np.ones(3))[1](np.arange(3.0))
    (array([1., 2., 0.]),)
    """
    shift, axis = _roll_spec(*args, **kwargs)
    back = np.negative(shift).tolist() if np.ndim(shift) else -int(shift)
    return np.roll(args[0], shift, axis), lambda dy: (np.roll(dy, back, axis),) + nones(args)


def _rollaxis_spec(a, axis, start=0):
    return axis, start


@adjoint(np.rollaxis, domain=domains.custom(_rollaxis_args, "any axis, any start"),
         builtin=True)
def _rollaxis(*args, **kwargs):
    """Adjoint of ``np.rollaxis``: the cotangent transposed by the inverse permutation.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.sum(np.rollaxis(x, 1) * [[1.0], [2.0]]), np.ones((2, 2)))[0]
    array([[1., 2.],
           [1., 2.]])
    """
    a = args[0]
    axis, start = _rollaxis_spec(*args, **kwargs)
    ndim = np.ndim(a)
    # The permutation rollaxis applies, read off a shape of distinct sizes (a view, no data).
    probe = np.broadcast_to(np.float64(0), tuple(range(1, ndim + 1)))
    perm = [s - 1 for s in np.rollaxis(probe, axis, start).shape]
    inverse = tuple(int(i) for i in np.argsort(perm))
    return np.rollaxis(a, axis, start), lambda dy: (np.transpose(dy, inverse),) + nones(args)


def _triangle(fn: Any, name: str) -> None:
    def spec(m, k=0):
        return k

    def rule(*args, **kwargs):
        k = spec(*args, **kwargs)
        shape = np.shape(args[0])
        # A 1-D input is broadcast to a square first: its cotangent is summed back.
        return fn(args[0], k), lambda dy: (sum_to(fn(dy, k), shape),) + nones(args)

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = f"Adjoint of np.{name}: the same triangle of the cotangent."
    adjoint(fn, domain=domains.custom(_triangle_args, "1-3 dims, k from -3 to 3"),
            builtin=True)(rule)


_triangle(np.triu, "triu")
_triangle(np.tril, "tril")


# -- gathers ---------------------------------------------------------------------------------


gather_rule(np.tile, "tile", domains.custom(_tile_args, "reps an int or a tuple of 1-3 ints"),
        "Adjoint of np.tile: every copy's cotangent is added to the entry it copies.")
gather_rule(np.repeat, "repeat",
        domains.custom(_repeat_args, "repeats an int or one per entry (0 too), axis None/int"),
        "Adjoint of np.repeat: the cotangents of an entry's copies are summed.")


def _check_pad(array, pad_width, mode="constant", **kwargs):
    if callable(mode) or mode not in _PAD_MODES:
        raise NotDifferentiable(
            f"np.pad(..., mode={mode!r}) is not differentiable by adcheck's built-in rule; "
            f"modes {', '.join(map(repr, _PAD_MODES))} are (or register your own adjoint)."
        )
    if kwargs.get("reflect_type", "even") != "even":
        raise NotDifferentiable(
            "np.pad(..., reflect_type='odd') is not differentiable by adcheck's built-in rule "
            "(it is not a copy of entries); use reflect_type='even', or register an adjoint."
        )


def _pad_index(array, pad_width, mode="constant", **kwargs):
    if mode == "constant":
        kwargs["constant_values"] = 0  # padded entries: no copy of an input entry
    return np.pad(array, pad_width, mode, **kwargs)


@adjoint(np.pad, domain=domains.custom(_pad_args, "1-3 dims, pad widths 0-3 in every form, "
                                       "modes constant/edge/reflect/symmetric/wrap"),
         builtin=True)
def _pad(*args, **kwargs):
    """Adjoint of ``np.pad``: the cotangent of each padded copy is added to its source entry
    (and dropped for constants).

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.sum(np.pad(x, 1, mode="edge")), np.ones(2))[0]
    array([2., 2.])
    """
    _check_pad(*args, **kwargs)
    shape = np.shape(args[0])
    index = source_index(_pad_index, shape, *args[1:], **kwargs)
    value = np.pad(*args, **kwargs)
    return value, lambda dy: (scatter_back(dy, index, shape),) + nones(args)


gather_rule(np.diag, "diag", domains.custom(_diag_args, "1-D (build) or 2-D (extract), k -3..3"),
        "Adjoint of np.diag: the cotangent's diagonal (1-D input) or a matrix with the "
        "cotangent on the diagonal (2-D input).")
gather_rule(np.diagflat, "diagflat", domains.custom(_diagflat_args, "0-2 dims, k -3..3"),
        "Adjoint of np.diagflat: the cotangent's k-th diagonal, reshaped to the input.")
gather_rule(np.resize, "resize", domains.custom(_resize_args, "0-2 dims, any new shape"),
        "Adjoint of np.resize: the cotangents of the cyclic copies are summed.")


gather_rule(np.delete, "delete", domains.custom(_delete_args, "obj an int, a list or a slice; "
                                            "axis None/int"),
        "Adjoint of np.delete: the cotangent goes back to the entries that were kept.")


def _insert_spec(arr, obj, values, axis=None):
    return obj, axis


@adjoint(np.insert, domain=domains.custom(_insert_args, "obj an int or a list, values "
                                          "broadcast, axis None/int"),
         builtin=True)
def _insert(*args, **kwargs):
    """Adjoint of ``np.insert``: the array's entries and the inserted values (summed over
    their broadcast copies) each get their own cotangents.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x, v: np.sum(np.insert(x, 1, v) * [1.0, 2.0, 3.0]),
    ...             np.ones(2), 0.5)
    (array([1., 3.]), 2.0)
    """
    arr, values = args[0], args[2]
    obj, axis = _insert_spec(*args, **kwargs)
    shapes = [np.shape(arr), np.shape(values)]
    positions = source_positions(shapes)
    index = np.insert(positions[0], obj, positions[1], axis=axis) - 1
    value = np.insert(*args, **kwargs)
    return value, lambda dy: (lambda g: (g[0], None, g[1]))(gather_back(dy, index, shapes))

