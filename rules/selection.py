"""Adjoint rules for functions that pick entries: sort, partition, take, take_along_axis,
choose, select.

Each output entry is one of the inputs' entries, so the pullback adds the cotangent back at
the positions that were picked (:func:`~adcheck.rules.copying.scatter_back`; an entry picked
twice collects both cotangents).

``sort`` and ``partition`` are not differentiable where entries tie (there the order of the
tied entries may flip under any perturbation). Their rules follow a stable argsort, so at a
tie the whole cotangent of the sorted position goes to the tied entry that comes first in the
input: one subgradient, not an average. The checker draws entries apart from each other.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.sort(x)[-1], np.array([3.0, 5.0, 4.0]))[0]
array([0., 1., 0.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .copying import gather_back, gather_rule, scatter_back, source_positions
from .shape import draw_array_of, draw_float_dtype, draw_shape, nones, reject

# -- domains ---------------------------------------------------------------------------------


def _distinct(draw: Any, shape: tuple, dtype: Any) -> np.ndarray:
    """Entries at least 0.4 apart in random order (no ties)."""
    from hypothesis import strategies as st

    n = math.prod(shape)
    ramp = np.array(draw(st.permutations(range(n))), dtype=np.float64) * 0.5 - n / 4
    noise = draw_array_of(draw, (n,), np.float64, -0.05, 0.05)
    return np.reshape(ramp + noise, shape).astype(dtype)


def _sort_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw)
    x = _distinct(draw, shape, draw_float_dtype(draw))
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1))) if n else None
    kwargs: dict = {} if axis == -1 and draw(st.booleans()) else {"axis": axis}
    kind = draw(st.sampled_from([None, "quicksort", "mergesort", "heapsort", "stable"]))
    if kind is not None:
        kwargs["kind"] = kind
    return (x,), kwargs


def _partition_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = draw_shape(draw, min_dims=1)
    x = _distinct(draw, shape, draw_float_dtype(draw))
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    length = math.prod(shape) if axis is None else shape[axis]
    index = st.integers(-length, length - 1)
    kth = draw(st.one_of(index, st.lists(index, min_size=1, max_size=3)))
    return (x, kth), ({} if axis == -1 else {"axis": axis})


def _take_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape = draw_shape(draw, min_dims=1)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    length = math.prod(shape) if axis is None else shape[axis]
    mode = draw(st.sampled_from([None, "raise", "wrap", "clip"]))
    span = length if mode in (None, "raise") else 2 * length + 1  # wrap/clip: out of range too
    entries = st.integers(-span, span - 1) if mode in (None, "raise", "wrap") else \
        st.integers(-2, span)
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    indices = draw(hnp.arrays(np.intp, index_shape, elements=entries))
    if draw(st.booleans()) and indices.ndim == 1:
        indices = indices.tolist()
    elif indices.ndim == 0 and draw(st.booleans()):
        indices = int(indices)
    kwargs: dict = {} if axis is None else {"axis": axis}
    if mode is not None:
        kwargs["mode"] = mode
    return (x, indices), kwargs


def _take_along_axis_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape = draw_shape(draw, min_dims=1)
    x = draw_array_of(draw, shape, draw_float_dtype(draw))
    n = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    if axis is None:
        index_shape: tuple = (draw(st.integers(1, 4)),)
        length = math.prod(shape)
    else:
        # Every other axis as x's (or 1, broadcast); the chosen one of any length.
        index_shape = tuple(draw(st.sampled_from([s, 1])) for s in shape)
        index_shape = tuple(draw(st.integers(1, 4)) if i == axis % n else s
                            for i, s in enumerate(index_shape))
        length = shape[axis]
    indices = draw(hnp.arrays(np.intp, index_shape, elements=st.integers(-length, length - 1)))
    return (x, indices), {"axis": axis}


def _choose_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    dtype = draw_float_dtype(draw)
    count = draw(st.integers(1, 3))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=count + 1, max_dims=2,
                                                    max_side=3)).input_shapes
    mode = draw(st.sampled_from([None, "raise", "wrap", "clip"]))
    entries = st.integers(0, count - 1) if mode in (None, "raise") else st.integers(-3, count + 2)
    a = draw(hnp.arrays(np.intp, shapes[0], elements=entries))
    choices: Any = [draw_array_of(draw, s, dtype) for s in shapes[1:]]
    if all(c.shape == choices[0].shape for c in choices) and draw(st.booleans()):
        choices = np.stack(choices)  # one array: its first axis holds the choices
    return (a, choices), ({} if mode is None else {"mode": mode})


def _select_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    dtype = draw_float_dtype(draw)
    count = draw(st.integers(1, 3))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2 * count + 1, max_dims=2,
                                                    max_side=3)).input_shapes
    conditions = [draw(hnp.arrays(np.bool_, s)) for s in shapes[:count]]
    choices = [draw_array_of(draw, s, dtype) for s in shapes[count:2 * count]]
    if draw(st.booleans()):
        return (conditions, choices), {}
    return (conditions, choices, draw_array_of(draw, shapes[-1], dtype)), {}


# -- rules -----------------------------------------------------------------------------------


def _sort_spec(a, axis=-1, kind=None, order=None, *, stable=None):
    return axis, order


def _picked(a: Any, axis: Any, pick: Any) -> np.ndarray:
    """The flat positions of ``a``'s entries in the order ``pick`` (an argsort along an axis)
    puts them; ``axis=None`` works on the raveled array."""
    values = strip(a)
    positions = np.arange(values.size).reshape(np.shape(values))
    if axis is None:
        positions, values, axis = np.ravel(positions), np.ravel(values), 0
    return np.take_along_axis(positions, pick(values, axis), axis=axis)


@adjoint(np.sort, domain=domains.custom(_sort_args, "entries apart (no ties), axis None/int, "
                                        "every kind"),
         builtin=True)
def _sort(*args, **kwargs):
    """Adjoint of ``np.sort``: the cotangent goes back to where each sorted entry came from.

    Ties follow a stable argsort (see the module's note).

    >>> import adcheck as ad
    >>> ad.pullback(lambda x: np.sort(x), np.array([2.0, 1.0]))[1](np.array([10.0, 20.0]))
    (array([20., 10.]),)
    """
    a = args[0]
    axis, order = _sort_spec(*args, **kwargs)
    reject("sort", order=order)
    shape = np.shape(a)
    index = _picked(a, axis, lambda v, ax: np.argsort(v, axis=ax, kind="stable"))
    # The value is read off the same positions, so that value and gradient agree at ties.
    value = np.reshape(a, -1)[index]
    return value, lambda dy: (scatter_back(dy, index, shape),) + nones(args)


def _partition_spec(a, kth, axis=-1, kind="introselect", order=None):
    return kth, axis, kind, order


@adjoint(np.partition, domain=domains.custom(_partition_args, "entries apart (no ties), kth "
                                             "an int or a list, axis None/int"),
         builtin=True)
def _partition(*args, **kwargs):
    """Adjoint of ``np.partition``: the cotangent goes back to where each entry came from.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.partition(x, 1)[1], np.array([3.0, 1.0, 2.0]))[0]
    array([0., 0., 1.])
    """
    a = args[0]
    kth, axis, kind, order = _partition_spec(*args, **kwargs)
    reject("partition", order=order)
    shape = np.shape(a)
    index = _picked(a, axis, lambda v, ax: np.argpartition(v, kth, axis=ax, kind=kind))
    value = np.reshape(a, -1)[index]
    return value, lambda dy: (scatter_back(dy, index, shape),) + nones(args)


def _take_spec(a, indices, axis=None, out=None, mode="raise"):
    return out


gather_rule(np.take, "take",
            domains.custom(_take_args, "indices of 0-2 dims with repeats, axis None/int, "
                           "modes raise/wrap/clip"),
            "Adjoint of np.take: the cotangent added back at the taken entries.",
            lambda *args, **kwargs: reject("take", out=_take_spec(*args, **kwargs)))
gather_rule(np.take_along_axis, "take_along_axis",
            domains.custom(_take_along_axis_args, "indices broadcast along the other axes, "
                           "axis None/int"),
            "Adjoint of np.take_along_axis: the cotangent added back at the taken entries.")


def _choose_spec(a, choices, out=None, mode="raise"):
    return out, mode


@adjoint(np.choose, domain=domains.custom(_choose_args, "1-3 broadcast choices (a list or one "
                                          "array), modes raise/wrap/clip"),
         builtin=True)
def _choose(*args, **kwargs):
    """Adjoint of ``np.choose``: each choice gets the cotangent where it was chosen.

    >>> import adcheck as ad
    >>> ad.gradient(lambda b, c: np.sum(np.choose([0, 1, 0], [b, c])), np.ones(3), 2.0)
    (array([1., 0., 1.]), 1.0)
    """
    a, choices = args[0], args[1]
    out, mode = _choose_spec(*args, **kwargs)
    reject("choose", out=out)
    as_list = isinstance(choices, (list, tuple))
    shapes = [np.shape(c) for c in choices] if as_list else [np.shape(choices)]
    positions = source_positions(shapes)
    index = np.choose(a, positions if as_list else positions[0], mode=mode) - 1
    value = np.choose(*args, **kwargs)

    def pullback(dy):
        cts = gather_back(dy, index, shapes)
        return (None, cts if as_list else cts[0]) + nones(args[1:])

    return value, pullback


def _select_spec(condlist, choicelist, default=0):
    return default


@adjoint(np.select, domain=domains.custom(_select_args, "1-3 broadcast conditions and choices, "
                                          "a default or not"),
         builtin=True)
def _select(*args, **kwargs):
    """Adjoint of ``np.select``: each choice (and the default) gets the cotangent where it was
    selected.

    >>> import adcheck as ad
    >>> x = np.array([-1.0, 2.0])
    >>> ad.gradient(lambda x: np.sum(np.select([x < 0], [x * x], x)), x)[0]
    array([-2.,  1.])
    """
    conditions, choices = args[0], args[1]
    default = _select_spec(*args, **kwargs)
    if not isinstance(choices, (list, tuple)):
        raise NotDifferentiable("np.select(condlist, choicelist): adcheck's rule needs "
                                "choicelist as a list of arrays.")
    shapes = [np.shape(c) for c in choices] + [np.shape(default)]
    positions = source_positions(shapes)
    index = np.select(conditions, positions[:-1], positions[-1]) - 1
    value = np.select(*args, **kwargs)

    def pullback(dy):
        cts = gather_back(dy, index, shapes)
        return (None, cts[:-1]) + ((cts[-1],) if len(args) > 2 else ())

    return value, pullback
