"""Hypothesis strategies for a rule's inputs, from its declared domain.

- :class:`~adcheck.domains.Interval` (one for every argument, or a tuple, one per argument):
  arrays of mutually broadcastable shapes with 0 to 3 dimensions of 1 to 3 entries (so 0-d
  arrays, size-one axes and broadcasting pairs all occur), float64 or float32 (one dtype per
  example), sometimes Python floats for 0-d float64 arguments; values inside the interval,
  away from its ``avoid`` points.
- :class:`~adcheck.domains.Custom`: the domain's own ``draw_args(draw)``.
- ``None``: the default, real floats in ``[-10, 10]`` for each required positional argument.

Every strategy draws ``(args, kwargs)``.

>>> import numpy as np
>>> from hypothesis import given, settings
>>> from adcheck import domains
>>> seen = []
>>> @settings(max_examples=20, database=None)
... @given(interval_args([domains.positive(), domains.real()]))
... def collect(example):
...     seen.append(example)
>>> collect()
>>> all(np.all(np.asarray(a) > 0) for (a, _), _ in seen)
True
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import domains as dom

__all__ = ["args_strategy", "interval_args", "arity", "cotangent_strategy"]

MAX_DIMS = 3
MAX_SIDE = 3


def arity(fn: Any) -> int:
    """The number of required positional arguments of ``fn`` (at least 1).

    >>> arity(np.add), arity(np.sum), arity(lambda a, b, c=1: a)
    (2, 1, 2)
    """
    inner = inspect.unwrap(fn) if callable(fn) else fn
    if isinstance(inner, np.ufunc):
        return inner.nin
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    count = sum(1 for p in sig.parameters.values()
                if p.kind in kinds and p.default is inspect.Parameter.empty)
    return max(count, 1)


def _float_bounds(low: float, high: float, width: int) -> tuple[float, float]:
    """``[low, high]`` shrunk to bounds representable at ``width`` bits."""
    if width == 64:
        return float(low), float(high)
    lo, hi = np.float32(low), np.float32(high)
    if float(lo) < low:
        lo = np.nextafter(lo, np.float32(np.inf))
    if float(hi) > high:
        hi = np.nextafter(hi, np.float32(-np.inf))
    return float(lo), float(hi)


def _elements(domain: dom.Interval, width: int):
    from hypothesis import strategies as st

    lo, hi = _float_bounds(domain.low, domain.high, width)
    floats = st.floats(lo, hi, width=width, allow_nan=False, allow_infinity=False,
                       allow_subnormal=False)
    return floats.filter(domain.contains) if domain.avoid else floats


def interval_args(domains: list[dom.Interval]):
    """``(args, {})`` with one array per domain, shapes mutually broadcastable (see above)."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    n = len(domains)

    @st.composite
    def draw_args(draw: Any) -> tuple[tuple, dict]:
        if n == 1:
            shapes = (draw(hnp.array_shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1,
                                            max_side=MAX_SIDE)),)
        else:
            shapes = draw(hnp.mutually_broadcastable_shapes(
                num_shapes=n, min_dims=0, max_dims=MAX_DIMS, min_side=1,
                max_side=MAX_SIDE)).input_shapes
        dtype = draw(st.sampled_from([np.float64, np.float32]))
        width = 64 if dtype is np.float64 else 32
        args: list[Any] = []
        for d, shape in zip(domains, shapes):
            arr = draw(hnp.arrays(dtype, shape, elements=_elements(d, width)))
            if shape == () and dtype is np.float64 and draw(st.booleans()):
                args.append(float(arr))
            else:
                args.append(arr)
        return tuple(args), {}

    return draw_args()


def _custom(domain: dom.Custom):
    from hypothesis import strategies as st

    @st.composite
    def draw_args(draw: Any) -> tuple[tuple, dict]:
        args, kwargs = domain.draw_args(draw)
        return tuple(args), dict(kwargs)

    return draw_args()


def args_strategy(fn: Any, domain: Any, inputs: Any = None,
                  kwargs: dict | None = None) -> tuple[Any, list[str]]:
    """The strategy of ``(args, kwargs)`` for ``fn``, and notes on where inputs come from.

    ``inputs`` overrides ``domain``: a strategy drawing the tuple of positional arguments (a
    non-tuple draw is the only argument), or a tuple of strategies, one per argument.
    ``kwargs`` are added to every call.
    """
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy

    fixed = dict(kwargs or {})
    notes: list[str] = []

    def with_fixed(pair: tuple[tuple, dict]) -> tuple[tuple, dict]:
        args, kw = pair
        return args, {**kw, **fixed}

    if inputs is not None:
        if isinstance(inputs, SearchStrategy):
            strategy = inputs.map(lambda a: (a if isinstance(a, tuple) else (a,), {}))
        elif isinstance(inputs, (tuple, list)) and all(
                isinstance(s, SearchStrategy) for s in inputs):
            strategy = st.tuples(*inputs).map(lambda a: (tuple(a), {}))
        else:
            what = type(inputs).__name__
            if isinstance(inputs, (tuple, list)):
                others = sorted({type(s).__name__ for s in inputs
                                 if not isinstance(s, SearchStrategy)})
                what += f" holding {', '.join(others)}"
            raise TypeError("inputs must be a hypothesis strategy or a tuple of strategies, "
                            f"got {what}")
        return strategy.map(with_fixed), notes
    if domain is None:
        notes.append("no domain declared: checked on default inputs (real floats, small "
                     "shapes and scalars)")
        strategy = interval_args([dom.real()] * arity(fn))
    elif isinstance(domain, dom.Custom):
        strategy = _custom(domain)
    elif isinstance(domain, dom.Interval):
        strategy = interval_args([domain] * arity(fn))
    elif isinstance(domain, tuple) and all(isinstance(d, dom.Interval) for d in domain):
        strategy = interval_args(list(domain))
    elif isinstance(domain, SearchStrategy):
        strategy = domain.map(lambda a: (a if isinstance(a, tuple) else (a,), {}))
    else:
        raise TypeError(f"cannot draw inputs from the domain {domain!r}: use an Interval, a "
                        "tuple of them, or adcheck.domains.custom(...)")
    return strategy.map(with_fixed), notes


def cotangent_strategy(shapes_dtypes: list[tuple[tuple, np.dtype]]):
    """Output cotangents, one array per floating output, values in ``[-10, 10]``."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    parts = []
    for shape, dtype in shapes_dtypes:
        width = 32 if np.finfo(dtype).bits <= 32 else 64
        elements = st.floats(-10, 10, width=width, allow_subnormal=False)
        parts.append(hnp.arrays(np.float64, shape, elements=elements))
    return st.tuples(*parts)
