"""Checks on what goes into and comes out of the function being differentiated."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import FiniteDifferenceError

__all__ = ["check_callable", "real_output", "check_finite", "unit_roundoff"]


def check_callable(f: Any) -> None:
    """Raise TypeError unless ``f`` can be called.

    >>> check_callable(abs)
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__} {_short(f)}")


def real_output(y: Any) -> np.ndarray:
    """``y`` as a new float64 array (never a view of it); TypeError if it is not real numbers.

    >>> real_output([1, 2]).dtype
    dtype('float64')
    """
    try:
        arr = np.asarray(y)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"f must return real numbers, got {_short(y)}") from exc
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"f must return real numbers, got {type(y).__name__} {_short(y)}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(
            "f returned complex values; differentiate the real and imaginary parts separately"
        )
    return np.array(arr, dtype=np.float64, copy=True)


def unit_roundoff(*dtypes: Any) -> float:
    """Machine epsilon of the coarsest floating dtype among ``dtypes`` (integers count as float64).

    >>> unit_roundoff(np.float64, np.float32) == float(np.finfo(np.float32).eps)
    True
    """
    eps = [
        float(np.finfo(d).eps) if np.issubdtype(d, np.floating) else float(np.finfo(float).eps)
        for d in map(np.dtype, dtypes)
    ]
    return max(eps, default=float(np.finfo(float).eps))


def check_finite(values: np.ndarray, where: str) -> None:
    """Raise :class:`FiniteDifferenceError` if ``values`` holds NaN or infinity.

    >>> check_finite(np.array([1.0]), "x = 1.0")
    """
    if not np.all(np.isfinite(values)):
        bad = values[~np.isfinite(values)].flat[0]
        raise FiniteDifferenceError(
            f"f returned {bad} at {where}; finite differences need f to be finite at every "
            "stencil point (if f is defined only near x, pass max_range, or use "
            "forward_fdm/backward_fdm to stay on one side)"
        )


def _short(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."
