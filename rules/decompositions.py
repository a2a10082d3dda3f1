"""Adjoint rules for matrix decompositions: cholesky, eigh, eigvalsh, svd, svdvals, qr.

Each takes stacks of matrices. What NumPy reads is what is differentiated: ``cholesky`` and
``eigh``/``eigvalsh`` read one triangle of their input as a symmetric matrix (the lower one, or
the upper for ``upper=True`` / ``UPLO='U'``), so the other triangle's cotangent is zero.

Eigen- and singular vectors are differentiable where the values are distinct (the pullbacks
divide by their gaps), and singular vectors of a non-square matrix only in the reduced form
(``full_matrices=False``: the completed basis is not unique, so NumPy's default raises for a
non-square matrix). ``qr`` is differentiated for square and tall matrices in the reduced and
``'r'`` modes. The domains draw matrices with eigen- or singular values 0.3 apart.

>>> import numpy as np
>>> import adcheck as ad
>>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> g = ad.gradient(lambda A: np.linalg.eigvalsh(A)[-1], A)[0]   # v vᵀ, lower triangle read
>>> v = np.linalg.eigh(A).eigenvectors[:, -1]
>>> bool(np.allclose(g, np.tril(2 * np.outer(v, v)) - np.diag(v * v)))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import Traced, strip
from adcheck.registry import adjoint

from .matrices import (
    as_column,
    as_row,
    diag_embed,
    draw_batch,
    draw_dtype,
    lower_mask,
    mT,
    off_diagonal_inverse,
    pairwise_gaps,
    reflect_adjoint,
    spectrum,
    symmetric,
    unread_triangle,
    with_singular_values,
)
from .shape import nones

# -- domains ---------------------------------------------------------------------------------


def _symmetric_args(draw: Any, positive: bool, keyword: str) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    n = draw(st.integers(1, 3))
    batch = draw_batch(draw)
    if positive:
        w = spectrum(draw, batch, n, 0.5, 4.0)
    else:  # distinct eigenvalues, 0.3 apart, of either sign
        w = spectrum(draw, batch, n, 0.5, 4.0, gap=0.3) - draw(st.sampled_from([0.0, 2.5]))
    a = symmetric(draw, batch, n, w)
    choice = draw(st.sampled_from([None, "L", "U"]))
    upper = choice == "U"
    kwargs = {} if choice is None else (
        {keyword: choice} if keyword == "UPLO" else {keyword: upper})
    # The triangle NumPy does not read holds arbitrary values.
    return (unread_triangle(draw, a, lower=not upper).astype(draw_dtype(draw)),), kwargs


def _cholesky_args(draw: Any) -> tuple[tuple, dict]:
    return _symmetric_args(draw, True, "upper")


def _eigh_args(draw: Any) -> tuple[tuple, dict]:
    return _symmetric_args(draw, False, "UPLO")


def _distinct_singular(draw: Any, tall_only: bool = False) -> np.ndarray:
    from hypothesis import strategies as st

    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if tall_only and m < n:
        m, n = n, m
    batch = draw_batch(draw)
    s = spectrum(draw, batch, min(m, n), 0.5, 4.0, gap=0.3)
    return with_singular_values(draw, batch, m, n, s).astype(draw_dtype(draw))


def _svd_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    a = _distinct_singular(draw)
    m, n = a.shape[-2:]
    kind = draw(st.sampled_from(["values", "reduced", "square default"]))
    if kind == "values":
        return (a,), {"compute_uv": False}
    if kind == "reduced" or m != n:
        return (a,), {"full_matrices": False}
    return (a,), {}


def _svdvals_args(draw: Any) -> tuple[tuple, dict]:
    return (_distinct_singular(draw),), {}


def _qr_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    a = _distinct_singular(draw, tall_only=True)
    mode = draw(st.sampled_from([None, "reduced", "r"]))
    return (a,), ({} if mode is None else {"mode": mode})


def _require_distinct(fn: str, values: str, vectors: str, w: Any, nonzero: bool = False) -> None:
    """Refuse vectors whose values coincide (to rounding): they are not differentiable there
    (any rotation within the repeated values' space is as good), and the pullback would
    divide by zero."""
    w = strip(w)
    scale = np.max(np.abs(w), initial=0.0)
    tiny = np.shape(w)[-1] * np.finfo(np.result_type(w)).eps * scale
    gaps = np.abs(np.diff(np.sort(w, axis=-1), axis=-1))
    if np.any(gaps <= tiny) or (nonzero and np.any(np.abs(w) <= tiny)):
        raise NotDifferentiable(
            f"the {vectors} of np.linalg.{fn} are not differentiable where {values} coincide"
            + (" or vanish" if nonzero else "") + " (they are not unique there); "
            f"differentiate a function of the {values} only, or perturb the matrix."
        )


# -- Cholesky --------------------------------------------------------------------------------


def _cholesky_spec(a, /, *, upper=False):
    return a, upper


@adjoint(np.linalg.cholesky, domain=domains.custom(_cholesky_args, "SPD matrices (stacks), "
                                                   "eigenvalues in [0.5, 4], upper or not, "
                                                   "the unread triangle arbitrary"),
         builtin=True)
def _cholesky(*args, **kwargs):
    """Adjoint of ``L = cholesky(a)``: with ``P = Φ(Lᵀ dL)`` (lower triangle, half diagonal)
    and ``S = L⁻ᵀ P L⁻¹``, the read (lower) triangle gets ``S + Sᵀ`` and the diagonal ``S``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.cholesky(a).sum(), np.array([[4.0]]))[0]
    array([[0.25]])
    """
    a, upper = _cholesky_spec(*args, **kwargs)
    factor = np.linalg.cholesky(a, upper=upper)
    n = np.shape(a)[-1]

    def back(dy):
        # upper=True is the lower factor of aᵀ, transposed.
        low, dlow = (mT(factor), mT(dy)) if upper else (factor, dy)
        phi = lower_mask(n) - 0.5 * np.eye(n)
        p = (mT(low) @ (dlow * lower_mask(n))) * phi
        s = np.linalg.solve(mT(low), mT(np.linalg.solve(mT(low), p)))  # (L⁻ᵀ P L⁻¹)ᵀ
        g = reflect_adjoint(s, lower=True)
        return (fit(mT(g) if upper else g, a),) + nones(args)

    return factor, back


# -- symmetric eigenproblems -----------------------------------------------------------------


def _eigh_spec(a, UPLO="L"):  # noqa: N803  (NumPy's name)
    return a, UPLO


def _symmetric_cotangent(v: Any, inner: Any, upper: bool) -> Any:
    """The cotangent of the read triangle for ``V inner Vᵀ`` w.r.t. the symmetric matrix."""
    return reflect_adjoint(v @ inner @ mT(v), lower=not upper)


@adjoint(np.linalg.eigh, domain=domains.custom(_eigh_args, "symmetric matrices (stacks) with "
                                               "eigenvalues 0.3 apart, UPLO, the unread "
                                               "triangle arbitrary"),
         builtin=True)
def _eigh(*args, **kwargs):
    """Adjoint of ``w, V = eigh(a)``: ``V (diag(dw) + F ∘ Vᵀ dV) Vᵀ`` with
    ``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, on the triangle NumPy reads.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.eigh(a)[0].sum(), np.array([[1.0, 5.0], [0.0, 2.0]]))[0]
    array([[1., 0.],
           [0., 1.]])
    """
    a, uplo = _eigh_spec(*args, **kwargs)
    value = np.linalg.eigh(a, uplo)
    w, v = value
    upper = str(uplo).upper() == "U"

    def back(dy):
        dw, dv = dy
        inner = diag_embed(dw)
        # the vectors were used (a traced dv counts even when 0: an outer level
        # differentiates the pullback in it)
        if type(dv) is Traced or np.any(dv != 0):
            _require_distinct("eigh", "eigenvalues", "eigenvectors", w)
            inner = inner + off_diagonal_inverse(pairwise_gaps(w)) * (mT(v) @ dv)
        return (fit(_symmetric_cotangent(v, inner, upper), a),) + nones(args)

    return value, back


@adjoint(np.linalg.eigvalsh, domain=domains.custom(_eigh_args, "symmetric matrices (stacks) "
                                                   "with eigenvalues 0.3 apart, UPLO, the "
                                                   "unread triangle arbitrary"),
         builtin=True)
def _eigvalsh(*args, **kwargs):
    """Adjoint of ``eigvalsh(a)``: ``V diag(dw) Vᵀ`` on the triangle NumPy reads.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.eigvalsh(a).sum(), np.eye(2))[0]
    array([[1., 0.],
           [0., 1.]])
    """
    a, uplo = _eigh_spec(*args, **kwargs)
    w = np.linalg.eigvalsh(a, uplo)
    v = np.linalg.eigh(a, uplo).eigenvectors
    upper = str(uplo).upper() == "U"
    return w, lambda dw: (fit(_symmetric_cotangent(v, diag_embed(dw), upper), a),) + nones(args)


# -- singular value decomposition ------------------------------------------------------------


def _svd_spec(a, full_matrices=True, compute_uv=True, hermitian=False):
    return a, full_matrices, compute_uv, hermitian


def _values_cotangent(u: Any, vt: Any, ds: Any) -> Any:
    return (u * as_row(ds)) @ vt


@adjoint(np.linalg.svd, domain=domains.custom(_svd_args, "matrices (stacks, any shape) with "
                                              "singular values 0.3 apart, compute_uv, "
                                              "full_matrices for square ones"),
         builtin=True)
def _svd(*args, **kwargs):
    """Adjoint of ``svd(a)``: values ``U diag(ds) Vᵀ``; vectors by the formula for distinct
    singular values, with the terms for the complements of a non-square matrix.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.svd(a, compute_uv=False)[0], np.diag([3.0, -1.0]))[0]
    array([[1., 0.],
           [0., 0.]])
    """
    a, full_matrices, compute_uv, hermitian = _svd_spec(*args, **kwargs)
    if hermitian:
        raise NotDifferentiable(
            "np.linalg.svd(..., hermitian=True) is not differentiable by adcheck's built-in "
            "rule (its values are |eigenvalues|, re-sorted); use np.linalg.eigh, or svd "
            "without hermitian=True."
        )
    m, n = np.shape(a)[-2:]
    rest = nones(args)
    if not compute_uv:
        s = np.linalg.svd(a, compute_uv=False)
        u, _, vt = np.linalg.svd(a, full_matrices=False)
        return s, lambda ds: (fit(_values_cotangent(u, vt, ds), a),) + rest
    if full_matrices and m != n:
        raise NotDifferentiable(
            f"np.linalg.svd of a {m}x{n} matrix with full_matrices=True (NumPy's default) is "
            "not differentiable: the columns that complete U or V to a square basis are not "
            "unique. Call np.linalg.svd(a, full_matrices=False)."
        )
    value = np.linalg.svd(a, full_matrices=full_matrices)
    u, s, vt = value

    def back(dy):
        du, ds, dvt = dy
        v, dv = mT(vt), mT(dvt)
        _require_distinct("svd", "singular values", "singular vectors", s, nonzero=m != n)
        f = off_diagonal_inverse(pairwise_gaps(s * s))  # 1 / (s_j² - s_i²)
        j = f * (mT(u) @ du - mT(du) @ u)
        k = f * (mT(v) @ dv - mT(dv) @ v)
        g = u @ (j * as_row(s) + diag_embed(ds) + as_column(s) * k) @ vt
        if m > n:  # (I - U Uᵀ) dU S⁻¹ Vᵀ
            du_s = du / as_row(s)
            g = g + (du_s - u @ (mT(u) @ du_s)) @ vt
        if n > m:  # U S⁻¹ dVᵀ (I - V Vᵀ)
            s_dvt = dvt / as_column(s)
            g = g + u @ (s_dvt - (s_dvt @ v) @ vt)
        return (fit(g, a),) + rest

    return value, back


@adjoint(np.linalg.svdvals, domain=domains.custom(_svdvals_args, "matrices (stacks, any shape) "
                                                  "with singular values 0.3 apart"),
         builtin=True)
def _svdvals(x):
    """Adjoint of ``svdvals(x)``: ``U diag(ds) Vᵀ``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.svdvals(a).sum(), np.diag([2.0, -1.0]))[0]
    array([[ 1.,  0.],
           [ 0., -1.]])
    """
    s = np.linalg.svdvals(x)
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    return s, lambda ds: (fit(_values_cotangent(u, vt, ds), x),)


# -- QR --------------------------------------------------------------------------------------


def _qr_spec(a, mode="reduced"):
    return a, mode


def _copy_lower_to_upper(m: Any) -> Any:
    n = np.shape(m)[-1]
    strict = lower_mask(n, -1)
    return m * lower_mask(n) + mT(m * strict)


@adjoint(np.linalg.qr, domain=domains.custom(_qr_args, "square and tall full-rank matrices "
                                             "(stacks), mode reduced or r"),
         builtin=True)
def _qr(*args, **kwargs):
    """Adjoint of ``Q, R = qr(a)`` for square and tall ``a``: with
    ``M = R dRᵀ - dQᵀ Q``, ``da = (dQ + Q copyltu(M)) R⁻ᵀ``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.qr(a, mode="r").sum(), np.array([[2.0], [0.0]]))[0]
    array([[1.],
           [0.]])
    """
    a, mode = _qr_spec(*args, **kwargs)
    m, n = np.shape(a)[-2:]
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and m != n):
        raise NotDifferentiable(
            f"np.linalg.qr(..., mode={mode!r}) is not differentiable by adcheck's built-in "
            "rule" + (" for a non-square matrix (the completed Q is not unique)"
                      if mode == "complete" else "")
            + "; use mode='reduced' (the default) or mode='r'."
        )
    if m < n:
        raise NotDifferentiable(
            f"np.linalg.qr of a wide {m}x{n} matrix is not differentiable by adcheck's "
            "built-in rule (only square and tall ones); factor the transpose, or register "
            "your own adjoint."
        )
    value = np.linalg.qr(a, mode)
    q, r = (np.linalg.qr(a).Q, value) if mode == "r" else value

    def back(dy):
        dq, dr = (None, dy) if mode == "r" else dy
        mm = r @ mT(dr) if dq is None else r @ mT(dr) - mT(dq) @ q
        b = q @ _copy_lower_to_upper(mm) if dq is None else dq + q @ _copy_lower_to_upper(mm)
        return (fit(mT(np.linalg.solve(r, mT(b))), a),) + nones(args)  # b R⁻ᵀ

    return value, back
