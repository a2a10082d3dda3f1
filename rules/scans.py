"""Adjoint rules for scans and differences: ``cumsum``, ``cumprod``, ``nancumsum``,
``nancumprod``, ``cumulative_sum``, ``cumulative_prod``, running maxima and minima, ``diff``,
``gradient``; and the ufunc methods ``accumulate`` and ``outer``.

- ``cumsum``: the cotangent summed from the end (a reversed cumsum);
- ``cumprod``: entry ``j`` gets ``P[j-1] * R[j]`` with ``P`` the cumulative product before
  ``j`` and ``R[j] = dy[j] + x[j+1] R[j+1]``, solved by a doubling scan: products and sums
  only, so zeros are handled exactly (as for ``prod``) and second derivatives work;
- ``nancumsum``/``nancumprod``: the same with NaN entries read as 0 / 1; NaN entries get 0;
- ``np.maximum.accumulate``/``np.minimum.accumulate`` (the primitives
  :func:`maximum_accumulate`, :func:`minimum_accumulate`): each output's cotangent goes to
  the entry holding the running extremum; when several entries so far tie for it, it is split
  evenly among them (the same convention as ``max``);
- ``diff``: the transposed difference stencil (``prepend``/``append`` get the cotangent of
  their part when passed positionally);
- ``gradient``: the transposed central/one-sided stencils of ``edge_order`` 1 or 2, divided by
  the spacing; scalar spacings passed positionally get ``-sum(dy * out) / h``. Coordinate
  arrays (non-uniform grids) are constants: ``f`` is differentiated through NumPy's
  non-uniform stencil, and differentiating the coordinates themselves raises
  :class:`~adcheck.NotDifferentiable`.

``np.add.accumulate`` and ``np.multiply.accumulate`` are ``cumsum``/``cumprod``; ``ufunc.outer``
of any two-argument ufunc is the ufunc on ``a`` reshaped against ``b``, so it uses the ufunc's
own rule. ``out=`` and ``dtype=`` are rejected.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.cumprod(x).sum(), np.array([2.0, 0.0, 3.0]))[0]
array([1., 8., 0.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit, sum_to
from adcheck.engine.tracer import _UFUNC_REDUCTIONS, strip
from adcheck.registry import adjoint, primitive

from .reductions import distinct_array, real_array, small_array
from .shape import NOT_GIVEN, draw_array_of, draw_shape, nones, reject

# -- helpers: work along the last axis -------------------------------------------------------


def _to_last(x: Any, axis: int) -> Any:
    return x if axis in (-1, np.ndim(x) - 1) else np.moveaxis(x, axis, -1)


def _from_last(x: Any, axis: int) -> Any:
    return x if axis in (-1, np.ndim(x) - 1) else np.moveaxis(x, -1, axis)


def _shift_left(v: Any, s: int) -> Any:
    """``v[..., j + s]``, with zeros past the end (along the last axis)."""
    lead = np.shape(v)[:-1]
    zeros = np.zeros(lead + (min(s, np.shape(v)[-1]),), np.result_type(strip(v)))
    return np.concatenate([v[..., s:], zeros], axis=-1)


def suffix_scan(a: Any, b: Any) -> Any:
    """``R`` with ``R[j] = b[j] + a[j] * R[j+1]`` along the last axis (``R`` is 0 past the end).

    A doubling scan: ``log2(n)`` steps of products and sums, no division, so it is exact
    with zeros in ``a`` and differentiable by the rules (second derivatives of ``cumprod``).

    >>> suffix_scan(np.array([2.0, 3.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    array([9., 4., 1.])
    """
    n = np.shape(b)[-1] if np.ndim(b) else 0
    s = 1
    while s < n:
        b = b + a * _shift_left(b, s)
        if 2 * s < n:
            a = a * _shift_left(a, s)
        s *= 2
    return b


def _scan_spec(name: str):
    def spec(a, axis=None, dtype=None, out=None):
        reject(name, dtype=dtype, out=out)
        return axis

    return spec


def _scan_layout(a: Any, axis: Any) -> tuple[Any, int]:
    """The array the scan runs over (raveled for axis=None or a 0-d array) and its axis."""
    if axis is None or np.ndim(a) == 0:
        return np.reshape(a, (-1,)), 0
    return a, int(axis) % np.ndim(a)


def _reverse_cumsum(dy: Any, axis: int) -> Any:
    """``dy`` summed from the end along ``axis``: the adjoint of ``cumsum``."""
    back = (slice(None),) * axis + (slice(None, None, -1),)
    return np.cumsum(dy[back], axis=axis)[back]


def _cumprod_back(x: Any, y: Any, dy: Any, axis: int) -> Any:
    """The adjoint of ``y = cumprod(x, axis)`` for the cotangent ``dy`` (no division)."""
    x, y, dy = _to_last(x, axis), _to_last(y, axis), _to_last(dy, axis)
    lead = np.shape(x)[:-1]
    ones = np.ones(lead + (1,), np.result_type(strip(x)))
    before = np.concatenate([ones, y[..., :-1]], axis=-1)  # product of the entries before j
    g = before * suffix_scan(_shift_left(x, 1), dy)
    return _from_last(g, axis)


# -- cumsum, cumprod and their NaN versions ---------------------------------------------------


def _cumulative(fn: Any, name: str, product: bool, nans: bool) -> Any:
    """The rule of a cumulative sum or product; ``nans``: NaN entries read as 0 or 1."""
    spec = _scan_spec(name)

    def rule(*args, **kwargs):
        a = args[0]
        axis = spec(*args, **kwargs)
        value = fn(a, axis=axis)
        shape = np.shape(a)
        x, ax = _scan_layout(a, axis)
        mask = np.isnan(strip(x)) if nans else None
        if mask is not None and np.any(mask):
            x = np.where(mask, 1.0 if product else 0.0, x)

        def back(dy):
            dy = np.reshape(dy, np.shape(x))
            if product:
                g = _cumprod_back(x, np.reshape(value, np.shape(x)), dy, ax)
            else:
                g = _reverse_cumsum(dy, ax)
            if mask is not None and np.any(mask):
                g = np.where(mask, 0.0, g)
            return (fit(np.reshape(g, shape), a),) + nones(args)

        return value, back

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = f"Adjoint of ``np.{name}`` (see the module docstring)."
    return rule


def _scan_args(draw: Any, values: Any = None, nans: bool = False) -> tuple[tuple, dict]:
    """An array (0-d to 3-d), axis None or any int (negative too), positional or keyword."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape = draw_shape(draw)
    x = (values or real_array)(draw, shape)
    if nans:
        holes = draw(hnp.arrays(np.bool_, shape, elements=st.sampled_from([False, False, True])))
        x = np.where(holes, np.nan, x).astype(x.dtype)
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1))) if n else None
    if draw(st.booleans()):
        return (x, axis), {}
    return (x,), {"axis": axis}


_SCAN = domains.custom(_scan_args, "0-3 dims, axis None or any int, float64/32")
_SCAN_SMALL = domains.custom(lambda d: _scan_args(d, small_array),
                             "like cumsum, entries in [-2, 2] with zeros")
_SCAN_NAN = domains.custom(lambda d: _scan_args(d, nans=True), "like cumsum, with NaN entries")
_SCAN_SMALL_NAN = domains.custom(lambda d: _scan_args(d, small_array, nans=True),
                                 "like cumprod, with NaN entries")

for _fn, _name, _product, _nans, _domain in (
    (np.cumsum, "cumsum", False, False, _SCAN),
    (np.cumprod, "cumprod", True, False, _SCAN_SMALL),
    (np.nancumsum, "nancumsum", False, True, _SCAN_NAN),
    (np.nancumprod, "nancumprod", True, True, _SCAN_SMALL_NAN),
):
    adjoint(_fn, domain=_domain, builtin=True)(_cumulative(_fn, _name, _product, _nans))


# -- running maxima and minima (np.maximum.accumulate, np.minimum.accumulate) ---------------


def _accumulate_spec(name: str):
    def spec(array, axis=0, dtype=None, out=None):
        reject(name, dtype=dtype, out=out)
        return axis

    return spec


@primitive
def maximum_accumulate(array: Any, axis: int = 0) -> Any:
    """``np.maximum.accumulate(array, axis)`` as a primitive with an adjoint (the running max).

    >>> maximum_accumulate(np.array([1.0, 3.0, 2.0, 5.0]))
    array([1., 3., 3., 5.])
    """
    return np.maximum.accumulate(array, axis=axis)


@primitive
def minimum_accumulate(array: Any, axis: int = 0) -> Any:
    """``np.minimum.accumulate(array, axis)`` as a primitive with an adjoint (the running min).

    >>> minimum_accumulate(np.array([3.0, 1.0, 2.0]))
    array([3., 1., 1.])
    """
    return np.minimum.accumulate(array, axis=axis)


def _running_extremum_back(x: np.ndarray, y: np.ndarray, dy: Any, axis: int) -> Any:
    """Each ``dy[i]`` goes to the entries ``j <= i`` holding the running extremum ``y[i]``,
    split evenly among ties.

    ``y`` is constant between the places where it changes ("runs"); the entries holding
    ``y[i]`` are those of its run where ``x == y``. With ``c[i]`` the number of them up to
    ``i``, entry ``j`` gets ``sum(dy[i] / c[i])`` over ``i >= j`` in its run: a suffix scan
    that stops at run boundaries. Only ``dy`` may be traced (the rest are plain values).
    """
    x, y, dy = _to_last(x, axis), _to_last(y, axis), _to_last(dy, axis)
    hit = x == y
    n = x.shape[-1]
    starts = np.ones(x.shape, bool)
    starts[..., 1:] = y[..., 1:] != y[..., :-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0), axis=-1)
    count = np.cumsum(hit, axis=-1)
    ties = count - np.take_along_axis(count, first, axis=-1) + 1  # run starts are hits
    same_run_next = np.zeros(x.shape, x.dtype)
    same_run_next[..., :-1] = ~starts[..., 1:]
    g = suffix_scan(same_run_next, dy / ties) * hit
    return _from_last(g, axis)


def _running_extremum(prim: Any, name: str) -> Any:
    spec = _accumulate_spec(name)

    def rule(*args, **kwargs):
        a = args[0]
        axis = spec(*args, **kwargs)
        value = prim(a, axis)
        ax = int(axis) % np.ndim(a)

        def back(dy):
            g = _running_extremum_back(np.asarray(strip(a)), np.asarray(strip(value)), dy, ax)
            return (fit(g, a),) + nones(args)

        return value, back

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = (f"Adjoint of ``np.{name.replace('_', '.')}``: the cotangent goes to the "
                    "running extremum's entry, split evenly among ties.")
    return rule


def _running_args(draw: Any) -> tuple[tuple, dict]:
    """Distinct entries (no ties, so the running extremum is smooth), 1-3 dims, any axis."""
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    x = distinct_array(draw, shape)
    n = len(shape)
    axis = draw(st.integers(-n, n - 1))
    if draw(st.booleans()):
        return (x, axis), {}
    return (x,), {"axis": axis}


_RUNNING = domains.custom(_running_args, "1-3 dims, any axis, entries >= 0.3 apart")
for _prim, _name in ((maximum_accumulate, "maximum_accumulate"),
                     (minimum_accumulate, "minimum_accumulate")):
    adjoint(_prim, domain=_RUNNING, builtin=True)(_running_extremum(_prim, _name))


# -- cumulative_sum, cumulative_prod (NumPy 2's array-API scans) ------------------------------


def _array_api_scan_spec(name: str):
    def spec(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        reject(name, dtype=dtype, out=out)
        return axis, include_initial

    return spec


def _array_api_scan(fn: Any, name: str, product: bool) -> Any:
    spec = _array_api_scan_spec(name)

    def rule(*args, **kwargs):
        a = args[0]
        axis, include_initial = spec(*args, **kwargs)
        value = fn(a, axis=axis, include_initial=include_initial)
        shape = np.shape(a)
        x, ax = _scan_layout(a, axis)

        def back(dy):
            if include_initial:  # the leading 0 (or 1) does not depend on x
                dy = dy[(slice(None),) * ax + (slice(1, None),)]
            dy = np.reshape(dy, np.shape(x))
            if product:
                kept = value[(slice(None),) * ax + (slice(1, None),)] if include_initial \
                    else value
                g = _cumprod_back(x, np.reshape(kept, np.shape(x)), dy, ax)
            else:
                g = _reverse_cumsum(dy, ax)
            return (fit(np.reshape(g, shape), a),) + nones(args)

        return value, back

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = f"Adjoint of ``np.{name}``: as cumsum/cumprod, the initial entry ignored."
    return rule


def _array_api_scan_args(draw: Any, values: Any) -> tuple[tuple, dict]:
    """axis None for 0-d and 1-d arrays, else any int; include_initial both ways."""
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    n = len(shape)
    x = values(draw, shape)
    kwargs: dict[str, Any] = {"include_initial": draw(st.booleans())}
    if n > 1 or (n == 1 and draw(st.booleans())):
        kwargs["axis"] = draw(st.integers(-n, n - 1))
    return (x,), kwargs


if hasattr(np, "cumulative_sum"):  # NumPy >= 2.1
    adjoint(np.cumulative_sum, builtin=True, domain=domains.custom(
        lambda d: _array_api_scan_args(d, real_array), "0-3 dims, any axis, include_initial")
    )(_array_api_scan(np.cumulative_sum, "cumulative_sum", product=False))
    adjoint(np.cumulative_prod, builtin=True, domain=domains.custom(
        lambda d: _array_api_scan_args(d, small_array), "like cumulative_sum, entries in "
        "[-2, 2] with zeros")
    )(_array_api_scan(np.cumulative_prod, "cumulative_prod", product=True))


# -- diff ------------------------------------------------------------------------------------


def _diff_spec(a, n=1, axis=-1, prepend=NOT_GIVEN, append=NOT_GIVEN):
    return n, axis, prepend, append


def _diff_transpose(dy: Any, axis: int) -> Any:
    """The adjoint of one first difference along ``axis``: ``dx[j] = dy[j-1] - dy[j]``."""
    shape = list(np.shape(dy))
    shape[axis] = 1
    zeros = np.zeros(tuple(shape), np.result_type(strip(dy)))
    return -np.diff(np.concatenate([zeros, dy, zeros], axis=axis), axis=axis)


def _diff_args(draw: Any) -> tuple[tuple, dict]:
    """n 0-3, any axis, prepend/append absent, a scalar or an array, positional or keyword."""
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    x = real_array(draw, shape)
    ndim = len(shape)
    n = draw(st.integers(0, 3))
    axis = draw(st.integers(-ndim, ndim - 1))
    ends = []
    for _ in range(2):
        kind = draw(st.sampled_from(["none", "scalar", "array"]))
        if kind == "none":
            ends.append(NOT_GIVEN)
        elif kind == "scalar":
            ends.append(draw_array_of(draw, (), x.dtype))
        else:
            side = list(shape)
            side[axis] = draw(st.integers(1, 2))
            ends.append(draw_array_of(draw, tuple(side), x.dtype))
    prepend, append = ends
    if draw(st.booleans()):  # positional: prepend and append are differentiated
        if append is not NOT_GIVEN:
            return (x, n, axis, 0.0 if prepend is NOT_GIVEN else prepend, append), {}
        if prepend is not NOT_GIVEN:
            return (x, n, axis, prepend), {}
        return (x, n, axis), {}
    kwargs: dict[str, Any] = {"n": n, "axis": axis}
    if prepend is not NOT_GIVEN:
        kwargs["prepend"] = prepend
    if append is not NOT_GIVEN:
        kwargs["append"] = append
    return (x,), kwargs


@adjoint(np.diff, domain=domains.custom(_diff_args, "1-3 dims, n 0-3, any axis, prepend/append"),
         builtin=True)
def _diff(*args, **kwargs):
    """Adjoint of ``np.diff``: the transposed difference, ``n`` times; ``prepend``/``append``
    get their part of it (summed for a scalar that NumPy broadcast).

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.diff(x), np.ones(3))[1](np.array([1.0, 10.0]))
    (array([-1., -9., 10.]),)
    """
    a = args[0]
    n, axis, prepend, append = _diff_spec(*args, **kwargs)
    value = np.diff(*args, **kwargs)
    if n == 0:
        return value, lambda dy: (dy,) + nones(args)
    shape = np.shape(a)
    ax = int(axis) % len(shape)

    def length(end: Any) -> int:
        if end is NOT_GIVEN:
            return 0
        return 1 if np.ndim(end) == 0 else np.shape(end)[ax]

    cuts = np.cumsum([length(prepend), shape[ax]])
    total = int(cuts[-1]) + length(append)

    def back(dy):
        if np.shape(dy)[ax] == 0:  # n >= the length: the output is empty
            full = list(shape)
            full[ax] = total
            g = np.zeros(tuple(full), np.result_type(strip(dy)))
        else:
            g = dy
            for _ in range(int(n)):
                g = _diff_transpose(g, ax)
        lead = (slice(None),) * ax
        parts = [g[lead + (slice(0, int(cuts[0])),)], g[lead + (slice(*map(int, cuts)),)],
                 g[lead + (slice(int(cuts[1]), None),)]]
        grads: list[Any] = [fit(parts[1], a), None, None]
        for end, part in ((prepend, parts[0]), (append, parts[2])):
            grads.append(None if end is NOT_GIVEN else fit(sum_to(part, np.shape(end)), end))
        return tuple(grads[: len(args)])

    return value, back


# -- gradient --------------------------------------------------------------------------------


def _gradient_spec(f, *varargs, axis=None, edge_order=1):
    return varargs, axis, edge_order


def _edge(d: Any, coefs: tuple[float, ...], zeros: Any, at_start: bool) -> Any:
    """``coefs * d`` at the first (or last) entries of the axis, zeros elsewhere."""
    parts = [c * d for c in coefs]
    return np.concatenate(parts + [zeros] if at_start else [zeros] + parts, axis=-1)


def _stencil_transpose(d: Any, edge_order: int) -> Any:
    """The adjoint of ``np.gradient``'s unit-spacing stencil along the last axis.

    Interior: ``y[i] = (f[i+1] - f[i-1]) / 2``; edges: one-sided differences of order 1
    (``f[1] - f[0]``) or 2 (``(-3 f[0] + 4 f[1] - f[2]) / 2``), and their mirror images.
    """
    n = np.shape(d)[-1]
    lead = np.shape(d)[:-1]
    dtype = np.result_type(strip(d))
    half = d[..., 1:-1] * 0.5
    two = np.zeros(lead + (2,), dtype)
    g = np.concatenate([two, half], axis=-1) - np.concatenate([half, two], axis=-1)
    first, last = d[..., :1], d[..., -1:]
    if edge_order == 1:
        rest = np.zeros(lead + (n - 2,), dtype)
        return (g + _edge(first, (-1.0, 1.0), rest, True)
                + _edge(last, (-1.0, 1.0), rest, False))
    rest = np.zeros(lead + (n - 3,), dtype)
    return (g + _edge(first, (-1.5, 2.0, -0.5), rest, True)
            + _edge(last, (0.5, -2.0, 1.5), rest, False))


def _nonuniform_transpose(d: Any, x: np.ndarray, edge_order: int) -> Any:
    """The adjoint of ``np.gradient``'s stencil along the last axis for coordinates ``x``.

    Row ``i`` of the stencil is ``a f[i-1] + b f[i] + c f[i+1]`` with NumPy's coefficients
    from the spacings ``dx1 = x[i] - x[i-1]``, ``dx2 = x[i+1] - x[i]`` (constants); the
    edges are NumPy's one-sided formulas of ``edge_order`` 1 or 2.
    """
    n = np.shape(d)[-1]
    lead = np.shape(d)[:-1]
    dtype = np.result_type(strip(d))
    dx = np.diff(np.asarray(x, dtype=np.float64))
    dx1, dx2 = dx[:-1], dx[1:]
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    inner = d[..., 1:-1]
    one, two = np.zeros(lead + (1,), dtype), np.zeros(lead + (2,), dtype)
    g = (np.concatenate([inner * a, two], axis=-1)
         + np.concatenate([one, inner * b, one], axis=-1)
         + np.concatenate([two, inner * c], axis=-1))
    first, last = d[..., :1], d[..., -1:]
    if edge_order == 1:
        rest = np.zeros(lead + (n - 2,), dtype)
        return (g + _edge(first, (-1 / dx[0], 1 / dx[0]), rest, True)
                + _edge(last, (-1 / dx[-1], 1 / dx[-1]), rest, False))
    rest = np.zeros(lead + (n - 3,), dtype)
    h1, h2 = dx[0], dx[1]
    start = (-(2 * h1 + h2) / (h1 * (h1 + h2)), (h1 + h2) / (h1 * h2), -h1 / (h2 * (h1 + h2)))
    h1, h2 = dx[-2], dx[-1]
    end = (h2 / (h1 * (h1 + h2)), -(h2 + h1) / (h1 * h2), (2 * h2 + h1) / (h2 * (h1 + h2)))
    return g + _edge(first, start, rest, True) + _edge(last, end, rest, False)


def _coordinates_not_differentiable() -> None:
    raise NotDifferentiable(
        "np.gradient: the coordinate arrays given as spacing are not differentiated by "
        "adcheck's built-in rule (f is, and scalar spacings are); pass the coordinates as a "
        "constant, or register your own adjoint for np.gradient."
    )


def _gradient_args(draw: Any) -> tuple[tuple, dict]:
    """1-3 dims, axis None/int/tuple, edge_order 1 or 2 (sides long enough for it), and no
    spacing, one scalar spacing, or one per axis (positive scalars or integer coordinates)."""
    from hypothesis import strategies as st

    edge_order = draw(st.sampled_from([1, 2]))
    ndim = draw(st.integers(1, 3))
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                   unique=True).map(tuple)))
    axes = range(ndim) if axis is None else [a % ndim for a in
                                             (axis if isinstance(axis, tuple) else (axis,))]
    shape = tuple(draw(st.integers(edge_order + 1, edge_order + 2)) if i in axes
                  else draw(st.integers(1, 2)) for i in range(ndim))
    f = real_array(draw, shape)
    spacing = draw(st.sampled_from(["none", "one", "each", "coordinates"]))
    count = {"none": 0, "one": 1}.get(spacing, len(axes))
    h: tuple = tuple(float(draw(st.floats(0.5, 2.0))) for _ in range(count))
    if spacing == "coordinates":  # integer grids (constants to the checker), some uneven
        h = tuple(
            np.cumsum(draw(st.lists(st.integers(1, 3), min_size=shape[a], max_size=shape[a])))
            if draw(st.booleans()) else h[k] for k, a in enumerate(axes))
    kwargs: dict[str, Any] = {"edge_order": edge_order}
    if axis is not None:
        kwargs["axis"] = axis
    return (f,) + h, kwargs


@adjoint(np.gradient, domain=domains.custom(_gradient_args, "1-3 dims, axis None/int/tuple, "
                                            "edge_order 1/2, scalar spacings or integer "
                                            "coordinates"), builtin=True)
def _gradient(*args, **kwargs):
    """Adjoint of ``np.gradient``: the transposed stencils over the spacing; a scalar spacing
    ``h`` gets ``-sum(dy * out) / h``; coordinate arrays are constants (see the module doc).

    >>> import adcheck as ad
    >>> ad.pullback(lambda f: np.gradient(f), np.ones(3))[1](np.array([1.0, 0.0, 0.0]))
    (array([-1.,  1.,  0.]),)
    """
    f = args[0]
    varargs, axis, edge_order = _gradient_spec(*args, **kwargs)
    value = np.gradient(*args, **kwargs)
    ndim = np.ndim(f)
    if axis is None:
        axes = tuple(range(ndim))
    else:
        axes = tuple(int(a) % ndim for a in (axis if isinstance(axis, (tuple, list))
                                             else (axis,)))
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1:
        spacings = [varargs[0]] * len(axes)
    else:
        spacings = list(varargs)
    outs = value if len(axes) > 1 else (value,)

    def back(dy):
        dys = dy if len(axes) > 1 else (dy,)
        g = None
        dh = []
        for d, out, ax, h in zip(dys, outs, axes, spacings):
            if np.ndim(h) == 0:
                part = _stencil_transpose(_to_last(d, ax), int(edge_order)) / h
                dh.append(lambda d=d, out=out, h=h: fit(-np.sum(d * out) / h, h))
            else:
                part = _nonuniform_transpose(_to_last(d, ax), strip(h), int(edge_order))
                # integer coordinates are never traced; float ones raise if differentiated
                integer = np.result_type(strip(h)).kind in "iu"
                dh.append(None if integer else _coordinates_not_differentiable)
            part = _from_last(part, ax)
            g = part if g is None else g + part
        if len(varargs) == 1 and len(dh) > 1:  # one scalar spacing shared by every axis
            parts = dh
            dh = [lambda: fit(sum(p() for p in parts), varargs[0])]
        return (fit(g, f),) + tuple(dh[: len(varargs)])

    return value, back


# -- ufunc methods: accumulate and outer -------------------------------------------------------


def _accumulate(ufunc: Any, scan: Any) -> Any:
    """``ufunc.accumulate`` (NumPy's signature) as the scan with a rule."""
    spec = _accumulate_spec(f"{ufunc.__name__}.accumulate")

    def accumulate(array, axis=0, dtype=None, out=None):
        axis = spec(array, axis, dtype, out)
        if np.ndim(array) == 0:
            raise TypeError("cannot accumulate on a scalar")  # as NumPy says
        return scan(array, axis)

    return accumulate


def _outer(ufunc: Any) -> Any:
    """``ufunc.outer(a, b)``: the ufunc on ``a`` with ``ndim(b)`` new trailing axes, and ``b``."""

    def outer(a, b, **kwargs):
        given = sorted(k for k, v in kwargs.items() if v is not None)
        if given:
            raise NotDifferentiable(
                f"np.{ufunc.__name__}.outer with {', '.join(k + '=' for k in given)} is not "
                f"differentiable by adcheck; call np.{ufunc.__name__}.outer(a, b) without them."
            )
        a_axes = np.reshape(a, np.shape(a) + (1,) * np.ndim(b))
        return ufunc(a_axes, b)

    return outer


_UFUNC_REDUCTIONS.update({
    (np.add, "accumulate"): _accumulate(np.add, lambda x, axis: np.cumsum(x, axis=axis)),
    (np.multiply, "accumulate"): _accumulate(np.multiply,
                                             lambda x, axis: np.cumprod(x, axis=axis)),
    (np.maximum, "accumulate"): _accumulate(np.maximum, maximum_accumulate),
    (np.minimum, "accumulate"): _accumulate(np.minimum, minimum_accumulate),
})
# Every two-argument ufunc: its outer product uses its own rule (or raises that it has none).
_UFUNC_REDUCTIONS.update({
    (u, "outer"): _outer(u) for u in vars(np).values()
    if isinstance(u, np.ufunc) and u.nin == 2 and u.nout == 1
})
