"""Helpers for the few NumPy idioms the tracer cannot intercept.

``np.array([t1, t2])``, ``np.full(shape, t)`` and ``x[i] = v`` turn traced values into plain
numbers behind NumPy's back, so the engine refuses them. These functions do the same jobs in a
way the tape records.

>>> import numpy as np
>>> import adcheck as ad
>>> from adcheck import numpy as anp
>>> ad.gradient(lambda a, b: anp.array([a, 2 * b]).sum(), 1.0, 1.0)
(1.0, 2.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import domains
from .engine.tracer import getitem, strip
from .registry import adjoint, primitive

__all__ = ["array", "full", "set_at"]


def array(items: Any) -> Any:
    """``np.array`` of a (nested) list that may hold traced values.

    >>> array([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    if isinstance(items, (list, tuple)):
        return np.stack([array(i) for i in items])
    if isinstance(items, (int, float)):
        return np.asarray(float(items))
    return items if not isinstance(items, np.ndarray) else np.asarray(items)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """``np.full`` whose fill value may be traced: the fill value's gradient is the sum.

    >>> full((2, 3), 1.5)
    array([[1.5, 1.5, 1.5],
           [1.5, 1.5, 1.5]])
    """
    base = np.zeros(shape, dtype if dtype is not None else np.result_type(fill_value, 0.0))
    return base + fill_value


@primitive
def set_at(x: Any, index: Any, value: Any) -> Any:
    """A copy of ``x`` with ``x[index] = value``, without touching ``x`` (a functional write).

    >>> x = np.zeros(3)
    >>> set_at(x, 1, 5.0), x
    (array([0., 5., 0.]), array([0., 0., 0.]))
    """
    out = np.array(x, dtype=np.result_type(x, value), copy=True)
    out[index] = value
    return out


def _set_at_args(draw) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    n = draw(st.integers(1, 5))
    x = draw(hnp.arrays(np.float64, (n,), elements=st.floats(-10, 10)))
    i = draw(st.integers(0, n - 1))
    return (x, i, draw(st.floats(-10, 10))), {}


@adjoint(set_at, domain=domains.custom(_set_at_args, "a vector, an index in range, a value"),
         builtin=True)
def _set_at_adjoint(x, index, value):
    index = strip(index)
    return set_at(x, index, value), lambda dy: (
        set_at(dy, index, 0.0),
        None,
        getitem(dy, index),
    )
