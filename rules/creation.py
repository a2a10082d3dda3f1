"""Adjoint rules for functions that make new arrays from traced values: linspace (traced
endpoints), meshgrid, copy, and ``np.astype`` between float dtypes.

``linspace(start, stop, num)`` is ``start + t * (stop - start)`` with fixed fractions
``t = i / (num - 1)`` (``i / num`` without the endpoint), so its pullback weighs the cotangent
by ``1 - t`` for ``start`` and by ``t`` for ``stop``. ``meshgrid``'s outputs are broadcasts of
its inputs: each cotangent is summed back over the broadcast axes.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda a, b: np.sum(np.linspace(a, b, 5) ** 2), 0.0, 1.0)
(1.25, 3.75)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import cast
from adcheck.registry import adjoint

from .shape import draw_array_of, draw_float_dtype, draw_shape, nones, sum_to

# -- domains ---------------------------------------------------------------------------------


def _linspace_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    dtype = draw_float_dtype(draw)
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                    max_side=3)).input_shapes
    start, stop = (draw_array_of(draw, s, dtype) for s in shapes)
    endpoint = draw(st.booleans())
    num = draw(st.integers(2 if endpoint else 1, 5))
    kwargs: dict = {"endpoint": endpoint}
    ndim = len(np.broadcast_shapes(*shapes)) + 1
    if draw(st.booleans()):
        kwargs["axis"] = draw(st.integers(-ndim, ndim - 1))
    if draw(st.booleans()):
        kwargs["retstep"] = True
    return (start, stop, num), kwargs


def _meshgrid_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    dtype = draw_float_dtype(draw)
    count = draw(st.integers(1, 3))
    arrays = tuple(draw_array_of(draw, draw_shape(draw, max_dims=2, max_side=3), dtype)
                   for _ in range(count))
    return arrays, {"indexing": draw(st.sampled_from(["xy", "ij"])),
                    "sparse": draw(st.booleans()), "copy": draw(st.booleans())}


def _copy_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    x = draw_array_of(draw, draw_shape(draw), draw_float_dtype(draw))
    order = draw(st.sampled_from([None, "K", "C", "F", "A"]))
    return (x,), ({} if order is None else {"order": order})


def _astype_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    x = draw_array_of(draw, draw_shape(draw), draw_float_dtype(draw))
    dtype = draw(st.sampled_from([np.float64, np.float32, "float64", "float32", np.float16]))
    return (x, dtype), {}


# -- rules -----------------------------------------------------------------------------------


def _linspace_spec(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
                   device=None):
    return num, endpoint, retstep, dtype, axis


@adjoint(np.linspace, domain=domains.custom(_linspace_args, "broadcast endpoints, num 1-5, "
                                            "endpoint both ways, any axis, retstep"),
         builtin=True)
def _linspace(*args, **kwargs):
    """Adjoint of ``np.linspace`` in its endpoints: ``start`` gets the cotangent weighed by
    ``1 - t``, ``stop`` by ``t``, summed over the samples (and ``step``'s cotangent too).

    >>> import adcheck as ad
    >>> y, back = ad.pullback(lambda a: np.linspace(a, 1.0, 3), 0.0)
    >>> back(np.array([1.0, 1.0, 1.0]))
    (1.5,)
    """
    start, stop = args[0], args[1]
    num, endpoint, retstep, dtype, axis = _linspace_spec(*args, **kwargs)
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise NotDifferentiable(
            f"np.linspace(..., dtype={np.dtype(dtype).name}) rounds the samples, which is not "
            "differentiable; leave dtype out (or use a float dtype)."
        )
    value = np.linspace(*args, **kwargs)
    num = int(num)
    div = (num - 1) if endpoint else num
    shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
    # The fractions t of the samples (num=1 with the endpoint: the start alone), laid out
    # along the first axis; the samples' axis is moved there.
    t = np.arange(num, dtype=np.float64) / max(div, 1)
    t = np.reshape(t, (num,) + (1,) * len(shape))
    where = int(axis) % (len(shape) + 1)
    def pullback(dy):
        d_samples, d_step = (dy[0], dy[1]) if retstep else (dy, None)
        d_samples = np.moveaxis(d_samples, where, 0)
        d_start = np.sum(d_samples * (1 - t), axis=0)
        d_stop = np.sum(d_samples * t, axis=0)
        if d_step is not None and div > 0:
            d_start = d_start - d_step / div
            d_stop = d_stop + d_step / div
        return (fit(d_start, start), fit(d_stop, stop)) + nones(args[1:])

    return value, pullback


def _meshgrid_spec(*xi, copy=True, sparse=False, indexing="xy"):
    return sparse, indexing


@adjoint(np.meshgrid, domain=domains.custom(_meshgrid_args, "1-3 arrays, indexing xy/ij, "
                                            "sparse both ways"),
         builtin=True)
def _meshgrid(*args, **kwargs):
    """Adjoint of ``np.meshgrid``: each grid's cotangent summed over the other axes.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x, y: np.sum(np.meshgrid(x, y)[0]), np.ones(2), np.ones(3))
    (array([3., 3.]), array([0., 0., 0.]))
    """
    sparse, indexing = _meshgrid_spec(*args, **kwargs)
    value = np.meshgrid(*args, **kwargs)
    ndim = len(args)
    shapes = [np.shape(x) for x in args]
    # The shape each input takes before it is broadcast: its entries along its own axis.
    axes = list(range(ndim))
    if indexing == "xy" and ndim > 1:
        axes[0], axes[1] = 1, 0
    lined = [tuple(-1 if i == a else 1 for i in range(ndim)) for a in axes]

    def pullback(dys):
        out = []
        for d, line, shape in zip(dys, lined, shapes):
            along = tuple(math.prod(shape) if s == -1 else 1 for s in line)
            out.append(np.reshape(sum_to(d, along), shape))
        return tuple(out)

    return value, pullback


def _copy_spec(a, order="K", subok=False):
    return order


@adjoint(np.copy, domain=domains.custom(_copy_args, "every order"), builtin=True)
def _copy(*args, **kwargs):
    """Adjoint of ``np.copy``: the cotangent passes through.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.sum(np.copy(x) * 3.0), np.ones(2))[0]
    array([3., 3.])
    """
    _copy_spec(*args, **kwargs)
    return np.copy(*args, **kwargs), lambda dy: (dy,) + nones(args)


if hasattr(np, "astype"):

    @adjoint(np.astype, domain=domains.custom(_astype_args, "float16/32/64 to float32/64"),
             builtin=True)
    def _astype(x, dtype, /, *, copy=True, device=None):
        """Adjoint of ``np.astype`` between float dtypes: the cotangent cast back.

        >>> import adcheck as ad
        >>> ad.gradient(lambda x: np.sum(np.astype(x, np.float32)), np.ones(2))[0].dtype
        dtype('float64')
        """
        target = np.dtype(dtype)
        if target.kind == "c":
            raise NotDifferentiable(
                "np.astype(x, complex) is not differentiable by adcheck yet (complex numbers "
                "are not supported); keep the computation real."
            )
        source = np.result_type(x)
        return cast(x, target), lambda dy: (cast(dy, source), None)
