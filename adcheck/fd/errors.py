"""The error raised when a finite difference cannot be computed."""

from __future__ import annotations

__all__ = ["FiniteDifferenceError"]


class FiniteDifferenceError(ValueError):
    """``f`` gave NaN or infinity at a stencil point, or the stencil cannot fit.

    >>> issubclass(FiniteDifferenceError, ValueError)
    True
    """
