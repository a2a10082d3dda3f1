"""Adjoint rules for functions that fill, count, gather or need a special function:
``full_like``, ``bincount``, ``compress``, ``extract``, ``i0``; and ``digitize``, whose
integer result carries no derivative.

- ``full_like(a, fill_value)``: the result does not depend on ``a``'s values (its cotangent
  is 0); a traced ``fill_value`` (passed positionally) gets the sum of the cotangent over the
  entries it fills. (NumPy hands ``full_like`` to adcheck only when ``a`` itself is traced;
  with a constant ``a`` and a traced fill value NumPy fills a new array with ``np.copyto``,
  which raises :class:`~adcheck.NotDifferentiable`: use ``np.full_like(a, 0.0) + v``.)
- ``bincount(x, weights)``: ``x`` is integer; the weights (positional) get ``dy[x]``;
- ``compress(condition, a, axis)`` and ``extract(condition, arr)``: gathers of the selected
  entries; the cotangent is scattered back to them (the others get 0);
- ``i0``: the derivative of the modified Bessel function ``I0`` is ``I1``, taken from
  ``scipy.special.i1``; without scipy, differentiating ``np.i0`` raises
  :class:`~adcheck.NotDifferentiable` (its value still works).

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda w: np.bincount(np.array([0, 2, 2]), w).sum(), np.ones(3))[0]
array([1., 1., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint, nondifferentiable

from .reductions import real_array
from .shape import draw_array_of, draw_float_dtype, reject

# Bin indices: an integer result.
nondifferentiable(np.digitize)


# -- full_like -------------------------------------------------------------------------------


def _full_like_spec(a, fill_value, dtype=None, order="K", subok=True, shape=None, *,
                    device=None):
    return fill_value


def _full_like_args(draw: Any) -> tuple[tuple, dict]:
    """a (0-3 dims) and a fill value: a number or an array broadcasting to a's shape, passed
    positionally (differentiated) or as a keyword (a constant)."""
    from hypothesis import strategies as st

    ndim = draw(st.sampled_from([0, 1, 2, 3]))
    shape = tuple(draw(st.sampled_from([1, 2, 3])) for _ in range(ndim))
    a = real_array(draw, shape)
    form = draw(st.sampled_from(["scalar", "row", "keyword"]))
    fill = draw_array_of(draw, shape[-1:] if form == "row" else (), a.dtype)
    if form == "keyword":
        return (a,), {"fill_value": float(fill)}
    return (a, fill), {}


@adjoint(np.full_like, domain=domains.custom(_full_like_args, "a 0-3 dims, fill value scalar "
                                             "or a row, positional or keyword"), builtin=True)
def _full_like(*args, **kwargs):
    """Adjoint of ``np.full_like``: 0 for ``a``; the summed cotangent for ``fill_value``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a, v: np.full_like(a, v).sum(), np.ones(3), 2.0)
    (array([0., 0., 0.]), 3.0)
    """
    fill_value = _full_like_spec(*args, **kwargs)
    value = np.full_like(*strip(args), **strip(kwargs))
    if len(args) > 1 and value.dtype.kind == "f":
        # the traced fill value, broadcast (a constant's broadcast is a constant)
        value = np.broadcast_to(fill_value, value.shape).astype(value.dtype)
    def back(dy):
        grads: list = [None] * len(args)
        if len(args) > 1:
            grads[1] = lambda: fit(dy, fill_value)
        return tuple(grads)

    return value, back


# -- bincount --------------------------------------------------------------------------------


def _bincount_spec(x, weights=None, minlength=0):
    return weights


def _bincount_args(draw: Any) -> tuple[tuple, dict]:
    """1-6 non-negative integers below 4, float weights, minlength 0 or 5."""
    from hypothesis import strategies as st

    n = draw(st.sampled_from([1, 2, 4, 6]))
    x = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.intp)
    w = real_array(draw, (n,))
    return (x, w), {"minlength": draw(st.sampled_from([0, 5]))}


@adjoint(np.bincount, domain=domains.custom(_bincount_args, "1-6 bins in 0..3, float weights, "
                                            "minlength 0/5"), builtin=True)
def _bincount(*args, **kwargs):
    """Adjoint of ``np.bincount`` with weights: the weights get ``dy[x]``.

    >>> import adcheck as ad
    >>> ad.pullback(lambda w: np.bincount(np.array([1, 0, 1]), w), np.ones(3))[1](
    ...     np.array([10.0, 20.0]))
    (array([20., 10., 20.]),)
    """
    x = args[0]
    weights = _bincount_spec(*args, **kwargs)
    value = np.bincount(*args, **kwargs)
    index = np.asarray(strip(x))

    def back(dy):
        grads: list = [None] * len(args)
        if weights is not None and len(args) > 1:
            grads[1] = lambda: fit(dy[index], weights)
        return tuple(grads)

    return value, back


# -- compress and extract ----------------------------------------------------------------------


def _gather_back(dy: Any, chosen: np.ndarray, length: int, axis: int) -> Any:
    """The cotangent of ``take(a, chosen, axis)`` moved to the chosen entries (as a product
    with a constant 0/1 matrix, so it is differentiable)."""
    dtype = np.result_type(strip(dy))
    select = (np.reshape(chosen, (-1, 1)) == np.arange(length)).astype(dtype)
    return np.moveaxis(np.matmul(np.moveaxis(dy, axis, -1), select), -1, axis)


def _compress_spec(condition, a, axis=None, out=None):
    reject("compress", out=out)
    return condition, a, axis


def _compress_args(draw: Any) -> tuple[tuple, dict]:
    """a of 1-3 dims, axis None or any, a condition as long as the axis or shorter."""
    from hypothesis import strategies as st

    ndim = draw(st.sampled_from([1, 2, 3]))
    shape = tuple(draw(st.sampled_from([1, 2, 3])) for _ in range(ndim))
    a = real_array(draw, shape)
    axis = draw(st.sampled_from([None] + list(range(-ndim, ndim))))
    length = a.size if axis is None else shape[axis]
    k = draw(st.integers(0, length))
    condition = np.array(draw(st.lists(st.booleans(), min_size=k, max_size=k)), dtype=bool)
    return (condition, a), {"axis": axis}


@adjoint(np.compress, domain=domains.custom(_compress_args, "a 1-3 dims, axis None/any, a "
                                            "boolean condition up to the axis' length"),
         builtin=True)
def _compress(*args, **kwargs):
    """Adjoint of ``np.compress``: the cotangent goes back to the selected entries.

    >>> import adcheck as ad
    >>> ad.pullback(lambda a: np.compress([True, False, True], a), np.ones(3))[1](
    ...     np.array([1.0, 2.0]))
    (array([1., 0., 2.]),)
    """
    condition, a, axis = _compress_spec(*args, **kwargs)
    value = np.compress(*args, **kwargs)
    chosen = np.flatnonzero(np.asarray(strip(condition)))
    shape = np.shape(a)

    def back(dy):
        if axis is None:
            g = np.reshape(_gather_back(dy, chosen, int(np.prod(shape)), 0), shape)
        else:
            g = _gather_back(dy, chosen, shape[int(axis) % len(shape)], int(axis) % len(shape))
        return (None, lambda: fit(g, a)) + (None,) * (len(args) - 2)

    return value, back


def _extract_args(draw: Any) -> tuple[tuple, dict]:
    """arr of 0-3 dims and a boolean condition of its shape."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    ndim = draw(st.sampled_from([0, 1, 2, 3]))
    shape = tuple(draw(st.sampled_from([1, 2, 3])) for _ in range(ndim))
    arr = real_array(draw, shape)
    return (draw(hnp.arrays(np.bool_, shape)), arr), {}


@adjoint(np.extract, domain=domains.custom(_extract_args, "arr 0-3 dims, a boolean condition "
                                           "of its shape"), builtin=True)
def _extract(*args, **kwargs):
    """Adjoint of ``np.extract``: the cotangent goes back to the entries where the condition
    holds.

    >>> import adcheck as ad
    >>> ad.pullback(lambda a: np.extract(a > 1, a), np.array([[1.0, 2.0], [3.0, 0.0]]))[1](
    ...     np.array([5.0, 6.0]))
    (array([[0., 5.],
           [6., 0.]]),)
    """
    condition, arr = args[0], args[1]
    value = np.extract(*args, **kwargs)
    chosen = np.flatnonzero(np.asarray(strip(condition)))
    shape = np.shape(arr)

    def back(dy):
        g = np.reshape(_gather_back(dy, chosen, int(np.prod(shape)), 0), shape)
        return (None, lambda: fit(g, arr))

    return value, back


# -- i0 --------------------------------------------------------------------------------------


def _i1(x: Any) -> Any:
    try:
        from scipy import special
    except ImportError:
        raise NotDifferentiable(
            "np.i0: its derivative is the Bessel function I1, which adcheck takes from "
            "scipy.special.i1, and scipy is not installed; install scipy, or register your "
            "own adjoint for np.i0."
        ) from None
    return special.i1(x)


def _i0_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    return (draw_array_of(draw, shape, draw_float_dtype(draw), -5.0, 5.0),), {}


@adjoint(np.i0, domain=domains.custom(_i0_args, "0-2 dims, entries in [-5, 5], float64/32"),
         builtin=True)
def _i0(x):
    """Adjoint of ``np.i0``: ``dy * i1(x)`` (``scipy.special.i1``).

    >>> import adcheck as ad
    >>> round(float(ad.gradient(lambda x: np.i0(x), 1.0)[0]), 6)  # I1(1)
    0.565159
    """
    return np.i0(x), lambda dy: (fit(dy * _i1(x), x),)
