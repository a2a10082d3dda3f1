"""Derivatives along one line through the inputs, by :mod:`adcheck.fd`, made robust.

Every finite difference the checker takes is ``g'(0)`` for ``g(t) = F(x0 + t·v)``, estimated
by a :class:`~adcheck.fd.FiniteDifferenceMethod` (``central_fdm(5, 1)`` unless the user gives
``fdm``) with its adaptive step and error bound. Around it:

- **Staying in the domain.** If ``F`` raises or returns NaN/inf at a stencil point, the
  estimate is retried with ``max_range`` limited to half the distance at which some input
  entry would change sign, then 16, 256, 4096 and 65536 times less. So ``sqrt`` and ``log``
  at 1e-8 work, and so does ``exp`` near 700.
- **A second opinion before a failure is reported** (:meth:`LineEstimator.alternatives`): the
  same line with the round-off assumed 1000 times larger (a longer step), and a 7-point
  method. When they disagree with each other, the function is noisier than its precision
  (an ill-conditioned matrix), and the spread becomes part of the tolerance.
- **Kinks** (:meth:`LineEstimator.one_sided`): forward and backward differences. When they
  disagree beyond their errors, the point is not differentiable along that line.

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> p = RuleProblem(np.sqrt, None, (np.array([1e-8, 4.0]),), {})
>>> est = LineEstimator(p).estimate(np.array([2.0**-27, 4.0]))
>>> np.allclose(est.value, [0.5 / 1e-4 * 2.0**-27, 0.25 * 4.0])
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..fd import FiniteDifferenceMethod, central_fdm
from .problem import Problem

__all__ = ["LineEstimate", "LineEstimator", "NotEvaluable"]


class NotEvaluable(Exception):
    """The function could not be evaluated (finite, without raising) near the point."""


@dataclass
class LineEstimate:
    """``J·v`` by finite differences: one value and one error bound per output entry."""

    value: np.ndarray
    error: np.ndarray
    step: float
    method: str


def _variant(m: FiniteDifferenceMethod, grid: list[int] | None = None,
             **changes: float) -> FiniteDifferenceMethod:
    kwargs = {"adapt": m.adapt, "factor": m.factor, "max_range": m.max_range,
              "condition": m.condition}
    kwargs.update(changes)
    return FiniteDifferenceMethod(grid if grid is not None else m.grid, m.q, **kwargs)


def _describe(m: FiniteDifferenceMethod) -> str:
    g = m.grid
    kind = "central" if min(g) < 0 < max(g) else ("forward" if min(g) >= 0 else "backward")
    return f"{kind}_fdm({m.p}, {m.q})"


#: The share of an input that rounding at a step must take for the line to miss the point.
LOST = 2.0**-10


class LineEstimator:
    """Finite differences of ``problem`` along directions, counting lines and evaluations."""

    def __init__(self, problem: Problem, fdm: FiniteDifferenceMethod | None = None):
        self.problem = problem
        base = fdm if fdm is not None else central_fdm(5, 1)
        if base.q != 1:
            raise ValueError(f"fdm must estimate first derivatives (q=1), got q={base.q}")
        self.base = base
        self.lines = 0
        dtypes = problem._evaluation_output_dtypes()
        self.tiny = max((float(np.finfo(d).smallest_subnormal) for d in dtypes), default=0.0)
        coarse = max((float(np.finfo(d).eps) for d in dtypes), default=float(np.finfo(float).eps))
        self._coarse_eps = coarse
        self._f0: np.ndarray | None = None
        # Added to every output of a vector line (see with_noise): a constant changes no
        # derivative, and makes the step and error bound assume round-off of eps·offset.
        self.offset: np.ndarray | None = None

    def _g(self, v: np.ndarray, dy: np.ndarray | None):
        x0, evaluate = self.problem.x0, self.problem.evaluate
        inverse = 1.0 / self._output_scale()
        if dy is None:
            def g(t: float) -> np.ndarray:
                # float64, so that adcheck.fd takes float64's round-off: the outputs' own
                # precision is in the factor (_factor), and must not count twice (a float32
                # output of float64 inputs got a step and an error bound 1e8 too large).
                y = np.asarray(evaluate(x0 + t * v), dtype=np.float64) * inverse
                return y if self.offset is None else y + self.offset * inverse
        else:
            def g(t: float) -> float:
                return float(dy @ (evaluate(x0 + t * v) * inverse))
        return g

    def fit_scales(self) -> None:
        """Shrink the problem's direction scales where ``J·v`` would overflow.

        Near the top of the float range (``exp(709)`` is 8.2e307) a derivative along a
        direction of size ``|x| = 512`` is not a float64; the outputs' size stands in for
        the derivative's, and directions are kept below ``2**1000 / max|F|``.
        """
        peak = float(np.max(np.abs(self._outputs_at_x0()), initial=0.0))
        if not (np.isfinite(peak) and peak > 2.0**900):
            return
        cap = 2.0 ** (1000 - int(np.ceil(np.log2(peak))))
        self.problem.scales = np.minimum(self.problem.scales, cap)

    def _outputs_at_x0(self) -> np.ndarray:
        if self._f0 is None:
            with np.errstate(all="ignore"):
                self._f0 = self.problem.evaluate(self.problem.x0).astype(np.float64)
        return self._f0

    def _output_scale(self) -> float:
        """A power of two near the largest output. Finite differences are taken of ``F``
        divided by it (exactly), so that outputs near the top of the float range
        (``exp(700)``) overflow neither the sum ``⟨Δ, F⟩`` nor the bound on ``F``'s higher
        derivatives that the adaptive step is computed from."""
        peak = float(np.max(np.abs(self._outputs_at_x0()), initial=0.0))
        if not (peak > 0 and np.isfinite(peak)):
            return 1.0
        # Not below 2**-1000: the inverse of a subnormal's power of two overflows to inf.
        return float(2.0 ** max(np.ceil(np.log2(peak)), -1000.0))

    def _factor(self) -> float:
        """How much noisier than float64 round-off of its own value ``g`` is: the ratio of
        the outputs' epsilon to float64's (for a line of ``⟨Δ, F⟩`` too, whose round-off
        is not relative to its value; see :meth:`sum_noise`)."""
        return self._coarse_eps / float(np.finfo(float).eps)

    def sum_noise(self, dy: np.ndarray) -> float:
        """The absolute round-off of one evaluation of ``⟨Δ, F⟩`` (in the units of ``F``
        divided by :meth:`_output_scale`), as a share of float64's epsilon times
        :meth:`_factor`: each output is rounded on its own, so it is ``Σ|Δ_i F_i|`` (times
        the summation's ``1 + log2 m``), not ``|Σ Δ_i F_i|``. Taken relative to the sum it
        was a factor of up to 1e15 where the sum cancels to 0 (interp of ``fp = ones``
        against a Δ summing to 0), and the step grew to 1 along a line curved at 0.1."""
        f0 = self._outputs_at_x0() / self._output_scale()
        total = float(np.abs(dy * f0).sum())
        return total * (1.0 + math.log2(max(len(dy), 1)))

    def tiny_for(self, dy: np.ndarray | None) -> float:
        """The absolute round-off of one evaluation of the line's ``g``: the smallest
        subnormal for each output, and for ``⟨Δ, F⟩`` that of every output times ``|Δ_i|``
        plus that of every product ``Δ_i F_i``. xlog1py(5.2e-308, y) has subnormal outputs,
        and a probe's 19 of them carried 2250 subnormals of round-off into ``⟨Δ, J v⟩``
        where one was allowed (verify --builtin --seed 242)."""
        if dy is None:
            return self.tiny
        return self.tiny * (float(np.abs(dy).sum()) + float(np.count_nonzero(dy)))

    def _min_step(self, v: np.ndarray) -> float:
        """The smallest power-of-two ``t`` for which ``x0 + t·v`` is exact: ``t`` times the
        lowest set bit of each ``v_j`` at least twice the float spacing at ``x0_j`` (twice:
        the move may cross into the next binade). Below it the inputs round: ``cos`` at
        1e14 (spacing 0.016) moved by 1e-3 read a kink of 1e13."""
        x0 = self.problem.x0
        moving = (v != 0) & np.isfinite(x0) & np.isfinite(v)
        if not moving.any():
            return 0.0
        mant, expo = np.frexp(np.abs(v[moving]))
        whole = (mant * 2.0**53).astype(np.int64)
        low_bit = (whole & -whole).astype(np.float64)  # the lowest set bit is low_bit·2**(expo-53)
        # the quotient built from mantissas and exponents: for subnormal v (inputs near
        # 5e-308) the lowest bit itself, 2**(expo - 53), underflows to 0
        s_mant, s_expo = np.frexp(np.spacing(np.abs(x0[moving])))
        return float(np.max(np.ldexp(2.0 * s_mant / low_bit, s_expo + 53 - expo)))

    def rounded_entry(self, v: np.ndarray, step: float, reach: int = 4) -> int | None:
        """A nonzero input entry that ``x0 + k·step·v`` rounds by more than ``2**-10`` of
        itself for some ``|k| <= reach`` (the stencil's points), or None: where it does, the
        line the finite differences measured does not pass through ``x0``. An entry of
        5.2e-37 beside 1 moved by 2**-10 of the step is lost altogether, and a derivative
        proportional to it reads 0. (Rounding by an ulp of the sum is every step's lot.)
        """
        x0 = self.problem.x0
        moving = np.flatnonzero((v != 0) & (x0 != 0) & np.isfinite(x0))
        if not moving.size or not step > 0:
            return None
        a = x0[moving]
        with np.errstate(all="ignore"):
            for k in range(1, reach + 1):
                for t in (k * step, -k * step):
                    b = t * v[moving]
                    s = a + b  # Knuth's two-sum: the rounding error of a + b, exactly
                    bb = s - a
                    err = (a - (s - bb)) + (b - bb)
                    hit = np.flatnonzero(np.abs(err) > LOST * np.abs(a))
                    if hit.size:
                        return int(moving[hit[0]])
        return None

    def _ranges(self, v: np.ndarray, m: FiniteDifferenceMethod) -> list[float]:
        """``max_range`` values to try: as given, then within the sign-change distance."""
        x0 = self.problem.x0
        moving = (v != 0) & (x0 != 0)
        if moving.any():
            r0 = 0.5 * float(np.min(np.abs(x0[moving]) / np.abs(v[moving])))
        else:
            r0 = 0.5 / float(np.max(np.abs(v), initial=1.0))
        ranges = [m.max_range]
        ranges += [r for r in (r0, r0 / 16, r0 / 256, r0 / 4096, r0 / 65536) if r < m.max_range]
        return ranges

    def estimate(self, v: np.ndarray, m: FiniteDifferenceMethod | None = None,
                 dy: np.ndarray | None = None) -> LineEstimate:
        """``J·v`` and its error bound, or ``⟨dy, J·v⟩`` (shape ``(1,)``) when ``dy`` is given.

        Raises :class:`NotEvaluable` if the function cannot be evaluated at any range.
        """
        m = m if m is not None else self.base
        factor = self._factor()
        if factor != 1.0:
            m = _variant(m, factor=m.factor * factor)
        g = self._g(v, dy)
        floor = self._min_step(v)
        # as a value of g: fd multiplies it by the method's factor, which holds _factor
        noise = 0.0 if dy is None else self.sum_noise(dy) * float(np.finfo(float).eps)
        last: BaseException | None = None
        for r in self._ranges(v, m):
            method = m if r == m.max_range else _variant(m, max_range=r)
            try:
                with np.errstate(all="ignore"):
                    est = method.estimate(g, 0.0, min_step=floor, noise=noise)
            except Exception as exc:  # noqa: BLE001  (F may raise anything off its domain)
                last = exc
                continue
            self.lines += 1
            scale = self._output_scale()
            value = np.atleast_1d(np.asarray(est.value, dtype=np.float64)) * scale
            error = np.atleast_1d(np.asarray(est.error, dtype=np.float64)) * scale
            # Outputs are rounded to at least the smallest subnormal, however small they are
            # (relative round-off alone would claim an exact 0 where a product underflows).
            error = error + self.tiny_for(dy) * float(np.sum(np.abs(method.coefs))) / est.step
            if np.all(np.isfinite(value)) and np.all(np.isfinite(error)):
                return LineEstimate(value, error, float(est.step), _describe(method))
            last = FloatingPointError("the finite difference is not finite")
        raise NotEvaluable(
            f"the function cannot be evaluated near the point along this direction "
            f"({type(last).__name__}: {last})"
        )

    def with_noise(self, v: np.ndarray, noise: np.ndarray) -> LineEstimate:
        """``J·v`` as :meth:`estimate` gives it, for a function whose outputs jump by
        ``noise`` (absolute, per output) at every evaluation: the outputs are offset by
        ``noise / eps``, so that the adaptive step and the error bound assume that much
        round-off (far more than ``eps·|F|`` where ``F`` cancels to about 0)."""
        with np.errstate(over="ignore"):  # exp near 709: an infinite offset is not evaluable
            self.offset = np.asarray(noise, dtype=np.float64) / float(np.finfo(float).eps)
        try:
            return self.estimate(v)
        finally:
            self.offset = None

    def alternatives(self, v: np.ndarray, dy: np.ndarray | None = None) -> list[LineEstimate]:
        """Independent estimates for a second opinion (see the module docstring).

        The first assumes 1000 times the round-off, so its error bound is inflated on
        purpose; only its value should be used (see :func:`hull`).
        """
        out = []
        b = self.base
        for m in (_variant(b, factor=b.factor * 1e3), central_fdm(7, 1, factor=b.factor,
                                                                    max_range=b.max_range)):
            try:
                out.append(self.estimate(v, m, dy))
            except NotEvaluable:
                continue
        return out

    def one_sided(self, v: np.ndarray,
                  dy: np.ndarray | None = None) -> tuple[LineEstimate, LineEstimate] | None:
        """Forward and backward differences along ``v`` (None if either cannot be taken)."""
        b = self.base
        p = max(b.p, 3)
        try:
            fwd = self.estimate(v, _variant(b, grid=list(range(p))), dy)
            bwd = self.estimate(v, _variant(b, grid=list(range(1 - p, 1))), dy)
        except NotEvaluable:
            return None
        return fwd, bwd


def hull(first: tuple[float, float], others: list[tuple[float, float]],
         safety: float) -> tuple[float, float]:
    """The interval the estimates allow: their range, widened by ``safety`` times the
    smaller error bound of the first estimate and the last one (the 7-point method).

    The spread of the values measures noise the error bounds did not foresee; the
    inflated bound of the large-round-off variant is not used, so a real error of 1e-4
    is not drowned in it.

    >>> hull((1.0, 0.1), [(1.5, 100.0), (1.2, 0.05)], 2.0)
    (0.9, 1.6)
    """
    values = [first[0]] + [v for v, _ in others]
    errors = [first[1]] + ([others[-1][1]] if others else [])
    widen = safety * min(errors)
    return min(values) - widen, max(values) + widen


def outside(value: float, interval: tuple[float, float], slack: float) -> float:
    """How far ``value`` lies outside ``interval`` widened by ``slack`` (0 when inside).

    >>> outside(2.0, (0.0, 1.0), 0.5), outside(0.5, (0.0, 1.0), 0.0)
    (0.5, 0.0)
    """
    lo, hi = interval
    if math.isnan(value):
        return math.inf
    return max(lo - slack - value, value - hi - slack, 0.0)
