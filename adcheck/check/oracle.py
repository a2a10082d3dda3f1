"""The finite-difference oracle of the value checks: line estimates that try harder.

:class:`Oracle` is the :class:`~adcheck.check.lines.LineEstimator` the comparisons use, with
what a trustworthy verdict needs on top:

- **Steps that fit the domain.** When ``F`` is not finite at a stencil point, ``max_range``
  shrinks by 16 at a time from half the distance at which an input would change sign, down
  to a few float spacings of the moving inputs (not five times only): ``arcsin`` at
  ``1 - 1e-10`` and ``log1p`` at ``-1 + 1e-10`` are inside their domains, only a step below
  1e-10 fits, and one is found.
- **Other scales** (:meth:`Oracle.rescaled`): the derivative along ``k·v``, divided by ``k``,
  so an undecided comparison can be measured again on a scale that suits the function (a
  unit step for ``exp`` at 1e-20; see :mod:`adcheck.check.decided`).
- **Smaller steps** (:meth:`Oracle.shrunk`): the same line with the stencil kept within
  1/16 and 1/256 of the span it used. A piecewise-smooth function (``amin`` with entries 0.5
  apart, whose fifth derivative is zero so the adaptive step grows large) can be stepped
  across a switch by a long stencil; a short one stays where it is smooth.
- **One-sided estimates as a second opinion** (:meth:`Oracle.sided`): near a point where the
  second derivative jumps (``huber`` at ``|x| = delta``: C¹, not C²), a central stencil's
  error bound does not hold, while a stencil on the smooth side of the point does.

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> p = RuleProblem(np.arcsin, None, (np.array([1 - 1e-10]),), {})
>>> est = Oracle(p).estimate(p.scales)
>>> bool(abs(est.value[0] - p.scales[0] / np.sqrt(1 - (1 - 1e-10) ** 2)) < 1e-3 * 7e4)
True
"""

from __future__ import annotations

import numpy as np

from ..fd import FiniteDifferenceMethod
from .lines import LineEstimate, LineEstimator, NotEvaluable, _variant

__all__ = ["Oracle"]

# max_range shrinks by this factor per retry, until the stencil would move the inputs by
# fewer than MIN_SPACINGS float spacings.
_SHRINK = 16.0
_MIN_SPACINGS = 64.0


class Oracle(LineEstimator):
    """A :class:`LineEstimator` with domain-fitting steps, rescaling and shorter stencils."""

    def peak(self) -> float:
        """The largest ``|output|`` at the point (0 when there is none)."""
        f0 = self._outputs_at_x0()
        with np.errstate(invalid="ignore"):
            peak = float(np.max(np.abs(f0), initial=0.0))
        return peak if np.isfinite(peak) else 0.0

    def _ranges(self, v: np.ndarray, m: FiniteDifferenceMethod) -> list[float]:
        """``max_range`` values to try: as given, then within the sign-change distance, then
        smaller by 16 each time down to a few float spacings of the moving inputs."""
        x0 = self.problem.x0
        moving = v != 0
        nonzero = moving & (x0 != 0)
        if nonzero.any():
            r0 = 0.5 * float(np.min(np.abs(x0[nonzero]) / np.abs(v[nonzero])))
        else:
            r0 = 0.5 / float(np.max(np.abs(v), initial=1.0))
        # the smallest range in which the stencil still moves every moving input a little
        spacing = np.spacing(np.abs(x0[moving])) / np.abs(v[moving]) if moving.any() else [0.0]
        reach = max(abs(g) for g in m.grid)
        smallest = _MIN_SPACINGS * reach * float(np.max(spacing, initial=0.0))
        ranges = [m.max_range]
        r = r0
        while r >= smallest and len(ranges) < 40:
            if r < m.max_range:
                ranges.append(r)
            r /= _SHRINK
        return ranges

    def rescaled(self, v: np.ndarray, k: float, m: FiniteDifferenceMethod | None = None,
                 dy: np.ndarray | None = None) -> LineEstimate:
        """``J·v`` measured along ``k·v`` (then divided by ``k``): the same derivative, other
        steps."""
        est = self.estimate(k * v, m, dy)
        return LineEstimate(est.value / k, est.error / k, est.step * k, est.method)

    def shrunk(self, v: np.ndarray, first: LineEstimate,
               dy: np.ndarray | None = None) -> list[LineEstimate]:
        """Estimates along ``v`` with stencils within 1/16 and 1/256 of ``first``'s span."""
        out = []
        b = self.base
        reach = max(abs(g) for g in b.grid)
        for factor in (_SHRINK, _SHRINK**2):
            m = _variant(b, max_range=min(b.max_range, first.step * reach / factor))
            try:
                out.append(self.estimate(v, m, dy))
            except (NotEvaluable, ValueError):
                continue
        return out

    def sided(self, v: np.ndarray, dy: np.ndarray | None = None) -> list[LineEstimate]:
        """Forward and backward estimates (the 3-point and the base-size one-sided stencils),
        whichever can be taken."""
        out = []
        b = self.base
        for p in sorted({3, max(b.p, 3)}):
            for grid in (list(range(p)), list(range(1 - p, 1))):
                try:
                    out.append(self.estimate(v, _variant(b, grid=grid), dy))
                except (NotEvaluable, ValueError):
                    continue
        return out
