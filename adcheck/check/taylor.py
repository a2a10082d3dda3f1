"""The Taylor-remainder test: a gradient verdict that rests on no single step size.

For a smooth ``F`` and a direction ``v``, the remainder

    R(h) = F(x + h·v) - F(x) - h·⟨∇F(x), v⟩

is ``O(h²)`` when the gradient is right and ``h·e + O(h²)`` when its directional derivative
is off by ``e``. Over ``h = h₀, h₀/2, h₀/4, ...`` the observed rate
``log2(|R(h)| / |R(h/2)|)`` therefore settles at 2 (a right gradient; 3 or more where ``F``
has no curvature along ``v``) or at 1 (a wrong one) — until round-off takes over. This module
measures the whole sequence and judges only the steps where the remainder is well above its
round-off bound (``2**10`` times ``eps·(|F(x+hv)| + |F(x)|)``, see :func:`judge`) and
reads the rate at the small-step end of the last such run of steps, where the higher
order terms have died out:

- **pass**: the last three rates are within 0.1 of an integer >= 2. Then
  ``|e| <= 0.2·|R(h)|/h`` at the smallest step judged (what the rates allow), and that
  bound must be small beside the directional derivative (1%, as a decided finite
  difference, :mod:`adcheck.check.decided`);
- **fail**: the last three rates are within 0.1 of 1, after steps that went on until
  round-off, and the function does change along ``v`` (a remainder ``≈ -h·⟨∇F, v⟩`` is what
  a function varying on scales below the steps gives: ``sin`` at 1e40); ``e`` is estimated
  from two consecutive remainders (Richardson: ``R(h)/h = e + a·h``). :func:`taylor_test`
  confirms a fail along ``-v`` (a kink gives other one-sided derivatives);
- **inconclusive** otherwise: no step is above round-off (unless the remainder stays at
  round-off from a large step on, which bounds ``|e|`` as well: ``F`` is linear along ``v``
  to working precision), the function is not finite along ``v``, the rates settle
  elsewhere (1.5: ``F`` is not twice differentiable at ``x``), the two sides disagree (a
  kink), or ``F`` takes one value at several steps (constant in floating point: an
  ill-conditioned ``sum(inv(A))`` whose round-off is far above its precision).

The steps are chosen automatically: from a move of every entry by about ``max(|x_j|, 1)``
(divided by 16 until ``F`` is finite) down, halving, until the remainder has been below
round-off for three steps in a row or the step no longer moves ``x`` in floating point. The
remainder uses the displacement the inputs actually took (``x + h·v`` rounded), so input
rounding does not pollute it.

:func:`taylor_test` is the user-facing function. The checker (:mod:`adcheck.check.compare`)
uses :func:`two_sided` on its flat :class:`~adcheck.check.problem.Problem`: where finite
differences are inconclusive (:func:`resolve_undecided`, :func:`decide_probe`: a pass needs
both sides to pass, a fail both to fail alike) and as a second opinion in the message of a
reported value failure (:func:`confirm_failures`, which never removes one).

>>> import numpy as np
>>> r = taylor_test(lambda x: np.sum(np.sin(x)), np.array([0.5, 1.0, 2.0]))
>>> r.verdict, round(r.order)
('pass', 2)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..tree import flatten, unflatten
from .decided import RESOLVE, _zero_floor

__all__ = ["TaylorResult", "taylor_test", "judge", "measure", "combine", "taylor_of_problem",
           "two_sided", "resolve_undecided", "decide_probe", "confirm_failures", "CLEAN",
           "RATE_TOL"]

# A remainder is judged only where it is this many times its round-off bound: round-off then
# moves a rate by at most log2((1 + 1/CLEAN) / (1 - 1/CLEAN)), about 0.003.
CLEAN = 2.0**10
# Observed rates must lie this close to an integer to count as converged.
RATE_TOL = 0.1
# Rates read at the small-step end of the judged run (so 4 steps at least).
LAST = 3
# On a pass, |e| <= PASS_BOUND·|R(h)|/h at the smallest judged step h (see judge).
PASS_BOUND = 0.2
# Halvings tried after the first finite step; divisions by 16 to find a finite first step.
MAX_HALVINGS = 110
MAX_SHRINKS = 64
# Steps in a row below round-off after a judged run that end the sequence.
NOISE_RUN = 3
# The checker runs at most this many Taylor tests per comparison for undecided entries, and
# confirms at most CONFIRMED failures (each test is 25-75 evaluations, per side).
BUDGET = 8
CONFIRMED = 2


@dataclass
class TaylorResult:
    """What :func:`taylor_test` measured, and its verdict.

    ``hs`` are the steps (largest first), ``remainders`` the ``|R(h)|`` there, ``noise``
    their round-off bounds, ``rates[k]`` the observed rate between steps ``k`` and ``k+1``
    (NaN where a remainder is 0 or not finite); ``window`` is the ``(first, last)`` index
    of the steps the verdict was read from (None when there was none). ``derivative`` is
    the gradient's ``⟨∇F, v⟩``; on a fail, ``error`` estimates the true directional
    derivative minus it; on a pass, ``bound`` bounds ``|error|``. Truthy when it passed.
    """

    verdict: str
    reason: str
    hs: np.ndarray
    remainders: np.ndarray
    noise: np.ndarray
    rates: np.ndarray
    window: tuple[int, int] | None
    order: float
    derivative: float
    error: float = 0.0
    bound: float = math.inf
    evaluations: int = 0
    signed: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    # the test along -v, taken to confirm a fail (see combine)
    minus: TaylorResult | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.verdict == "pass"

    @property
    def window_rates(self) -> np.ndarray:
        """The rates between the judged steps (empty when no window)."""
        if self.window is None:
            return np.zeros(0)
        a, b = self.window
        return self.rates[a:b]

    def rates_text(self) -> str:
        """``2.00, 2.00, 2.01 at h = 1.2e-05 .. 3e-06``: the rates the verdict read."""
        if self.window is None:
            return "no step above round-off"
        a, b = self.window
        last = self.rates[max(a, b - LAST):b]
        return (", ".join(f"{p:.2f}" for p in last)
                + f" at h = {self.hs[max(a, b - LAST)]:.2g} .. {self.hs[b]:.2g}")

    def report(self) -> str:
        """The verdict and the table of steps, remainders and rates (* = judged)."""
        lines = [f"Taylor test: {self.verdict.upper()}: {self.reason}",
                 f"{'h':>10}  {'|R(h)|':>10}  {'round-off':>10}  {'rate':>6}"]
        for k, h in enumerate(self.hs):
            rate = f"{self.rates[k - 1]:6.2f}" if k and np.isfinite(self.rates[k - 1]) else ""
            used = (self.window is not None and self.window[0] <= k <= self.window[1])
            lines.append(f"{h:10.3g}  {self.remainders[k]:10.3g}  {self.noise[k]:10.3g}  "
                         f"{rate:>6} {'*' if used else ''}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


# -- the verdict ------------------------------------------------------------------------------


def _rates(hs: np.ndarray, a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log2(a[:-1] / a[1:]) / np.log2(hs[:-1] / hs[1:])
    ok = (a[:-1] > 0) & (a[1:] > 0) & np.isfinite(a[:-1]) & np.isfinite(a[1:])
    return np.where(ok, r, np.nan)


def judge(hs: np.ndarray, remainders: np.ndarray, noise: np.ndarray, derivative: float,
          floor: float, settled: bool = True, changes: np.ndarray | None = None) -> dict:
    """The verdict on a measured sequence (see the module docstring).

    ``hs`` decreasing; ``remainders`` signed ``R(h)`` (NaN where ``F`` was not finite);
    ``noise`` the round-off bound of each; ``floor`` the size a directional derivative of 0
    is judged against; ``settled``: the steps went on until round-off (or the inputs'
    resolution), so the last judged steps are the smallest that can be judged (a rate of 1
    read before that may still be the long-step regime, and is not a fail); ``changes``
    the ``F(x + h·v) - F(x)`` (a rate of 1 where ``F`` takes one value twice is round-off's
    quantisation of an ill-conditioned function, or a constant one: not a fail). Returns the
    fields of :class:`TaylorResult` it decides: ``verdict``,
    ``reason``, ``window``, ``order``, ``error``, ``bound``, ``rates``.

    >>> hs = 2.0 ** -np.arange(12)
    >>> judge(hs, 0.5 * hs**2, np.full(12, 1e-17), 1.0, 1.0)["verdict"]
    'pass'
    >>> out = judge(hs, 0.1 * hs + 0.5 * hs**2, np.full(12, 1e-17), 1.0, 1.0)
    >>> out["verdict"], round(out["error"], 6)
    ('fail', 0.1)
    >>> judge(hs, np.full(12, 1e-17), np.full(12, 1e-17), 1.0, 1.0)["verdict"]  # exact
    'pass'
    """
    hs = np.asarray(hs, float)
    R = np.asarray(remainders, float)
    a = np.abs(R)
    rates = _rates(hs, a)
    out = {"rates": rates, "window": None, "order": math.nan, "error": 0.0,
           "bound": math.inf}
    finite = np.isfinite(R)
    if not finite.any():
        return out | {"verdict": "inconclusive",
                      "reason": "the function is not finite along the direction at any step"}
    clean = finite & (a > CLEAN * noise)
    ref = max(abs(derivative), floor)
    # the last run of consecutive clean steps
    end = int(np.nonzero(clean)[0][-1]) if clean.any() else -1
    start = end
    while start > 0 and clean[start - 1]:
        start -= 1
    if end < 0 or end - start < LAST:
        if clean.any():
            return out | {"verdict": "inconclusive", "reason": (
                f"too few steps with a remainder above round-off ({end - start + 1} in a "
                f"row, {LAST + 1} needed): the rates cannot be read")}
        return out | _exact(hs, R, noise, finite, derivative, ref)
    last = rates[end - LAST:end]
    order = float(np.mean(last))
    k = round(order)
    out["window"] = (start, end)
    out["order"] = order
    shown = ", ".join(f"{p:.2f}" for p in last)
    where = f"at h = {hs[end - LAST]:.2g} .. {hs[end]:.2g}"
    if not np.all(np.abs(last - k) <= RATE_TOL):
        return out | {"verdict": "inconclusive", "reason": (
            f"the rates do not settle at an integer before round-off ({shown} {where})")}
    if k >= 2:
        bound = PASS_BOUND * a[end] / hs[end]
        out["bound"] = bound
        if bound <= RESOLVE * ref:
            return out | {"verdict": "pass", "reason": (
                f"the remainder converges at rate {order:.2f} ({shown} {where}): "
                f"<grad, v> = {derivative:.6g} is right within {bound:.2g}")}
        return out | {"verdict": "inconclusive", "reason": (
            f"the remainder converges at rate {order:.2f} ({shown} {where}), but round-off "
            f"sets in early: it bounds the error of <grad, v> = {derivative:.6g} by "
            f"{bound:.2g} only")}
    if k == 1 and not settled:
        return out | {"verdict": "inconclusive", "reason": (
            f"the remainder still shrinks like h at the smallest step tried ({shown} "
            f"{where}): the steps may not have reached the range where the function is "
            "smooth")}
    if k == 1 and changes is not None:
        steps = np.asarray(changes)[end - LAST:end + 1]
        if len(np.unique(steps)) < len(steps):
            return out | {"verdict": "inconclusive", "reason": (
                f"the remainder shrinks like h ({shown} {where}), but the function takes "
                "the same value at different steps: it is constant along v in floating "
                "point there (ill-conditioned, its round-off above its precision, or truly "
                f"constant while <grad, v> = {derivative:.6g})")}
    if k == 1:
        error, spread = _slope_error(hs, R, noise, rates, start, end)
        out["error"] = error
        out["bound"] = spread
        if abs(derivative + error) <= RESOLVE * abs(derivative):
            # R ≈ -h·<grad, v>: the function hardly moves beside the gradient's prediction.
            # sin at 1e40 (it varies on a scale far below the inputs' spacing), log at
            # 1e-300 on steps far above x: no step reaches the range where it is smooth.
            return out | {"verdict": "inconclusive", "reason": (
                f"the remainder shrinks like h ({shown} {where}), but the function hardly "
                f"changes along v (at {derivative + error:.3g}, beside <grad, v> = "
                f"{derivative:.6g}): either the gradient is far too large, or the function "
                "varies on a scale below the steps that can be taken")}
        return out | {"verdict": "fail", "reason": (
            f"the remainder shrinks at rate {order:.2f} ({shown} {where}), not 2: "
            f"<grad, v> = {derivative:.6g}, but F changes at {derivative + error:.6g} "
            f"along v (error {error:.3g})")}
    return out | {"verdict": "inconclusive", "reason": (
        f"the remainder shrinks at rate {order:.2f} ({shown} {where}): the function is not "
        "differentiable along the direction, or not evaluated smoothly")}


def _slope_error(hs: np.ndarray, R: np.ndarray, noise: np.ndarray, rates: np.ndarray,
                 start: int, end: int) -> tuple[float, float]:
    """``e`` and its uncertainty, from ``R(h)/h = e + a·h`` at two consecutive steps
    (Richardson), taken where the rate is 1 and the uncertainty smallest: what is left of
    ``a·h`` (at most ``|q₁ - q₂|``) plus round-off through the coefficients."""
    best = (math.nan, math.inf)
    for k in range(max(start + 1, end - 2 * LAST), end + 1):
        if not abs(rates[k - 1] - 1.0) <= RATE_TOL:
            continue
        h1, h2 = hs[k - 1], hs[k]
        q1, q2 = R[k - 1] / h1, R[k] / h2
        e = float((q2 * h1 - q1 * h2) / (h1 - h2))
        u = abs(q1 - q2) + 3 * (noise[k] + noise[k - 1]) / h2
        if u < best[1]:
            best = (e, float(u))
    return best


def _exact(hs: np.ndarray, R: np.ndarray, noise: np.ndarray, finite: np.ndarray,
           derivative: float, ref: float) -> dict:
    """No step is above round-off: ``R = e·h + a·h² + b·h³`` solved at the three largest
    consecutive finite steps gives ``e`` as a combination of the remainders (for halving
    steps ``e·h₀ = R₀/3 - 4R₁ + 32R₂/3``), so ``|e|`` is bounded by the remainders and
    their round-off."""
    base = {"rates": _rates(hs, np.abs(R)), "window": None, "order": math.nan, "error": 0.0}
    for k in np.nonzero(finite)[0]:
        if k + 2 >= len(hs) or not (finite[k + 1] and finite[k + 2]):
            continue
        t = hs[k:k + 3] / hs[k]
        if not (np.all(np.diff(t) < 0) and t[2] > 0.1):
            continue
        coefficients = np.linalg.inv(np.stack([t, t**2, t**3], axis=1))[0]
        a = np.abs(R[k:k + 3]) + CLEAN * noise[k:k + 3]
        bound = float(np.abs(coefficients) @ a / hs[k])
        if bound <= RESOLVE * ref:
            return base | {"bound": bound, "verdict": "pass", "reason": (
                f"the remainder is at round-off from h = {hs[k]:.2g} down: the "
                f"function is linear along v to working precision, and <grad, v> = "
                f"{derivative:.6g} is right within {bound:.2g}")}
        return base | {"bound": bound, "verdict": "inconclusive", "reason": (
            f"the remainder is at round-off at every step tried (from h = {hs[k]:.2g}): "
            f"that bounds the error of <grad, v> = {derivative:.6g} by {bound:.2g} only")}
    return base | {"bound": math.inf, "verdict": "inconclusive",
                   "reason": "too few steps where the function is finite"}


# -- measuring the sequence -------------------------------------------------------------------


def measure(evaluate: Callable[[np.ndarray], tuple[float, float]], x0: np.ndarray,
            v: np.ndarray, g: np.ndarray, eps: float, tiny: float = 0.0,
            cast: Callable[[np.ndarray], np.ndarray] | None = None, start: float = 1.0,
            floor: float = 0.0, sums: int = 1) -> TaylorResult:
    """Measure ``R(h)`` of ``F`` at the flat point ``x0`` along ``v`` and judge it.

    ``evaluate(x)`` returns ``(F(x), S(x))``, ``S`` the magnitude its round-off scales with
    (``Σ|w_i f_i(x)|``); ``g`` is the gradient at ``x0``; ``eps``, ``tiny`` the precision
    of ``F``'s values; ``cast`` rounds a point to the inputs' dtypes; ``sums`` the number of
    terms summed into ``F``.

    >>> r = measure(lambda x: (float(np.exp(x[0])), float(np.exp(x[0]))), np.array([1e-20]),
    ...             np.array([1.0]), np.array([1.0]), 2.0**-52, floor=1.0)
    >>> r.verdict
    'pass'
    """
    cast = cast if cast is not None else (lambda x: x)
    F0, S0 = evaluate(x0)
    evaluations = 1
    d = float(g @ v)
    if not np.isfinite(F0):
        return _result(judge(np.zeros(0), np.zeros(0), np.zeros(0), d, floor), [], [], [], d,
                       evaluations, "the function is not finite at the point")
    moving = v != 0
    with np.errstate(invalid="ignore"):
        resolution = 16 * np.spacing(np.abs(x0[moving])) / np.abs(v[moving])
    resolution = np.where(np.isfinite(resolution), resolution, np.inf)  # NaN entries
    summing = 1.0 + math.log2(max(sums, 1))
    vsize = float(np.sum(np.abs(v)))

    def point(h: float) -> tuple[float, float, float, float] | None:
        with np.errstate(invalid="ignore"):
            x = cast(x0 + h * v)
            dx = np.where(moving, x - x0, 0.0)  # entries that stay put (NaN ones) move by 0
        h_eff = float(np.sum(np.abs(dx))) / vsize if vsize else 0.0
        try:
            with np.errstate(all="ignore"):
                F, S = evaluate(x)
        except Exception:  # noqa: BLE001  (off the function's domain: not finite there)
            return None
        if not (np.isfinite(F) and np.isfinite(S)) or h_eff <= 0:
            return None
        lin = g * dx
        R = (F - F0) - float(np.sum(lin))
        noise = eps * (summing * (abs(S) + abs(S0)) + float(np.sum(np.abs(lin)))) + 4 * tiny
        return h_eff, R, noise, F - F0

    hs, Rs, Ns, Cs = [], [], [], []
    # the first step moves x in floating point, by 64 times the resolution at least
    smallest = float(np.min(resolution, initial=math.inf))
    if not np.isfinite(smallest):
        return _result(judge(np.zeros(0), np.zeros(0), np.zeros(0), d, floor), [], [], [], d,
                       evaluations, "the direction moves no finite entry of x")
    h = max(start, 2.0 ** math.ceil(math.log2(64 * smallest)))
    first = h
    found = None
    for _ in range(MAX_SHRINKS):
        if np.all(h < resolution):
            break
        evaluations += 1
        found = point(h)
        if found is not None:
            break
        h /= 16
    if found is None:
        return _result(judge(np.zeros(0), np.zeros(0), np.zeros(0), d, floor), [], [], [], d,
                       evaluations, "the function is not finite along the direction at any "
                       f"step from {first:.2g} down to {h:.2g}")
    noisy = 0
    seen_clean = 0
    settled = False
    for _ in range(MAX_HALVINGS):
        if found is None:
            hs.append(h)
            Rs.append(math.nan)
            Ns.append(math.nan)
            Cs.append(math.nan)
        else:
            hs.append(found[0])
            Rs.append(found[1])
            Ns.append(found[2])
            Cs.append(found[3])
            if abs(found[1]) > CLEAN * found[2]:
                seen_clean += 1
                noisy = 0
            else:
                noisy += 1
        if seen_clean > LAST and noisy >= NOISE_RUN:
            settled = True
            break
        h /= 2
        if np.all(h < resolution):
            settled = True
            break
        evaluations += 1
        found = point(h)
    verdict = judge(np.array(hs), np.array(Rs), np.array(Ns), d, floor, settled, np.array(Cs))
    return _result(verdict, hs, Rs, Ns, d, evaluations)


def _result(verdict: dict, hs: list, Rs: list, Ns: list, d: float, evaluations: int,
            reason: str | None = None) -> TaylorResult:
    R = np.array(Rs, float)
    return TaylorResult(
        verdict=verdict["verdict"], reason=reason or verdict["reason"], hs=np.array(hs, float),
        remainders=np.abs(R), noise=np.array(Ns, float), rates=verdict["rates"],
        window=verdict["window"], order=verdict["order"], derivative=d,
        error=verdict["error"], bound=verdict["bound"], evaluations=evaluations, signed=R)


# -- the user-facing test ---------------------------------------------------------------------


class _Flat:
    """The differentiable leaves of an argument (a pytree, or Params) as one float64 vector."""

    def __init__(self, x: Any):
        from ..engine.params import Params

        self.params = x if isinstance(x, Params) else None
        if self.params is not None:
            leaves, self.spec = [p._data for p in self.params], None
        else:
            leaves, self.spec = flatten(x)
        self.leaves = leaves
        self.slots = []  # (leaf index, offset, shape, dtype, kind)
        parts = []
        offset = 0
        for i, leaf in enumerate(leaves):
            kind = _kind(leaf)
            if kind is None:
                continue
            arr = np.asarray(leaf)
            dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
            self.slots.append((i, offset, arr.shape, dtype, kind))
            parts.append(np.ravel(arr).astype(np.float64))
            offset += arr.size
        self.x0 = np.concatenate(parts) if parts else np.zeros(0)
        self.n = offset

    def values(self, flat: np.ndarray) -> list:
        out = list(self.leaves)
        for i, offset, shape, dtype, kind in self.slots:
            arr = flat[offset:offset + math.prod(shape)].reshape(shape)
            if kind == "float":
                out[i] = float(arr)
            elif kind == "scalar":
                out[i] = dtype.type(arr[()])
            else:
                out[i] = arr.astype(dtype)
        return out

    def cast(self, flat: np.ndarray) -> np.ndarray:
        out = flat.copy()
        for _, offset, shape, dtype, _ in self.slots:
            sl = slice(offset, offset + math.prod(shape))
            out[sl] = out[sl].astype(dtype).astype(np.float64)
        return out

    @contextlib.contextmanager
    def at(self, flat: np.ndarray) -> Iterator[tuple]:
        """The arguments to call ``f`` with at ``flat`` (Params: set, then restored)."""
        if self.params is None:
            yield (unflatten(self.spec, self.values(flat)),)
            return
        old = [p._data for p in self.params]
        try:
            for p, value in zip(self.params, self.values(flat)):
                p._data = value
            yield ()
        finally:
            for p, value in zip(self.params, old):
                p._data = value

    def flat_of(self, tree: Any, what: str) -> np.ndarray:
        """A tangent or gradient with ``x``'s structure (Grads or a sequence for Params)."""
        from ..engine.params import Grads

        if self.params is not None:
            if isinstance(tree, Grads):
                leaves = [tree[p] for p in self.params]
            else:
                leaves = list(tree)
            if len(leaves) != len(self.leaves):
                raise ValueError(f"{what}: one array per parameter ({len(self.leaves)}) needed")
        else:
            leaves, spec = flatten(tree)
            if len(leaves) != len(self.leaves):
                raise ValueError(f"{what} must have the structure of x")
        flat = np.zeros(self.n)
        for i, offset, shape, _, _ in self.slots:
            leaf = leaves[i]
            if leaf is None:
                continue
            arr = np.asarray(leaf, dtype=np.float64)
            if arr.shape != shape:
                raise ValueError(f"{what}: entry {i} has shape {arr.shape}, x's has {shape}")
            flat[offset:offset + arr.size] = np.ravel(arr)
        return flat


def _kind(leaf: Any) -> str | None:
    if isinstance(leaf, (bool, np.bool_)):
        return None
    if type(leaf) in (float, int):
        return "float"
    if isinstance(leaf, np.generic) and leaf.dtype.kind in "fiu":
        return "scalar"
    if isinstance(leaf, np.ndarray) and leaf.dtype.kind in "fiu":
        return "array"
    return None


def _output_leaves(y: Any) -> list:
    """The floating leaves of an output (traced ones included)."""
    from ..engine.tracer import Traced

    return [leaf for leaf in flatten(y)[0]
            if type(leaf) is float or (isinstance(leaf, (np.ndarray, np.generic, Traced))
                                       and leaf.dtype.kind == "f")]


def taylor_test(f: Callable, x: Any, direction: Any = None, *, cotangent: Any = None,
                seed: int = 0) -> TaylorResult:
    """Check ``f``'s gradient at ``x`` by the Taylor remainder (see the module docstring).

    ``R(h) = F(x + h·v) - F(x) - h·⟨∇F(x), v⟩`` must shrink like ``h²``; the result holds
    the steps, remainders, observed rates and the verdict (``"pass"``, ``"fail"``: the
    rates settle at 1, the gradient is wrong along ``v``; ``"inconclusive"``: round-off or
    the domain leave no steps to read the rates from). It is truthy when it passed.

    ``x`` is one argument (an array, a number or a pytree of them), or an
    :class:`adcheck.Params` (then ``f`` takes no arguments and ``direction`` is a sequence
    of arrays, one per parameter). ``direction`` has ``x``'s structure; by default a random
    normal direction (``seed``) moving each entry by about ``max(|x_j|, 1)``. For a
    function with several outputs (an array, a pytree), ``F = ⟨w, f⟩`` for a random
    normal cotangent ``w`` (or ``cotangent``): this tests the pullback ``w ↦ J'w`` that
    reverse mode uses, and a wrong Jacobian entry shows for almost every ``w``. The
    gradient is adcheck's (``adcheck.gradient``). At a kink the one-sided derivative along
    ``v`` differs from the gradient's, and the test fails: try ``-v`` too.

    >>> import numpy as np
    >>> import adcheck as ad
    >>> r = ad.taylor_test(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]))
    >>> r.verdict, [float(round(p, 2)) for p in r.window_rates[-3:]]
    ('pass', [2.0, 2.0, 2.0])
    >>> with ad.scoped_rules():                # a wrong rule: cube' = 2x² instead of 3x²
    ...     @ad.primitive
    ...     def cube(x):
    ...         return x ** 3
    ...     @ad.adjoint(cube)
    ...     def _(x):
    ...         return cube(x), lambda dy: (2 * dy * x ** 2,)
    ...     bad = ad.taylor_test(lambda x: np.sum(cube(x)), np.array([1.0, 2.0]))
    >>> bad.verdict, round(bad.order)
    ('fail', 1)
    """
    from ..engine.api import gradient

    flat = _Flat(x)
    if flat.n == 0:
        raise ValueError("x has no floating entries to move")
    rng = np.random.default_rng(seed)
    call = (lambda: f()) if flat.params is not None else f
    with flat.at(flat.x0) as args:
        y = call(*args)
    outs = _output_leaves(y)
    if not outs:
        raise ValueError(f"f returned no floating output ({type(y).__name__})")
    scalar = len(flatten(y)[0]) == 1 and np.shape(outs[0]) == ()
    if cotangent is not None:
        w_leaves = [np.asarray(c, dtype=np.float64) for c in _output_leaves(cotangent)]
    elif scalar:
        w_leaves = [np.ones(())]
    else:
        w_leaves = [rng.standard_normal(np.shape(o)) for o in outs]
    if len(w_leaves) != len(outs):
        raise ValueError("cotangent must have the structure of f's output")
    eps = max(float(np.finfo(np.result_type(o)).eps) for o in outs)
    tiny = max(float(np.finfo(np.result_type(o)).smallest_subnormal) for o in outs)

    def scalarised(*args: Any) -> Any:
        total: Any = 0.0
        for w, o in zip(w_leaves, _output_leaves(call(*args))):
            total = total + np.sum(w * o)
        return total

    def evaluate(xf: np.ndarray) -> tuple[float, float]:
        with flat.at(xf) as args:
            out = _output_leaves(call(*args))
        if len(out) != len(w_leaves):
            raise ValueError("f returned a different number of outputs")
        F = sum(float(np.sum(w * np.asarray(o, np.float64))) for w, o in zip(w_leaves, out))
        S = sum(float(np.sum(np.abs(w * np.asarray(o, np.float64))))
                for w, o in zip(w_leaves, out))
        return F, S

    if flat.params is not None:
        grads = gradient(scalarised, flat.params)
    else:
        grads = gradient(scalarised, x)[0]
    g = flat.flat_of(grads, "the gradient")
    size = np.maximum(np.abs(flat.x0), 1.0)
    size = np.where(np.isfinite(size), size, 1.0)
    if direction is None:
        v = rng.standard_normal(flat.n) * size
    else:
        v = flat.flat_of(direction, "direction")
        if not np.any(v):
            raise ValueError("direction is zero")
    y_peak = max(float(np.max(np.abs(np.asarray(o, np.float64)), initial=0.0)) for o in outs)
    floor = float(np.sum([np.sum(np.abs(w)) for w in w_leaves])) * float(
        np.max(np.abs(v) * _zero_floor(flat.x0, y_peak), initial=0.0))
    m = sum(int(np.size(o)) for o in outs)
    result = measure(evaluate, flat.x0, v, g, eps, tiny, cast=flat.cast, floor=floor, sums=m)
    if result.verdict == "fail":  # confirmed on the other side, or a kink
        minus = measure(evaluate, flat.x0, -v, g, eps, tiny, cast=flat.cast, floor=floor,
                        sums=m)
        result.minus = minus
        result.verdict, result.reason = combine(result, minus)
        if result.verdict == "fail":
            result.error = 0.5 * (result.error - minus.error)
        result.evaluations += minus.evaluations
    return result


# -- the checker's confirmation ---------------------------------------------------------------


def taylor_of_problem(problem: Any, v: np.ndarray, dy: np.ndarray, b: np.ndarray,
                      start: float = 1.0) -> TaylorResult:
    """The Taylor test of a :class:`~adcheck.check.problem.Problem` along ``v`` for the output
    cotangent ``dy``, whose pullback is ``b`` (flat): ``F = ⟨dy, f⟩``, ``⟨∇F, v⟩ = ⟨b, v⟩``.

    >>> from adcheck.check.problem import RuleProblem
    >>> p = RuleProblem(np.exp, None, (np.array([1e-20]),), {})
    >>> right = taylor_of_problem(p, np.array([1.0]), np.array([1.0]), np.array([1.0]))
    >>> wrong = taylor_of_problem(p, np.array([1.0]), np.array([1.0]), np.array([2.0]))
    >>> right.verdict, wrong.verdict, round(wrong.error, 6)
    ('pass', 'fail', -1.0)
    """
    nz = np.flatnonzero(dy)
    w = dy[nz]
    dtypes = problem._evaluation_output_dtypes()
    eps = max((float(np.finfo(d).eps) for d in dtypes), default=float(np.finfo(float).eps))
    tiny = max((float(np.finfo(d).smallest_subnormal) for d in dtypes), default=0.0)

    def evaluate(x: np.ndarray) -> tuple[float, float]:
        y = np.asarray(problem.evaluate(x), dtype=np.float64)[nz]
        return float(w @ y), float(np.abs(w) @ np.abs(y))

    def cast(x: np.ndarray) -> np.ndarray:
        if problem.promoted:
            return x
        out = x.copy()
        for leaf in problem.leaves:
            sl = slice(leaf.offset, leaf.offset + leaf.size)
            out[sl] = out[sl].astype(leaf.dtype).astype(np.float64)
        return out

    with np.errstate(all="ignore"):
        f0 = np.asarray(problem.evaluate(problem.x0), dtype=np.float64)
    peak = float(np.max(np.abs(f0[np.isfinite(f0)]), initial=0.0))
    floor = float(np.sum(np.abs(dy))) * float(
        np.max(np.abs(v) * _zero_floor(problem.x0, peak), initial=0.0))
    b = np.where(np.isfinite(b), b, 0.0)
    return measure(evaluate, problem.x0, v, b, eps, tiny, cast=cast, start=start, floor=floor,
                   sums=len(nz))


def combine(plus: TaylorResult, minus: TaylorResult, slack: float = 0.0,
            both_pass: bool = False) -> tuple[str, str]:
    """The verdict of the tests along ``v`` (``plus``) and ``-v`` (``minus``).

    A fail needs both sides to settle at rate 1 with the same derivative: along ``-v`` the
    error is ``-(true - adjoint)`` when the function is differentiable, so a kink (one-sided
    derivatives that differ; or a function smooth only on scales below round-off, which
    looks like one) is inconclusive. The error must also exceed its uncertainty plus
    ``slack`` (an allowance for the adjoint's own rounding) and be decided (1%). With
    ``both_pass``, a pass needs both sides to pass.
    """
    if plus.verdict == "inconclusive":
        return "inconclusive", plus.reason
    if plus.verdict == "pass":
        if not both_pass or minus.verdict == "pass":
            return "pass", plus.reason
        return "inconclusive", (f"the Taylor test passes along +v but not along -v "
                                f"({minus.verdict}: {minus.reason})")
    if minus.verdict != "fail":
        return "inconclusive", (f"the remainder shrinks like h along +v ({plus.rates_text()})"
                                f" but not along -v ({minus.verdict}: {minus.reason}): a "
                                "kink, or the gradient is wrong on one side only")
    d = plus.derivative
    e_plus, e_minus = plus.error, -minus.error
    u = plus.bound + minus.bound
    if abs(e_plus - e_minus) > 2 * u + slack:
        return "inconclusive", (
            f"the remainder shrinks like h on both sides, but the function changes at "
            f"{d + e_plus:.6g} along +v and {d + e_minus:.6g} along -v (the gradient gives "
            f"{d:.6g}): a kink, or a function that is smooth only on scales below round-off")
    e = 0.5 * (e_plus + e_minus)
    tol = 2 * u + slack
    if abs(e) <= tol:
        return "inconclusive", (f"the remainder shrinks like h, but the error it shows "
                                f"({e:.3g}) is within its uncertainty {tol:.3g}")
    if u > RESOLVE * max(abs(d), abs(d + e)):
        return "inconclusive", (f"the remainder shrinks like h, but the derivative it gives "
                                f"({d + e:.6g}) is uncertain by {u:.3g}")
    return "fail", (
        f"the remainder shrinks at rate {plus.order:.2f}, not 2, on both sides "
        f"({plus.rates_text()}): <grad, v> = {d:.10g}, but the function changes at "
        f"{d + e:.10g} along v (error {e:.3g})")


def two_sided(problem: Any, v: np.ndarray, dy: np.ndarray, b: np.ndarray, slack: float,
              start: float = 1.0) -> tuple[str, str, TaylorResult]:
    """The checker's verdict from Taylor tests along ``v`` and ``-v`` (:func:`combine`, a
    pass needing both sides): ``(verdict, why, the +v result)``; on a fail the result's
    ``error`` is the mean of both sides'."""
    plus = taylor_of_problem(problem, v, dy, b, start)
    if plus.verdict == "inconclusive":
        return "inconclusive", plus.reason, plus
    minus = taylor_of_problem(problem, -v, dy, b, start)
    plus.minus = minus
    verdict, why = combine(plus, minus, slack, both_pass=True)
    if verdict == "fail":
        plus.error = 0.5 * (plus.error - minus.error)
    return verdict, why, plus


def _entry_slack(slack: np.ndarray | None, i: int, j: int) -> float:
    if slack is None:
        return 0.0
    return float(slack[i, j]) if slack.ndim == 2 else float(slack[j])


def resolve_undecided(problem: Any, undecided: np.ndarray, rows: np.ndarray, out: Any,
                      slack: np.ndarray | None = None) -> np.ndarray:
    """Full mode: Taylor tests for the entries finite differences could not decide.

    A column whose undecided entries all pass (along ``±e_j``, for the basis cotangent
    ``e_i``) is decided (a note says so); an entry that fails on both sides becomes a
    ``value`` failure with the rates. Returns the entries that stay undecided. At most
    :data:`BUDGET` entries are tested.
    """
    from .compare import _entry_failure

    undecided = undecided.copy()
    budget = BUDGET
    resolved = 0
    for j in np.unique(np.nonzero(undecided)[1]):
        entries = np.nonzero(undecided[:, j])[0]
        if len(entries) > budget:
            break
        start = max(float(problem.scales[j]), 1.0)
        v = np.zeros(problem.n)
        v[j] = 1.0
        decided = []
        for i in entries:
            budget -= 1
            dy = np.zeros(problem.m)
            dy[i] = 1.0
            verdict, why, res = two_sided(problem, v, dy, rows[i], _entry_slack(slack, i, j),
                                          start)
            out.probes += 2
            if verdict == "fail":
                what = _what(problem, i)
                out.failures.append(_entry_failure(
                    problem, "value", int(j), res.derivative + res.error, res.derivative,
                    res.bound, what, f" [by the Taylor remainder test: {why}]"))
                undecided[:, j] = False
                decided = []
                break
            if verdict != "pass":
                decided = []
                break
            decided.append(i)
        if decided and len(decided) == len(entries):
            undecided[:, j] = False
            resolved += 1
    if resolved:
        out.notes.append(f"{resolved} input entr{'y' if resolved == 1 else 'ies'} that finite "
                         "differences could not decide were decided by the Taylor remainder "
                         "test (the remainder converges at rate 2 on both sides)")
    return undecided


def _what(problem: Any, i: int) -> str:
    if problem.m <= 1:
        return ""
    from .report import output_entry

    return f"∂{output_entry(problem.out_leaves, i, getattr(problem, 'out_name', 'y'))}/∂"


def decide_probe(problem: Any, v: np.ndarray, dy: np.ndarray, b: np.ndarray,
                 slack: np.ndarray, name: str, out: Any) -> bool:
    """Fast mode: the Taylor test of an undecided probe (``slack``: the allowance for the
    adjoint's rounding per input entry). True when it decided the probe: a pass (nothing
    to add), or a fail (a ``value`` failure is added)."""
    from .result import Failure
    from .tolerance import dot_slack

    unit = np.where(v != 0, v / problem.scales, 0.0)
    scale = np.where(v != 0, np.maximum(problem.scales, 1.0), 0.0)
    direction = unit * scale
    peak = float(np.max(np.abs(direction), initial=0.0))
    if peak == 0.0:
        return False
    direction = direction / peak
    allowed = dot_slack(np.asarray(slack, float), direction) if np.ndim(slack) else 0.0
    verdict, why, res = two_sided(problem, direction, dy, b, allowed, peak)
    out.probes += 2
    if verdict == "pass":
        out.notes.append(f"probe {name!r}, which finite differences could not decide, was "
                         "decided by the Taylor remainder test (rate 2 on both sides)")
        return True
    if verdict == "fail":
        out.failures.append(Failure(
            "value", f"probe {name!r}: <back(Δ), v> = {res.derivative:.10g} but the Taylor "
            f"remainder gives <Δ, J v> = {res.derivative + res.error:.10g} along its "
            f"direction v ({why})", expected=res.derivative + res.error, got=res.derivative,
            tolerance=res.bound))
        return True
    return False


def confirm_failures(problem: Any, out: Any, rows: np.ndarray, jac: np.ndarray,
                     slack: np.ndarray | None = None) -> None:
    """Full mode: the worst :data:`CONFIRMED` value failures of basis entries get the Taylor
    test's second opinion in their message. It never removes a failure: it says "confirmed"
    with the rates, or why the Taylor test could not confirm it.
    """
    found = []
    for f in out.failures:
        if (f.kind != "value" or f.index is None or f.argument is None or f.got is None
                or "Taylor" in f.message or "drawn cotangent" in f.message):
            continue
        j = _column(problem, f)
        if j is None:
            continue
        with np.errstate(invalid="ignore"):
            hits = np.nonzero((rows[:, j] == f.got) & (jac[:, j] == f.expected))[0]
        if len(hits):
            ratio = abs(f.got - f.expected) / f.tolerance if f.tolerance else math.inf
            found.append((-ratio if np.isfinite(ratio) else -math.inf, len(found), f, j,
                          int(hits[0])))
    for _, _, f, j, i in sorted(found)[:CONFIRMED]:
        v = np.zeros(problem.n)
        v[j] = 1.0
        dy = np.zeros(problem.m)
        dy[i] = 1.0
        out.probes += confirm_entry(problem, f, j, dy, rows[i], _entry_slack(slack, i, j))


def confirm_entry(problem: Any, f: Any, j: int, dy: np.ndarray, b: np.ndarray,
                  slack: float) -> int:
    """The Taylor test's opinion on the value failure ``f`` of input entry ``j`` for the
    cotangent ``dy`` (``b = back(dy)``), added to its message; returns the lines measured.

    Full mode calls it with basis cotangents, fast mode with the cotangent of the probe
    whose bisection named the entry: so no failure rests on finite differences alone.
    """
    v = np.zeros(problem.n)
    v[j] = 1.0
    verdict, why, res = two_sided(problem, v, dy, b, slack,
                                  max(float(problem.scales[j]), 1.0))
    if verdict == "fail":
        f.message += (f"; confirmed by the Taylor remainder test (rates "
                      f"{res.rates_text()}: it gives {res.derivative + res.error:.10g})")
    elif verdict == "pass":
        # Two oracles disagree and neither decides: scipy's iv(1, x) is exactly 0 below
        # x = 1e-150 (finite differences read 0 there), while the remainder, over steps
        # it chooses itself, converges at rate 3 for the slope 0.5 the rule gives.
        f.kind = "inconclusive"
        f.message += (f"; the Taylor remainder test disagrees ({why}): finite differences "
                      "and the Taylor test cannot both be right here, so neither decides")
    else:
        f.message += f"; the Taylor remainder test cannot confirm it ({why})"
    return 2


def _column(problem: Any, f: Any) -> int | None:
    """The flat input entry a failure names (by argument, leaf path and index)."""
    for leaf in problem.leaves:
        if leaf.position != f.argument or f.path is None:
            continue
        for k in range(leaf.size):
            if leaf.entry_name(k) == f.path:
                return leaf.offset + k
    return None
