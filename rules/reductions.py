"""Adjoint rules for reductions: ``sum``, ``mean``, ``prod``, ``max``/``amax``, ``min``/``amin``,
``ptp``.

All take ``axis`` (None, an int, a tuple, negative values too) and ``keepdims``. Their
pullbacks put the reduced axes back into the cotangent and broadcast it over the input:

- ``sum``: every entry of a group gets the group's cotangent;
- ``mean``: the same, divided by the group's size;
- ``prod``: each entry gets the cotangent times the product of the *other* entries of its
  group, computed without dividing by the entry, so zeros are handled exactly;
- ``max``/``min``: the cotangent goes to the entry that attains the extremum; when several
  entries tie, it is split evenly among them (the midpoint of the subgradient, the same
  convention as ``np.maximum``'s rule);
- ``ptp`` (max - min): the max's weights minus the min's, ties split the same way.

``out=``, ``dtype=``, ``initial=`` and ``where=`` are rejected with
:class:`~adcheck.NotDifferentiable`.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.prod(x), np.array([2.0, 0.0, 5.0]))[0]
array([ 0., 10.,  0.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .shape import (
    NOT_GIVEN,
    draw_array_of,
    draw_axis,
    draw_float_dtype,
    draw_shape,
    nones,
    normalize_axes,
    reject,
)


def _sum_spec(a, axis=None, dtype=None, out=None, keepdims=False, initial=NOT_GIVEN,
              where=NOT_GIVEN):
    reject("sum", dtype=dtype, out=out, initial=initial, where=where)
    return axis, keepdims


def _mean_spec(a, axis=None, dtype=None, out=None, keepdims=False, *, where=NOT_GIVEN):
    reject("mean", dtype=dtype, out=out, where=where)
    return axis, keepdims


def _prod_spec(a, axis=None, dtype=None, out=None, keepdims=False, initial=NOT_GIVEN,
               where=NOT_GIVEN):
    reject("prod", dtype=dtype, out=out, initial=initial, where=where)
    return axis, keepdims


def _extremum_spec(name):
    def spec(a, axis=None, out=None, keepdims=False, initial=NOT_GIVEN, where=NOT_GIVEN):
        reject(name, out=out, initial=initial, where=where)
        return axis, keepdims

    return spec


def kept_shape(shape: tuple, axes: tuple[int, ...]) -> tuple:
    """``shape`` with the reduced ``axes`` set to 1 (the result's shape with keepdims=True).

    >>> kept_shape((2, 3, 4), (0, 2))
    (1, 3, 1)
    """
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def restore(dy: Any, kept: tuple) -> Any:
    """The cotangent with the reduced axes put back as axes of length 1.

    >>> restore(np.ones(3), (1, 3, 1)).shape
    (1, 3, 1)
    """
    return dy if np.shape(dy) == kept else np.reshape(dy, kept)


def extremum_weights(a: Any, value: Any, kept: tuple, axes: tuple[int, ...]) -> np.ndarray:
    """Where each group's extremum ``value`` sits in ``a``: 1/k at each of its k ties, else 0.

    Entries equal to NaN never match, so this also serves ``nanmax``/``nanmin``. Which
    entries attain the extremum is a constant even when ``a`` is traced by an outer
    derivative (max is linear around its arg-max), so plain values are compared.

    >>> extremum_weights(np.array([[1.0, 3.0, 3.0]]), np.array([3.0]), (1, 1), (1,))
    array([[0. , 0.5, 0.5]])
    """
    hit = np.equal(strip(a), np.reshape(strip(value), kept))
    ties = np.maximum(np.sum(hit, axis=axes, keepdims=True), 1)  # 1 where all entries are NaN
    return (hit / ties).astype(np.result_type(a), copy=False)


def real_array(draw: Any, shape: tuple, low: float = -10.0, high: float = 10.0) -> np.ndarray:
    """Entries in ``[low, high]``, float64 or float32 (drawn at that width: no subnormals).

    >>> from hypothesis import find, strategies as st
    >>> find(st.composite(lambda d: real_array(d, (2,)))(), lambda x: x.dtype == np.float32)
    array([0., 0.], dtype=float32)
    """
    return draw_array_of(draw, shape, draw_float_dtype(draw), low, high)


def small_array(draw: Any, shape: tuple) -> np.ndarray:
    """Entries in [-2, 2] and often exact zeros, float64 or float32 (for products).

    >>> from hypothesis import find, strategies as st
    >>> find(st.composite(lambda d: small_array(d, (2,)))(), lambda x: True)
    array([0., 0.])
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    dtype = draw_float_dtype(draw)
    width = 32 if dtype == np.float32 else 64
    entries = st.one_of(st.floats(-2, 2, width=width, allow_subnormal=False), st.just(0.0))
    return draw(hnp.arrays(dtype, shape, elements=entries))


def distinct_array(draw: Any, shape: tuple) -> np.ndarray:
    """Entries at least 0.3 apart (a shuffled ramp plus noise), float64 or float32.

    >>> from hypothesis import find, strategies as st
    >>> x = find(st.composite(lambda d: distinct_array(d, (3,)))(), lambda x: True)
    >>> bool(np.min(np.diff(np.sort(x))) >= 0.3)
    True
    """
    from hypothesis import strategies as st

    dtype = draw_float_dtype(draw)
    n = math.prod(shape)
    ramp = (np.array(draw(st.permutations(range(n)))) * 0.5 - n / 4).astype(dtype)
    noise = draw_array_of(draw, (n,), dtype, -0.1, 0.1)
    return np.reshape(ramp + noise, shape)


def _reduction_args(draw: Any) -> tuple[tuple, dict]:
    """An array (0-d to 3-d) and an axis; ``axis`` positional or keyword, keepdims both ways."""
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = real_array(draw, shape)
    axis = draw_axis(draw, len(shape))
    keepdims = draw(st.booleans())
    if draw(st.booleans()):
        return (x, axis), {"keepdims": keepdims}
    return (x,), {"axis": axis, "keepdims": keepdims}


def _prod_args(draw: Any) -> tuple[tuple, dict]:
    """Like the other reductions, entries in [-2, 2] and sometimes exact zeros."""
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = small_array(draw, shape)
    return (x,), {"axis": draw_axis(draw, len(shape)), "keepdims": draw(st.booleans())}


def _distinct_args(draw: Any) -> tuple[tuple, dict]:
    """Entries at least 0.3 apart: no ties, so max, min and ptp are smooth."""
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = distinct_array(draw, shape)
    axis = draw_axis(draw, len(shape))
    keepdims = draw(st.booleans())
    return (x,), {"axis": axis, "keepdims": keepdims}


_REDUCTION_DOMAIN = domains.custom(
    _reduction_args, "0-3 dims, axis None/int/tuple (negative too), keepdims both ways, float64/32"
)


# -- rules -----------------------------------------------------------------------------------


@adjoint(np.sum, domain=_REDUCTION_DOMAIN, builtin=True)
def _sum(*args, **kwargs):
    """Adjoint of ``np.sum``: the cotangent is broadcast back over the summed axes.

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.sum(x, axis=0), np.ones((2, 3)))[1](np.arange(3.0))
    (array([[0., 1., 2.],
           [0., 1., 2.]]),)
    """
    a = args[0]
    axis, keepdims = _sum_spec(*args, **kwargs)
    value = np.sum(a, axis=axis, keepdims=keepdims)
    shape = np.shape(a)
    kept = kept_shape(shape, normalize_axes(axis, len(shape)))
    rest = nones(args)  # here, not in the closure: holding args would keep ``a`` alive
    return value, lambda dy: (np.broadcast_to(restore(dy, kept), shape),) + rest


@adjoint(np.mean, domain=_REDUCTION_DOMAIN, builtin=True)
def _mean(*args, **kwargs):
    """Adjoint of ``np.mean``: the cotangent, divided by the group size, broadcast back.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.mean(x), np.ones((2, 2)))[0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    a = args[0]
    axis, keepdims = _mean_spec(*args, **kwargs)
    value = np.mean(a, axis=axis, keepdims=keepdims)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    kept = kept_shape(shape, axes)
    count = math.prod(shape[i] for i in axes)
    rest = nones(args)
    return value, lambda dy: (np.broadcast_to(restore(dy, kept) / count, shape),) + rest


@adjoint(np.prod, domain=domains.custom(_prod_args, "like sum, entries in [-2, 2] with zeros"),
         builtin=True)
def _prod(*args, **kwargs):
    """Adjoint of ``np.prod``: each entry gets the product of the others (no division).

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.prod(x), np.array([2.0, 3.0, 0.0, 4.0]))[0]
    array([ 0.,  0., 24.,  0.])
    """
    a = args[0]
    axis, keepdims = _prod_spec(*args, **kwargs)
    value = np.prod(a, axis=axis, keepdims=keepdims)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    kept = kept_shape(shape, axes)

    def back(dy):
        return (restore(dy, kept) * others_product(a, shape, axes),) + nones(args)

    return value, back


def others_product(a: Any, shape: tuple, axes: tuple[int, ...]) -> Any:
    """For every entry of ``a``, the product of the other entries in its ``axes`` group."""
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    perm = rest + axes
    moved = a if perm == tuple(range(len(shape))) else np.transpose(a, perm)
    group = math.prod(shape[i] for i in axes)
    flat = np.reshape(moved, tuple(shape[i] for i in rest) + (group,))
    others = np.reshape(_exclusive_prod(flat), tuple(shape[i] for i in perm))
    if moved is a:
        return others
    return np.transpose(others, tuple(int(i) for i in np.argsort(perm)))


def _exclusive_prod(x: Any) -> Any:
    """``out[..., i]`` = the product of ``x[..., j]`` for all ``j != i`` along the last axis.

    Computed by a pairwise tree, O(n) work in O(log n) NumPy calls, with products only, so it
    is exact where an entry is zero and is itself differentiable by the rules (it is how
    ``prod``'s second derivative is computed).

    >>> _exclusive_prod(np.array([2.0, 3.0, 0.0, 4.0, 5.0]))
    array([  0.,   0., 120.,   0.,   0.])
    """
    k = np.shape(x)[-1]
    lead = np.shape(x)[:-1]
    if k <= 1:
        return np.ones(np.shape(x), np.result_type(x))
    n = 1 << (k - 1).bit_length()  # pad with ones to a power of two
    if n != k:
        x = np.concatenate([x, np.ones(lead + (n - k,), np.result_type(x))], axis=-1)
    pairs = np.reshape(x, lead + (n // 2, 2))
    partner = pairs[..., ::-1]
    # Each entry's product of others = its partner times the product of all other pairs.
    out = partner * _exclusive_prod(np.prod(pairs, axis=-1))[..., None]
    out = np.reshape(out, lead + (n,))
    return out if n == k else out[..., :k]


def _extremum(fn: Any, name: str) -> Any:
    spec = _extremum_spec(name)

    def rule(*args, **kwargs):
        a = args[0]
        axis, keepdims = spec(*args, **kwargs)
        value = fn(a, axis=axis, keepdims=keepdims)
        shape = np.shape(a)
        axes = normalize_axes(axis, len(shape))
        kept = kept_shape(shape, axes)

        def back(dy):
            return (restore(dy, kept) * extremum_weights(a, value, kept, axes),) + nones(args)

        return value, back

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = (
        f"Adjoint of ``np.{name}``: the cotangent goes to the {name[-3:]}imal entries, "
        "split evenly among ties."
    )
    return rule


_distinct = domains.custom(_distinct_args, "like sum, entries >= 0.3 apart (no ties)")
for _fn, _name in ((np.max, "max"), (np.amax, "amax"), (np.min, "min"), (np.amin, "amin")):
    adjoint(_fn, domain=_distinct, builtin=True)(_extremum(_fn, _name))


def _ptp_spec(a, axis=None, out=None, keepdims=NOT_GIVEN):
    reject("ptp", out=out)
    return axis, keepdims is not NOT_GIVEN and bool(keepdims)


@adjoint(np.ptp, domain=_distinct, builtin=True)
def _ptp(*args, **kwargs):
    """Adjoint of ``np.ptp`` (max - min): +cotangent at the maxima, -cotangent at the minima.

    Ties split evenly, as for ``max``; a group of one entry has ptp 0 and gets 0.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.ptp(x), np.array([1.0, 4.0, -2.0, 4.0]))[0]
    array([ 0. ,  0.5, -1. ,  0.5])
    """
    a = args[0]
    axis, keepdims = _ptp_spec(*args, **kwargs)
    value = np.ptp(a, axis=axis, keepdims=keepdims)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    kept = kept_shape(shape, axes)

    def back(dy):
        high = extremum_weights(a, np.max(strip(a), axis=axes, keepdims=True), kept, axes)
        low = extremum_weights(a, np.min(strip(a), axis=axes, keepdims=True), kept, axes)
        return (restore(dy, kept) * (high - low),) + nones(args)

    return value, back
