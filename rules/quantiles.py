"""Adjoint rules for order statistics: ``median``, ``percentile``, ``quantile`` and their
NaN-skipping forms ``nanmedian``, ``nanpercentile``, ``nanquantile`` (the same over each
group's non-NaN entries; NaN entries get 0).

Where a group's entries are distinct, a quantile is a fixed weighted sum of one or two of
them: with the group sorted (``s``, ``n`` entries) and ``pos = q (n - 1)``, the ``'linear'``
method (the default) gives ``(1 - f) s[lo] + f s[lo + 1]`` with ``lo = floor(pos)`` and
``f = pos - lo``; ``'lower'``, ``'higher'`` and ``'midpoint'`` put weight 1, 1 or 1/2 + 1/2 on
``s[lo]`` / ``s[ceil(pos)]``. The cotangent goes to those entries with those weights (a
constant, so the second derivative is 0, as it is).

Ties: where several entries are equal, the weight their sorted positions carry is split
evenly among all of them (for ``median`` of ``[1, 2, 2, 5]`` each 2 gets 1/2; of
``[2, 2, 2]`` each gets 1/3), the same convention as ``max``. The function has a kink there,
so the checker's domains draw distinct entries.

``q`` is not differentiated (a traced ``q`` raises :class:`~adcheck.NotDifferentiable`).
``axis`` may be None, an int or a tuple; ``keepdims`` both ways. ``out=``, ``weights=`` and
the other methods are rejected.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.median(x), np.array([3.0, 1.0, 4.0, 2.0]))[0]
array([0.5, 0. , 0. , 0.5])
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .reductions import distinct_array, kept_shape
from .shape import NOT_GIVEN, normalize_axes, reject

_METHODS = ("linear", "lower", "higher", "midpoint")


def sorted_weights(q: np.ndarray, n: Any, method: str, length: int | None = None
                   ) -> np.ndarray:
    """The weight each sorted position carries, per quantile ``q``, for groups of ``n`` entries.

    ``q`` (in [0, 1]) is flat; ``n`` is a number or an array of group sizes (NaN-free counts,
    for the nan-functions); the result has shape ``(q.size,) + shape(n) + (length,)``.

    >>> sorted_weights(np.array([0.5, 0.25]), 3, "linear")
    array([[0. , 1. , 0. ],
           [0.5, 0.5, 0. ]])
    """
    n = np.asarray(n)
    length = int(n) if length is None else length
    top = np.maximum(n - 1, 0)
    pos = np.reshape(np.asarray(q, dtype=np.float64), (-1,) + (1,) * n.ndim) * top
    lo = np.clip(np.floor(pos), 0, top)
    hi = np.clip(np.ceil(pos), 0, top)
    if method == "linear":
        f, g = 1.0 - (pos - lo), pos - lo
    elif method == "lower":
        f, g = np.ones_like(pos), np.zeros_like(pos)
    elif method == "higher":
        f, g = np.zeros_like(pos), np.ones_like(pos)
    else:  # midpoint
        f = g = np.full_like(pos, 0.5)
    positions = np.arange(length)
    return ((positions == lo[..., None]) * f[..., None]
            + (positions == hi[..., None]) * g[..., None])


def quantile_weights(a: Any, q: np.ndarray, axes: tuple[int, ...], method: str,
                     skip_nan: bool = False) -> np.ndarray:
    """The (constant) weight of every entry of ``a`` in every quantile: shape ``q.shape +
    a.shape``; ties share their sorted positions' weight evenly; with ``skip_nan``, NaN
    entries are left out (NumPy sorts them last; they match nothing, so they get 0).

    >>> quantile_weights(np.array([1.0, 2.0, 2.0, 5.0]), np.array(0.5), (0,), "linear")
    array([0. , 0.5, 0.5, 0. ])
    """
    x = np.asarray(strip(a), dtype=np.float64)
    shape = x.shape
    rest = [i for i in range(x.ndim) if i not in axes]
    perm = rest + list(axes)
    n = math.prod(shape[i] for i in axes)
    grouped = np.reshape(np.transpose(x, perm), tuple(shape[i] for i in rest) + (n,))
    s = np.sort(grouped, axis=-1)
    equal = grouped[..., :, None] == s[..., None, :]  # (..., entry, sorted position)
    counts = np.maximum(np.sum(equal, axis=-1), 1)
    sizes = np.sum(~np.isnan(grouped), axis=-1) if skip_nan else n
    w_sorted = sorted_weights(np.ravel(q), sizes, method, n)  # (nq, [groups,] n)
    spec = "q...j,...ij->q...i" if skip_nan else "qj,...ij->q...i"
    w = np.einsum(spec, w_sorted, equal) / counts
    w = np.reshape(w, (w_sorted.shape[0],) + tuple(shape[i] for i in perm))
    inverse = [0] + [1 + int(i) for i in np.argsort(perm)]
    return np.reshape(np.transpose(w, inverse), np.shape(q) + shape)


def _q_not_differentiable(name: str):
    def refuse():
        raise NotDifferentiable(
            f"np.{name}: the quantile q is not differentiated by adcheck's built-in rule (the "
            f"array is); pass q as a constant, or register your own adjoint for np.{name}."
        )

    return refuse


def _quantile_rule(name: str, a: Any, q: Any, scale: float, axis: Any, keepdims: bool,
                   method: str, value: Any, q_given: bool):
    skip_nan = name.startswith("nan")
    if method not in _METHODS:
        raise NotDifferentiable(
            f"np.{name}(..., method={method!r}) is not differentiable by adcheck's built-in "
            f"rule; use one of {', '.join(map(repr, _METHODS))}, or register your own adjoint."
        )
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    q_plain = np.asarray(strip(q), dtype=np.float64) / scale
    weights = quantile_weights(a, q_plain, axes, method, skip_nan)
    kept = np.shape(q_plain) + kept_shape(shape, axes)
    lead = tuple(range(np.ndim(q_plain)))

    def back(dy):
        w = weights.astype(np.result_type(strip(a)), copy=False)
        g = np.sum(w * np.reshape(dy, kept), axis=lead) if lead else w * np.reshape(dy, kept)
        out = (fit(g, a),)
        return out + ((_q_not_differentiable(name),) if q_given else ())

    return value, back


def _median_spec(name: str):
    def spec(a, axis=None, out=None, overwrite_input=False, keepdims=False):
        reject(name, out=out)
        return axis, keepdims is not NOT_GIVEN and bool(keepdims)

    return spec


def _quantile_spec(name: str):
    def spec(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
        reject(name, out=out, weights=weights, interpolation=interpolation)
        return q, axis, method, keepdims is not NOT_GIVEN and bool(keepdims)

    return spec


# -- domains ---------------------------------------------------------------------------------


def axis_choices(ndim: int) -> list:
    """Every axis argument for ``ndim`` axes: None, each int (negative too), each tuple.

    >>> axis_choices(1)
    [None, 0, -1, (), (0,), (-1,)]
    """
    choices: list = [None] + [i for i in range(ndim)] + [i - ndim for i in range(ndim)]
    for k in range(ndim + 1):
        for combo in itertools.permutations(range(ndim), k):
            choices.append(combo)
            if k and combo[0] == 0:
                choices.append((combo[0] - ndim,) + combo[1:])
    return choices


def _draw_distinct(draw: Any) -> tuple[np.ndarray, Any, bool]:
    from hypothesis import strategies as st

    ndim = draw(st.sampled_from([0, 1, 2, 3]))
    shape = tuple(draw(st.sampled_from([1, 2, 3, 4])) for _ in range(ndim))
    x = distinct_array(draw, shape)
    axis = draw(st.sampled_from(axis_choices(ndim)))
    return x, axis, draw(st.booleans())


def _median_args(draw: Any) -> tuple[tuple, dict]:
    x, axis, keepdims = _draw_distinct(draw)
    return (x,), {"axis": axis, "keepdims": keepdims}


def _quantile_args(scale: float):
    def draw_args(draw: Any) -> tuple[tuple, dict]:
        from hypothesis import strategies as st

        x, axis, keepdims = _draw_distinct(draw)
        q_shape = draw(st.sampled_from([(), (1,), (3,)]))
        q = np.array([draw(st.floats(0.0, 1.0)) * scale for _ in range(math.prod(q_shape))])
        q = float(q[0]) if q_shape == () else q.reshape(q_shape)
        method = draw(st.sampled_from(_METHODS))
        return (x,), {"q": q, "axis": axis, "keepdims": keepdims, "method": method}

    return draw_args


_DESCRIPTION = "0-3 dims, distinct entries (>= 0.3 apart), every axis form, keepdims, float64/32"
_NAN = ", some entries NaN"


def _nan_args(draw_args: Any):
    """``draw_args`` with some entries of the array replaced by NaN."""

    def draw_nan_args(draw: Any) -> tuple[tuple, dict]:
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp

        args, kwargs = draw_args(draw)
        x = args[0]
        holes = draw(hnp.arrays(np.bool_, x.shape, elements=st.sampled_from([False, False,
                                                                              True])))
        return (np.where(holes, np.nan, x).astype(x.dtype),) + args[1:], kwargs

    return draw_nan_args


# -- rules -----------------------------------------------------------------------------------


def _median_adjoint(name: str):
    spec = _median_spec(name)

    def rule(*args, **kwargs):
        a = args[0]
        axis, keepdims = spec(*args, **kwargs)
        value = getattr(np, name)(*args, **kwargs)
        value, back = _quantile_rule(name, a, 0.5, 1.0, axis, keepdims, "linear", value, False)
        return value, lambda dy: back(dy) + (None,) * (len(args) - 1)

    rule.__doc__ = (f"Adjoint of ``np.{name}``: the middle entry gets the cotangent (the two "
                    "middle ones half each); ties share evenly (see the module doc).")
    return rule


_median = adjoint(np.median, domain=domains.custom(_median_args, _DESCRIPTION),
                  builtin=True)(_median_adjoint("median"))
_nanmedian = adjoint(np.nanmedian, domain=domains.custom(_nan_args(_median_args),
                                                         _DESCRIPTION + _NAN),
                     builtin=True)(_median_adjoint("nanmedian"))


def _quantile_adjoint(name: str, scale: float):
    spec = _quantile_spec(name)

    def rule(*args, **kwargs):
        a = args[0]
        q, axis, method, keepdims = spec(*args, **kwargs)
        value = getattr(np, name)(*args, **kwargs)
        value, back = _quantile_rule(name, a, q, scale, axis, keepdims, method, value,
                                     len(args) > 1)
        return value, lambda dy: back(dy) + (None,) * (len(args) - min(len(args), 2))

    rule.__doc__ = (f"Adjoint of ``np.{name}``: the weights of the one or two sorted entries "
                    "the quantile interpolates (see the module doc).")
    return rule


_percentile = adjoint(np.percentile, domain=domains.custom(
    _quantile_args(100.0), _DESCRIPTION + ", q in [0, 100] scalar or array, 4 methods"),
    builtin=True)(_quantile_adjoint("percentile", 100.0))
_quantile = adjoint(np.quantile, domain=domains.custom(
    _quantile_args(1.0), _DESCRIPTION + ", q in [0, 1] scalar or array, 4 methods"),
    builtin=True)(_quantile_adjoint("quantile", 1.0))
_nanpercentile = adjoint(np.nanpercentile, domain=domains.custom(
    _nan_args(_quantile_args(100.0)), _DESCRIPTION + _NAN + ", q in [0, 100], 4 methods"),
    builtin=True)(_quantile_adjoint("nanpercentile", 100.0))
_nanquantile = adjoint(np.nanquantile, domain=domains.custom(
    _nan_args(_quantile_args(1.0)), _DESCRIPTION + _NAN + ", q in [0, 1], 4 methods"),
    builtin=True)(_quantile_adjoint("nanquantile", 1.0))
