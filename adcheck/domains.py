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
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Interval", "Custom", "real", "positive", "interval", "nonzero", "custom", "describe",
           "validate"]


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

    def __post_init__(self) -> None:
        where = f"{self.name}({self.low!r}, {self.high!r})"
        for label, v in (("low", self.low), ("high", self.high), ("margin", self.margin)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
                raise ValueError(f"{where}: {label} must be a real number, got {v!r}")
        if self.low > self.high:
            raise ValueError(f"{where}: low must not exceed high (an empty interval); "
                             f"write {self.name}({self.high!r}, {self.low!r})")
        if math.isinf(self.low) or math.isinf(self.high):
            raise ValueError(f"{where}: the bounds must be finite (finite differences and "
                             "draws need a bounded interval)")
        if self.margin < 0 or math.isinf(self.margin):
            raise ValueError(f"{where}: margin must be finite and >= 0, got {self.margin!r}")
        for a in self.avoid:
            if isinstance(a, bool) or not isinstance(a, numbers.Real) or not math.isfinite(a):
                raise ValueError(f"{where}: avoid points must be finite numbers, got {a!r}")
        if self.avoid and not self._any_allowed():
            raise ValueError(
                f"{where}: no value is left: every point lies within margin={self.margin:g} "
                f"of an avoided point ({', '.join(f'{a:g}' for a in self.avoid)}); use a "
                "smaller margin or a wider interval")

    def _any_allowed(self) -> bool:
        # What is allowed is [low, high] minus open intervals around the avoided points, a
        # union of closed intervals whose ends are among these candidates.
        candidates = [self.low, self.high]
        for a in self.avoid:
            candidates += [a - self.margin, a + self.margin]
        return any(self.contains(c) for c in candidates)

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


def validate(domain: Any, rule: str | None = None) -> None:
    """Raise a clear error now (naming ``rule``) if ``domain`` cannot be drawn from, rather
    than a hypothesis error when the rule is verified.

    Intervals check themselves when they are made (``interval(1.0, 0.5)`` raises at once);
    this also checks what a rule declares: an :class:`Interval`, a tuple of them, a
    :func:`custom` draw, a hypothesis strategy, or None.

    >>> validate((real(), positive()), "hypot")
    >>> validate(3.0, "my_rule")
    Traceback (most recent call last):
    ...
    TypeError: the domain of my_rule is 3.0 (float): use an Interval (domains.real(), ...), a tuple of them, domains.custom(draw) or a hypothesis strategy
    """  # noqa: E501
    if domain is None or isinstance(domain, Interval):
        return
    of = f" of {rule}" if rule else ""
    if isinstance(domain, tuple):
        if not domain or not all(isinstance(d, Interval) for d in domain):
            raise TypeError(f"the domain{of} is a tuple of {_kinds(domain)}: a tuple must hold "
                            "one Interval (domains.real(), ...) per positional argument")
        return
    if isinstance(domain, Custom):
        if not callable(domain.draw_args):
            raise TypeError(f"the domain{of} is custom({domain.draw_args!r}): it needs a "
                            "function draw -> (args, kwargs)")
        return
    if _is_strategy(domain):
        return
    raise TypeError(f"the domain{of} is {domain!r} ({type(domain).__name__}): use an Interval "
                    "(domains.real(), ...), a tuple of them, domains.custom(draw) or a "
                    "hypothesis strategy")


def _kinds(values: tuple) -> str:
    return ", ".join(sorted({type(v).__name__ for v in values})) or "nothing"


def _is_strategy(value: Any) -> bool:
    # Without importing hypothesis when the domain is not one of its strategies.
    return any(c.__name__ == "SearchStrategy" and c.__module__.startswith("hypothesis")
               for c in type(value).__mro__)


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
