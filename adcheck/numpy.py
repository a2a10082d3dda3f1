"""Helpers for the NumPy idioms the tracer cannot intercept.

``np.array([t1, t2])``, ``np.r_[t1, t2]``, ``np.c_[a, b]``, ``np.full(shape, t)``,
``np.full_like(x, t)`` and ``x[i] = v`` turn traced values into plain numbers behind NumPy's
back, so the engine refuses them. These do the same jobs in a way the tape records, and give
exactly NumPy's result (values, shape and dtype) when nothing is traced:

================================  ===========================================
NumPy                             adcheck.numpy
================================  ===========================================
``np.array([[a, 1.0], [b, c]])``  ``array([[a, 1.0], [b, c]])``
``np.r_[a, 0.0, b, 1:3]``         ``r_[a, 0.0, b, 1:3]``
``np.c_[a, b]``                   ``c_[a, b]``
``np.block([[A, b], [c, D]])``    ``block([[A, b], [c, D]])``
``np.full((2, 3), t)``            ``full((2, 3), t)``
``np.full_like(x, t)``            ``full_like(x, t)``
``x[i] = v``                      ``x = set_at(x, i, v)``
``x[i] += v``                     ``x = add_at(x, i, v)``
================================  ===========================================

>>> import numpy as np
>>> import adcheck as ad
>>> from adcheck import numpy as anp
>>> ad.gradient(lambda a, b: anp.array([a, 2 * b]).sum(), 1.0, 1.0)
(1.0, 2.0)
>>> ad.gradient(lambda a: np.sum(anp.r_[a, 0.0, a * a] * [1.0, 5.0, 2.0]), 3.0)
(13.0,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import domains
from .engine.tape import fit, sum_to
from .engine.tracer import Traced, getitem, strip
from .registry import adjoint, primitive

__all__ = ["array", "block", "full", "full_like", "set_at", "add_at", "r_", "c_"]


def _holds_traced(items: Any) -> bool:
    if type(items) is Traced:
        return True
    if isinstance(items, (list, tuple)):
        return any(_holds_traced(i) for i in items)
    return False


def _plain(items: Any) -> Any:
    """``items`` with every traced value (at any depth of nesting) replaced by its values."""
    if type(items) in (list, tuple):
        return type(items)(_plain(i) for i in items)
    return strip(items)


def _as_dtype(x: Any, dtype: np.dtype) -> Any:
    return x if np.result_type(x) == dtype else x.astype(dtype)


def array(items: Any, dtype: Any = None) -> Any:
    """``np.array`` of a (nested) list or tuple that may hold traced values.

    Plain numbers, arrays and traced values mix freely; the result has NumPy's shape and
    dtype (``dtype`` converts, between float dtypes when anything is traced).

    >>> array([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.sum(array([[a, 1.0], [a * a, 0.0]]) * [[1, 2], [3, 4]]), 2.0)
    (13.0,)
    """
    if not _holds_traced(items):
        return np.array(items, dtype=dtype)
    target = np.array(_plain(items), dtype=dtype).dtype  # NumPy's shape and dtype rules
    return _as_dtype(_build(items), target)


def _build(items: Any) -> Any:
    if type(items) is Traced:
        return np.copy(items)  # np.array copies
    if isinstance(items, (list, tuple)):
        if not _holds_traced(items):
            return np.array(items)
        return np.stack([_build(i) for i in items])
    return np.asarray(items)


def block(arrays: Any) -> Any:
    """``np.block`` of nested lists that may hold traced arrays: the innermost lists are
    joined along the last axis, the next ones along the one before, and so on.

    >>> import adcheck as ad
    >>> A = np.eye(2)
    >>> ad.gradient(lambda b: np.sum(block([[A, b[:, None]], [b[None, :], np.ones((1, 1))]])),
    ...             np.array([1.0, 2.0]))[0]
    array([2., 2.])
    """
    if not _holds_traced(arrays):
        return np.block(arrays)
    target = np.block(_plain(arrays))  # NumPy checks the nesting and gives shape and dtype
    depth = 0
    inner = arrays
    while type(inner) is list and inner:
        depth, inner = depth + 1, inner[0]

    def join(a: Any, level: int) -> Any:
        if type(a) is list:
            return np.concatenate([join(i, level + 1) for i in a], axis=level - depth - 1)
        a = a if type(a) is Traced else np.asarray(a)
        return np.reshape(a, (1,) * (target.ndim - np.ndim(a)) + np.shape(a))

    return _as_dtype(join(arrays, 1), target.dtype)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """``np.full`` whose fill value may be traced (an array broadcast to ``shape`` too); the
    fill value's gradient is the sum of the result's.

    >>> full((2, 3), 1.5)
    array([[1.5, 1.5, 1.5],
           [1.5, 1.5, 1.5]])
    >>> import adcheck as ad
    >>> ad.gradient(lambda t: np.sum(full((2, 3), t)), 0.5)
    (6.0,)
    """
    if type(fill_value) is not Traced:
        return np.full(shape, fill_value, dtype=dtype)
    target = np.full(shape, strip(fill_value), dtype=dtype).dtype
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _as_dtype(np.copy(np.broadcast_to(fill_value, shape)), target)


def full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Any:
    """``np.full_like`` whose fill value may be traced (``a`` gives only shape and dtype).

    >>> full_like(np.zeros((2,), np.float32), 3.0)
    array([3., 3.], dtype=float32)
    """
    plain = np.full_like(strip(a), strip(fill_value), dtype=dtype, shape=shape)
    if type(fill_value) is not Traced:
        return plain
    return _as_dtype(np.copy(np.broadcast_to(fill_value, plain.shape)), plain.dtype)


# -- functional writes -----------------------------------------------------------------------


@primitive
def set_at(x: Any, index: Any, value: Any) -> Any:
    """A copy of ``x`` with ``x[index] = value``, without touching ``x`` (a functional write).

    ``index`` is any NumPy index (ints, slices, integer arrays, masks); ``value`` broadcasts
    to ``x[index]``. Where an integer array repeats a position, the last write wins, as in
    NumPy, and only that write gets a gradient.

    >>> x = np.zeros(3)
    >>> set_at(x, 1, 5.0), x
    (array([0., 5., 0.]), array([0., 0., 0.]))
    """
    out = np.array(x, dtype=np.result_type(x, value), copy=True)
    out[index] = value
    return out


def add_at(x: Any, index: Any, value: Any) -> Any:
    """A copy of ``x`` with ``value`` added at ``x[index]``; repeated positions accumulate
    (``np.add.at``, the functional ``x[index] += value`` for every repeat).

    >>> add_at(np.zeros(3), [0, 0, 2], 1.0)
    array([2., 0., 1.])
    """
    from .rules.indexing import scatter_add

    shape = np.shape(x)
    target = np.shape(np.empty(shape)[strip(index)])
    return x + scatter_add(np.broadcast_to(value, target), strip(index), shape)


def _written(x_shape: tuple, index: Any) -> np.ndarray:
    """For each entry of ``x[index]``: True where its write is the one that stays."""
    probe = np.empty(x_shape)[index]
    positions = np.arange(probe.size).reshape(probe.shape)
    landed = np.full(x_shape, -1, dtype=np.intp)
    landed[index] = positions  # the same write as set_at's: the last repeat wins
    return landed[index] == positions


def _set_at_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    from .rules.shape import draw_array_of, draw_float_dtype, draw_shape

    dtype = draw_float_dtype(draw)
    shape = draw_shape(draw, min_dims=1, max_dims=2)
    x = draw_array_of(draw, shape, dtype)
    kind = draw(st.sampled_from(["int", "slice", "repeats", "mask"]))
    if kind == "int":
        index: Any = tuple(draw(st.integers(-s, s - 1)) for s in shape[:draw(
            st.integers(1, len(shape)))])
        index = index[0] if len(index) == 1 else index
    elif kind == "slice":
        index = draw(hnp.basic_indices(shape, allow_ellipsis=False))
    elif kind == "repeats":
        index = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5))
    else:
        index = draw(hnp.arrays(np.bool_, shape))
    target = np.empty(shape)[index].shape
    vshape = draw(st.sampled_from([(), target, target[1:], (1,) * len(target)]))
    return (x, index, draw_array_of(draw, vshape, dtype)), {}


@adjoint(set_at, domain=domains.custom(_set_at_args, "1-2 dims; int, slice, repeated-int and "
                                       "mask indices; broadcast values"),
         builtin=True)
def _set_at_adjoint(x, index, value):
    """Adjoint of :func:`set_at`: ``x`` gets the cotangent outside the written entries, the
    value gets it at the writes that stay (summed over its broadcast copies).

    >>> import adcheck as ad
    >>> ad.gradient(lambda x, v: np.sum(set_at(x, [0, 0], v) * [2.0, 3.0]), np.ones(2),
    ...             np.ones(2))
    (array([0., 3.]), array([0., 2.]))
    """
    index = strip(index)
    written = _written(np.shape(x), index)
    v_shape = np.shape(value)

    def pullback(dy):
        d_x = set_at(dy, index, 0.0)
        d_value = np.where(written, getitem(dy, index), 0.0)
        return fit(d_x, x), None, fit(sum_to(d_value, v_shape), value)

    return set_at(x, index, value), pullback


# -- np.r_ and np.c_ -------------------------------------------------------------------------


class _Concatenator:
    """``r_[...]`` / ``c_[...]``: NumPy's index-trick concatenation, with traced items."""

    def __init__(self, numpy_object: Any, axis: int, ndmin: int, trans1d: int):
        self._numpy = numpy_object
        self._directive = (axis, ndmin, trans1d)

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not _holds_traced(list(items)):
            return self._numpy[key]
        axis, ndmin, trans1d = self._directive
        if items and isinstance(items[0], str):
            parts = items[0].split(",")
            if parts[0] in ("r", "c") or len(parts) > 3:
                raise ValueError(f"adcheck.numpy.r_/c_ do not support the directive "
                                 f"{items[0]!r} (matrix outputs); use an axis, e.g. '1'.")
            numbers = [int(p) for p in parts]
            axis, ndmin, trans1d = numbers + [ndmin, trans1d][len(numbers) - 1:]
            items = items[1:]
        directive = f"{axis},{ndmin},{trans1d}"
        # NumPy's result on the plain values: the shape and dtype to match.
        target = np.r_[(directive,) + tuple(_plain(list(items)))].dtype
        pieces = [_promote(i, ndmin, trans1d) if type(i) is Traced else np.r_[directive, i]
                  for i in items]
        return _as_dtype(np.concatenate(pieces, axis=axis), target)


def _promote(t: Traced, ndmin: int, trans1d: int) -> Any:
    """What ``np.r_`` does to an array item: unit axes up to ``ndmin``, then a transpose."""
    ndim = t.ndim
    if ndim >= ndmin:
        return t
    t = np.reshape(t, (1,) * (ndmin - ndim) + t.shape)
    if trans1d == -1:
        return t
    k2, k1 = ndmin - ndim, trans1d
    if k1 < 0:
        k1 += k2 + 1
    axes = list(range(ndmin))
    return np.transpose(t, axes[:k1] + axes[k2:] + axes[k1:k2])


r_ = _Concatenator(np.r_, 0, 1, -1)
r_.__doc__ = """``np.r_`` for traced items: ``r_[a, 0.0, b, 1:3]``, ``r_['1', A, B]``.

>>> r_[np.array([1.0, 2.0]), 0.0, 3:5]
array([1., 2., 0., 3., 4.])
"""
c_ = _Concatenator(np.c_, -1, 2, 0)
c_.__doc__ = """``np.c_`` for traced items: 1-D arrays become columns side by side.

>>> import adcheck as ad
>>> ad.gradient(lambda a: np.sum(c_[a, 2 * a] * [[1.0, 10.0], [2.0, 20.0]]), np.ones(2))[0]
array([21., 42.])
"""

# documented module attributes are objects, not functions: make their examples run
__test__ = {"r_": r_.__doc__, "c_": c_.__doc__}
