"""Stencils: integer grids, their exact weights (from findiff) and the constants of their error.

A stencil for the q-th derivative on the grid ``g_1 < ... < g_p`` approximates

    f^(q)(x) ≈ h^-q · Σ_i c_i f(x + g_i h).

The weights are solved exactly (findiff with ``symbolic=True``) and rounded once to float,
so ``central_stencil(4)`` has weights exactly ``[1/12, -2/3, 2/3, -1/12]`` to the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["Stencil", "make_stencil", "central_grid", "forward_grid", "backward_grid"]


def central_grid(p: int) -> tuple[int, ...]:
    """``p`` points symmetric about 0; the centre is included only for odd ``p``.

    >>> central_grid(4), central_grid(5)
    ((-2, -1, 1, 2), (-2, -1, 0, 1, 2))
    """
    half = p // 2
    if p % 2:
        return tuple(range(-half, half + 1))
    return tuple(range(-half, 0)) + tuple(range(1, half + 1))


def forward_grid(p: int) -> tuple[int, ...]:
    """``0, 1, ..., p - 1``.

    >>> forward_grid(3)
    (0, 1, 2)
    """
    return tuple(range(p))


def backward_grid(p: int) -> tuple[int, ...]:
    """``-(p - 1), ..., -1, 0``.

    >>> backward_grid(3)
    (-2, -1, 0)
    """
    return tuple(range(1 - p, 1))


@dataclass(frozen=True)
class Stencil:
    """Weights of one stencil and the constants its error bounds are made of.

    ``round_constant`` is ``Σ|c_i|``: evaluation errors of size ε in each ``f(x + g_i h)``
    give at most ``ε · round_constant / h^q`` in the estimate. ``trunc_constant`` is
    ``Σ|c_i g_i^p| / p!``: by Taylor's theorem with remainder, the truncation error is at
    most ``trunc_constant · max|f^(p)| · h^(p-q)`` over the stencil's span. ``order`` is the
    power of ``h`` in the leading truncation term (which can exceed ``p - q`` for
    symmetric stencils).
    """

    grid: tuple[int, ...]
    q: int
    coefs: np.ndarray
    order: int
    round_constant: float
    trunc_constant: float

    @property
    def p(self) -> int:
        return len(self.grid)


@cache
def make_stencil(grid: tuple[int, ...], q: int) -> Stencil:
    """The stencil for the ``q``-th derivative on ``grid`` (distinct integers, more than ``q``).

    >>> s = make_stencil((-1, 0, 1), 2)
    >>> s.coefs.tolist(), s.order
    ([1.0, -2.0, 1.0], 2)
    """
    # Imported here: findiff loads sympy, which takes about a second, and `import adcheck`
    # should not pay that unless finite differences are used.
    import findiff

    p = len(grid)
    exact = findiff.coefficients(q, offsets=list(grid), symbolic=True)["coefficients"]

    def moment(k: int):
        return sum(c * g**k for c, g in zip(exact, grid, strict=True))

    # findiff's own "accuracy" is off for some even central grids (it reports 1 for the
    # 6-point first derivative, whose order is 6), so read the order off the exact weights:
    # the first moment k >= p that does not vanish gives an error term h^(k - q).
    k = p
    while moment(k) == 0 and k < 2 * p + q:
        k += 1
    coefs = np.array([float(c) for c in exact])
    coefs.setflags(write=False)
    return Stencil(
        grid=grid,
        q=q,
        coefs=coefs,
        order=k - q,
        round_constant=float(sum(abs(c) for c in exact)),
        trunc_constant=float(
            sum(abs(c * g**p) for c, g in zip(exact, grid, strict=True)) / math.factorial(p)
        ),
    )
