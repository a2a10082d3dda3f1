"""Finite-difference methods: a stencil plus the rule that picks its step.

>>> m = central_fdm(5, 1)
>>> bool(abs(m(np.sin, 1.0) - np.cos(1.0)) < 1e-13)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from .adapt import Lines, estimate_lines
from .evaluation import check_callable, check_finite, real_output, unit_roundoff
from .stencil import Stencil, backward_grid, central_grid, forward_grid, make_stencil

__all__ = [
    "Estimate",
    "FiniteDifferenceMethod",
    "central_fdm",
    "forward_fdm",
    "backward_fdm",
]


class Estimate(NamedTuple):
    """A derivative, the step it was computed with, and a bound on its error.

    ``value`` and ``error`` are floats for a scalar ``f`` and arrays of ``f``'s output shape
    for an array-valued one.

    >>> est = central_fdm(3, 1).estimate(np.exp, 0.0)
    >>> abs(est.value - 1.0) <= est.error < 1e-8
    True
    """

    value: Any
    step: float
    error: Any


class FiniteDifferenceMethod:
    """A ``p``-point stencil for the ``q``-th derivative, with an adaptive step.

    ``grid`` holds distinct integers (more than ``q`` of them). Usually made by
    :func:`central_fdm`, :func:`forward_fdm` or :func:`backward_fdm`, whose keyword arguments
    are the ones here:

    - ``adapt``: levels of adaptation. The step balances round-off against truncation using a
      bound on ``|f^(p)|``; with ``adapt >= 1`` that bound is estimated with a ``p + 4``-point
      method of ``adapt - 1`` levels (see :mod:`adcheck.fd.adapt`). With ``adapt = 0`` it is
      assumed to be ``condition · |f|``, and so is the error estimate: with ``adapt = 0``
      the estimate is only as good as that assumption (too small near a singularity).
    - ``factor``: multiplies the assumed round-off of ``f``; raise it for noisy functions.
    - ``max_range``: no evaluation point is further than this from ``x``.
    - ``condition``: the assumed ``|f^(p)| / |f|`` when there is no adaptation left.

    >>> m = FiniteDifferenceMethod([-1, 0, 1], 2)
    >>> m.coefs.tolist(), m.order
    ([1.0, -2.0, 1.0], 2)
    """

    def __init__(
        self,
        grid: Sequence[int],
        q: int,
        *,
        adapt: int = 1,
        factor: float = 1.0,
        max_range: float = math.inf,
        condition: float = 10.0,
    ) -> None:
        grid = tuple(_check_int(g, "grid points") for g in grid)
        q = _check_int(q, "q")
        if len(set(grid)) != len(grid):
            raise ValueError(f"grid points must be distinct, got {list(grid)}")
        if q < 1:
            raise ValueError(f"q (the order of the derivative) must be at least 1, got q={q}")
        if len(grid) <= q:
            raise ValueError(
                f"p must be greater than q: a stencil of p={len(grid)} points can estimate "
                f"derivatives of order at most p - 1, got q={q}"
            )
        self.adapt = _check_int(adapt, "adapt")
        if self.adapt < 0:
            raise ValueError(f"adapt must be >= 0, got {adapt}")
        self.factor = _check_positive(factor, "factor")
        self.max_range = _check_positive(max_range, "max_range")
        self.condition = _check_positive(condition, "condition")
        self.stencil: Stencil = make_stencil(tuple(sorted(grid)), q)

    @property
    def grid(self) -> list[int]:
        """The stencil's offsets, in units of the step, increasing."""
        return list(self.stencil.grid)

    @property
    def coefs(self) -> np.ndarray:
        """The weight of each grid point (read-only float array)."""
        return self.stencil.coefs

    @property
    def p(self) -> int:
        """The number of grid points."""
        return self.stencil.p

    @property
    def q(self) -> int:
        """The order of the derivative."""
        return self.stencil.q

    @property
    def order(self) -> int:
        """The power of the step in the leading truncation error (4 for ``central_fdm(5, 1)``)."""
        return self.stencil.order

    def with_options(self, **options: Any) -> FiniteDifferenceMethod:
        """This stencil with other ``adapt``, ``factor``, ``max_range`` or ``condition``.

        >>> central_fdm(5, 1).with_options(max_range=0.1).max_range
        0.1
        """
        current = {
            "adapt": self.adapt,
            "factor": self.factor,
            "max_range": self.max_range,
            "condition": self.condition,
        }
        unknown = set(options) - set(current)
        if unknown:
            raise TypeError(f"unknown options {sorted(unknown)}; known: {sorted(current)}")
        return FiniteDifferenceMethod(self.grid, self.q, **{**current, **options})

    @cached_property
    def bound_estimator(self) -> FiniteDifferenceMethod:
        """The ``p + 4``-point method for the ``p``-th derivative, one level less adaptive.

        Its grid is of the same kind: one-sided if this grid is, else central.

        >>> central_fdm(5, 1).bound_estimator.grid
        [-4, -3, -2, -1, 0, 1, 2, 3, 4]
        """
        if min(self.grid) >= 0:
            make_grid = forward_grid
        elif max(self.grid) <= 0:
            make_grid = backward_grid
        else:
            make_grid = central_grid
        return FiniteDifferenceMethod(
            make_grid(self.p + 4),
            self.p,
            adapt=max(self.adapt - 1, 0),
            factor=self.factor,
            max_range=self.max_range,
            condition=self.condition,
        )

    def __call__(
        self, f: Callable[[float], Any], x: float, *, step: float | None = None
    ) -> float | np.ndarray:
        """The ``q``-th derivative of ``f`` at the float ``x``; an array if ``f`` returns one.

        >>> bool(abs(central_fdm(5, 2)(np.sin, 0.5) + np.sin(0.5)) < 1e-9)
        True
        """
        return self._estimate(f, x, step, with_error=False).value

    def estimate(
        self, f: Callable[[float], Any], x: float, *, step: float | None = None,
        min_step: float | None = None, noise: float = 0.0,
    ) -> Estimate:
        """The derivative with the step used and an estimate of its error.

        Without ``step`` the step is chosen as described in :mod:`adcheck.fd.adapt`; with it,
        that step is used as given, and estimating the error then costs the evaluations of
        the bound estimator (kept within the stencil's span). ``min_step`` raises the
        smallest step from the float spacing at ``x`` (for an ``f`` that moves a coarser
        grid than its own argument's). ``noise`` is an absolute round-off of every value of
        ``f``, for an ``f`` that is not accurate relative to its own size (a sum that
        cancels): the step and the error bound assume at least that much.

        >>> est = forward_fdm(4, 1).estimate(lambda x: x**2, 1.0, step=0.5)
        >>> round(est.value, 12), est.step
        (2.0, 0.5)
        """
        return self._estimate(f, x, step, with_error=True, min_step=min_step, noise=noise)

    def _estimate(self, f: Any, x: Any, step: Any, with_error: bool,
                  min_step: float | None = None, noise: float = 0.0) -> Estimate:
        check_callable(f)
        x = _check_x(x)
        if not (math.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        if step is not None:
            step = _check_positive(step, "step")
            if math.isinf(step):
                raise ValueError("step must be finite")
        raw = f(_as_passed(x))
        y0 = real_output(raw)
        out_dtype = np.asarray(raw).dtype
        check_finite(y0, f"x = {float(x)!r} itself")
        lines = Lines(
            evaluate=_scalar_evaluator(f, x, y0.shape),
            f0=y0.ravel(),
            eps=np.array([unit_roundoff(out_dtype, x.dtype)]),
            min_step=np.array([max(float(np.spacing(np.abs(x))), _power_of_two(min_step))]),
            noise=np.array([float(noise)]),
        )
        values, steps, errors = estimate_lines(self, lines, step, with_error=with_error)
        if y0.ndim == 0:
            return Estimate(float(values[0, 0]), float(steps[0]), float(errors[0, 0]))
        return Estimate(values[0].reshape(y0.shape), float(steps[0]), errors[0].reshape(y0.shape))

    def __repr__(self) -> str:
        return (
            "FiniteDifferenceMethod:\n"
            f"  order of method:       {self.order}\n"
            f"  order of derivative:   {self.q}\n"
            f"  grid:                  {self.grid}\n"
            f"  coefficients:          {[float(c) for c in self.coefs]}"
        )


def central_fdm(p: int, q: int, **kwargs: Any) -> FiniteDifferenceMethod:
    """A ``p``-point central method for the ``q``-th derivative (centre point only if ``p`` odd).

    Keyword arguments are those of :class:`FiniteDifferenceMethod`.

    >>> central_fdm(4, 1)
    FiniteDifferenceMethod:
      order of method:       4
      order of derivative:   1
      grid:                  [-2, -1, 1, 2]
      coefficients:          [0.08333333333333333, -0.6666666666666666, 0.6666666666666666, -0.08333333333333333]
    """  # noqa: E501
    return FiniteDifferenceMethod(central_grid(_check_p(p)), q, **kwargs)


def forward_fdm(p: int, q: int, **kwargs: Any) -> FiniteDifferenceMethod:
    """A ``p``-point method on ``0, 1, ..., p - 1``: evaluates ``f`` only at and above ``x``.

    >>> forward_fdm(3, 1).grid, forward_fdm(3, 1).coefs.tolist()
    ([0, 1, 2], [-1.5, 2.0, -0.5])
    """
    return FiniteDifferenceMethod(forward_grid(_check_p(p)), q, **kwargs)


def backward_fdm(p: int, q: int, **kwargs: Any) -> FiniteDifferenceMethod:
    """A ``p``-point method on ``-(p - 1), ..., 0``: evaluates ``f`` only at and below ``x``.

    >>> backward_fdm(2, 1).grid, backward_fdm(2, 1).coefs.tolist()
    ([-1, 0], [-1.0, 1.0])
    """
    return FiniteDifferenceMethod(backward_grid(_check_p(p)), q, **kwargs)


def _scalar_evaluator(
    f: Callable[[float], Any], x: np.floating, shape: tuple[int, ...]
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def evaluate(ts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.empty(ts.shape + (math.prod(shape),))
        for index, t in np.ndenumerate(ts):
            point = _as_passed(x + x.dtype.type(t))
            y = real_output(f(point))
            if y.shape != shape:
                raise ValueError(
                    f"f returned shape {y.shape} at x = {float(point)!r} but shape {shape} "
                    f"at x = {float(x)!r}"
                )
            check_finite(y, f"x = {float(point)!r} (a stencil point around {float(x)!r})")
            out[index] = y.ravel()
        return out

    return evaluate


def _power_of_two(step: float | None) -> float:
    """The power of two at or above ``step`` (0 for None): steps stay exact multiples."""
    if step is None or not step > 0 or not np.isfinite(step):
        return 0.0
    return float(2.0 ** np.ceil(np.log2(step)))


def _as_passed(x: np.floating) -> float | np.floating:
    """How ``f`` receives a point: float64 as a Python float, other precisions as they are."""
    return float(x) if x.dtype == np.float64 else x


def _check_x(x: Any) -> np.floating:
    """``x`` as a NumPy float scalar of its own precision."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (float, np.floating)):
        if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
            raise TypeError(f"x must be a float, got the integer {x!r}; write {float(x)!r}")
        if isinstance(x, (np.ndarray, list, tuple)):
            raise TypeError(
                f"x must be a scalar float, got {type(x).__name__} of shape {np.shape(x)}; "
                "use adcheck.fd.jacobian for arrays"
            )
        raise TypeError(f"x must be a float, got {type(x).__name__} {x!r}")
    x = np.float64(x) if isinstance(x, float) and not isinstance(x, np.floating) else x
    if not np.isfinite(x):
        raise ValueError(f"x must be finite, got {float(x)!r}")
    return x


def _check_int(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    return int(value)


def _check_p(p: Any) -> int:
    p = _check_int(p, "p")
    if p < 1:
        raise ValueError(f"p (the number of grid points) must be positive, got p={p}")
    return p


def _check_positive(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    value = float(value)
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return value
