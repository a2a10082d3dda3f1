"""Fast mode's directions, and the bisection that names wrong entries.

The dot-product test compares ``⟨Δ, J·v⟩`` (one finite difference along ``v``) with
``⟨back(Δ), v⟩``. Its power depends on the directions, so fast mode draws several:

- ``gaussian`` and ``rademacher``: every entry moves, with random signs (never all the same
  sign: a positive-only direction lets a sign error in one entry cancel against others);
- ``balanced``: random signs, each entry scaled down so that its term ``|back(Δ)_j·v_j|`` is
  no larger than the typical one, so an entry with a tiny cotangent is as visible as a large
  one;
- ``sparse``: random signs on a random subset of about ``sqrt(n)`` entries, and on 8;
- one ``gaussian`` per input array when there are several, so that a wrong cotangent of one
  argument cannot hide behind the others.

That is ``5 + (number of inputs)`` probes whatever ``n`` is. Every direction is scaled by the
inputs' magnitudes (:func:`adcheck.check.problem.direction_scales`) and its entries are
rounded to 4 significant bits, so that ``x0 + t·v`` is exact for the power-of-two steps the
finite differences take: no rounding of the input spoils the estimate.

On a failure, :func:`bisect` halves the failing probe's support, keeping the halves that
still fail, down to single entries: ``O(log n)`` more probes per wrong entry, not the
``O(n)`` of a full Jacobian.

>>> rng = np.random.default_rng(0)
>>> r = signed(rng, 6, "rademacher")
>>> sorted(set(np.abs(r).tolist())), bool((r > 0).any() and (r < 0).any())
([1.0], True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Probe", "quantise", "signed", "plan", "balance", "bisect", "SPARSE_SMALL"]

SPARSE_SMALL = 8


@dataclass
class Probe:
    """One dot-product test: a name, an input direction and an output cotangent."""

    name: str
    v: np.ndarray | None  # None until computed (balanced probes need the pullback first)
    dy: np.ndarray
    mask: np.ndarray | None = None  # entries this probe may move


def quantise(r: np.ndarray, bits: int = 4) -> np.ndarray:
    """``r`` rounded to ``bits`` significant bits (zeros stay zero).

    >>> quantise(np.array([0.3, -1.7, 0.0])).tolist()
    [0.3125, -1.75, 0.0]
    """
    mant, expo = np.frexp(r)
    scale = 2.0**bits
    return np.ldexp(np.round(mant * scale) / scale, expo)


def signed(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """``n`` random signed numbers (``gaussian`` or ``rademacher``), both signs if ``n > 1``.

    >>> signed(np.random.default_rng(1), 3, "gaussian").shape
    (3,)
    """
    if kind == "gaussian":
        r = quantise(rng.standard_normal(n))
        r[r == 0] = 1.0
    else:
        r = rng.choice(np.array([-1.0, 1.0]), size=n)
    if n > 1 and (np.all(r > 0) or np.all(r < 0)):
        r[int(rng.integers(n))] *= -1
    return r


def _cotangent(rng: np.random.Generator, m: int) -> np.ndarray:
    return signed(rng, m, "gaussian")


def plan(rng: np.random.Generator, n: int, m: int, leaf_bounds: list[tuple[int, int]],
         scales: np.ndarray) -> list[Probe]:
    """The probes of one fast-mode check (see the module docstring).

    >>> ps = plan(np.random.default_rng(0), 100, 3, [(0, 60), (60, 100)], np.ones(100))
    >>> [p.name for p in ps]
    ['gaussian', 'rademacher', 'balanced', 'sparse(10)', 'sparse(8)', 'argument 1', 'argument 2']
    """
    probes = [
        Probe("gaussian", signed(rng, n, "gaussian") * scales, _cotangent(rng, m)),
        Probe("rademacher", signed(rng, n, "rademacher") * scales, _cotangent(rng, m)),
        Probe("balanced", None, _cotangent(rng, m)),
    ]
    sizes = []
    for k in (math.ceil(math.sqrt(n)), SPARSE_SMALL):
        if k < n and k not in sizes:
            sizes.append(k)
    for k in sizes:
        v = np.zeros(n)
        support = rng.choice(n, size=k, replace=False)
        v[support] = signed(rng, k, "rademacher") * scales[support]
        probes.append(Probe(f"sparse({k})", v, _cotangent(rng, m)))
    if len(leaf_bounds) > 1:
        for i, (lo, hi) in enumerate(leaf_bounds):
            v = np.zeros(n)
            v[lo:hi] = signed(rng, hi - lo, "gaussian") * scales[lo:hi]
            probes.append(Probe(f"argument {i + 1}", v, _cotangent(rng, m)))
    return probes


def balance(rng: np.random.Generator, b: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """A Rademacher direction whose terms ``|b_j v_j|`` are at most their median (see above).

    Entries are only ever scaled down (by powers of two, at most 2**-30), so no input moves
    further than in the other probes.

    >>> v = balance(np.random.default_rng(0), np.array([1.0, 1e6, 2.0]), np.ones(3))
    >>> np.abs(v).tolist()
    [1.0, 1.9073486328125e-06, 1.0]
    """
    terms = np.abs(b) * scales
    positive = terms[terms > 0]
    target = float(np.median(positive)) if positive.size else 1.0
    with np.errstate(all="ignore"):
        shrink = np.where(terms > target, target / terms, 1.0)
    shrink = np.maximum(2.0 ** np.floor(np.log2(np.maximum(shrink, 2.0**-30))), 2.0**-30)
    return signed(rng, len(b), "rademacher") * scales * shrink


def bisect(support: np.ndarray, fails: Callable[[np.ndarray], bool], max_found: int = 5,
           budget: int = 64) -> tuple[list[int], list[np.ndarray], int]:
    """Single entries of ``support`` (known to fail) that fail on their own.

    ``fails(subset)`` runs the probe restricted to ``subset``. Depth first, halves in order;
    stops after ``max_found`` entries or ``budget`` calls. Returns the entries, the groups
    that failed although neither half did (an error spread over many entries), and the
    number of calls made.

    >>> bad = {13, 40}
    >>> found, spread, calls = bisect(np.arange(64), lambda s: bool(bad & set(s.tolist())))
    >>> found, calls
    ([13, 40], 22)
    """
    found: list[int] = []
    spread: list[np.ndarray] = []
    calls = 0

    def search(subset: np.ndarray) -> None:
        nonlocal calls
        if len(found) >= max_found or calls >= budget:
            return
        if len(subset) == 1:
            found.append(int(subset[0]))
            return
        half = len(subset) // 2
        any_failed = False
        for part in (subset[:half], subset[half:]):
            if len(found) >= max_found or calls >= budget:
                return
            calls += 1
            if fails(part):
                any_failed = True
                search(part)
        if not any_failed:
            spread.append(subset)

    search(np.asarray(support))
    return found, spread, calls
