"""How close an adjoint must come to the finite difference.

Every comparison is ``|adjoint - fd| <= tolerance`` with

    tolerance = safety · (the finite difference's own error bound)
              + (the allowance for the adjoint's own rounding, per cotangent entry j)

The first term comes from the finite-difference method (adaptive step, error estimated from
the samples it took; see :mod:`adcheck.fd.adapt`). It is what keeps checks quiet on badly
scaled functions, where a fixed step and a fixed tolerance raise false alarms.

The second term allows each cotangent entry ``B_j`` an error of

    s_j = atol + rtol · |B_j| + rtol_norm · max_k |B_k|      (k over the same argument)
          + 8 · (the smallest subnormal of the dtype)          (underflow: float32 -1e-49 is -0)

``rtol_norm`` covers cancellation inside the pullback (a matrix product whose entries are
much smaller than its terms). The defaults scale with the square root of the epsilon of the
coarsest floating dtype involved (about half its digits): ``rtol = 6.7·sqrt(eps)``,
``rtol_norm = rtol / 100``:

=========  =========  ===========
dtype      rtol       rtol_norm
=========  =========  ===========
float64    1e-7       1e-9
float32    2.3e-3     2.3e-5
=========  =========  ===========

so a relative error of 1e-4 in a float64 cotangent is always caught. Float32 rules are
compared with a float64 reference, and a float32 rule loses digits to cancellation
(``1 - tanh(x)²`` near ``|x| = 5`` is off by 7e-4) without being wrong; pass ``rtol`` to be
stricter.

In fast mode an entry's allowance enters a dot product ``Σ_j (B_j - B*_j) v_j`` whose
direction ``v`` has random signs, independent of the errors. Such a sum is bounded by
``z · sqrt(Σ_j (s_j v_j)²)`` except with probability ``2·exp(-z²/2)`` (Hoeffding), and always
by ``Σ_j |s_j v_j|``; the smaller of the two is used, with ``z = 6`` (a false alarm rate
below 3e-8 per probe). This is what lets a dense probe of a million entries see one wrong
entry: the allowance grows like ``sqrt(n)``, not ``n``.

>>> t = Tolerance.for_dtypes([np.float64])
>>> round(t.rtol, 9), round(t.rtol_norm, 11)
(1e-07, 1e-09)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Tolerance", "default_rtol", "SAFETY", "Z"]

# Multiplies the finite difference's error estimate: that estimate is a bound built on an
# estimated higher derivative, so a factor of two guards against underestimating it.
SAFETY = 2.0
# Standard deviations allowed for sums of rounding errors with random signs (see above).
Z = 6.0
# Smallest subnormals of the coarsest dtype allowed on every cotangent entry (underflow).
UNDERFLOW_ULPS = 8.0

def default_rtol(dtype: np.dtype) -> tuple[float, float]:
    """``(rtol, rtol_norm)`` for cotangents of ``dtype``: ``6.7·sqrt(eps)`` and a hundredth.

    >>> [float(f"{t:.2g}") for t in default_rtol(np.dtype(np.float32))]
    [0.0023, 2.3e-05]
    """
    dtype = np.dtype(dtype)
    eps = float(np.finfo(dtype).eps) if dtype.kind == "f" else float(np.finfo(float).eps)
    rtol = min(6.7 * eps**0.5, 0.5)
    return rtol, rtol / 100


def coarsest(dtypes: list) -> np.dtype:
    """The floating dtype with the largest epsilon among ``dtypes`` (float64 if none).

    >>> coarsest([np.float64, np.float32])
    dtype('float32')
    """
    best = np.dtype(np.float64)
    for d in dtypes:
        d = np.dtype(d)
        if d.kind == "f" and np.finfo(d).eps > np.finfo(best).eps:
            best = d
    return best


@dataclass(frozen=True)
class Tolerance:
    """The allowance for one cotangent's rounding: ``atol + rtol·|B_j| + rtol_norm·max|B|``.

    >>> Tolerance(atol=0.0, rtol=1e-7, rtol_norm=1e-9).entry_slack(np.array([1.0, -3.0]))
    array([1.03e-07, 3.03e-07])
    """

    atol: float = 0.0
    rtol: float = 1e-7
    rtol_norm: float = 1e-9
    # Below the smallest normal number rounding is absolute: a float32 cotangent of -1e-49
    # underflows to -0. This many smallest subnormals of the dtype are always allowed.
    underflow: float = 0.0

    @classmethod
    def for_dtypes(
        cls, dtypes: list, atol: float | None = None, rtol: float | None = None
    ) -> Tolerance:
        """The defaults for the coarsest of ``dtypes``, with the user's ``atol``/``rtol``."""
        dtype = coarsest(dtypes)
        d_rtol, d_norm = default_rtol(dtype)
        return cls(
            atol=0.0 if atol is None else float(atol),
            rtol=d_rtol if rtol is None else float(rtol),
            rtol_norm=d_norm if rtol is None else min(d_norm, float(rtol)),
            underflow=UNDERFLOW_ULPS * float(np.finfo(dtype).smallest_subnormal),
        )

    def entry_slack(self, b: np.ndarray) -> np.ndarray:
        """The allowed error of every entry of one argument's cotangent ``b``."""
        mag = np.abs(b)
        peak = float(np.max(mag, initial=0.0)) if mag.size else 0.0
        return self.atol + self.underflow + self.rtol * mag + self.rtol_norm * peak


def dot_slack(slack: np.ndarray, v: np.ndarray) -> float:
    """The allowance for ``Σ_j e_j v_j`` when ``|e_j| <= slack_j`` and ``v`` has random signs.

    >>> round(dot_slack(np.full(10**6, 1e-7), np.ones(10**6)), 6)
    0.0006
    """
    terms = np.abs(slack * v)
    peak = float(terms.max(initial=0.0))
    if not (peak > 0 and np.isfinite(peak)):
        return peak
    scaled = terms / peak  # no overflow in the squares
    l1 = float(scaled.sum()) * peak
    l2 = float(np.sqrt(np.dot(scaled, scaled))) * peak
    return min(l1, Z * l2)
