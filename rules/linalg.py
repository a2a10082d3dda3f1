"""Adjoint rules for matrix products: ``np.matmul`` (the ``@`` operator) and ``np.dot``.

For ``C = A @ B`` the cotangents are ``dA = dC @ B^T`` and ``dB = A^T @ dC``. One-dimensional
operands follow NumPy's promotion rules: a 1-D left operand is a row (a unit axis is
prepended, then removed), a 1-D right operand is a column; batch axes broadcast, and the
cotangent of a broadcast operand is summed back to its shape.

``np.dot`` differs from ``matmul`` for N-D operands (it pairs *every* row of ``a`` with every
stack of ``b``) and accepts scalars; its rule reduces every case to one 2-D product.

>>> import numpy as np
>>> import adcheck as ad
>>> A, x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([1.0, -1.0, 2.0])
>>> ad.gradient(lambda A: (A @ x).sum(), A)[0]
array([[ 1., -1.,  2.],
       [ 1., -1.,  2.]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.registry import adjoint

from .shape import draw_array_of, draw_float_dtype, reject, sum_to


def _matmul_args(draw: Any) -> tuple[tuple, dict]:
    """1-D and 2-D operands in every combination, and stacks whose batch axes broadcast."""
    from hypothesis import strategies as st

    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm", "batched"]))
    if kind == "batched":
        batch = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
        # Either operand may lack a batch axis or have a unit one, or be 1-D.
        a_batch = tuple(draw(st.sampled_from([s, 1])) for s in batch)[draw(st.integers(0, 1)):]
        b_batch = tuple(draw(st.sampled_from([s, 1])) for s in batch)[draw(st.integers(0, 1)):]
        a_shape = draw(st.sampled_from([a_batch + (m, k), (k,)]))
        b_shape = b_batch + (k, n) if len(a_shape) == 1 else draw(
            st.sampled_from([b_batch + (k, n), (k,)]))
    else:
        a_shape = (k,) if kind[0] == "v" else (m, k)
        b_shape = (k,) if kind[1] == "v" else (k, n)
    dtype = draw_float_dtype(draw)
    return (draw_array_of(draw, a_shape, dtype), draw_array_of(draw, b_shape, dtype)), {}


def _dot_args(draw: Any) -> tuple[tuple, dict]:
    """Scalars times arrays, vectors, matrices, and N-D operands (up to 3-D)."""
    from hypothesis import strategies as st

    k = draw(st.integers(1, 4))

    def operand(last: bool) -> tuple:
        ndim = draw(st.integers(0, 3))
        if ndim == 0:
            return ()
        sides = [draw(st.integers(1, 3)) for _ in range(ndim)]
        # The contracted axis: the last of `a`, the second-to-last (or only) of `b`.
        sides[-1 if last or ndim == 1 else -2] = k
        return tuple(sides)

    a_shape, b_shape = operand(True), operand(False)
    dtype = draw_float_dtype(draw)
    return (draw_array_of(draw, a_shape, dtype), draw_array_of(draw, b_shape, dtype)), {}


@adjoint(np.matmul, domain=domains.custom(_matmul_args, "vector/matrix in all pairings and "
                                          "broadcast stacks, non-square, float64/32"),
         builtin=True)
def _matmul(a, b):
    """Adjoint of ``a @ b``: ``(dy @ b^T, a^T @ dy)``, with 1-D operands promoted and back.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a, b: a @ b, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    (array([3., 4.]), array([1., 2.]))
    """
    value = np.matmul(a, b)
    a_shape, b_shape = np.shape(a), np.shape(b)

    def back(dy):
        # Promote 1-D operands to matrices, as NumPy does, and the cotangent with them.
        a2 = a if len(a_shape) > 1 else np.reshape(a, (1,) + a_shape)
        b2 = b if len(b_shape) > 1 else np.reshape(b, b_shape + (1,))
        a2_shape, b2_shape = np.shape(a2), np.shape(b2)
        batch = np.broadcast_shapes(a2_shape[:-2], b2_shape[:-2])
        dy2_shape = batch + (a2_shape[-2], b2_shape[-1])
        dy2 = dy if np.shape(dy) == dy2_shape else np.reshape(dy, dy2_shape)

        def da():
            g = sum_to(np.matmul(dy2, np.swapaxes(b2, -1, -2)), a2_shape)
            return g if a2_shape == a_shape else np.reshape(g, a_shape)

        def db():
            g = sum_to(np.matmul(np.swapaxes(a2, -1, -2), dy2), b2_shape)
            return g if b2_shape == b_shape else np.reshape(g, b_shape)

        # Lazy: the engine computes only the cotangent of a traced operand (issue 11: in an
        # MLP the cotangent of the data matrix would cost as much as the weight's).
        return da, db

    return value, back


def _dot_spec(a, b, out=None):
    reject("dot", out=out)


@adjoint(np.dot, domain=domains.custom(_dot_args, "scalars, vectors, matrices and N-D "
                                       "operands, non-square, float64/32"),
         builtin=True)
def _dot(*args, **kwargs):
    """Adjoint of ``np.dot`` for every combination of scalar, vector, matrix and N-D operands.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.dot(a, np.array([[1.0], [2.0]])).sum(), np.ones((1, 2)))[0]
    array([[1., 2.]])
    """
    _dot_spec(*args, **kwargs)
    a, b = args[0], args[1]
    value = np.dot(a, b)
    a_shape, b_shape = np.shape(a), np.shape(b)
    rest = (None,) * (len(args) - 2)  # `out=None` given positionally
    if not a_shape or not b_shape:
        # A scalar operand: dot is the elementwise product.
        return value, lambda dy: (lambda: sum_to(dy * b, a_shape),
                                  lambda: sum_to(dy * a, b_shape)) + rest

    def back(dy):
        # dot(a, b) is one matrix product: a as (rows, k) times b's contracted axis moved to
        # the front, (k, everything else); the result's layout is rows, then b's other axes.
        k = a_shape[-1]
        rows = math.prod(a_shape[:-1])
        if len(b_shape) == 1:
            b2 = np.reshape(b, (k, 1))
        else:
            b2 = np.reshape(np.moveaxis(b, -2, 0), (k, math.prod(b_shape[:-2] + b_shape[-1:])))
        dy2 = np.reshape(dy, (rows, np.shape(b2)[1]))

        def da():
            return np.reshape(np.matmul(dy2, np.transpose(b2)), a_shape)

        def db():
            db2 = np.matmul(np.transpose(np.reshape(a, (rows, k))), dy2)
            if len(b_shape) == 1:
                return np.reshape(db2, b_shape)
            moved = (k,) + b_shape[:-2] + b_shape[-1:]
            return np.moveaxis(np.reshape(db2, moved), 0, -2)

        return (da, db) + rest  # lazy, as matmul's

    return value, back
