"""Adjoint rules for ``np.linalg.norm``, ``vector_norm`` and ``matrix_norm``: every order.

Vector orders (over an axis, a tuple of axes for ``vector_norm``, or all entries):
``2`` (``None``): ``x / |x|``; ``1``: ``sign(x)``; ``inf`` / ``-inf``: ``sign(x)`` at the
largest / smallest ``|x|`` (ties split the cotangent evenly); ``0`` counts the non-zero
entries, a piecewise constant (zero gradient); any other ``p``:
``sign(x) |x|^(p-1) / |x|_p^(p-1)``.

Matrix orders (over two axes): ``'fro'``: ``A / |A|_F``; ``'nuc'``: ``U Vᵀ``; ``2`` / ``-2``:
``u vᵀ`` of the largest / smallest singular value; ``1`` / ``-1`` (``inf`` / ``-inf``):
``sign(A)`` on the column (row) of largest / smallest absolute sum, ties split evenly.

Every pullback is written with rules (``divide``, ``power``, ``matmul``, ``svd``), so second
derivatives work; the masks that pick the largest entries are constants.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.linalg.norm(x), np.array([3.0, 4.0]))[0]
array([0.6, 0.8])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .matrices import draw_dtype, mT, orthogonal, spectrum
from .shape import draw_array, draw_axis, draw_shape, nones, normalize_axes

INF = math.inf
VECTOR_ORDS = [None, 2, 1, INF, -INF, 0, 3, 0.5, -1, -2, 1.5]
MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, INF, -INF]


# -- pullbacks -------------------------------------------------------------------------------


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _split_evenly(picked: np.ndarray, axes: Any) -> np.ndarray:
    """A constant mask of the picked entries, each 1 / (number picked) along ``axes``."""
    return picked / np.sum(picked, axis=axes, keepdims=True)


def vector_norm_cotangent(x: Any, y: Any, dy: Any, ord: Any, axes: tuple) -> Any:
    """The cotangent of ``x`` for ``y = |x|_ord`` over ``axes``; ``y`` and ``dy`` have the
    reduced axes kept (size 1).

    >>> vector_norm_cotangent(np.array([3.0, -4.0]), np.array([5.0]), np.array([1.0]), 2, (0,))
    array([ 0.6, -0.8])
    """
    if ord is None or ord == 2:
        return dy * x / y
    xs = strip(x)
    sign = np.sign(xs)
    if ord == 1:
        return dy * sign
    if ord == 0:
        return np.zeros(np.shape(x), np.result_type(x))
    if ord in (INF, -INF):
        magnitude = np.abs(xs)
        extreme = (np.max if ord == INF else np.min)(magnitude, axis=axes, keepdims=True)
        return dy * (sign * _split_evenly(magnitude == extreme, axes))
    p = float(ord)
    return dy * sign * np.power(np.abs(x), p - 1) / np.power(y, p - 1)


def matrix_norm_cotangent(a: Any, y: Any, dy: Any, ord: Any) -> Any:
    """The cotangent of the matrices ``a`` (last two axes) for ``y = |a|_ord``; ``y`` and
    ``dy`` have shape ``batch + (1, 1)``.

    >>> matrix_norm_cotangent(np.array([[3.0, 0.0], [0.0, 4.0]]), np.array([[4.0]]),
    ...                       np.array([[1.0]]), 2)
    array([[0., 0.],
           [0., 1.]])
    """
    if ord is None or ord == "fro":
        return dy * a / y
    if ord in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(a, full_matrices=False)
        if ord == "nuc":
            return dy * (u @ vt)
        i = slice(0, 1) if ord == 2 else slice(-1, None)
        return dy * (u[..., :, i] @ vt[..., i, :])
    a_s = strip(a)
    # 1 / -1: sums over rows (one per column), picked across columns; inf / -inf: the reverse.
    summed, picked = (-2, -1) if ord in (1, -1) else (-1, -2)
    sums = np.sum(np.abs(a_s), axis=summed, keepdims=True)
    extreme = (np.max if ord in (1, INF) else np.min)(sums, axis=picked, keepdims=True)
    return dy * (np.sign(a_s) * _split_evenly(sums == extreme, picked))


def _matrix_cotangent(x: Any, y: Any, dy: Any, ord: Any, axes: tuple) -> Any:
    """:func:`matrix_norm_cotangent` for matrices along the axes ``(row, column)`` of ``x``."""
    moved = (-2, -1)
    a = np.moveaxis(x, axes, moved)
    g = matrix_norm_cotangent(a, np.moveaxis(y, axes, moved), np.moveaxis(dy, axes, moved), ord)
    return np.moveaxis(g, moved, axes)


def _norm_rule(x: Any, value: Any, ord: Any, axes: tuple, matrix: bool):
    """``(value, pullback)`` for a norm of ``x`` over ``axes`` (row, column for a matrix)."""
    keep = _keep_shape(np.shape(x), axes)

    def back(dy):
        y, dyk = np.reshape(value, keep), np.reshape(dy, keep)
        if matrix:
            return fit(_matrix_cotangent(x, y, dyk, ord, axes), x)
        return fit(vector_norm_cotangent(x, y, dyk, ord, axes), x)

    return back


def _norm_axes(ndim: int, ord: Any, axis: Any) -> tuple[tuple, bool]:
    """The axes np.linalg.norm reduces, and whether it takes a matrix norm over them."""
    if axis is None:
        if ord is None or ndim != 2:
            return tuple(range(ndim)), False
        return (0, 1), True
    if isinstance(axis, (tuple, list)):
        axes = tuple(int(a) % ndim for a in axis)
        return axes, len(axes) == 2
    return (int(axis) % ndim,), False


# -- domains ---------------------------------------------------------------------------------


def _vector_entries(draw: Any, shape: tuple, axes: tuple, ord: Any) -> np.ndarray:
    """Entries with |x| in [0.5, 3] and random signs; for ord +-inf the extreme |x| along
    ``axes`` is moved away from the others (x1.5 or x0.5), so that no tie is near.

    The drawn array is not written into (a new array is returned)."""
    x = draw_array(draw, shape, 0.5, 3.0) * _signs(draw, shape)
    if ord not in (INF, -INF) or not shape:
        return x
    k = len(axes)
    flat = np.moveaxis(x, axes, tuple(range(-k, 0)))
    moved_shape = flat.shape
    flat = flat.reshape(moved_shape[:len(moved_shape) - k] + (-1,))
    pick = (np.argmax if ord == INF else np.argmin)(np.abs(flat), axis=-1)[..., None]
    hit = np.zeros(flat.shape, bool)
    np.put_along_axis(hit, pick, True, -1)
    flat = flat * np.where(hit, 1.5 if ord == INF else 0.5, 1.0)
    return np.moveaxis(flat.reshape(moved_shape), tuple(range(-k, 0)), axes)


def _matrix_entries(draw: Any, shape: tuple, axes: tuple, ord: Any) -> np.ndarray:
    """Matrices along ``axes`` whose norm of order ``ord`` is differentiable with room:
    distinct singular values 0.3 apart for 2, -2 and nuc; a column (row) sum kept away from
    the others for 1, -1 (inf, -inf)."""
    moved = (-2, -1)
    batch = tuple(s for i, s in enumerate(shape) if i not in axes)
    m, n = shape[axes[0]], shape[axes[1]]
    if ord in ("nuc", 2, -2):
        k = min(m, n)
        s = spectrum(draw, batch, k, gap=0.3)
        a = (orthogonal(draw, batch, m)[..., :k] * s[..., None, :]) @ mT(
            orthogonal(draw, batch, n)[..., :k])
        return np.moveaxis(a, moved, axes)
    a = draw_array(draw, batch + (m, n), 0.5, 3.0) * _signs(draw, batch + (m, n))
    if ord in (1, -1, INF, -INF):
        summed = -2 if ord in (1, -1) else -1
        sums = np.sum(np.abs(a), axis=summed, keepdims=True)
        top = ord in (1, INF)
        pick = (np.argmax if top else np.argmin)(sums, axis=-1 - (summed == -1))
        line = np.expand_dims(pick, axis=-1 - (summed == -1))
        hit = np.zeros(sums.shape, bool)
        np.put_along_axis(hit, line, True, axis=-1 - (summed == -1))
        a = a * np.where(hit, 1.5 if top else 0.5, 1.0)
    return np.moveaxis(a, moved, axes)


def _signs(draw: Any, shape: tuple) -> np.ndarray:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    return draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))


def _draw_axes(draw: Any, ndim: int, count: int) -> tuple:
    """``count`` distinct axes of ``ndim``, in any order, each possibly negative."""
    from hypothesis import strategies as st

    axes = draw(st.permutations(range(ndim)))[:count]
    return tuple(draw(st.sampled_from([a, a - ndim])) for a in axes)


def _norm_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st


    form = draw(st.sampled_from(["flat", "vector", "vector axis", "matrix", "matrix axes"]))
    kwargs: dict = {"keepdims": draw(st.booleans())}
    if form == "flat":  # every entry, the 2-norm
        shape = draw_shape(draw, 0, 3, 3)
        x = _vector_entries(draw, shape, tuple(range(len(shape))), None)
    elif form.startswith("vector"):
        ord = draw(st.sampled_from(VECTOR_ORDS))
        shape = draw_shape(draw, 1, 1 if form == "vector" else 3, 3)
        kwargs["ord"] = ord
        if form == "vector axis":
            (axis,) = _draw_axes(draw, len(shape), 1)
            kwargs["axis"] = draw(st.sampled_from([axis, (axis,)]))
        x = _vector_entries(draw, shape, _norm_axes(len(shape), ord, kwargs.get("axis"))[0],
                            ord)
    else:
        ord = draw(st.sampled_from(MATRIX_ORDS))
        shape = draw_shape(draw, 2, 2 if form == "matrix" else 3, 3)
        kwargs["ord"] = ord
        if form == "matrix axes":
            kwargs["axis"] = _draw_axes(draw, len(shape), 2)
        axes = (0, 1) if form == "matrix" else tuple(a % len(shape) for a in kwargs["axis"])
        x = _matrix_entries(draw, shape, axes, ord)
    return (x.astype(draw_dtype(draw)),), kwargs


def _vector_norm_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st


    shape = draw_shape(draw, 0, 3, 3)
    axis = draw_axis(draw, len(shape))
    if isinstance(axis, tuple) and not axis:
        axis = None  # NumPy reads () as no axes; that is not a norm
    ord = draw(st.sampled_from(VECTOR_ORDS[1:]))
    x = _vector_entries(draw, shape, normalize_axes(axis, len(shape)), ord)
    return (x.astype(draw_dtype(draw)),), {"axis": axis, "ord": ord,
                                           "keepdims": draw(st.booleans())}


def _matrix_norm_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st


    shape = draw_shape(draw, 2, 3, 3)
    ord = draw(st.sampled_from(MATRIX_ORDS[1:]))
    n = len(shape)
    x = _matrix_entries(draw, shape, (n - 2, n - 1), ord)
    return (x.astype(draw_dtype(draw)),), {"ord": ord, "keepdims": draw(st.booleans())}


# -- rules -----------------------------------------------------------------------------------


def _norm_spec(x, ord=None, axis=None, keepdims=False):
    return x, ord, axis, keepdims


@adjoint(np.linalg.norm, domain=domains.custom(_norm_args, "every vector and matrix ord, "
                                               "axis None/int/tuple, keepdims; no ties, "
                                               "no zeros, distinct singular values"),
         builtin=True)
def _norm(*args, **kwargs):
    """Adjoint of ``np.linalg.norm`` for every vector and matrix order, axis and keepdims.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.linalg.norm(x, np.inf), np.array([1.0, -3.0]))[0]
    array([ 0., -1.])
    """
    x, ord, axis, keepdims = _norm_spec(*args, **kwargs)
    value = np.linalg.norm(x, ord, axis, keepdims)
    axes, matrix = _norm_axes(np.ndim(x), ord, axis)
    back = _norm_rule(x, value, ord, axes, matrix)
    return value, lambda dy: (back(dy),) + nones(args)


@adjoint(np.linalg.vector_norm, domain=domains.custom(_vector_norm_args, "every ord, axis "
                                                      "None/int/tuple, keepdims; no ties, "
                                                      "no zeros"),
         builtin=True)
def _vector_norm(x, *, axis=None, keepdims=False, ord=2):
    """Adjoint of ``np.linalg.vector_norm`` (any axes, every order).

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.linalg.vector_norm(x, ord=1), np.array([[1.0, -3.0]]))[0]
    array([[ 1., -1.]])
    """
    value = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    back = _norm_rule(x, value, ord, normalize_axes(axis, np.ndim(x)), False)
    return value, lambda dy: (back(dy),)


@adjoint(np.linalg.matrix_norm, domain=domains.custom(_matrix_norm_args, "every matrix ord, "
                                                      "stacks, keepdims"),
         builtin=True)
def _matrix_norm(x, *, keepdims=False, ord="fro"):
    """Adjoint of ``np.linalg.matrix_norm`` (the last two axes, every order).

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.linalg.matrix_norm(x, ord="nuc"), np.eye(2))[0]
    array([[1., 0.],
           [0., 1.]])
    """
    value = np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    n = np.ndim(x)
    back = _norm_rule(x, value, ord, (n - 2, n - 1), True)
    return value, lambda dy: (back(dy),)
