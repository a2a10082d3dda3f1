"""Helpers shared by the ``np.linalg`` rule modules: matrix algebra for pullbacks, and domains.

Pullbacks here are written with NumPy functions that have rules themselves (``matmul``,
``swapaxes``, ``reshape``, ``solve``, products with constant masks), so that second derivatives
work. The domain draws build matrices whose derivatives exist with room to spare:
``Q diag(s) Vᵀ`` with random orthogonal factors and singular values ``s`` in a bounded range,
kept apart by a gap where eigen- or singular vectors are differentiated.

>>> import numpy as np
>>> mT(np.arange(6.0).reshape(1, 2, 3)).shape
(1, 3, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .shape import draw_array


def mT(x: Any) -> Any:
    """The transpose of the last two axes (a stack of matrices transposed one by one).

    >>> mT(np.array([[1.0, 2.0]]))
    array([[1.],
           [2.]])
    """
    return np.swapaxes(x, -1, -2)


def per_matrix(x: Any) -> Any:
    """One value per matrix (shape ``batch``) as ``batch + (1, 1)``, to scale each matrix.

    >>> per_matrix(np.array([2.0, 3.0])).shape
    (2, 1, 1)
    """
    return np.reshape(x, np.shape(x) + (1, 1))


def as_row(v: Any) -> Any:
    """``v[..., None, :]``: a stack of vectors as rows, to scale a matrix's columns.

    >>> (np.ones((2, 2)) * as_row(np.array([1.0, 3.0]))).tolist()
    [[1.0, 3.0], [1.0, 3.0]]
    """
    shape = np.shape(v)
    return np.reshape(v, shape[:-1] + (1, shape[-1]))


def as_column(v: Any) -> Any:
    """``v[..., :, None]``: a stack of vectors as columns, to scale a matrix's rows.

    >>> as_column(np.array([1.0, 3.0])).shape
    (2, 1)
    """
    return np.reshape(v, np.shape(v) + (1,))


def diag_embed(v: Any) -> Any:
    """The diagonal matrices with the vectors ``v`` (..., n) on their diagonals.

    >>> diag_embed(np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    return np.eye(np.shape(v)[-1]) * as_row(v)


def lower_mask(n: int, k: int = 0) -> np.ndarray:
    """``np.tril(np.ones((n, n)), k)``: multiplying by it keeps a triangle of a (traced) matrix.

    >>> lower_mask(2, -1)
    array([[0., 0.],
           [1., 0.]])
    """
    return np.tril(np.ones((n, n)), k)


def reflect_adjoint(s: Any, lower: bool = True) -> Any:
    """The cotangent of ``a`` for a function that reads one triangle of ``a`` as symmetric.

    Cholesky and eigh read ``sym(a) = tril(a) + tril(a, -1)ᵀ`` (``triu`` for the upper
    triangle); ``s`` is the cotangent with respect to that symmetric matrix. Each read entry
    gets its own and its mirror's share, the unread triangle gets zero.

    >>> reflect_adjoint(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 0.],
           [5., 4.]])
    """
    n = np.shape(s)[-1]
    strict = lower_mask(n, -1) if lower else mT(lower_mask(n, -1))
    return (s + mT(s)) * strict + s * np.eye(n)


def off_diagonal_inverse(d: Any) -> Any:
    """``1 / d`` off the diagonal of each matrix and 0 on it (``d`` is 0 on the diagonal).

    >>> off_diagonal_inverse(np.array([[0.0, 2.0], [-4.0, 0.0]]))
    array([[ 0.  ,  0.5 ],
           [-0.25,  0.  ]])
    """
    n = np.shape(d)[-1]
    eye = np.eye(n, dtype=bool)
    return (1.0 - np.eye(n)) / np.where(eye, 1.0, d)


def pairwise_gaps(w: Any) -> Any:
    """``w[..., None, :] - w[..., :, None]``: entry ``(i, j)`` is ``w_j - w_i``.

    >>> pairwise_gaps(np.array([1.0, 3.0]))
    array([[ 0.,  2.],
           [-2.,  0.]])
    """
    return as_row(w) - as_column(w)


# -- domains ---------------------------------------------------------------------------------


def example(draw_fn: Any) -> Any:
    """One quick draw of ``draw_fn(draw)`` (generated, not shrunk): for docstrings and trying
    a domain out.

    >>> example(lambda draw: draw_array(draw, (2,), 1.0, 2.0)).shape
    (2,)
    """
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st

    quick = settings(max_examples=1, phases=[Phase.generate], database=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))
    return find(st.composite(draw_fn)(), lambda _: True, settings=quick)


def draw_dtype(draw: Any) -> type:
    """float64 or float32, one per example.

    >>> example(draw_dtype) in (np.float64, np.float32)
    True
    """
    from hypothesis import strategies as st

    return draw(st.sampled_from([np.float64, np.float32]))


def draw_batch(draw: Any, max_dims: int = 1) -> tuple:
    """Batch axes for a stack of matrices: none, or up to ``max_dims`` of length 1 to 2.

    >>> len(example(draw_batch)) <= 1
    True
    """
    from hypothesis import strategies as st

    return tuple(draw(st.lists(st.integers(1, 2), max_size=max_dims)))


def orthogonal(draw: Any, batch: tuple, n: int) -> np.ndarray:
    """Random orthogonal ``n x n`` matrices: the Q factor of a drawn matrix, times a fixed dense
    rotation.

    >>> q = example(lambda draw: orthogonal(draw, (), 3))
    >>> bool(np.allclose(q @ q.T, np.eye(3)))
    True
    """
    q, r = np.linalg.qr(draw_array(draw, batch + (n, n), -1.0, 1.0))
    # Times a fixed dense rotation: hypothesis shrinks q to a signed permutation, and
    # matrices built from one have exact zeros where LAPACK's sign conventions for
    # eigenvectors and Householder QR jump (the decomposition is discontinuous there).
    return q @ _dense_rotation(n)


def _dense_rotation(n: int) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(n).normal(size=(n, n)))[0]


def spectrum(draw: Any, batch: tuple, k: int, low: float = 0.5, high: float = 4.0,
             gap: float = 0.0, signed: bool = False) -> np.ndarray:
    """``k`` values per matrix in ``[low, high]``, sorted, consecutive ones ``gap`` apart.

    With ``signed`` each value gets a random sign (after the gap is made, so that
    magnitudes stay apart).

    >>> s = example(lambda draw: spectrum(draw, (), 3, gap=0.5))
    >>> bool(np.all(np.diff(s) >= 0.5 - 1e-12))
    True
    """
    from hypothesis import strategies as st

    span = (high - low - gap * (k - 1)) / k
    steps = draw_array(draw, batch + (k,), 0.0, span)
    s = low + np.cumsum(steps, axis=-1) + gap * np.arange(k)
    if signed:
        signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k))
        s = s * np.array(signs)
    return s


def with_singular_values(draw: Any, batch: tuple, m: int, n: int, s: np.ndarray) -> np.ndarray:
    """``U diag(s) Vᵀ`` for random orthogonal ``U`` (m x m) and ``V`` (n x n).

    >>> a = example(lambda draw: with_singular_values(draw, (), 3, 2, np.array([3.0, 1.0])))
    >>> np.linalg.svd(a, compute_uv=False).round(12).tolist()
    [3.0, 1.0]
    """
    k = min(m, n)
    u = orthogonal(draw, batch, m)[..., :k]
    v = orthogonal(draw, batch, n)[..., :k]
    return (u * as_row(s)) @ mT(v)


def well_conditioned(draw: Any, batch: tuple, m: int, n: int | None = None) -> np.ndarray:
    """Matrices with singular values in ``[0.5, 4]`` (invertible when square).

    >>> a = example(lambda draw: well_conditioned(draw, (2,), 3))
    >>> bool(np.all(np.linalg.svd(a, compute_uv=False) >= 0.5 - 1e-12))
    True
    """
    n = m if n is None else n
    return with_singular_values(draw, batch, m, n, spectrum(draw, batch, min(m, n)))


def symmetric(draw: Any, batch: tuple, n: int, w: np.ndarray) -> np.ndarray:
    """``Q diag(w) Qᵀ`` for a random orthogonal ``Q``: a symmetric matrix with eigenvalues ``w``.

    >>> a = example(lambda draw: symmetric(draw, (), 2, np.array([1.0, 2.0])))
    >>> np.linalg.eigvalsh(a).round(12).tolist()
    [1.0, 2.0]
    """
    q = orthogonal(draw, batch, n)
    return (q * as_row(w)) @ mT(q)


def unread_triangle(draw: Any, a: np.ndarray, lower: bool) -> np.ndarray:
    """``a`` with the triangle a function does not read (``lower``: the strict upper one)
    overwritten by arbitrary values, so that a rule that reads it is caught.

    >>> a = example(lambda draw: unread_triangle(draw, np.eye(2), True))
    >>> a[0, 0], a[1, 0], a[1, 1]
    (np.float64(1.0), np.float64(0.0), np.float64(1.0))
    """
    n = np.shape(a)[-1]
    mask = mT(lower_mask(n, -1)) if lower else lower_mask(n, -1)
    noise = draw_array(draw, np.shape(a), -2.0, 2.0)
    return a * (1 - mask) + noise * mask
