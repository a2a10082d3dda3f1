"""Input domains: where the checker may draw inputs for a rule.

A rule declares its domain when it is registered::

    @ad.adjoint(np.log, domain=ad.domains.positive())

A domain is either

- an elementwise :class:`Interval` (``real()``, ``positive()``, ``interval(a, b)``,
  ``nonzero()``), used for every argument, with broadcast-compatible shapes drawn by the
  checker;
- a tuple of those, one per positional argument;
- :func:`custom`: a function that takes hypothesis' ``draw`` and returns ``(args, kwargs)``,
  for rules whose arguments depend on each other (``matmul`` shapes, an ``axis`` in range).

Domains are plain descriptions; hypothesis is imported only when the checker builds strategies.

>>> positive().contains(0.5), positive().contains(-1.0)
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Interval", "Custom", "real", "positive", "interval", "nonzero", "custom", "describe"]


@dataclass(frozen=True)
class Interval:
    """Values in ``[low, high]``, optionally keeping ``margin`` away from ``avoid`` points.

    ``avoid`` holds points where the function is not differentiable or not defined (0 for
    ``abs``, ``1/x``); drawn values stay at least ``margin`` away from them, so finite
    differences never straddle a kink.

    >>> interval(-1, 1, avoid=(0.0,)).contains(0.0)
    False
    """

    low: float = -10.0
    high: float = 10.0
    avoid: tuple[float, ...] = ()
    margin: float = 1e-2
    name: str = "real"

    def contains(self, value: float) -> bool:
        """True when ``value`` may be drawn."""
        if not (self.low <= value <= self.high) or math.isnan(value):
            return False
        return all(abs(value - a) >= self.margin for a in self.avoid)

    def __str__(self) -> str:
        s = f"{self.name}[{self.low:g}, {self.high:g}]"
        if self.avoid:
            s += " avoiding " + ", ".join(f"{a:g}" for a in self.avoid)
        return s


@dataclass(frozen=True)
class Custom:
    """A hand-written draw of ``(args, kwargs)`` for rules whose arguments depend on each other."""

    draw_args: Callable[[Callable], tuple[tuple, dict]]
    description: str = field(default="custom")

    def __str__(self) -> str:
        return self.description


def real(low: float = -10.0, high: float = 10.0) -> Interval:
    """Any real value in ``[low, high]``.

    >>> str(real())
    'real[-10, 10]'
    """
    return Interval(low, high, name="real")


def positive(low: float = 1e-2, high: float = 10.0) -> Interval:
    """Strictly positive values (``log``, ``sqrt``), bounded away from 0 by ``low``.

    >>> positive().low > 0
    True
    """
    return Interval(low, high, name="positive")


def interval(
    low: float, high: float, avoid: tuple[float, ...] = (), margin: float = 1e-2
) -> Interval:
    """Values in ``[low, high]`` kept ``margin`` away from the points in ``avoid``.

    >>> str(interval(-1, 1))
    'interval[-1, 1]'
    """
    return Interval(float(low), float(high), tuple(float(a) for a in avoid), margin, "interval")


def nonzero(low: float = -10.0, high: float = 10.0, margin: float = 1e-1) -> Interval:
    """Real values at least ``margin`` away from 0 (``1/x``, ``abs``).

    >>> nonzero().contains(0.05)
    False
    """
    return Interval(low, high, (0.0,), margin, "nonzero")


def custom(
    draw_args: Callable[[Callable], tuple[tuple, dict]], description: str = "custom"
) -> Custom:
    """A domain drawn by hand: ``draw_args(draw) -> (args, kwargs)``.

    ``draw`` is hypothesis' draw function (from ``@st.composite``), so ``draw(st.integers())``
    works inside. Use it when shapes or keyword arguments depend on each other.

    >>> import numpy as np
    >>> d = custom(lambda draw: ((np.ones((2, 3)),), {"axis": 1}), "sum over axis 1")
    >>> str(d)
    'sum over axis 1'
    """
    return Custom(draw_args, description)


def describe(domain: Any) -> str:
    """Readable text for any domain value, including ``None`` (the checker's default inputs).

    >>> describe(None), describe((real(), positive()))
    ('default (real floats)', '(real[-10, 10], positive[0.01, 10])')
    """
    if domain is None:
        return "default (real floats)"
    if isinstance(domain, tuple):
        return "(" + ", ".join(describe(d) for d in domain) + ")"
    return str(domain)
