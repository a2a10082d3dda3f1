"""Stencils: integer grids, their exact weights (from findiff) and the constants of their error.

A stencil for the q-th derivative on the grid ``g_1 < ... < g_p`` approximates

    f^(q)(x) ≈ h^-q · Σ_i c_i f(x + g_i h).

The weights are solved exactly (findiff with ``symbolic=True``) and rounded once to float,
so ``central_stencil(4)`` has weights exactly ``[1/12, -2/3, 2/3, -1/12]`` to the last bit.

findiff loads sympy, which costs about a second in a fresh process. The exact weights of the
stencils adcheck's own methods use (:func:`standard_keys`: central, forward and backward
grids of 2 to 10 points for first and second derivatives, with the stencils their step
adaptation needs) are therefore kept in :mod:`adcheck.fd.stencil_table`, written from findiff
by :func:`table_source` (``python -m adcheck.fd.stencil``) and checked against findiff by the
tests; any other stencil is asked of findiff when first needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np

__all__ = [
    "Stencil",
    "make_stencil",
    "central_grid",
    "forward_grid",
    "backward_grid",
    "exact_weights",
    "standard_keys",
    "table_source",
]


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
    p = len(grid)
    exact = exact_weights(grid, q)

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


def findiff_weights(grid: tuple[int, ...], q: int) -> list[Fraction]:
    """The exact weights findiff solves for (``symbolic=True``), as fractions.

    >>> findiff_weights((-1, 1), 1)
    [Fraction(-1, 2), Fraction(1, 2)]
    """
    # Imported here: findiff loads sympy, which takes about a second.
    import findiff

    exact = findiff.coefficients(q, offsets=list(grid), symbolic=True)["coefficients"]
    return [Fraction(int(c.p), int(c.q)) for c in exact]


@cache
def _table() -> dict[tuple[tuple[int, ...], int], str]:
    from .stencil_table import WEIGHTS

    return WEIGHTS


def exact_weights(grid: tuple[int, ...], q: int) -> list[Fraction]:
    """The exact weights of the ``q``-th derivative on ``grid``: from the table findiff wrote
    (see the module docstring), else from findiff itself.

    >>> exact_weights((-2, -1, 1, 2), 1)
    [Fraction(1, 12), Fraction(-2, 3), Fraction(2, 3), Fraction(-1, 12)]
    """
    text = _table().get((tuple(grid), q))
    if text is None:
        return findiff_weights(tuple(grid), q)
    return [Fraction(w) for w in text.split()]


def _bound_grid(grid: tuple[int, ...]) -> tuple[int, ...]:
    # The grid of FiniteDifferenceMethod.bound_estimator: p + 4 points, of the same kind.
    if min(grid) >= 0:
        return forward_grid(len(grid) + 4)
    if max(grid) <= 0:
        return backward_grid(len(grid) + 4)
    return central_grid(len(grid) + 4)


def standard_keys(max_p: int = 10, qs: tuple[int, ...] = (1, 2),
                  adapt: int = 1) -> list[tuple[tuple[int, ...], int]]:
    """``(grid, q)`` of every stencil that the central, forward and backward methods of 2 to
    ``max_p`` points for the derivatives ``qs`` build with ``adapt`` levels of adaptation:
    their own, their bound estimator's (``p + 4`` points for the ``p``-th derivative) and the
    ``q + 1``-point differences the bound is taken over.

    >>> ((-2, -1, 0, 1, 2), 1) in standard_keys()
    True
    """
    keys: set[tuple[tuple[int, ...], int]] = set()

    def walk(grid: tuple[int, ...], q: int, levels: int) -> None:
        keys.add((grid, q))
        if levels > 0:
            bound, bq = _bound_grid(grid), len(grid)
            keys.update((bound[i : i + bq + 1], bq) for i in range(len(bound) - bq))
            walk(bound, bq, levels - 1)

    for p in range(2, max_p + 1):
        for q in qs:
            if q < p:
                for make in (central_grid, forward_grid, backward_grid):
                    walk(make(p), q, adapt)
    return sorted(keys, key=lambda k: (len(k[0]), k[1], k[0]))


def table_source() -> str:
    """The text of :mod:`adcheck.fd.stencil_table`, computed by findiff (takes seconds)."""
    lines = [
        "# ruff: noqa: E501",
        '"""Exact finite-difference weights, written by findiff: do not edit.',
        "",
        "Regenerate with ``python -m adcheck.fd.stencil`` (see :mod:`adcheck.fd.stencil`);",
        "the tests check every entry against findiff.",
        '"""',
        "",
        "# (grid, q): the weights of the q-th derivative on grid, in the grid's order",
        "WEIGHTS = {",
    ]
    for grid, q in standard_keys():
        weights = " ".join(str(w) for w in findiff_weights(grid, q))
        lines.append(f"    ({grid!r}, {q}): {weights!r},")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    from pathlib import Path

    Path(__file__).with_name("stencil_table.py").write_text(table_source(), encoding="utf-8")
