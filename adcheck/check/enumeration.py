"""Systematic examples: every small discrete choice of a domain, before any random one.

A domain draws its inputs through hypothesis strategies (``draw(st.sampled_from(...))``,
``draw(st.booleans())``, ``draw(st.integers(0, 3))``, ``draw(hnp.array_shapes(...))``). A bug
that shows only for one axis on a non-square array hides in one corner of those choices, and
random draws reach it only by luck. So :func:`~adcheck.verify` first runs the domain's draw
function with a :class:`SystematicDraw` instead of hypothesis' ``draw``:

- **Discrete choices are planned.** Each choice point is a *site* (the line of the domain
  that called ``draw``, and how many choices that line made before in the example). Its
  options are the strategy's values: booleans, ``sampled_from``, ``just``/``none``, integer
  ranges of at most 16 values (0 first, then 1, -1, 2, ...), the branches of ``one_of``
  (small discrete branches spread into their values), list lengths, and a curated list of
  shapes for ``array_shapes`` (0-d, size one, non-square both ways, three distinct sides,
  unit axes) and ``mutually_broadcastable_shapes`` (equal shapes, a scalar with an array,
  ``(2, 1)`` against ``(1, 3)``, a row against a matrix). The :class:`Planner` picks, at each
  site, the option that covers the most *pairs* (this option together with a choice made
  earlier in the same example) not yet covered, the least used one on a tie. So every value
  of every choice appears, every value of the first choice (usually the shape) is combined
  with every value of each later one (the axis, keepdims), whatever the seed.
- **Continuous values are random** (``floats``, the entries of ``arrays``, permutations,
  wide integer ranges): drawn uniformly from a generator seeded by the run's seed, so the
  same seed gives the same examples. A strategy this module does not know is drawn by
  hypothesis itself from that generator.

A failing example is shrunk by :func:`shrink`: the choices are replayed with each one lowered
towards its first option in turn, then the continuous values are rounded (to integers, then
to one decimal), keeping every change that still fails.

>>> from hypothesis import strategies as st
>>> from hypothesis.extra import numpy as hnp
>>> @st.composite
... def shape_and_axis(draw):
...     shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, max_side=3))
...     return shape, draw(st.integers(0, 1))
>>> examples = [e.value for e in systematic_examples(shape_and_axis(), seed=0, budget=20)]
>>> ((2, 3), 0) in examples and ((3, 2), 1) in examples
True
"""

from __future__ import annotations

import math
import os
import random
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

__all__ = ["SystematicDraw", "Planner", "Rejected", "systematic_examples", "replay", "shrink",
           "curated_shapes", "curated_broadcast_shapes"]

#: Integer ranges up to this many values are enumerated; wider ones are drawn at random.
MAX_ENUMERATED_INTEGERS = 16
#: Lists longer than their minimum by more than this are not drawn (unbounded lists).
MAX_EXTRA_LENGTH = 4

Site = tuple[str, int, int]
Key = tuple[Site, str]


class Rejected(Exception):
    """The example cannot be drawn (a filter that never passes, ``assume(False)``)."""


def _options_key(value: Any) -> str:
    return repr(value)


# -- curated shapes --------------------------------------------------------------------------

_SHAPES_BY_RANK = {
    0: [()],
    1: [(1,), (3,), (2,)],
    2: [(2, 3), (3, 2), (1, 1), (1, 3), (2, 1), (2, 2)],
    3: [(2, 3, 4), (1, 1, 1), (3, 1, 2), (4, 3, 2), (2, 2, 1)],
}


def _clip_shape(shape: tuple, min_side: int, max_side: int) -> tuple:
    return tuple(min(max(s, min_side), max_side) for s in shape)


def curated_shapes(min_dims: int = 1, max_dims: int | None = None, min_side: int = 1,
                   max_side: int | None = None) -> list[tuple]:
    """The shapes enumerated for ``hnp.array_shapes(...)`` with these bounds, simplest first,
    the ranks interleaved (a 0-d, a 1-d, a 2-d, a 3-d shape, then the next of each rank).

    >>> curated_shapes(0, 2, 1, 3)[:6]
    [(), (1,), (2, 3), (3,), (3, 2), (2,)]
    """
    max_dims = min_dims + 2 if max_dims is None else max_dims
    max_side = min_side + 4 if max_side is None else max_side
    per_rank = []
    for rank in range(min_dims, max_dims + 1):
        base = _SHAPES_BY_RANK.get(rank) or [
            (2, 3, 4) + (1,) * (rank - 3), (1,) * rank, (3, 1, 2) + (2,) * (rank - 3)]
        per_rank.append([_clip_shape(s, min_side, max_side) for s in base])
    out: list[tuple] = []
    for i in range(max(len(r) for r in per_rank)):
        for shapes in per_rank:
            if i < len(shapes) and shapes[i] not in out:
                out.append(shapes[i])
    return out


def curated_broadcast_shapes(num_shapes: int, min_dims: int = 0, max_dims: int | None = None,
                             min_side: int = 1, max_side: int | None = None) -> list[tuple]:
    """Tuples of ``num_shapes`` mutually broadcastable shapes (for
    ``hnp.mutually_broadcastable_shapes``): equal shapes of each rank, one argument a scalar,
    a row or a ``(2, 1)`` column against the others' ``(2, 3)``, ``(3, 1)`` against
    ``(2, 3, 4)``... Only those within the bounds are kept.

    >>> curated_broadcast_shapes(2, 0, 2, 1, 3)[:4]
    [((), ()), ((2, 3), (2, 3)), ((), (2, 3)), ((2, 3), ())]
    """
    max_dims = max(min_dims, 2) if max_dims is None else max_dims
    max_side = max(min_side, 3) if max_side is None else max_side
    n = num_shapes
    patterns: list[tuple] = [((),) * n, ((2, 3),) * n]
    for odd in [(), (3,), (2, 1), (1, 3), (1,)]:
        for i in range(n):
            patterns.append(tuple(odd if j == i else (2, 3) for j in range(n)))
        if odd == ():
            patterns.append(((1,),) * n)
    patterns += [((2, 3, 4),) * n, ((3,),) * n]
    for i in range(n):
        patterns.append(tuple((3, 1) if j == i else (2, 3, 4) for j in range(n)))
    patterns += [((1, 1),) * n, ((3, 2),) * n]
    out: list[tuple] = []
    for shapes in patterns:
        if any(not min_dims <= len(s) <= max_dims for s in shapes):
            continue
        if any(not min_side <= side <= max_side for s in shapes for side in s if side != 1):
            continue
        if min_side > 1 and any(side == 1 for s in shapes for side in s):
            continue
        if shapes not in out:
            out.append(shapes)
    return out


# -- the planner -----------------------------------------------------------------------------


@dataclass
class Planner:
    """Chooses the options of each example so that pairs of choices are covered (see above)."""

    covered: set[tuple[Key, Key]] = field(default_factory=set)
    used: Counter = field(default_factory=Counter)

    def choose(self, site: Site, keys: list[str], prior: list[Key]) -> int:
        """The index of the option to take at ``site`` after the choices ``prior``."""
        best, best_score = 0, None
        for i, key in enumerate(keys):
            option = (site, key)
            new_pairs = sum(1 for p in prior if (p, option) not in self.covered)
            score = (-new_pairs, self.used[option], i)
            if best_score is None or score < best_score:
                best, best_score = i, score
        return best

    def record(self, choices: list[Key]) -> int:
        """Mark the pairs of one example as covered; returns how many were new."""
        new = sum(1 for c in choices if self.used[c] == 0)
        for c in choices:
            self.used[c] += 1
        for a, b in combinations(choices, 2):
            if (a, b) not in self.covered:
                self.covered.add((a, b))
                new += 1
        return new


# -- drawing ---------------------------------------------------------------------------------

_HERE = __file__


def _caller_site() -> tuple[str, int]:
    """The first frame outside this module and hypothesis: the domain's line that drew."""
    import hypothesis

    skip = os.path.dirname(hypothesis.__file__)
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name != _HERE and not name.startswith(skip):
            return name, frame.f_lineno
        frame = frame.f_back
    return "?", 0


def _unwrap_lazy(s: Any) -> Any:
    while type(s).__name__ == "LazyStrategy":
        s = s.wrapped_strategy
    return s


def _lazy_kwargs(s: Any) -> dict | None:
    """The keyword arguments of a lazily built strategy (``array_shapes(min_dims=0, ...)``)."""
    if type(s).__name__ != "LazyStrategy" or s._transformations:
        return None
    kwargs = getattr(s, "_LazyStrategy__kwargs", None)
    args = getattr(s, "_LazyStrategy__args", ())
    return dict(kwargs) if isinstance(kwargs, dict) and not args else None


def _sampled_values(s: Any) -> list:
    """The values of a ``sampled_from`` (or ``just``), its maps and filters applied."""
    out = []
    for v in s.elements:
        keep = True
        for method, fn, *_ in getattr(s, "_transformations", ()):
            if method == "map":
                v = fn(v)
            elif not fn(v):
                keep = False
                break
        if keep:
            out.append(v)
    return out


def _small_integers(s: Any) -> list[int] | None:
    start, end = s.start, s.end
    if start is None or end is None or end - start + 1 > MAX_ENUMERATED_INTEGERS:
        return None
    return sorted(range(start, end + 1), key=lambda v: (abs(v), v < 0))


def _discrete_values(s: Any) -> list | None:
    """All values of a small discrete strategy, simplest first; None if it is not one."""
    s = _unwrap_lazy(s)
    name = type(s).__name__
    if name in ("SampledFromStrategy", "JustStrategy"):
        return _sampled_values(s)
    if name == "BooleansStrategy":
        return [False, True]
    if name == "IntegersStrategy":
        return _small_integers(s)
    return None


class SystematicDraw:
    """The ``draw`` a domain is called with during the systematic phase (see the module).

    ``choose(site, keys, prior)`` picks the option index at each choice point (``prior``: the
    choices made so far in this example); ``rng`` draws the continuous values; ``simplify``
    rounds floats (1: to integers, 2: to one decimal) when shrinking. ``choices`` records the
    sites and options chosen, ``indices`` the indices.
    """

    def __init__(self, choose: Callable[[Site, list[str], list[Key]], int],
                 rng: np.random.Generator,
                 simplify: int = 0, overrides: dict[int, float] | None = None):
        self._choose = choose
        self.rng = rng
        self.simplify = simplify
        self.overrides = overrides or {}
        self.choices: list[Key] = []
        self.indices: list[int] = []
        self.floats: list[tuple[float, float, float]] = []  # (value, low, high) of each float
        self._occurrences: Counter = Counter()

    def __call__(self, strategy: Any, label: Any = None) -> Any:
        return self.draw(strategy, discrete=True)

    # the choice point
    def _pick(self, options: list, discrete: bool) -> Any:
        if len(options) == 1:
            return options[0]
        if not discrete:
            return options[int(self.rng.integers(len(options)))]
        where = _caller_site()
        site = (where[0], where[1], self._occurrences[where])
        self._occurrences[where] += 1
        keys = [_options_key(o) for o in options]
        i = min(max(int(self._choose(site, keys, self.choices)), 0), len(options) - 1)
        self.choices.append((site, keys[i]))
        self.indices.append(i)
        return options[i]

    def random(self, strategy: Any) -> Any:
        """A value of ``strategy`` with every choice random (cotangents, seeds)."""
        return self.draw(strategy, discrete=False)

    def draw(self, s: Any, discrete: bool = True) -> Any:  # noqa: C901  (one case per kind)
        name = type(s).__name__
        if name == "LazyStrategy":
            kwargs = _lazy_kwargs(s)
            if kwargs is not None and s.function.__name__ == "array_shapes":
                return self._pick(curated_shapes(**kwargs), discrete)
            return self.draw(s.wrapped_strategy, discrete)
        if name == "MutuallyBroadcastableShapesStrategy":
            return self._broadcast_shapes(s, discrete)
        values = _discrete_values(s) if name != "OneOfStrategy" else None
        if values is not None:
            if not values:
                raise Rejected("a sampled_from whose filters reject every value")
            return self._pick(values, discrete)
        if name == "OneOfStrategy":
            return self._one_of(s, discrete)
        if name == "MappedStrategy":
            return s.pack(self.draw(s.mapped_strategy, discrete))
        if name == "FilteredStrategy":
            for attempt in range(100):
                v = self.draw(s.filtered_strategy, discrete and attempt == 0)
                if all(c(v) for c in s.flat_conditions):
                    return v
            raise Rejected("a filter rejected 100 draws")
        if name == "FlatMapStrategy":
            return self.draw(s.expand(self.draw(s.base, discrete)), discrete)
        if name == "TupleStrategy":
            return tuple(self.draw(e, discrete) for e in s.element_strategies)
        if name in ("ListStrategy", "UniqueListStrategy", "UniqueSampledListStrategy"):
            return self._list(s, discrete)
        if name == "CompositeStrategy":
            return s.definition(self if discrete else _RandomDraw(self), *s.args, **s.kwargs)
        if name == "PermutationStrategy":
            values = list(s.values)
            return [values[i] for i in self.rng.permutation(len(values))]
        if name == "IntegersStrategy":
            lo = -(2**31) if s.start is None else s.start
            hi = 2**31 if s.end is None else s.end
            return int(self.rng.integers(lo, hi, endpoint=True))
        if name == "FloatStrategy":
            return self._float(s)
        if name == "ArrayStrategy":
            return self._array(s)
        if name == "BuildsStrategy":
            args = [self.draw(a, discrete) for a in s.args]
            kwargs = {k: self.draw(v, discrete) for k, v in s.kwargs.items()}
            return s.target(*args, **kwargs)
        if name == "NothingStrategy":
            raise Rejected("nothing() has no values")
        return self._by_hypothesis(s)

    def _one_of(self, s: Any, discrete: bool) -> Any:
        options: list[tuple[str, Any]] = []
        for branch in s.original_strategies:
            values = _discrete_values(branch)
            if values is not None:
                options += [("value", v) for v in values]
            else:
                options.append(("strategy", branch))
        if not discrete:
            kind, v = options[int(self.rng.integers(len(options)))]
            return self.draw(v, False) if kind == "strategy" else v
        keyed = [v if kind == "value" else _Branch(v) for kind, v in options]
        chosen = self._pick(keyed, True)
        return self.draw(chosen.strategy, True) if isinstance(chosen, _Branch) else chosen

    def _list(self, s: Any, discrete: bool) -> list:
        low = s.min_size
        high = s.max_size if s.max_size != math.inf else low + MAX_EXTRA_LENGTH
        high = min(int(high), low + MAX_EXTRA_LENGTH)
        n = self._pick(list(range(low, high + 1)), discrete)
        keys = getattr(s, "keys", None)
        out: list = []
        seen: set = set()
        for _ in range(n):
            for attempt in range(20):
                v = self.draw(s.element_strategy, discrete and attempt == 0)
                if not keys:
                    break
                key = tuple(_hashable(k(v)) for k in keys)
                if key not in seen:
                    seen.add(key)
                    break
            else:
                if len(out) >= low:
                    return out
                raise Rejected("could not draw distinct list elements")
            out.append(v)
        return out

    def _broadcast_shapes(self, s: Any, discrete: bool) -> Any:
        from hypothesis.extra.numpy import BroadcastableShapes

        if getattr(s, "signature", None) is not None or tuple(s.base_shape) != ():
            return self._by_hypothesis(s)
        options = curated_broadcast_shapes(s.num_shapes, s.min_dims, s.max_dims, s.min_side,
                                           s.max_side)
        if not options:
            return self._by_hypothesis(s)
        shapes = self._pick(options, discrete)
        return BroadcastableShapes(input_shapes=shapes, result_shape=np.broadcast_shapes(*shapes))

    def _float(self, s: Any) -> float:
        lo, hi = float(s.min_value), float(s.max_value)
        if not math.isfinite(lo):
            lo = min(-10.0, hi - 20.0) if math.isfinite(hi) else -10.0
        if not math.isfinite(hi):
            hi = max(10.0, lo + 20.0)
        u = float(self.rng.uniform(lo, hi)) if hi > lo else lo
        forced = self.overrides.get(len(self.floats))
        if forced is not None and lo <= forced <= hi:
            u = forced
        elif self.simplify:
            rounded = round(u, 0 if self.simplify == 1 else 1)
            if lo <= rounded <= hi:
                u = float(rounded)
        self.floats.append((u, lo, hi))
        return u

    def _array(self, s: Any) -> np.ndarray:
        shape = tuple(s.shape)
        n = math.prod(shape)
        items: list = []
        seen: set = set()
        for _ in range(n):
            for _attempt in range(20):
                v = self.draw(s.element_strategy, False)
                if not s.unique or v not in seen:
                    break
            else:
                raise Rejected("could not draw distinct array entries")
            seen.add(v)
            items.append(v)
        return np.array(items, dtype=s.dtype).reshape(shape)

    def _by_hypothesis(self, s: Any) -> Any:
        """A strategy this module does not know: hypothesis draws it, from our generator."""
        from hypothesis.control import BuildContext
        from hypothesis.internal.conjecture.data import ConjectureData

        data = ConjectureData(random=random.Random(int(self.rng.integers(2**63))))
        try:
            with warnings.catch_warnings(), BuildContext(data, wrapped_test=lambda: None):
                warnings.simplefilter("ignore")
                return data.draw(s)
        except BaseException as exc:  # hypothesis' StopTest is a BaseException
            if type(exc).__name__ in ("StopTest", "UnsatisfiedAssumption", "Frozen"):
                raise Rejected(f"hypothesis could not draw {s!r}") from None
            raise


class _RandomDraw:
    """``draw`` for a composite strategy used inside a random draw: every choice random."""

    def __init__(self, parent: SystematicDraw):
        self.parent = parent

    def __call__(self, strategy: Any, label: Any = None) -> Any:
        return self.parent.draw(strategy, discrete=False)


@dataclass(frozen=True)
class _Branch:
    strategy: Any

    def __repr__(self) -> str:
        return f"<{self.strategy!r}>"


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


# -- running the phase -----------------------------------------------------------------------


@dataclass
class Example:
    """One systematic example: the value drawn and how to draw it again (:func:`replay`)."""

    value: Any
    indices: list[int]
    rng_seed: int
    simplify: int = 0
    overrides: dict[int, float] = field(default_factory=dict)
    floats: list[tuple[float, float, float]] = field(default_factory=list)


def _rng_seed(seed: int, number: int) -> int:
    return (int(seed) * 1_000_003 + number) % 2**63


def _run(strategy: Any, choose: Callable, rng_seed: int, simplify: int = 0,
         overrides: dict[int, float] | None = None) -> tuple[Example | None, SystematicDraw]:
    """One draw of ``strategy`` (None when it cannot be drawn) and the draw that made it."""
    d = SystematicDraw(choose, np.random.default_rng(rng_seed), simplify, overrides)
    try:
        value = d(strategy)
    except Rejected:
        return None, d
    except Exception as exc:
        if type(exc).__name__ == "UnsatisfiedAssumption":  # assume(False), reject()
            return None, d
        raise
    return Example(value, list(d.indices), rng_seed, simplify, dict(overrides or {}),
                   list(d.floats)), d


def systematic_examples(strategy: Any, seed: int, budget: int) -> Iterator[Example]:
    """Planned examples of ``strategy`` (see the module docstring), until the consumer stops.

    Stops by itself after ``3 * budget`` attempts (rejected draws included), or when three
    examples in a row cover no new choice and no new pair of choices.
    """
    planner = Planner()
    stale = 0
    for number in range(3 * budget):
        example, d = _run(strategy, planner.choose, _rng_seed(seed, number))
        stale = 0 if planner.record(d.choices) else stale + 1
        if example is not None:
            yield example
        if stale >= 3:
            return


def replay(strategy: Any, indices: list[int], rng_seed: int, simplify: int = 0,
           overrides: dict[int, float] | None = None) -> Example:
    """Draw again with the given option indices (the first option past their end), the
    floats rounded (``simplify``) or replaced (``overrides``: by their position).

    Raises :class:`Rejected` when the example cannot be drawn.
    """
    position = [0]

    def choose(site: Site, keys: list[str], prior: list[Key]) -> int:
        i = position[0]
        position[0] += 1
        return indices[i] if i < len(indices) else 0

    example = _run(strategy, choose, rng_seed, simplify, overrides)[0]
    if example is None:
        raise Rejected("the replayed example cannot be drawn")
    return example


def _simpler_floats(value: float, low: float, high: float) -> list[float]:
    """Up to four simpler values than ``value`` in ``[low, high]``: 0, then the integers
    towards it, then ``value`` with one decimal.

    >>> _simpler_floats(3.7, -10, 10)
    [0.0, 1.0, 2.0, 3.0]
    """
    sign = 1.0 if value >= 0 else -1.0
    candidates = [0.0] + [sign * k for k in range(1, int(abs(value)) + 1)] + [round(value, 1)]
    out = []
    for c in candidates:
        if low <= c <= high and abs(c) <= abs(value) and c != value and c not in out:
            out.append(float(c))
    return out[:4]


def shrink(strategy: Any, example: Example, fails: Callable[[Example], bool],
           max_tries: int = 20) -> Example:
    """The simplest example found that still ``fails`` within ``max_tries`` replays (see the
    module docstring): all floats rounded, each choice lowered in turn towards its first
    option, then each float made simpler (0, small integers)."""
    best = example
    tries = 0

    def attempt(indices: list[int], simplify: int, overrides: dict[int, float]) -> bool:
        nonlocal tries, best
        tries += 1
        try:
            candidate = replay(strategy, indices, best.rng_seed, simplify, overrides)
        except Rejected:
            return False
        if fails(candidate):
            best = candidate
            return True
        return False

    for level in (1, 2):
        if attempt(best.indices, level, {}):
            break
    i = 0
    while i < len(best.indices) and tries < max_tries:
        for lower in range(best.indices[i]):
            if tries >= max_tries or attempt(
                    best.indices[:i] + [lower] + best.indices[i + 1:], best.simplify, {}):
                break
        i += 1
    k = 0
    while k < len(best.floats) and tries < max_tries:
        for c in _simpler_floats(*best.floats[k]):
            if tries >= max_tries or attempt(best.indices, best.simplify,
                                             {**best.overrides, k: c}):
                break
        k += 1
    return best
