"""Step selection and error estimates, for many one-dimensional problems at once.

Every derivative this package computes is the derivative at ``t = 0`` of a function of one
float, ``g(t) = f(x + t·v)``, possibly vector-valued. A Jacobian needs one such *line* per
input coordinate, so the code here works on ``K`` lines at once: each stage asks for all the
points it needs in one batch, which lets a vectorized ``f`` do a whole stage in one call.

How the step is chosen
----------------------
A stencil with ``p`` points for the ``q``-th derivative, used with step ``h``, is off by at
most (see :class:`~adcheck.fd.stencil.Stencil` for the two constants)

    E(h) = ε · C_round / h^q  +  C_trunc · M · h^(p-q)

where ε bounds the error of each evaluation of ``g`` and ``M`` bounds ``|g^(p)|`` near 0.
``E`` is smallest where its derivative vanishes, at

    h* = (q / (p - q) · ε · C_round / (C_trunc · M))^(1/p).

ε is taken as ``factor · eps · |g|`` with ``eps`` the unit round-off of the coarser of the
input and output precision and ``|g|`` the largest value seen near 0; ``factor`` (default 1)
is for functions noisier than their precision. That assumes ``g`` is computed to within a
few roundings of its own size. A function that cancels internally is less accurate than
that (``x**5 - 3*x**2 + 1`` near a root, ``exp(-x*x)`` for large ``x``), and there the
error estimate can be a few times too small: raise ``factor`` by the ratio of the
intermediate values to the result.

For a vector-valued ``g`` this is done per output entry ``i`` (its own ``|g_i|`` and
``M_i``), and the smallest of those steps is used: every output's truncation stays within
its bound, and a large output that does not move (``M_i = 0``) cannot set the step of a
small one that changes fast (``exp`` at ``[-43, 0]``).

``M`` is estimated, as in FiniteDifferences.jl, with a method of four more points for the
``p``-th derivative, whose own step is chosen the same way with one level of adaptation
fewer. With no adaptation left, ``M`` is assumed to be ``condition · |g|`` (default 10),
which makes the step independent of the scale of ``g``. A single estimate of ``g^(p)(0)``
could be near zero by chance (``sin'''`` at a root of ``cos``), which would make the step
far too large; so ``M`` is the largest of that estimate and of the ``p``-th differences over
every run of ``p + 1`` consecutive points of the same samples, which look at ``g^(p)`` in
several places across the span. This costs no extra evaluations.

If the step found is far smaller than the span the bound was measured over (by more than
four times the ratio of the two methods' default steps), ``g`` changes on a shorter scale
than the estimator's step assumed (``log`` just above 0), and the bound is an average over
a region too wide. It is then measured again with the estimator's step scaled down to match
the step found, until they agree (at most five times; each costs ``p + 3`` evaluations).
When round-off dominates the bound, the step found shrinks with the estimator's step by a
small fixed ratio, so this cannot run away.

The other way round, a step whose stencil reaches beyond the bound's samples (``g`` looked
flat there, so the step grew) keeps its step, but its bound is measured again over the
stencil's own span, and the larger of the two bounds is the one used (``p + 3``
evaluations). ``erf`` at 7.28 is 1.0 to the last bit; a step that grew to 2.5 reached 4.8,
where ``erf - 1`` is -1e-11, and claimed a slope of -1.6e-11 ± 6e-13 where it is 1e-23.

The step is then limited: the stencil never reaches further than ``max_range`` from 0, the
step never exceeds 1000 times the non-adaptive step (the guard FiniteDifferences.jl uses
against steps blown up by ``M ≈ 0``), and it is at least the spacing of floats at the input,
so that the points differ. Finally it is rounded to three significant bits, on a grid no
finer than that spacing: ``x + g_i·h`` is then exact for small integers ``g_i`` (except
where it crosses into a higher binade, where it is off by half an ulp), so the rounding of
the inputs, which for ``exp(20x)`` at 1 would be 20 times the rounding of the outputs, does
not spoil the estimate. Moving ``h`` by at most 1/16 of itself changes ``E`` by a few percent.

The reported error is ``E(h)`` at the step used, with the round-off term evaluated on the
values actually combined, ``factor · eps · Σ|c_i g(g_i h)| / h^q``, and ``M`` per output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import FiniteDifferenceError
from .stencil import Stencil, make_stencil

if TYPE_CHECKING:
    from .methods import FiniteDifferenceMethod

__all__ = ["Lines", "estimate_lines"]

# The step never exceeds this multiple of the non-adaptive step (FiniteDifferences.jl's guard).
_MAX_STEP_GROWTH = 1000.0
# Measure the bound again when its span is this many times wider than the step found implies,
# at most this many times.
_REFINE_WHEN = 4.0
_MAX_REFINEMENTS = 5
# An output below this many round-offs of the line's largest moving output is taken to be as
# noisy as that output (see _coupled_floor).
_COUPLED = 1024.0


@dataclass
class Lines:
    """``K`` functions ``g_k(t)`` of one float through a common point, evaluated in batches.

    ``evaluate(ts, rows)`` takes line indices ``rows`` (shape ``(R,)``) and offsets ``ts`` of
    shape ``(R, n)`` and returns ``g_rows[r](ts[r, j])`` as a float64 array of shape
    ``(R, n, n_out)``, raising :class:`FiniteDifferenceError` for
    values that are not finite. ``f0`` is ``g_k(0)`` (the same for all ``k``), shape
    ``(n_out,)``. ``eps`` (shape ``(K,)``) is the unit round-off of evaluating ``g_k`` and
    ``min_step`` (shape ``(K,)``) the smallest useful step, a power of two. ``noise``
    (shape ``(K,)``, optional) is an absolute round-off of every evaluation, for a ``g``
    whose error is not relative to its own value: a sum ``Σ Δ_i F_i`` that cancels to 0
    is off by ``eps·Σ|Δ_i F_i|`` however small it is.
    """

    evaluate: Callable[[np.ndarray, np.ndarray], np.ndarray]
    f0: np.ndarray
    eps: np.ndarray
    min_step: np.ndarray
    noise: np.ndarray | None = None

    def noise_floor(self) -> np.ndarray:
        """The absolute round-off per line, shape ``(K, 1)`` (0 when not given)."""
        if self.noise is None:
            return np.zeros((len(self.eps), 1))
        return np.asarray(self.noise, dtype=np.float64).reshape(-1, 1)

    @property
    def count(self) -> int:
        return len(self.eps)


def estimate_lines(
    m: FiniteDifferenceMethod,
    lines: Lines,
    step: float | None = None,
    *,
    with_error: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Derivative of every line at 0: ``(values (K, n_out), steps (K,), errors (K, n_out))``.

    With ``step`` given, that step is used as is (no rounding, no limits), and the bound on
    ``|g^(p)|`` for the error estimate is measured within the stencil's own span, which is
    where Taylor's remainder needs it (and where the caller chose to evaluate ``f``). With
    ``with_error=False`` that costs nothing, and the errors returned rest on ``condition``.
    """
    s = m.stencil
    if step is None:
        h, bound = _choose_step(m, lines)
    else:
        h, bound = np.full(lines.count, float(step)), None
        if with_error and m.adapt > 0:
            reach = max(abs(g) for g in s.grid)
            within = m.with_options(max_range=min(m.max_range, step * reach))
            _, bound = _choose_step(within, lines)
    samples = _sample(s.grid, lines, h, np.arange(lines.count))
    coefs = s.coefs[None, :, None]
    scale = h[:, None] ** s.q
    values = _combine(coefs, samples, lines.f0) / scale
    combined = np.abs(coefs * samples).sum(axis=1)
    coupled = _coupled_floor(samples, lines.f0, lines.eps) * np.abs(s.coefs).sum()
    relative = m.factor * lines.eps[:, None] * np.maximum(combined, coupled)
    absolute = m.factor * lines.noise_floor() * np.abs(s.coefs).sum()
    round_off = np.maximum(relative, absolute) / scale
    if bound is None:
        bound = m.condition * np.abs(samples).max(axis=1)
    truncation = s.trunc_constant * bound * h[:, None] ** (s.p - s.q)
    return values, h, round_off + truncation


def _choose_step(m: FiniteDifferenceMethod, lines: Lines) -> tuple[np.ndarray, np.ndarray | None]:
    """The step for each line, and the bound on ``|g^(p)|`` per output it is based on."""
    default = _default_step(m, lines.eps)
    if m.adapt == 0:
        return _limit_step(m, default, lines), None
    estimator = m.bound_estimator
    h_bound, _ = _choose_step(estimator, lines)
    bound, g_scale = _pth_derivative_bound(estimator, lines, h_bound, np.arange(lines.count))
    h = _limit_step(m, _balanced_step(m, bound, g_scale, lines, default), lines)
    # The bound was measured over the estimator's span. If the step found is far smaller than
    # that span suggests (by the ratio of the two methods' default steps), g changes on a
    # shorter scale than the estimator assumed (log near 0): measure the bound again over a
    # span matched to the step found. When round-off dominates the bound, the ratio of the
    # steps stays small, so this does not run away.
    natural_ratio = _default_step(estimator, lines.eps) / default
    for _ in range(_MAX_REFINEMENTS):
        target = _limit_step(estimator, natural_ratio * h, lines)
        rows = np.flatnonzero(target * _REFINE_WHEN < h_bound)
        if rows.size == 0:
            break
        h_bound[rows] = target[rows]
        bound[rows], g_scale[rows] = _pth_derivative_bound(estimator, lines, target[rows], rows)
        balanced = _balanced_step(m, bound, g_scale, lines, default)
        h[rows] = _limit_step(m, balanced, lines)[rows]
    # A step longer than the bound's span (g looked flat there, so the step grew) reaches
    # points the bound never saw: erf at 7.28 is 1.0 to the last bit, but a step that grew
    # to 2.5 reached 4.8, where erf - 1 is -1e-11, and claimed -1.6e-11 ± 6e-13 for a slope
    # of 1e-23. The bound is measured again over the stencil's own span there (the step
    # stays: only its error bound learns what the stencil reached).
    reach = max(abs(g) for g in m.stencil.grid)
    seen = max(abs(g) for g in estimator.stencil.grid)
    rows = np.flatnonzero(h * reach > h_bound * seen)
    if rows.size:
        wider, _ = _pth_derivative_bound(estimator, lines, h[rows] * reach / seen, rows)
        bound[rows] = np.maximum(bound[rows], wider)
    return h, bound


def _balanced_step(
    m: FiniteDifferenceMethod,
    bound: np.ndarray,
    g_scale: np.ndarray,
    lines: Lines,
    default: np.ndarray,
) -> np.ndarray:
    """The step minimising ``E(h)`` given ``M`` and ``|g|`` (the default where either is 0)."""
    s = m.stencil
    eps_g = m.factor * np.maximum(lines.eps[:, None] * g_scale, lines.noise_floor())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = (s.q / (s.p - s.q)) * eps_g * s.round_constant / (s.trunc_constant * bound)
        per_output = ratio ** (1.0 / s.p)
    # Each output has its own best step; the smallest keeps every output's truncation in
    # check (a constant output, M = 0, asks for none). Taking max M over max |g| instead
    # would let a large constant output set the step of a small fast-changing one.
    usable = (bound > 0) & (eps_g > 0) & np.isfinite(per_output) & (per_output > 0)
    h = np.where(usable, per_output, np.inf).min(axis=1, initial=np.inf)
    return np.where(np.isfinite(h), h, default)


def _default_step(m: FiniteDifferenceMethod, eps: np.ndarray) -> np.ndarray:
    """The step that is optimal if ``|g^(p)| = condition · |g|`` near 0."""
    s = m.stencil
    ratio = (s.q / (s.p - s.q)) * m.factor * eps * s.round_constant
    return (ratio / (s.trunc_constant * m.condition)) ** (1.0 / s.p)


def _limit_step(m: FiniteDifferenceMethod, h: np.ndarray, lines: Lines) -> np.ndarray:
    """``h`` within ``max_range`` and the growth cap, at least ``min_step``, exactly representable
    on the input's float grid with three significant bits."""
    reach = max(abs(g) for g in m.stencil.grid)
    cap = np.minimum(m.max_range / reach, _MAX_STEP_GROWTH * _default_step(m, lines.eps))
    h = np.minimum(h, cap)
    # Three significant bits, in units no smaller than the spacing of floats at the input.
    unit = np.maximum(2.0 ** (np.floor(np.log2(h)) - 2), lines.min_step)
    rounded = np.round(h / unit) * unit
    h = np.where(rounded <= cap, rounded, np.floor(h / unit) * unit)
    h = np.maximum(h, lines.min_step)
    if np.any(h * reach > m.max_range):
        raise FiniteDifferenceError(
            f"max_range={m.max_range!r} is too small: a step that moves the input at all "
            f"({float(np.max(lines.min_step)):.3g}) takes the stencil further than that"
        )
    return h


def _pth_derivative_bound(
    estimator: FiniteDifferenceMethod, lines: Lines, h: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A bound on ``|g^(p)|`` near 0 and the largest ``|g|`` seen, both (len(rows), n_out).

    ``estimator`` is the ``p + 4``-point method for the ``p``-th derivative, used with step
    ``h`` on the lines ``rows``.
    """
    s = estimator.stencil
    samples = _sample(s.grid, lines, h, rows)
    scale = h[:, None] ** s.q
    bound = np.zeros((len(rows), len(lines.f0)))
    for start, window in _windows(s):
        part = samples[:, start : start + window.p]
        estimate = _combine(window.coefs[None, :, None], part, lines.f0) / scale
        bound = np.maximum(bound, np.abs(estimate))
    size = np.abs(samples).max(axis=1)
    return bound, np.maximum(size, _coupled_floor(samples, lines.f0, lines.eps[rows]))


def _coupled_floor(samples: np.ndarray, f0: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Per output, the size whose round-off an output at the round-off level of the line's
    largest moving output carries: that largest size, for such outputs, else 0.

    The off-diagonal of ``pinv(0.5·I + 1e-17 noise)`` is 1e-17, but it is computed from
    entries near 2 and is as noisy as they are (about 1e-16), not as ``eps·1e-17``. Taken at
    its own size, its noise looked like a fifth derivative of 1e70, the step collapsed to
    1e-13 and the bounds claimed 1e-15 for an estimate 4 off. An output far larger than
    ``eps`` times the largest one keeps its own size; so does an output on a line where the
    large outputs do not move (``exp`` at ``[-43, 0]`` along the first input).
    """
    size = np.abs(samples).max(axis=1)
    moving = (samples != f0).any(axis=1)
    peak = np.where(moving, size, 0.0).max(axis=1, initial=0.0)[:, None]
    with np.errstate(invalid="ignore", over="ignore"):
        at_noise = size < _COUPLED * eps[:, None] * peak
    return np.where(at_noise, peak, 0.0)


def _combine(coefs: np.ndarray, samples: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """``Σ_i c_i g(t_i)`` along axis 1, taken as ``Σ_i c_i (g(t_i) - g(0))``.

    The weights of a derivative sum to zero, so this is the same sum; but outputs that do not
    depend on the input now come out exactly zero, and less is lost to cancellation.
    """
    return (coefs * (samples - f0)).sum(axis=1)


def _windows(s: Stencil) -> list[tuple[int, Stencil]]:
    """The stencil itself and the ``q``-th difference on each run of ``q + 1`` points."""
    width = s.q + 1
    runs = [(i, make_stencil(s.grid[i : i + width], s.q)) for i in range(s.p - width + 1)]
    return [(0, s), *runs]


def _sample(grid: tuple[int, ...], lines: Lines, h: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``g_k(g_i · h_k)`` for the lines ``rows`` and every grid point, (len(rows), p, n_out)."""
    offsets = np.asarray(grid, dtype=float)
    moving = offsets != 0
    out = np.empty((len(rows), len(grid), len(lines.f0)))
    out[:, ~moving] = lines.f0
    if moving.any() and len(rows):
        out[:, moving] = lines.evaluate(h[:, None] * offsets[None, moving], rows)
    return out
