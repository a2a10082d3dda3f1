"""Adjoint rules for polynomials, integration and interpolation: ``polyval``, ``trapezoid``,
``interp``.

- ``polyval(p, x)``: ``x`` gets ``dy * polyval(p', x)`` (``p'`` the derivative's
  coefficients), ``p[k]`` gets ``sum(dy * x ** (N - k))``;
- ``trapezoid(y, x, dx, axis)``: the sum of ``(x[i+1] - x[i]) (y[i] + y[i+1]) / 2``; ``y``,
  ``x`` (1-d along ``axis`` or ``y``'s shape) and a positional scalar ``dx`` are all
  differentiated;
- ``interp(x, xp, fp, left, right)``: ``fp[i] (1 - t) + fp[i+1] t`` with ``t = (x - xp[i]) /
  (xp[i+1] - xp[i])`` inside ``[xp[0], xp[-1]]``, ``left``/``right`` (default ``fp[0]`` /
  ``fp[-1]``) outside. ``x``, ``xp`` and ``fp`` (and positional ``left``/``right``) are
  differentiated. The function has kinks at the points ``xp``, where the slope changes: there
  ``x`` gets the slope of the interval to the right (NumPy's choice of interval), and the
  checker's domain keeps ``x`` at least 0.1 away from them. ``period=`` is rejected. (NumPy
  hands ``interp`` to adcheck only when ``x``, ``xp`` or ``fp`` is traced; a traced
  ``left``/``right`` alone stops with a clear ``float()`` error.)

The pullbacks are written with NumPy functions that have rules (second derivatives).

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda p, x: np.polyval(p, x), np.array([1.0, 0.0, 2.0]), 3.0)
(array([9., 3., 1.]), 6.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .reductions import real_array
from .shape import draw_array_of, draw_float_dtype, reject

# -- polyval ---------------------------------------------------------------------------------


def _polyval_spec(p, x):
    return p, x


def _polyval_args(draw: Any) -> tuple[tuple, dict]:
    """Coefficients (1-5 of them) and points x (0-2 dims), in [-2, 2]."""
    from hypothesis import strategies as st

    dtype = draw_float_dtype(draw)
    p = draw_array_of(draw, (draw(st.sampled_from([1, 2, 3, 4, 5])),), dtype, -2.0, 2.0)
    x_shape = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    return (p, draw_array_of(draw, x_shape, dtype, -2.0, 2.0)), {}


@adjoint(np.polyval, domain=domains.custom(_polyval_args, "1-5 coefficients, x 0-2 dims, "
                                           "entries in [-2, 2], float64/32"), builtin=True)
def _polyval(*args, **kwargs):
    """Adjoint of ``np.polyval``: ``x`` gets ``dy * p'(x)``, ``p[k]`` gets ``sum(dy x^(N-k))``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.polyval(np.array([1.0, 0.0, 0.0]), x).sum(), np.array([2.0]))[0]
    array([4.])
    """
    p, x = _polyval_spec(*args, **kwargs)
    value = np.polyval(p, x)
    n = np.shape(p)[0]

    def dp(dy):
        power = np.ones(np.shape(x), np.result_type(strip(dy)))  # x ** 0
        parts = []
        for _ in range(n):
            parts.append(np.sum(dy * power))
            power = power * x
        return fit(np.stack(parts[::-1]), p)

    def dx(dy):
        if n < 2:
            return fit(dy * 0, x)
        degree = np.arange(n - 1, 0, -1, dtype=np.result_type(strip(p)))
        return fit(dy * np.polyval(p[:-1] * degree, x), x)

    def back(dy):
        return (lambda: dp(dy), lambda: dx(dy))

    return value, back


# -- trapezoid -------------------------------------------------------------------------------


def _trapezoid_spec(y, x=None, dx=1.0, axis=-1):
    return x, dx, axis


def _zeros_like_last(v: Any) -> Any:
    return np.zeros(np.shape(v)[:-1] + (1,), np.result_type(strip(v)))


def _trapezoid_args(draw: Any) -> tuple[tuple, dict]:
    """y of 1-3 dims, axis any (negative too), and no x, a scalar dx (positional or keyword),
    x 1-d along the axis or x of y's shape (increasing)."""
    from hypothesis import strategies as st

    ndim = draw(st.sampled_from([1, 2, 3]))
    shape = tuple(draw(st.sampled_from([1, 2, 3, 4])) for _ in range(ndim))
    y = real_array(draw, shape)
    axis = draw(st.sampled_from(list(range(-ndim, ndim))))
    form = draw(st.sampled_from(["none", "dx", "dx-keyword", "x-1d", "x-full"]))
    n = shape[axis]
    if form == "none":
        return (y,), {"axis": axis}
    if form in ("dx", "dx-keyword"):
        dx = float(draw(st.floats(0.25, 2.0)))
        return ((y, None, dx), {"axis": axis}) if form == "dx" else ((y,), {"dx": dx,
                                                                           "axis": axis})
    x_shape = (n,) if form == "x-1d" else shape
    steps = draw_array_of(draw, x_shape, y.dtype, 0.25, 2.0)
    x = np.cumsum(steps, axis=0 if form == "x-1d" else axis).astype(y.dtype)
    return (y, x), {"axis": axis}


@adjoint(np.trapezoid, domain=domains.custom(_trapezoid_args, "y 1-3 dims, every axis, no x, "
                                             "scalar dx, or x 1-d / of y's shape"),
         builtin=True)
def _trapezoid(*args, **kwargs):
    """Adjoint of ``np.trapezoid``: ``y[i]`` gets half the two neighbouring spacings; ``x[i]``
    gets ``(y[i-1] - y[i+1]) / 2`` (one-sided at the ends).

    >>> import adcheck as ad
    >>> ad.gradient(lambda y: np.trapezoid(y), np.array([1.0, 5.0, 2.0]))[0]
    array([0.5, 1. , 0.5])
    """
    y = args[0]
    x, dx, axis = _trapezoid_spec(*args, **kwargs)
    value = np.trapezoid(*args, **kwargs)
    ndim = np.ndim(y)
    axis = int(axis) % ndim
    yl = np.moveaxis(y, axis, -1)
    pairs = (yl[..., 1:] + yl[..., :-1]) / 2.0
    if x is None:
        d = dx
    elif np.ndim(x) == 1:
        d = np.diff(x)
    else:
        d = np.diff(np.moveaxis(x, axis, -1), axis=-1)

    def back(g):
        gl = np.reshape(g, np.shape(g) + (1,))
        z = _zeros_like_last(pairs)
        gs = np.broadcast_to(gl * d / 2.0, np.shape(pairs))
        gy = np.moveaxis(np.concatenate([gs, z], axis=-1) + np.concatenate([z, gs], axis=-1),
                         -1, axis)
        grads: list = [lambda: fit(gy, y)] + [None] * (len(args) - 1)
        if x is not None and len(args) > 1:
            gd = gl * pairs
            gx = np.concatenate([z, gd], axis=-1) - np.concatenate([gd, z], axis=-1)
            if np.ndim(x) == 1:
                grads[1] = lambda: fit(np.reshape(gx, (-1, np.shape(gx)[-1])).sum(axis=0), x)
            else:
                grads[1] = lambda: fit(np.moveaxis(gx, -1, axis), x)
        if x is None and len(args) > 2:
            grads[2] = lambda: fit(np.sum(gl * pairs), dx)
        return tuple(grads)

    return value, back


# -- interp ----------------------------------------------------------------------------------


def _interp_spec(x, xp, fp, left=None, right=None, period=None):
    reject("interp", period=period)
    return left, right


def _one_hot(index: np.ndarray, n: int, dtype: Any) -> np.ndarray:
    return (np.reshape(index, (-1, 1)) == np.arange(n)).astype(dtype)


def _interp_args(draw: Any) -> tuple[tuple, dict]:
    """xp of 1-5 increasing points (gaps 0.5-1.5), fp, and x (0-2 dims) at least 0.1 from
    every xp point, inside or outside; left/right default, keyword or positional."""
    from hypothesis import strategies as st

    dtype = draw_float_dtype(draw)
    n = draw(st.sampled_from([1, 2, 3, 4, 5]))
    xp = (np.cumsum(draw_array_of(draw, (n,), np.float64, 0.5, 1.5)) - 2.0)
    fp = draw_array_of(draw, (n,), dtype, -3.0, 3.0)
    x_shape = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    x = np.empty(x_shape)
    for i in np.ndindex(x_shape):
        j = draw(st.integers(-1, n - 1))  # -1: left of xp[0]; n - 1: right of xp[-1]
        u = draw(st.floats(0.0, 1.0))
        if j == -1:
            x[i] = xp[0] - 0.1 - 2 * u
        elif j == n - 1:
            x[i] = xp[-1] + 0.1 + 2 * u
        else:
            x[i] = xp[j] + 0.1 + u * (xp[j + 1] - xp[j] - 0.2)
    x, xp = x.astype(dtype), xp.astype(dtype)
    ends = draw(st.sampled_from(["default", "keyword", "positional"]))
    if ends == "default":
        return (x, xp, fp), {}
    left, right = float(draw(st.floats(-3, 3))), float(draw(st.floats(-3, 3)))
    if ends == "keyword":
        return (x, xp, fp), {"left": left, "right": right}
    return (x, xp, fp, dtype.type(left), dtype.type(right)), {}


@adjoint(np.interp, domain=domains.custom(_interp_args, "1-5 points xp (gaps >= 0.5), x 0-2 "
                                          "dims >= 0.1 from every xp, left/right given or not"),
         builtin=True)
def _interp(*args, **kwargs):
    """Adjoint of ``np.interp``: the slope for ``x``, the two interpolation weights for ``fp``
    (and ``xp``); ``left``/``right`` get the cotangents of the points outside.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.interp(x, np.array([0.0, 2.0]), np.array([1.0, 5.0])), 0.5)
    (2.0,)
    """
    x, xp, fp = args[:3]
    left, right = _interp_spec(*args, **kwargs)
    value = np.interp(*args, **kwargs)
    xs, xps = np.asarray(strip(x), np.float64), np.asarray(strip(xp), np.float64)
    n = np.shape(xps)[0]
    dtype = np.result_type(strip(fp), np.float64)
    below, above = xs < xps[0], xs > xps[-1]
    inside = ~(below | above)
    index = np.clip(np.searchsorted(xps, xs, "right") - 1, 0, max(n - 2, 0))
    e0 = _one_hot(index, n, dtype)
    e1 = _one_hot(np.minimum(index + 1, n - 1), n, dtype)

    def back(dy):
        grads: list = [None] * len(args)
        dy = np.broadcast_to(dy, np.shape(xs))
        zero = dy * 0
        outside_left = np.where(below, dy, zero)
        outside_right = np.where(above, dy, zero)
        if n > 1:
            x0, x1 = xp[index], xp[index + 1]
            f0, f1 = fp[index], fp[index + 1]
            h = x1 - x0
            slope = (f1 - f0) / h
            t = (x - x0) / h
            a0 = np.where(inside, dy * (1 - t), zero)
            a1 = np.where(inside, dy * t, zero)
            grads[0] = lambda: fit(np.where(inside, dy * slope, zero), x)
            b0 = np.where(inside, dy * slope * (t - 1), zero)
            b1 = np.where(inside, -dy * slope * t, zero)
            grads[1] = lambda: fit(np.reshape(b0, (-1,)) @ e0 + np.reshape(b1, (-1,)) @ e1, xp)
        else:  # one point: fp[0] everywhere except where left/right are used
            a0, a1 = np.where(inside, dy, zero), zero
            grads[0] = lambda: fit(zero, x)
            grads[1] = lambda: fit(np.zeros(1, dtype), xp)
        if left is None:
            a0 = a0 + outside_left
        if right is None:
            a1 = a1 + outside_right
        grads[2] = lambda: fit(np.reshape(a0, (-1,)) @ e0 + np.reshape(a1, (-1,)) @ e1, fp)
        if len(args) > 3 and left is not None:
            grads[3] = lambda: fit(np.sum(outside_left), left)
        if len(args) > 4 and right is not None:
            grads[4] = lambda: fit(np.sum(outside_right), right)
        return tuple(grads)

    return value, back
