"""Adjoint rules for functions that only move entries around: reshape, transpose, stack, ...

Their pullbacks are the inverse rearrangement (``reshape`` back, the inverse permutation, a
split), except ``broadcast_to``, whose pullback sums over the broadcast axes. Every pullback
is written with NumPy functions that have rules themselves, so higher derivatives work.

This module also holds the small helpers the other rule modules share: refusing keyword
arguments, normalising axes, exact unbroadcasting, and drawing inputs for the domains.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: (np.transpose(x) * np.arange(6.0).reshape(3, 2)).sum(),
...             np.ones((2, 3)))[0]
array([[0., 2., 4.],
       [1., 3., 5.]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import sum_to
from adcheck.registry import adjoint

# "This keyword argument was not given". NumPy's own sentinel, because NumPy functions that
# call others forward it explicitly (``np.sum(a, initial=np._NoValue)``).
NOT_GIVEN: Any = np._NoValue


# -- helpers shared by the rule modules ------------------------------------------------------


def reject(fn: str, **given: Any) -> None:
    """Raise :class:`NotDifferentiable` for keyword arguments a rule does not support.

    Each keyword is the argument's name and the value the caller gave (``None`` or
    :data:`NOT_GIVEN` mean it was not used; ``where=True`` is the default and accepted).

    >>> reject("sum", out=None, where=True)
    >>> reject("sum", out=np.zeros(1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adcheck.engine.errors.NotDifferentiable: np.sum(..., out=...) is not differentiable ...
    """
    for name, value in given.items():
        if value is None or value is NOT_GIVEN:
            continue
        if name == "where" and value is True:
            continue
        raise NotDifferentiable(
            f"np.{fn}(..., {name}=...) is not differentiable by adcheck's built-in rule; "
            f"call np.{fn} without {name}= "
            + _ALTERNATIVES.get(name, "(or register your own adjoint for it).")
        )


_ALTERNATIVES = {
    "out": "and assign the result instead.",
    "dtype": "and convert the input first with .astype(...).",
    "where": "and mask the input with np.where first.",
    "initial": "and combine the result with the initial value yourself "
    "(e.g. np.maximum(np.max(x), initial)).",
}


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int, or a tuple of ints, possibly negative) as sorted non-negative ints.

    >>> normalize_axes(None, 3), normalize_axes(-1, 3), normalize_axes((2, -3), 3)
    ((0, 1, 2), (2,), (0, 2))
    """
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0:  # NumPy accepts axis 0 or -1 for a 0-d array: nothing to reduce
        return ()
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(int(a) % ndim for a in axis))
    return (int(axis) % ndim,)


def broadcast_copy(g: Any, shape: tuple) -> Any:
    """``np.broadcast_to(g, shape)``, copied when it is a plain array.

    Gradients handed to users must be writable arrays, not read-only broadcast views; a traced
    value is never written into, so it stays a view.

    >>> broadcast_copy(np.float64(2.0), (2,)).flags.writeable
    True
    """
    out = np.broadcast_to(g, shape)
    if type(out) is np.ndarray:
        return out.copy()
    return out


def nones(args: tuple) -> tuple:
    """``None`` cotangents for every positional argument after the first.

    Call it before the pullback, not inside it: a closure that reads ``args`` keeps the
    input array alive until the gradient is done.

    >>> nones((np.ones(2), 0, True))
    (None, None)
    """
    return (None,) * (len(args) - 1)


# -- domains ---------------------------------------------------------------------------------


def draw_array(draw: Any, shape: tuple, low: float = -10.0, high: float = 10.0) -> np.ndarray:
    """A float64 array of ``shape`` with entries in ``[low, high]`` (a hypothesis draw).

    Subnormal numbers are left out: products of them underflow to zero, which no
    derivative check can tell from a wrong rule.

    >>> from hypothesis import find, strategies as st
    >>> find(st.composite(lambda draw: draw_array(draw, (2,)))(), lambda x: True)
    array([0., 0.])
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    elements = st.floats(low, high, width=64, allow_subnormal=False)
    return draw(hnp.arrays(np.float64, shape, elements=elements))


def draw_float_dtype(draw: Any) -> np.dtype:
    """float64 or float32 (a hypothesis draw), for domains that check both precisions.

    >>> from hypothesis import find, strategies as st
    >>> find(st.composite(draw_float_dtype)(), lambda d: d == np.float32)
    dtype('float32')
    """
    from hypothesis import strategies as st

    return np.dtype(draw(st.sampled_from([np.float64, np.float32])))


def draw_array_of(draw: Any, shape: tuple, dtype: Any, low: float = -10.0,
                  high: float = 10.0) -> np.ndarray:
    """Like :func:`draw_array`, in ``dtype`` (float64 or float32).

    >>> from hypothesis import find, strategies as st
    >>> find(st.composite(lambda draw: draw_array_of(draw, (2,), np.float32))(),
    ...      lambda x: True).dtype
    dtype('float32')
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    dtype = np.dtype(dtype)
    if dtype == np.float32:
        # the float32 numbers inside [low, high]
        lo, hi = np.float32(low), np.float32(high)
        lo = lo if float(lo) >= low else np.nextafter(lo, np.float32(np.inf))
        hi = hi if float(hi) <= high else np.nextafter(hi, np.float32(-np.inf))
        elements = st.floats(float(lo), float(hi), width=32, allow_subnormal=False)
    else:
        elements = st.floats(low, high, width=64, allow_subnormal=False)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def draw_shape(draw: Any, min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> tuple:
    """A shape with up to ``max_dims`` axes of length 1 to ``max_side``.

    >>> from hypothesis import find, strategies as st
    >>> find(st.composite(lambda draw: draw_shape(draw))(), lambda s: len(s) == 2)
    (1, 1)
    """
    from hypothesis.extra import numpy as hnp

    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                                 max_side=max_side))


def draw_axis(draw: Any, ndim: int, allow_none: bool = True) -> Any:
    """None, an int or a tuple of distinct ints valid for ``ndim`` axes, negative ones included.

    >>> from hypothesis import find, strategies as st
    >>> find(st.composite(lambda draw: draw_axis(draw, 3))(), lambda a: isinstance(a, tuple))
    ()
    """
    from hypothesis import strategies as st

    if ndim == 0:
        return draw(st.sampled_from([None, ()] if allow_none else [()]))
    one = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])
    )
    options = [one, several] + ([st.none()] if allow_none else [])
    return draw(st.one_of(*options))


def _reshape_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = draw_array(draw, shape)
    # A new shape: the factors of the size, regrouped, possibly with a -1 and unit axes.
    factors = [f for s in shape for f in _factor(s)]
    factors = list(draw(st.permutations(factors)))
    cut = draw(st.integers(0, len(factors)))
    new = [math.prod(factors[:cut]), math.prod(factors[cut:])]
    new = [s for s in new if s != 1] + [1] * draw(st.integers(0, 1))
    new = list(draw(st.permutations(new)))
    if new and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    order = draw(st.sampled_from(["C", "F"]))
    if draw(st.booleans()):
        return (x, tuple(new)), {"order": order}
    return (x,), {"shape": tuple(new), "order": order}


def _factor(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def _permutation(draw: Any, ndim: int) -> tuple[int, ...]:
    from hypothesis import strategies as st

    perm = draw(st.permutations(range(ndim)))
    return tuple(draw(st.sampled_from([a, a - ndim])) for a in perm)


def _transpose_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, max_dims=4, max_side=3)
    x = draw_array(draw, shape)
    if draw(st.booleans()):
        return (x,), {}
    return (x, _permutation(draw, len(shape))), {}


def _swapaxes_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1, max_dims=4, max_side=3)
    n = len(shape)
    a, b = draw(st.integers(-n, n - 1)), draw(st.integers(-n, n - 1))
    return (draw_array(draw, shape), a, b), {}


def _moveaxis_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1, max_dims=4, max_side=3)
    n = len(shape)
    k = draw(st.integers(1, n))
    source = _permutation(draw, n)[:k]
    dest = _permutation(draw, n)[:k]
    if k == 1 and draw(st.booleans()):
        return (draw_array(draw, shape), source[0], dest[0]), {}
    return (draw_array(draw, shape), list(source), list(dest)), {}


def _expand_dims_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    n = len(shape) + draw(st.integers(1, 2))
    axes = draw(st.lists(st.integers(0, n - 1), min_size=n - len(shape),
                         max_size=n - len(shape), unique=True))
    axes = tuple(draw(st.sampled_from([a, a - n])) for a in axes)
    axis = axes[0] if len(axes) == 1 and draw(st.booleans()) else axes
    return (draw_array(draw, shape), axis), {}


def _squeeze_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = list(draw_shape(draw, max_dims=3))
    for _ in range(draw(st.integers(0, 2))):
        shape.insert(draw(st.integers(0, len(shape))), 1)
    n = len(shape)
    units = [i for i, s in enumerate(shape) if s == 1]
    chosen = draw(st.lists(st.sampled_from(units), unique=True)) if units else []
    axis = draw(st.sampled_from([None, tuple(a - n for a in chosen), tuple(chosen)]))
    if axis is not None and len(axis) == 1 and draw(st.booleans()):
        axis = axis[0]
    x = draw_array(draw, tuple(shape))
    return ((x,) if axis is None else (x, axis)), {}


def _concatenate_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1, max_dims=3)
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    count = draw(st.integers(1, 3))
    arrays = []
    for _ in range(count):
        s = list(shape)
        if axis is None:
            s = list(draw_shape(draw, min_dims=1, max_dims=3))
        else:
            s[axis] = draw(st.integers(1, 3))
        arrays.append(draw_array(draw, tuple(s)))
    if draw(st.booleans()):
        return (arrays, axis), {}
    return (arrays,), {"axis": axis}


def _stack_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, max_dims=3)
    n = len(shape) + 1
    axis = draw(st.integers(-n, n - 1))
    arrays = [draw_array(draw, shape) for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        return (arrays, axis), {}
    return (arrays,), {"axis": axis}


def _ravel_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    x = draw_array(draw, draw_shape(draw))
    order = draw(st.sampled_from([None, "C", "F"]))
    return (x,), ({} if order is None else {"order": order})


def _broadcast_to_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, max_dims=3, max_side=3)
    # Some axes of length 1 in the array, stretched in the target, and new leading axes.
    small = tuple(draw(st.sampled_from([s, 1])) for s in shape)
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return (draw_array(draw, small), lead + shape), {}


# -- rules -----------------------------------------------------------------------------------


def _reshape_spec(a, shape=None, order="C", *, newshape=None, copy=None):
    # ``newshape=`` is NumPy 1.x's name for ``shape``.
    return (shape if newshape is None else newshape), order


@adjoint(np.reshape, domain=domains.custom(_reshape_args, "reshape to a same-size shape, C or F"),
         builtin=True)
def _reshape(*args, **kwargs):
    """Adjoint of ``np.reshape``: the cotangent is reshaped back, in the same order.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: (np.reshape(x, (3, 2)) * np.arange(6.0).reshape(3, 2)).sum(),
    ...             np.ones((2, 3)))[0]
    array([[0., 1., 2.],
           [3., 4., 5.]])
    """
    a = args[0]
    shape, order = _reshape_spec(*args, **kwargs)
    if order not in ("C", "F"):
        raise NotDifferentiable(
            f"np.reshape(..., order={order!r}) is not supported by adcheck's rule (it depends "
            "on the array's memory layout); use order='C' or order='F'."
        )
    value = np.reshape(a, shape, order=order)
    in_shape = np.shape(a)
    rest = nones(args)
    return value, lambda dy: (np.reshape(dy, in_shape, order=order),) + rest


def _transpose_spec(a, axes=None):
    return axes


@adjoint(np.transpose, domain=domains.custom(_transpose_args, "transpose, axes None or a "
                                             "permutation (negative entries too)"),
         builtin=True)
def _transpose(*args, **kwargs):
    """Adjoint of ``np.transpose``: the cotangent is transposed by the inverse permutation.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: (np.transpose(x, (1, 2, 0)) ** 2).sum(), np.ones((1, 2, 3)))[0]
    array([[[2., 2., 2.],
            [2., 2., 2.]]])
    """
    a = args[0]
    axes = _transpose_spec(*args, **kwargs)
    value = np.transpose(a, axes)
    ndim = np.ndim(a)
    if axes is None:
        inverse = None  # reversing the axes is its own inverse
    else:
        perm = [int(p) % ndim for p in axes]
        inverse = tuple(int(i) for i in np.argsort(perm))
    rest = nones(args)
    return value, lambda dy: (np.transpose(dy, inverse),) + rest


def _swapaxes_spec(a, axis1, axis2):
    return axis1, axis2


@adjoint(np.swapaxes, domain=domains.custom(_swapaxes_args, "swapaxes with any two axes"),
         builtin=True)
def _swapaxes(*args, **kwargs):
    """Adjoint of ``np.swapaxes``: swapping the same axes again.

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.swapaxes(x, 0, 1), np.ones((1, 2)))[1](np.array([[1.0], [2.0]]))
    (array([[1., 2.]]),)
    """
    a = args[0]
    axis1, axis2 = _swapaxes_spec(*args, **kwargs)
    value = np.swapaxes(a, axis1, axis2)
    rest = nones(args)
    return value, lambda dy: (np.swapaxes(dy, axis1, axis2),) + rest


def _moveaxis_spec(a, source, destination):
    return source, destination


@adjoint(np.moveaxis, domain=domains.custom(_moveaxis_args, "moveaxis with ints or lists of "
                                            "axes"),
         builtin=True)
def _moveaxis(*args, **kwargs):
    """Adjoint of ``np.moveaxis``: moving the axes back from destination to source.

    >>> import adcheck as ad
    >>> y, back = ad.pullback(lambda x: np.moveaxis(x, 0, -1), np.ones((2, 3)))
    >>> back(np.arange(6.0).reshape(3, 2))[0]
    array([[0., 2., 4.],
           [1., 3., 5.]])
    """
    a = args[0]
    source, destination = _moveaxis_spec(*args, **kwargs)
    value = np.moveaxis(a, source, destination)
    rest = nones(args)
    return value, lambda dy: (np.moveaxis(dy, destination, source),) + rest


def _reshape_back(fn: Any, name: str, domain: Any, spec: Any) -> None:
    """Register a rule for a function that only changes the shape (pullback: reshape back)."""

    def rule(*args, **kwargs):
        a = args[0]
        spec(*args, **kwargs)
        value = fn(*args, **kwargs)
        in_shape = np.shape(a)
        rest = nones(args)
        return value, lambda dy: (np.reshape(dy, in_shape),) + rest

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    rule.__doc__ = f"Adjoint of np.{name}: the cotangent is reshaped back to the input's shape."
    adjoint(fn, domain=domain, builtin=True)(rule)


def _expand_dims_spec(a, axis):
    pass


def _squeeze_spec(a, axis=None):
    pass


_reshape_back(np.expand_dims, "expand_dims",
              domains.custom(_expand_dims_args, "expand_dims, an int or a tuple of axes"),
              _expand_dims_spec)
_reshape_back(np.squeeze, "squeeze",
              domains.custom(_squeeze_args, "squeeze all unit axes or a chosen few"),
              _squeeze_spec)


def _ravel_spec(a, order="C"):
    return order


@adjoint(np.ravel, domain=domains.custom(_ravel_args, "ravel, order C or F"), builtin=True)
def _ravel(*args, **kwargs):
    """Adjoint of ``np.ravel``: the cotangent is reshaped back, in the same order.

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.ravel(x, order="F"), np.ones((2, 2)))[1](np.arange(4.0))
    (array([[0., 2.],
           [1., 3.]]),)
    """
    a = args[0]
    order = _ravel_spec(*args, **kwargs)
    if order not in ("C", "F"):
        raise NotDifferentiable(
            f"np.ravel(..., order={order!r}) is not supported by adcheck's rule (it depends "
            "on the array's memory layout); use order='C' or order='F'."
        )
    value = np.ravel(a, order=order)
    in_shape = np.shape(a)
    rest = nones(args)
    return value, lambda dy: (np.reshape(dy, in_shape, order=order),) + rest


def _broadcast_to_spec(array, shape, subok=False):
    return shape


@adjoint(np.broadcast_to, domain=domains.custom(_broadcast_to_args, "broadcast_to: new leading "
                                                "axes and stretched unit axes"),
         builtin=True)
def _broadcast_to(*args, **kwargs):
    """Adjoint of ``np.broadcast_to``: the cotangent is summed over the broadcast axes.

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.broadcast_to(x, (2, 3)), np.ones(3))[1](np.ones((2, 3)))
    (array([2., 2., 2.]),)
    """
    a = args[0]
    shape = _broadcast_to_spec(*args, **kwargs)
    value = np.broadcast_to(a, shape)
    in_shape = np.shape(a)
    rest = nones(args)
    return value, lambda dy: (sum_to(dy, in_shape),) + rest


def _join_spec(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return axis, out, dtype


def _split(dy: Any, shapes: list[tuple], axis: Any, stacked: bool) -> list:
    """Cut the cotangent of ``concatenate``/``stack`` back into one piece per input."""
    if stacked:
        # stack: piece i sits at index i of the new axis.
        lead = (slice(None),) * (int(axis) % np.ndim(dy))
        return [dy[lead + (i,)] for i in range(len(shapes))]
    pieces, start = [], 0
    if axis is None:
        # concatenate(axis=None) joins the raveled inputs.
        for shape in shapes:
            stop = start + math.prod(shape)
            pieces.append(np.reshape(dy[start:stop], shape))
            start = stop
        return pieces
    ax = int(axis) % np.ndim(dy)
    lead = (slice(None),) * ax
    for shape in shapes:
        stop = start + shape[ax]
        pieces.append(dy[lead + (slice(start, stop),)])
        start = stop
    return pieces


def _join(fn: Any, name: str, stacked: bool) -> Any:
    def rule(*args, **kwargs):
        arrays = args[0]
        axis, out, dtype = _join_spec(*args, **kwargs)
        reject(name, out=out, dtype=dtype)
        value = fn(*args, **kwargs)
        if isinstance(arrays, (list, tuple)):
            shapes = [np.shape(a) for a in arrays]
            rest = nones(args)
            return value, lambda dy: (_split(dy, shapes, axis, stacked),) + rest
        # One array, joined along its first axis as a sequence of sub-arrays: its cotangent
        # is the pieces stacked back into one array.
        shape = np.shape(arrays)
        shapes = [shape[1:]] * shape[0]
        rest = nones(args)
        return value, lambda dy: (np.stack(_split(dy, shapes, axis, stacked)),) + rest

    rule.__name__ = rule.__qualname__ = f"{name}_adjoint"
    return rule


_concatenate = adjoint(
    np.concatenate,
    domain=domains.custom(_concatenate_args, "concatenate 1-3 arrays, axis negative or None"),
    builtin=True,
)(_join(np.concatenate, "concatenate", stacked=False))
_concatenate.__doc__ = """Adjoint of ``np.concatenate``: the cotangent is cut back into pieces.

The list argument gets a list of cotangents, one per array.

>>> import adcheck as ad
>>> ad.gradient(lambda a, b: (np.concatenate([a, b]) * np.arange(3.0)).sum(),
...             np.ones(1), np.ones(2))
(array([0.]), array([1., 2.]))
"""

_stack = adjoint(
    np.stack,
    domain=domains.custom(_stack_args, "stack 1-3 same-shape arrays, axis negative too"),
    builtin=True,
)(_join(np.stack, "stack", stacked=True))
_stack.__doc__ = """Adjoint of ``np.stack``: piece ``i`` of the cotangent goes to array ``i``.

>>> import adcheck as ad
>>> ad.gradient(lambda a, b: (np.stack([a, b], axis=1) * np.arange(4.0).reshape(2, 2)).sum(),
...             np.ones(2), np.ones(2))
(array([0., 2.]), array([1., 3.]))
"""
