"""Adjoint rules for spread and weighted means: ``var``, ``std``, ``average``.

All take ``axis`` (None, an int, a tuple, negative values too) and ``keepdims``; ``var`` and
``std`` take ``ddof`` (or NumPy 2's ``correction``). With ``n`` entries in a group, ``m``
their mean and ``d = n - ddof``:

- ``var``: each entry gets ``2 (x - m) / d`` times the group's cotangent;
- ``std``: ``(x - m) / (d * std)``; where a group's entries are all equal (``std == 0``)
  the function has a kink (it is a norm there) and the rule gives 0, the midpoint of its
  subgradient; a group of one entry has std 0 everywhere, so 0 is its exact derivative;
- ``average``: with weights ``w`` and ``W = sum(w)``, ``x`` gets ``w / W`` and ``w`` gets
  ``(x - average) / W``; weights may have ``x``'s shape or the shape of the averaged axes, as
  NumPy allows; ``returned=True`` also returns ``W``, whose cotangent goes to ``w``.
  Weights are differentiated when passed positionally (``np.average(x, 0, w)``); traced
  weights passed as ``weights=w`` raise :class:`~adcheck.NotDifferentiable`.

Every pullback is written with NumPy functions that have rules, so second derivatives work.
``out=``, ``dtype=``, ``where=`` and ``mean=`` are rejected with
:class:`~adcheck.NotDifferentiable`.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.var(x), np.array([1.0, 2.0, 6.0]))[0]
array([-1.33333333, -0.66666667,  2.        ])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tape import fit, sum_to
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .reductions import distinct_array, kept_shape, real_array, restore
from .shape import (
    NOT_GIVEN,
    broadcast_copy,
    draw_array_of,
    draw_axis,
    draw_shape,
    nones,
    normalize_axes,
    reject,
)


def _spread_spec(name: str):
    def spec(a, axis=None, dtype=None, out=None, ddof=0, keepdims=NOT_GIVEN, *,
             where=NOT_GIVEN, mean=NOT_GIVEN, correction=NOT_GIVEN):
        reject(name, dtype=dtype, out=out, where=where, mean=mean)
        if correction is not NOT_GIVEN:
            if ddof != 0:
                raise ValueError("ddof and correction can't be provided simultaneously.")
            ddof = correction
        return axis, ddof, keepdims is not NOT_GIVEN and bool(keepdims)

    return spec


_var_spec = _spread_spec("var")
_std_spec = _spread_spec("std")


def _group(a: Any, axis: Any) -> tuple[tuple, tuple, tuple, int]:
    """The shape of ``a``, the reduced axes, the kept shape and the group size."""
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    return shape, axes, kept_shape(shape, axes), math.prod(shape[i] for i in axes)


def centered(a: Any, axes: tuple[int, ...], mask: Any = None) -> Any:
    """``a`` minus the mean of its ``axes`` group (differentiable: a sum of traced ops).

    The mean is taken of ``a - c``, with ``c`` the group's largest entry as a constant, so a
    group of equal entries is centred to exactly 0 (``x - mean(x)`` is off by rounding
    there). With a NaN ``mask``, the mean is that of the other entries, and NaN entries get 0.

    >>> centered(np.array([[1.0, 3.0], [0.1, 0.1]]), (1,))
    array([[-1.,  1.],
           [ 0.,  0.]])
    """
    plain = np.asarray(strip(a))
    if mask is None:
        shifted = a - np.max(plain, axis=axes, keepdims=True)
        return shifted - np.mean(shifted, axis=axes, keepdims=True)
    c = np.max(np.where(mask, -np.inf, plain), axis=axes, keepdims=True)
    shifted = np.where(mask, 0.0, a - np.where(np.isfinite(c), c, 0.0))
    count = np.maximum(np.sum(~mask, axis=axes, keepdims=True), 1)
    return np.where(mask, 0.0, shifted - np.sum(shifted, axis=axes, keepdims=True) / count)


# -- domains ---------------------------------------------------------------------------------


def _spread_args(draw: Any, values: Any) -> tuple[tuple, dict]:
    """An array, an axis, keepdims, and ddof 0 or 1 (1 only for groups of two or more)."""
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = values(draw, shape)
    axis = draw_axis(draw, len(shape))
    _, _, _, n = _group(x, axis)
    kwargs: dict[str, Any] = {"axis": axis, "keepdims": draw(st.booleans())}
    ddof = draw(st.sampled_from([0, 1] if n > 1 else [0]))
    if draw(st.booleans()):
        kwargs["ddof"] = ddof
    elif ddof:
        kwargs["correction"] = ddof
    if draw(st.booleans()):
        return (x, kwargs.pop("axis")), kwargs
    return (x,), kwargs


def _var_args(draw: Any) -> tuple[tuple, dict]:
    return _spread_args(draw, real_array)


def _std_args(draw: Any) -> tuple[tuple, dict]:
    return _spread_args(draw, distinct_array)


def _average_args(draw: Any) -> tuple[tuple, dict]:
    """Weights of x's shape, of the averaged axes' shape (in the axis order given), or none."""
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = real_array(draw, shape)
    form = draw(st.sampled_from(["none", "full", "axes"]))
    axis = draw_axis(draw, len(shape))
    if form == "axes" and axis is not None and len(shape):
        axes = (axis,) if isinstance(axis, int) else axis
        w_shape = tuple(shape[i] for i in axes)
    else:
        w_shape = shape
    w = draw_array_of(draw, w_shape, x.dtype, 0.5, 2.0)
    returned = draw(st.booleans())
    kwargs = {"keepdims": draw(st.booleans())} if draw(st.booleans()) else {}
    if form == "none":
        return (x, axis, None, returned), kwargs
    return (x, axis, w, returned), kwargs


# -- rules -----------------------------------------------------------------------------------


@adjoint(np.var, domain=domains.custom(_var_args, "0-3 dims, every axis form, keepdims, ddof "
                                       "0/1, float64/32"), builtin=True)
def _var(*args, **kwargs):
    """Adjoint of ``np.var``: ``2 (x - mean) / (n - ddof)`` times the cotangent.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.var(x, ddof=1), np.array([0.0, 2.0]))[0]
    array([-2.,  2.])
    """
    a = args[0]
    axis, ddof, keepdims = _var_spec(*args, **kwargs)
    value = np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)
    shape, axes, kept, n = _group(a, axis)

    scale = 2.0 / (n - ddof) if n > ddof else math.nan  # NumPy's value is NaN/inf there too

    def back(dy):
        return (restore(dy, kept) * scale * centered(a, axes),) + nones(args)

    return value, back


@adjoint(np.std, domain=domains.custom(_std_args, "like var, entries >= 0.3 apart (std > 0)"),
         builtin=True)
def _std(*args, **kwargs):
    """Adjoint of ``np.std``: ``(x - mean) / ((n - ddof) std)``; 0 where std is 0.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.std(x), np.array([1.0, 3.0]))[0]
    array([-0.5,  0.5])
    >>> ad.gradient(lambda x: np.std(x), np.array([2.0, 2.0]))[0]
    array([0., 0.])
    """
    a = args[0]
    axis, ddof, keepdims = _std_spec(*args, **kwargs)
    value = np.std(a, axis=axis, ddof=ddof, keepdims=keepdims)
    shape, axes, kept, n = _group(a, axis)
    d = n - ddof if n > ddof else math.nan  # NumPy's value is NaN/inf there too

    def back(dy):
        s = restore(value, kept)
        flat = np.equal(strip(s), 0)  # constant: which groups sit at the kink
        safe = np.where(flat, 1.0, s) if np.any(flat) else s
        g = restore(dy, kept) * centered(a, axes) / (d * safe)
        return (np.where(flat, 0.0, g) if np.any(flat) else g,) + nones(args)

    return value, back


def _average_spec(a, axis=None, weights=None, returned=False, *, keepdims=NOT_GIVEN):
    return axis, weights, returned, keepdims


def _axis_tuple(axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as NumPy's average reads it: a tuple of non-negative ints in the given order."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(int(i) % ndim if ndim else int(i) for i in axes)


@adjoint(np.average, domain=domains.custom(_average_args, "weights none, full or along the "
                                           "axes (positive), returned, keepdims"), builtin=True)
def _average(*args, **kwargs):
    """Adjoint of ``np.average``: ``x`` gets ``w / sum(w)``, ``w`` gets ``(x - avg) / sum(w)``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x, w: np.average(x, 0, w), np.array([1.0, 3.0]),
    ...             np.array([1.0, 3.0]))
    (array([0.25, 0.75]), array([-0.375,  0.125]))
    """
    a = args[0]
    axis, weights, returned, keepdims = _average_spec(*args, **kwargs)
    value = np.average(*args, **kwargs)
    shape = np.shape(a)
    axes = _axis_tuple(axis, len(shape))
    reduced = tuple(range(len(shape))) if axes is None else tuple(sorted(axes))
    kept = kept_shape(shape, reduced)

    if weights is None:
        n = math.prod(shape[i] for i in reduced)

        def back_mean(dy):
            d_avg = dy[0] if returned else dy
            return (broadcast_copy(restore(d_avg, kept) / n, shape),) + nones(args)

        return value, back_mean

    w_shape = np.shape(weights)
    w = weights
    if w_shape != shape:  # weights along the axes, in the order they were given
        order = tuple(int(i) for i in np.argsort(axes))
        w = np.reshape(np.transpose(weights, order),
                       tuple(s if i in axes else 1 for i, s in enumerate(shape)))
    w_full_shape = np.shape(w)
    total = np.sum(np.broadcast_to(w, shape), axis=reduced, keepdims=True)

    def back(dy):
        d_avg = restore(dy[0] if returned else dy, kept)
        da = d_avg * w / total
        # x - avg, computed as (x - c) - average(x - c) with c the group's largest entry (a
        # constant): exact 0 where a group's entries are equal, instead of rounding noise.
        shifted = a - np.max(np.asarray(strip(a)), axis=reduced, keepdims=True)
        deviation = shifted - np.sum(w * shifted, axis=reduced, keepdims=True) / total
        dw = d_avg * deviation / total
        if returned:
            dw = dw + restore(dy[1], kept)
        dw = sum_to(np.broadcast_to(dw, shape), w_full_shape)
        if w_shape != shape:
            inverse = tuple(int(i) for i in np.argsort(np.argsort(axes)))
            dw = np.transpose(np.reshape(dw, tuple(shape[i] for i in sorted(axes))), inverse)
        grads = [fit(da, a), None, fit(dw, weights)] + [None] * (len(args) - 3)
        return tuple(grads[: len(args)])

    return value, back
