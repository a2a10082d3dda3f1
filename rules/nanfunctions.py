"""Adjoint rules for the NaN-ignoring reductions: ``nansum``, ``nanmean``, ``nanprod``,
``nanmax``, ``nanmin``, ``nanvar``, ``nanstd``.

Each is its plain counterpart on the entries that are not NaN, so its pullback is the
counterpart's on those entries, and **NaN entries get a zero cotangent** (changing them by a
finite amount leaves them NaN, ignored). Per group, with ``n`` the number of entries that are
not NaN:

- ``nansum``: the group's cotangent; ``nanmean``: the same divided by ``n``;
- ``nanprod``: the product of the group's other non-NaN entries (no division: exact at zeros);
- ``nanmax``/``nanmin``: the entries attaining the extremum, ties split evenly (as ``max``);
- ``nanvar``/``nanstd``: as ``var``/``std`` with the mean and ``n`` of the non-NaN entries;
  ``nanstd`` gives 0 where the spread is 0.

A group of only NaN entries gets a zero cotangent (its value is NaN, with NumPy's warning, or
0 for ``nansum`` and 1 for ``nanprod``). ``axis`` and
``keepdims`` (and ``ddof``/``correction``) are supported; ``out=``, ``dtype=``,
``initial=``, ``where=`` and ``mean=`` are rejected with :class:`~adcheck.NotDifferentiable`.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.nanmean(x), np.array([1.0, np.nan, 3.0]))[0]
array([0.5, 0. , 0.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .reductions import (
    distinct_array,
    extremum_weights,
    kept_shape,
    others_product,
    real_array,
    restore,
    small_array,
)
from .shape import (
    NOT_GIVEN,
    broadcast_copy,
    draw_axis,
    draw_shape,
    nones,
    normalize_axes,
    reject,
)
from .statistics import centered


def _sum_like_spec(name: str):
    def spec(a, axis=None, dtype=None, out=None, keepdims=NOT_GIVEN, initial=NOT_GIVEN,
             where=NOT_GIVEN):
        reject(name, dtype=dtype, out=out, initial=initial, where=where)
        return axis, keepdims is not NOT_GIVEN and bool(keepdims), 0

    return spec


def _nanmean_spec(a, axis=None, dtype=None, out=None, keepdims=NOT_GIVEN, *, where=NOT_GIVEN):
    reject("nanmean", dtype=dtype, out=out, where=where)
    return axis, keepdims is not NOT_GIVEN and bool(keepdims), 0


def _extremum_spec(name: str):
    def spec(a, axis=None, out=None, keepdims=NOT_GIVEN, initial=NOT_GIVEN, where=NOT_GIVEN):
        reject(name, out=out, initial=initial, where=where)
        return axis, keepdims is not NOT_GIVEN and bool(keepdims), 0

    return spec


def _spread_spec(name: str):
    def spec(a, axis=None, dtype=None, out=None, ddof=0, keepdims=NOT_GIVEN, *,
             where=NOT_GIVEN, mean=NOT_GIVEN, correction=NOT_GIVEN):
        reject(name, dtype=dtype, out=out, where=where, mean=mean)
        if correction is not NOT_GIVEN:
            if ddof != 0:
                raise ValueError("ddof and correction can't be provided simultaneously.")
            ddof = correction
        return axis, keepdims is not NOT_GIVEN and bool(keepdims), ddof

    return spec


def nan_mask(a: Any) -> np.ndarray:
    """Which entries of ``a`` are NaN (a constant, also when ``a`` is traced).

    >>> nan_mask(np.array([1.0, np.nan]))
    array([False,  True])
    """
    return np.isnan(strip(a))


# -- pullbacks, one per function: (a, value, mask, axes, kept, ddof, dy) -> cotangent of a -----


def _nansum_back(a, value, mask, axes, kept, ddof, dy):
    return np.where(mask, 0.0, broadcast_copy(restore(dy, kept), np.shape(a)))


def _nanmean_back(a, value, mask, axes, kept, ddof, dy):
    count = np.maximum(np.sum(~mask, axis=axes, keepdims=True), 1)
    return np.where(mask, 0.0, restore(dy, kept) / count)


def _nanprod_back(a, value, mask, axes, kept, ddof, dy):
    others = others_product(np.where(mask, 1.0, a), np.shape(a), axes)
    return np.where(mask, 0.0, restore(dy, kept) * others)


def _nanextremum_back(a, value, mask, axes, kept, ddof, dy):
    return restore(dy, kept) * extremum_weights(a, value, kept, axes)


def _nancentered(a, mask, axes):
    """``a`` minus the mean of its group's non-NaN entries (0 at NaN), and their count."""
    return centered(a, axes, mask), np.sum(~mask, axis=axes, keepdims=True)


def _nanvar_back(a, value, mask, axes, kept, ddof, dy):
    centered, count = _nancentered(a, mask, axes)
    d = np.where(count > ddof, count - ddof, np.nan)  # NumPy's value is NaN/inf there too
    return np.where(mask, 0.0, restore(dy, kept) * 2.0 * centered / d)


def _nanstd_back(a, value, mask, axes, kept, ddof, dy):
    centered, count = _nancentered(a, mask, axes)
    d = np.where(count > ddof, count - ddof, np.nan)
    s = restore(value, kept)
    flat = np.equal(strip(s), 0)  # constant: groups whose non-NaN entries are all equal
    g = restore(dy, kept) * centered / (d * np.where(flat, 1.0, s))
    return np.where(flat | mask, 0.0, g)


def _nan_rule(fn: Any, name: str, spec: Any, back_of: Any) -> Any:
    def rule(*args, **kwargs):
        a = args[0]
        axis, keepdims, ddof = spec(*args, **kwargs)
        extra = {"ddof": ddof} if name in ("nanvar", "nanstd") else {}
        value = fn(a, axis=axis, keepdims=keepdims, **extra)
        shape = np.shape(a)
        axes = normalize_axes(axis, len(shape))
        kept = kept_shape(shape, axes)
        mask = nan_mask(a)

        def back(dy):
            return (fit(back_of(a, value, mask, axes, kept, ddof, dy), a),) + nones(args)

        return value, back

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = f"Adjoint of ``np.{name}``: its counterpart's pullback, 0 at NaN entries."
    return rule


# -- domains ---------------------------------------------------------------------------------


def _with_nans(draw: Any, values: Any, ddof: bool = False) -> tuple[tuple, dict]:
    """An array with some NaN entries, an axis (every form), keepdims, maybe ddof."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape = draw_shape(draw)
    x = values(draw, shape)
    holes = draw(hnp.arrays(np.bool_, shape, elements=st.sampled_from([False, False, True])))
    x = np.where(holes, np.nan, x).astype(x.dtype)
    kwargs: dict[str, Any] = {"axis": draw_axis(draw, len(shape))}
    if draw(st.booleans()):
        kwargs["keepdims"] = draw(st.booleans())
    if ddof:
        axes = normalize_axes(kwargs["axis"], len(shape))
        counts = np.sum(~holes, axis=axes)
        if np.all(counts > 1):
            kwargs["ddof"] = draw(st.sampled_from([0, 1]))
    return (x,), kwargs


_NAN_REAL = domains.custom(lambda draw: _with_nans(draw, real_array),
                           "0-3 dims with NaN entries, every axis form, keepdims")
_NAN_SMALL = domains.custom(lambda draw: _with_nans(draw, small_array),
                            "like nansum, entries in [-2, 2] with zeros")
_NAN_DISTINCT = domains.custom(lambda draw: _with_nans(draw, distinct_array),
                               "like nansum, entries >= 0.3 apart (no ties)")
_NAN_VAR = domains.custom(lambda draw: _with_nans(draw, real_array, ddof=True),
                          "like nansum, ddof 0/1")
_NAN_STD = domains.custom(lambda draw: _with_nans(draw, distinct_array, ddof=True),
                          "like nanvar, entries >= 0.3 apart (std > 0)")


# -- rules -----------------------------------------------------------------------------------

for _fn, _name, _spec, _back, _domain in (
    (np.nansum, "nansum", _sum_like_spec("nansum"), _nansum_back, _NAN_REAL),
    (np.nanmean, "nanmean", _nanmean_spec, _nanmean_back, _NAN_REAL),
    (np.nanprod, "nanprod", _sum_like_spec("nanprod"), _nanprod_back, _NAN_SMALL),
    (np.nanmax, "nanmax", _extremum_spec("nanmax"), _nanextremum_back, _NAN_DISTINCT),
    (np.nanmin, "nanmin", _extremum_spec("nanmin"), _nanextremum_back, _NAN_DISTINCT),
    (np.nanvar, "nanvar", _spread_spec("nanvar"), _nanvar_back, _NAN_VAR),
    (np.nanstd, "nanstd", _spread_spec("nanstd"), _nanstd_back, _NAN_STD),
):
    adjoint(_fn, domain=_domain, builtin=True)(_nan_rule(_fn, _name, _spec, _back))
