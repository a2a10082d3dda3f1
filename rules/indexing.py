"""Adjoint rule for indexing, ``x[key]``, and the scatter that is its pullback.

The engine routes ``x[key]`` on a traced array to :func:`adcheck.engine.tracer.getitem`. Its
pullback puts the cotangent back at the indexed positions of a zero array with
:func:`scatter_add`; repeated integer indices *accumulate* (``x[[0, 0]]`` sends both
cotangents to ``x[0]``). ``scatter_add`` is a primitive whose own adjoint is ``getitem``
again, so higher derivatives through indexing work.

Every key NumPy accepts works: ints, slices, ``None``, ``...``, integer arrays (with
repeats), boolean masks, and mixtures of those.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: x[[0, 2, 0]].sum(), np.ones(3))[0]
array([2., 0., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tracer import getitem
from adcheck.registry import adjoint, primitive

from .shape import draw_array, draw_shape, sum_to

__all__ = ["scatter_add"]


def _is_basic(key: Any) -> bool:
    """True for keys made only of ints, slices, None and Ellipsis (views, no repeats)."""
    items = key if type(key) is tuple else (key,)
    return all(
        k is None or k is Ellipsis or type(k) in (int, slice) or isinstance(k, np.integer)
        for k in items
    )


@primitive
def scatter_add(dy: Any, key: Any, shape: tuple) -> Any:
    """Zeros of ``shape`` with ``dy`` added at ``[key]``; repeated indices accumulate.

    This is the adjoint of ``x[key]`` for an ``x`` of that shape.

    >>> scatter_add(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 0]), (3,))
    array([4., 0., 2.])
    """
    out = np.zeros(shape, np.result_type(dy))
    if _is_basic(key):
        out[key] += dy  # a view: no index can occur twice
    else:
        np.add.at(out, key, dy)
    return out


def _getitem_args(draw: Any) -> tuple[tuple, dict]:
    """An array and a key of any kind NumPy supports."""
    x = draw_array(draw, draw_shape(draw, min_dims=1, max_dims=3))
    return (x, _draw_key(draw, x.shape)), {}


def _scatter_add_args(draw: Any) -> tuple[tuple, dict]:
    """``(dy, key, shape)`` where ``dy`` has the shape of ``x[key]`` for an ``x`` of ``shape``."""
    shape = draw_shape(draw, min_dims=1, max_dims=3)
    key = _draw_key(draw, shape)
    dy = draw_array(draw, np.zeros(shape)[key].shape)
    return (dy, key, shape), {}


def _draw_key(draw: Any, shape: tuple) -> Any:
    """Basic keys (ints, slices, None, ...), integer arrays with repeats, or a boolean mask."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    kind = draw(st.sampled_from(["basic", "ints", "mask", "mixed"]))
    if kind == "mask":
        mask_dims = draw(st.integers(1, len(shape)))
        return draw(hnp.arrays(np.bool_, shape[:mask_dims]))
    if kind == "ints":
        # Indices into the first axis, negative ones and repeats included.
        n = shape[0]
        index_shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
        return draw(hnp.arrays(np.intp, index_shape, elements=st.integers(-n, n - 1)))
    if kind == "mixed":
        # A slice on the first axis and repeated integers on the second (when there is one).
        if len(shape) == 1:
            return (draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5)),)
        ints = draw(st.lists(st.integers(-shape[1], shape[1] - 1), min_size=1, max_size=5))
        return (slice(None, None, -1), np.array(ints))
    return draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))


@adjoint(getitem, domain=domains.custom(_getitem_args, "basic keys, integer arrays with "
                                        "repeats, boolean masks, slices mixed with integers"),
         builtin=True)
def _getitem(x, key):
    """Adjoint of ``x[key]``: the cotangent is scattered back, accumulating repeated indices.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: (x[1:, None] * 2).sum(), np.ones(3))[0]
    array([0., 2., 2.])
    """
    shape = np.shape(x)
    return x[key], lambda dy: (scatter_add(dy, key, shape), None)


@adjoint(scatter_add, domain=domains.custom(_scatter_add_args, "cotangents of x[key] for the "
                                            "keys getitem's domain draws"),
         builtin=True)
def _scatter_add(dy, key, shape):
    """Adjoint of :func:`scatter_add`: gathering with the same key.

    >>> import adcheck as ad
    >>> ad.pullback(lambda d: scatter_add(d, [0, 0], (2,)), np.ones(2))[1](np.array([3.0, 4.0]))
    (array([3., 3.]),)
    """
    dy_shape = np.shape(dy)
    # `dy` may broadcast against x[key], as in `out[key] += dy`: sum the gather back to it.
    return scatter_add(dy, key, shape), lambda g: (sum_to(g[key], dy_shape), None, None)
