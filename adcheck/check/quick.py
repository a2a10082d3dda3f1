"""A first look at a dot-product probe for four (or six) evaluations, before the adaptive one.

Fast mode compares ``⟨back(Δ), v⟩`` with ``g'(0)``, ``g(t) = ⟨Δ, F(x0 + t·v)⟩``. The adaptive
estimate (:meth:`~adcheck.check.lines.LineEstimator.estimate`, ``central_fdm(5, 1)``) spends
eight evaluations on a bound of ``g⁽⁵⁾`` to choose its step, four on the stencil and one on
``g(0)``. Yet most probes pass with lots of room: the allowance for the adjoint's own
rounding (``rtol = 1e-7`` in float64) dwarfs a finite difference's error. For those,
:class:`QuickLine` takes the same 5-point stencil at a step chosen from that allowance, and
bounds its error from its own samples (``g(0)`` is not needed: its weight is 0). With
``R(s) = (g(s) - g(-s)) / (2s)`` and ``R(s) = g' + a·s² + b·s⁴ + c·s⁶ + ...``:

    D5 = (4·R(h) - R(2h)) / 3 = g' - 4b·h⁴ - 20c·h⁶ ...
    |R(h) - R(2h)| / 3 = |a·h² + 5b·h⁴ + 21c·h⁶ ...|                      (4 samples)
    |R(3h) + 5/3·R(h) - 8/3·R(2h)| / 10 = |4b·h⁴ + 56c·h⁶ ...|          (6 samples)

Either right side bounds the error of ``D5`` (the leading terms dominate its own), and the
smaller is used, plus the round-off of ``D5`` and of the bound on the samples. The step is
the smallest power of two whose round-off part of the bound is below a fifth of the
allowance (so the truncation terms are as small as they can be); a probe that does not pass
on the first four samples gets the two at ``±3h``.

**It can only save work, never pass what the adaptive check fails.** A probe is taken on
this estimate only when it passes with room for the estimate's whole error bound, safety
factor included: ``|adjoint - D5| + SAFETY·u <= slack``, and the comparison is decided.
Then the adaptive estimate ``fd`` (error bound ``u_fd``) passes too, since
``|adjoint - fd| <= |adjoint - D5| + SAFETY·u + SAFETY·u_fd <= slack + SAFETY·u_fd``.
Everything else (a sample that is not finite, a probe that fails or passes with less room,
an undecided one) goes to the adaptive estimate exactly as before, which also handles
kinks, domain edges, noise and failures. Only the default method is shortcut: a user's
``fdm`` is always used as given.

>>> import numpy as np
>>> from adcheck.check.problem import RuleProblem
>>> from adcheck.check.oracle import Oracle
>>> p = RuleProblem(np.sin, None, (np.array([0.5, 1.0]),), {})
>>> dy, v = np.array([1.0, -2.0]), np.array([0.5, 1.0])
>>> est = Oracle(p)
>>> _ = est.peak()  # F(x0): evaluated once per problem (the output scale)
>>> before = p.evaluations
>>> q = QuickLine.sample(est, v, dy, slack=1e-7)
>>> exact = dy @ (np.cos([0.5, 1.0]) * v)
>>> bool(abs(q.value - exact) <= q.error < 1e-7), p.evaluations - before
(True, 4)
"""

from __future__ import annotations

import math

import numpy as np

from .lines import LineEstimate, LineEstimator

__all__ = ["QuickLine", "shortcut_allowed", "QUICK_METHOD"]

QUICK_METHOD = "central_fdm(5, 1) at a fixed step"
# The step is kept within these powers of two (in units of the direction, which moves each
# input by about its own size); a probe whose noise needs a longer step is not shortcut.
_MIN_LOG2_STEP, _MAX_LOG2_STEP = -40, -7
# The round-off part of the error bound is kept below this share of the allowance.
_ROUNDOFF_SHARE = 1 / 5


def shortcut_allowed(est: LineEstimator) -> bool:
    """Whether probes may be shortcut: only with the default method, ``central_fdm(5, 1)``
    with no extra noise factor and no range limit (a user's ``fdm`` is used as given)."""
    b = est.base
    return (list(b.grid) == [-2, -1, 0, 1, 2] and b.q == 1 and b.factor == 1.0
            and math.isinf(b.max_range))


class QuickLine:
    """The samples of ``g`` at ``±h, ±2h`` (and ``±3h`` once :meth:`extend` ran), with the
    5-point estimate of ``g'(0)`` and its error bound (see the module docstring)."""

    def __init__(self, est: LineEstimator, v: np.ndarray, dy: np.ndarray, h: float,
                 noise: float):
        self.est, self.v, self.dy, self.h, self.noise = est, v, dy, h, noise
        self.scale = est._output_scale()
        self.relative = est._factor() * float(np.finfo(np.float64).eps)  # per sample
        self.g: dict[int, float] = {}

    @classmethod
    def sample(cls, est: LineEstimator, v: np.ndarray, dy: np.ndarray,
               slack: float) -> QuickLine | None:
        """Four samples at the step chosen for the allowance ``slack`` (in ``⟨dy, F⟩``'s
        units), or None when ``F`` is not finite (or raises) at one of them, or when the
        noise of ``g`` needs a step longer than ``2**-7`` (sparse probes of huge arrays:
        ``⟨dy, F⟩`` sums the round-off of every output)."""
        # the absolute noise of one sample of g, as the oracle's own estimates assume
        noise = est._factor() * float(np.finfo(np.float64).eps) * est.sum_noise(dy)
        scale = est._output_scale()
        # round-off of D5 and the 4-sample bound is about (2·noise + 2·tiny) / h
        absolute = 2 * noise + 2 * est.tiny_for(dy) / scale
        wanted = slack / scale * _ROUNDOFF_SHARE
        ratio = absolute / wanted if wanted > 0 else math.inf
        if ratio == 0.0:  # the allowance dwarfs the noise (the quotient underflowed)
            log2h = _MIN_LOG2_STEP
        elif math.isfinite(ratio):
            log2h = math.ceil(math.log2(ratio))
        else:
            log2h = _MAX_LOG2_STEP + 1
        if log2h > _MAX_LOG2_STEP:
            return None  # the noise of g needs a step too long to stay in the Taylor regime
        h = 2.0 ** max(log2h, _MIN_LOG2_STEP)
        line = cls(est, v, dy, h, noise)
        return line if line._take((-2, -1, 1, 2)) else None

    def extend(self) -> bool:
        """Two more samples, at ``±3h`` (False if ``F`` is not finite there)."""
        return self._take((-3, 3))

    def _take(self, ks: tuple[int, ...]) -> bool:
        problem, inverse = self.est.problem, 1.0 / self.scale
        hv = self.h * self.v  # k·(h·v) is exact: h is a power of two
        try:
            with np.errstate(all="ignore"):
                for k in ks:
                    y = problem.evaluate(problem.x0 + k * hv)
                    self.g[k] = float(self.dy @ (np.asarray(y, dtype=np.float64) * inverse))
        except Exception:  # noqa: BLE001  (F may raise anything off its domain)
            return False
        return all(math.isfinite(self.g[k]) for k in ks)

    def _r(self, k: int) -> float:
        return (self.g[k] - self.g[-k]) / (2 * k * self.h)

    def _noise(self, k: int) -> float:
        """The round-off of ``g(kh) - g(-kh)``: each sample's absolute noise, and at least
        each sample's rounding relative to its own size."""
        return max(2 * self.noise, self.relative * (abs(self.g[k]) + abs(self.g[-k])))

    @property
    def value(self) -> float:
        """``D5``, in ``⟨dy, F⟩``'s units."""
        return (4 * self._r(1) - self._r(2)) / 3 * self.scale

    @property
    def error(self) -> float:
        """The bound on ``|D5 - g'(0)|``: the smaller truncation bound with its round-off,
        plus the round-off of ``D5`` itself, in ``⟨dy, F⟩``'s units."""
        h = self.h
        tiny = self.est.tiny_for(self.dy) / self.scale
        own = (self._noise(2) / 12 + 2 * self._noise(1) / 3) / h + 1.5 * tiny / h
        bounds = [abs(self._r(1) - self._r(2)) / 3
                  + (self._noise(2) / 12 + self._noise(1) / 6) / h + 0.5 * tiny / h]
        if 3 in self.g:
            r1, r2, r3 = self._r(1), self._r(2), self._r(3)
            bounds.append(abs(r3 + 5 / 3 * r1 - 8 / 3 * r2) / 10
                          + (self._noise(3) / 60 + self._noise(2) / 15 + self._noise(1) / 12)
                          / h + 0.35 * tiny / h)
        return (own + min(bounds)) * self.scale

    def estimate(self) -> LineEstimate | None:
        """As a :class:`~adcheck.check.lines.LineEstimate` (None if not finite)."""
        value, error = self.value, self.error
        if not (math.isfinite(value) and math.isfinite(error)):
            return None
        return LineEstimate(np.array([value]), np.array([error]), self.h, QUICK_METHOD)
