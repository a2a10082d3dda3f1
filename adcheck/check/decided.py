"""When a comparison with finite differences decides something, and when it is vacuous.

``|adjoint - fd| <= tolerance`` says nothing when the finite difference's own error bound is
as large as the values compared: a factor-2 wrong rule for ``exp`` at ``x = 1e-20`` "passed"
with a tolerance of 3e7 against derivatives of 1 and 2, because a step relative to ``|x|``
moved ``exp``'s output below its rounding. Such a comparison is *undecided*. Only the
oracle's uncertainty counts here (``SAFETY`` times the finite difference's error bound), not
the allowance for the rule's own rounding (``rtol``, ``atol``, float32 rounding): those are
the precision the rule is held to, chosen by the user or by its dtype.

An entry ``∂y_i/∂x_j`` with oracle uncertainty ``u`` is **decided** when

    u <= RESOLVE · max(|adjoint|, |fd|)                  (the entry itself is resolved), or
    u <= RESOLVE · NORMWISE · max over its column of max(|adjoint|, |fd|)
                                                          (small beside its column), or
    u <= RESOLVE · |y|_max / max(|x_j|, 1)               (a zero column: outputs resolved
                                                          over a unit move of x_j)

so a decided entry can tell a relative error of ``RESOLVE`` (1%) from none. The last line
lets a function that does not depend on ``x_j`` (``maximum(x, 0)`` at negative ``x``) be
decided zero; the ``max(|x_j|, 1)`` in it is what a step relative to a tiny ``|x_j|`` cannot
meet (``exp`` at 1e-20 with a wrong rule returning 0 is undecided there, and decided on a
unit step). An undecided column is measured again along the same coordinate with other
direction scales (:func:`scale_candidates`), and the best measurement is kept; what is still
undecided is reported *inconclusive* (a failure unless ``inconclusive="warn"``).

>>> decided_entries(np.array([[2.0]]), np.array([[0.0]]), np.array([[3e7]]),
...                 np.array([1e-20]), 1.0).tolist()
[[False]]
>>> decided_entries(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]]),
...                 np.array([[1e-9, 1e-12]]), np.array([0.5, 2.0]), 1.0).tolist()
[[True, True]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["RESOLVE", "NORMWISE", "decided_entries", "decided_dot", "scale_candidates",
           "undecided_ratio"]

# A decided comparison resolves relative errors of this size.
RESOLVE = 1e-2
# An entry much smaller than its column is judged against the column, this much stricter.
NORMWISE = 0.1


def _zero_floor(x: np.ndarray, y_peak: float) -> np.ndarray:
    """``|y|_max / max(|x_j|, 1)`` per input entry (``|y|_max`` is 1 when every output is 0)."""
    peak = y_peak if np.isfinite(y_peak) and y_peak > 0 else 1.0
    size = np.abs(x)
    return peak / np.where(np.isfinite(size), np.maximum(size, 1.0), 1.0)  # NaN inputs: 1


def undecided_ratio(ad: np.ndarray, fd: np.ndarray, u: np.ndarray, x: np.ndarray,
                    y_peak: float) -> np.ndarray:
    """``u`` over what it must be small beside, per entry (decided where ``<= RESOLVE``).

    ``ad``, ``fd``, ``u`` are ``(m, n)``: adjoint, finite difference, oracle uncertainty.

    >>> undecided_ratio(np.array([[2.0]]), np.array([[1.0]]), np.array([[1.0]]),
    ...                 np.array([1e-12]), 1.0).tolist()
    [[0.5]]
    """
    with np.errstate(invalid="ignore", over="ignore"):
        own = np.maximum(np.abs(ad), np.abs(fd))
        own = np.where(np.isfinite(own), own, 0.0)
        column = NORMWISE * own.max(axis=0, initial=0.0)[None, :] if own.size else own
        floor = _zero_floor(x, y_peak)[None, :]
        ref = np.maximum(np.maximum(own, column), floor)
        ratio = np.where(u > 0, u / ref, 0.0)
        # A non-finite input entry is a constant: an exact 0 against 0 there is decided.
        constant = ~np.isfinite(np.asarray(x, dtype=float))[None, :] & (ad == 0) & (fd == 0)
        ratio = np.where(constant, 0.0, ratio)
    return np.where(np.isfinite(ratio), ratio, np.inf)


def decided_entries(ad: np.ndarray, fd: np.ndarray, u: np.ndarray, x: np.ndarray,
                    y_peak: float) -> np.ndarray:
    """Boolean ``(m, n)``: which comparisons decide something (see the module docstring)."""
    return undecided_ratio(ad, fd, u, x, y_peak) <= RESOLVE


def decided_dot(ad: float, fd: float, u: float, dy: np.ndarray, v: np.ndarray,
                x: np.ndarray, y_peak: float) -> bool:
    """A dot-product probe ``⟨Δ, J v⟩`` is decided (the same three tests, on the scalar).

    The zero-column floor becomes ``|Δ|_1 · |y|_max · max_j |v_j| / max(|x_j|, 1)``.

    >>> decided_dot(2.0, 0.0, 3e7, np.ones(1), np.array([1e-20]), np.array([1e-20]), 1.0)
    False
    >>> decided_dot(0.0, 0.0, 1e-300, np.ones(1), np.array([1.0]), np.array([-3.0]), 0.0)
    True
    """
    if not u > 0:
        return True
    if ad == 0.0 and fd == 0.0:
        # Exactly 0 on both sides decides when nothing could have been compared: an all-zero
        # cotangent (back(0) = 0 is the linearity check's), or a direction that moves only
        # non-finite inputs (NaN entries of nanprod are constants, their cotangent 0).
        moved = np.abs(v) > 0
        if not np.any(dy) or (moved.any() and not np.isfinite(x[moved]).any()):
            return True
    own = max(abs(ad), abs(fd))
    moved = float(np.max(np.abs(v) * _zero_floor(x, y_peak), initial=0.0))
    floor = float(np.sum(np.abs(dy))) * moved
    ref = max(own, floor)
    return bool(np.isfinite(ref) and u <= RESOLVE * ref)


def scale_candidates(scale: float) -> list[float]:
    """Other direction scales to try for an undecided coordinate whose scale is ``scale``.

    A unit move first (what a function whose scale is not ``|x|`` needs: ``exp`` at 1e-20),
    then 2**10 larger and 2**10 smaller than the current one.

    >>> scale_candidates(2.0**-40)
    [1.0, 9.313225746154785e-10, 8.881784197001252e-16]
    >>> scale_candidates(1.0)
    [1024.0, 0.0009765625]
    """
    out = []
    if not 0.25 <= scale <= 4.0:
        out.append(1.0)
    out += [scale * 2.0**10, scale * 2.0**-10]
    return out
