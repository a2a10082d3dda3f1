"""Adjoint rules for ``np.linalg`` functions of matrices: inv, pinv, det, slogdet, solve,
lstsq, matrix_power, multi_dot, cond, and the alias ``np.linalg.matmul``.

Every rule takes stacks of matrices where NumPy does (the last two axes are the matrix); its
pullback is written with ``matmul``, ``solve`` and ``inv``, which have rules, so second
derivatives work. ``pinv`` and ``lstsq`` are differentiated where the matrix has full rank
(the rank is locally constant there); at a rank-deficient input they raise
``NotDifferentiable`` rather than return a wrong gradient.

>>> import numpy as np
>>> import adcheck as ad
>>> A = np.array([[2.0, 1.0], [0.0, 3.0]])
>>> g = ad.gradient(lambda A: np.linalg.slogdet(A).logabsdet, A)[0]   # d log|det A| = A^-T
>>> bool(np.allclose(g, np.linalg.inv(A).T))
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import Traced, strip
from adcheck.registry import adjoint, nondifferentiable

from . import linalg
from .matrices import (
    as_column,
    as_row,
    draw_batch,
    draw_dtype,
    lower_mask,
    mT,
    per_matrix,
    reflect_adjoint,
    spectrum,
    symmetric,
    unread_triangle,
    well_conditioned,
    with_singular_values,
)
from .norms import matrix_norm_cotangent
from .shape import NOT_GIVEN, draw_array, nones, reject

# Integers: no derivative.
nondifferentiable(np.linalg.matrix_rank)


# -- domains ---------------------------------------------------------------------------------


def _square_args(draw: Any) -> tuple[tuple, dict]:
    """One matrix or a stack, 1x1 to 3x3, singular values in [0.5, 4]."""
    from hypothesis import strategies as st

    n = draw(st.integers(1, 3))
    a = well_conditioned(draw, draw_batch(draw), n)
    return (a.astype(draw_dtype(draw)),), {}


_square = domains.custom(_square_args, "invertible matrices (stacks too), singular values in "
                         "[0.5, 4], float64/float32")


def _solve_args(draw: Any) -> tuple[tuple, dict]:
    """a (stack) with a vector right-hand side, or a matrix one whose batch axes broadcast."""
    from hypothesis import strategies as st

    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw_batch(draw)
    a = well_conditioned(draw, batch, n)
    if draw(st.booleans()):
        b = draw_array(draw, (n,))
    else:  # b's batch axes: a's, none, unit ones, or (against one matrix) a stack of its own
        b_batch = draw(st.sampled_from([batch, (), (1,) * len(batch)] + ([] if batch else [(2,)])))
        b = draw_array(draw, b_batch + (n, k))
    dtype = draw_dtype(draw)
    return (a.astype(dtype), b.astype(dtype)), {}


def _pinv_args(draw: Any) -> tuple[tuple, dict]:
    """Full-rank matrices of any shape (tall, square, wide), stacks too; hermitian reads the
    lower triangle of a matrix whose upper one is arbitrary."""
    from hypothesis import strategies as st

    batch = draw_batch(draw)
    if draw(st.booleans()):
        n = draw(st.integers(1, 3))
        a = symmetric(draw, batch, n, spectrum(draw, batch, n, signed=True))
        a = unread_triangle(draw, a, lower=True)
        return (a.astype(draw_dtype(draw)),), {"hermitian": True}
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kwargs = draw(st.sampled_from([{}, {"rcond": 1e-10}, {"rtol": 1e-8}, {"rtol": None}]))
    return (well_conditioned(draw, batch, m, n).astype(draw_dtype(draw)),), kwargs


def _matrix_power_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    n = draw(st.integers(1, 3))
    batch = draw_batch(draw)
    # Singular values near 1, so that a fifth power stays of the matrix's own size.
    a = with_singular_values(draw, batch, n, n, spectrum(draw, batch, n, 0.6, 1.5))
    return (a.astype(draw_dtype(draw)), draw(st.sampled_from([0, 1, 2, 3, 5, -1, -2]))), {}


def _multi_dot_args(draw: Any) -> tuple[tuple, dict]:
    """Two to four factors of chained shapes; the first and last may be vectors."""
    from hypothesis import strategies as st

    count = draw(st.integers(2, 4))
    sides = [draw(st.integers(1, 3)) for _ in range(count + 1)]
    shapes = [(sides[i], sides[i + 1]) for i in range(count)]
    if draw(st.booleans()):
        shapes[0] = shapes[0][1:]
    if draw(st.booleans()):
        shapes[-1] = shapes[-1][:1]
    return ([draw_array(draw, s, -3.0, 3.0) for s in shapes],), {}


def _lstsq_args(draw: Any) -> tuple[tuple, dict]:
    """Full-rank a of any shape with distinct singular values, b a vector or a matrix, rcond."""
    from hypothesis import strategies as st

    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # Distinct singular values: lstsq returns them, sorted, as an output.
    a = with_singular_values(draw, (), m, n, spectrum(draw, (), min(m, n), gap=0.3))
    b = draw_array(draw, (m,) if draw(st.booleans()) else (m, draw(st.integers(1, 3))))
    rcond = draw(st.sampled_from([None, 1e-10]))
    dtype = draw_dtype(draw)
    return (a.astype(dtype), b.astype(dtype)), ({} if rcond is None else {"rcond": rcond})


# -- inverse, determinants, solve ------------------------------------------------------------


@adjoint(np.linalg.inv, domain=_square, builtin=True)
def _inv(a):
    """Adjoint of ``inv(a)``: ``-Yᵀ dY Yᵀ`` with ``Y = inv(a)``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.inv(a).sum(), np.array([[2.0]]))[0]
    array([[-0.25]])
    """
    y = np.linalg.inv(a)
    return y, lambda dy: (-(mT(y) @ dy @ mT(y)),)


@adjoint(np.linalg.det, domain=_square, builtin=True)
def _det(a):
    """Adjoint of ``det(a)``: ``dy · det(a) · a⁻ᵀ``.

    >>> import adcheck as ad
    >>> ad.gradient(np.linalg.det, np.array([[2.0, 1.0], [0.0, 3.0]]))[0]
    array([[ 3.,  0.],
           [-1.,  2.]])
    """
    d = np.linalg.det(a)
    return d, lambda dy: (fit(per_matrix(dy * d) * mT(np.linalg.inv(a)), a),)


@adjoint(np.linalg.slogdet, domain=_square, builtin=True)
def _slogdet(a):
    """Adjoint of ``slogdet(a)``: the log-determinant's cotangent times ``a⁻ᵀ``; the sign is
    piecewise constant (its cotangent is ignored).

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.slogdet(a)[1], np.array([[-2.0]]))[0]
    array([[-0.5]])
    """
    value = np.linalg.slogdet(a)
    return value, lambda dy: (fit(per_matrix(dy[1]) * mT(np.linalg.inv(a)), a),)


@adjoint(np.linalg.solve, domain=domains.custom(_solve_args, "invertible a (stacks), b a "
                                                "vector or matrices with broadcast batch axes"),
         builtin=True)
def _solve(a, b):
    """Adjoint of ``x = solve(a, b)``: ``db = solve(aᵀ, dx)``, ``da = -db xᵀ``.

    A 1-D ``b`` is a vector (NumPy 2's rule), also against a stack of matrices.

    >>> import adcheck as ad
    >>> a, b = np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0])
    >>> ad.gradient(lambda b: np.linalg.solve(a, b).sum(), b)[0]
    array([0.5 , 0.25])
    """
    x = np.linalg.solve(a, b)

    def back(dy):
        if np.ndim(b) == 1:  # columns, so that solve reads every batch as a matrix
            db = np.linalg.solve(mT(a), as_column(dy))
            xs = as_column(x)
        else:
            db = np.linalg.solve(mT(a), dy)
            xs = x
        return (lambda: fit(-(db @ mT(xs)), a),
                lambda: fit(np.reshape(db, np.shape(dy)), b))

    return x, back


# -- pseudo-inverse and least squares --------------------------------------------------------


def _rcond(a: Any, rcond: Any, rtol: Any) -> Any:
    """The relative cutoff NumPy's pinv applies to the singular values."""
    if rcond is None:
        if rtol is NOT_GIVEN:
            return 1e-15
        if rtol is None:
            return max(np.shape(a)[-2:]) * np.finfo(np.result_type(a)).eps
        return rtol
    return rcond


def _require_full_rank(fn: str, s: np.ndarray, cutoff: Any) -> None:
    if np.any(s <= cutoff):
        raise NotDifferentiable(
            f"np.linalg.{fn} of a rank-deficient matrix (a singular value at or below the "
            "cutoff rcond * max(s)) is not differentiable: its rank changes under small "
            "perturbations. Differentiate a full-rank problem (e.g. add a ridge term and use "
            "np.linalg.solve), or register your own adjoint."
        )


def _pinv_cotangent(a: Any, p: Any, g: Any) -> Any:
    """The cotangent of a full-rank ``a`` for the cotangent ``g`` of ``p = pinv(a)``:
    ``-pᵀ g pᵀ + (I - a p) gᵀ p pᵀ + pᵀ p gᵀ (I - p a)``."""
    pt, gt = mT(p), mT(g)
    x = gt @ (p @ pt)
    y = (pt @ p) @ gt
    return -(pt @ g @ pt) + (x - a @ (p @ x)) + (y - (y @ p) @ a)


def _pinv_spec(a, rcond=None, hermitian=False, *, rtol=NOT_GIVEN):
    return a, rcond, hermitian, rtol


def _lower_symmetric(a: Any) -> Any:
    n = np.shape(a)[-1]
    return a * lower_mask(n) + mT(a * lower_mask(n, -1))


@adjoint(np.linalg.pinv, domain=domains.custom(_pinv_args, "full-rank matrices of any shape "
                                               "(stacks too), rcond/rtol, hermitian"),
         builtin=True)
def _pinv(*args, **kwargs):
    """Adjoint of ``pinv(a)`` for full-rank ``a`` (any shape); with ``hermitian=True`` NumPy
    reads the lower triangle, and so does the cotangent.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.pinv(a).sum(), np.array([[2.0]]))[0]
    array([[-0.25]])
    """
    a, rcond, hermitian, rtol = _pinv_spec(*args, **kwargs)
    p = np.linalg.pinv(a, rcond, hermitian, rtol=rtol)
    s = np.abs(np.linalg.svd(strip(a), compute_uv=False, hermitian=bool(hermitian)))
    cutoff = np.asarray(_rcond(a, rcond, rtol))[..., None] * np.max(s, axis=-1, keepdims=True)
    _require_full_rank("pinv", s, cutoff)
    rest = nones(args)
    if hermitian:
        return p, lambda dy: (fit(reflect_adjoint(_pinv_cotangent(_lower_symmetric(a), p, dy)),
                                  a), *rest)
    return p, lambda dy: (fit(_pinv_cotangent(a, p, dy), a), *rest)


def _lstsq_spec(a, b, rcond=None):
    return a, b, rcond


def _used(d: Any) -> bool:
    """Whether the cotangent ``d`` of an output can contribute: it is nonzero, or traced (an
    outer level differentiates the pullback in it, where a term skipped at a zero value
    would lose its derivative: second derivatives, a JVP through the pullback)."""
    return type(d) is Traced or bool(np.any(d != 0))


@adjoint(np.linalg.lstsq, domain=domains.custom(_lstsq_args, "full-rank a (tall, square, "
                                                "wide), b vector or matrix, rcond"),
         builtin=True)
def _lstsq(*args, **kwargs):
    """Adjoint of ``lstsq(a, b)`` for full-rank ``a``: the solution ``x = pinv(a) b``, the
    residuals (by the envelope theorem: ``2 r`` per column) and the singular values; the rank
    is an integer.

    >>> import adcheck as ad
    >>> a, b = np.array([[1.0], [1.0]]), np.array([1.0, 3.0])
    >>> ad.gradient(lambda b: np.linalg.lstsq(a, b)[0].sum(), b)[0]
    array([0.5, 0.5])
    """
    a, b, rcond = _lstsq_spec(*args, **kwargs)
    value = np.linalg.lstsq(a, b, rcond)
    x, residuals, rank, s = value
    m, n = np.shape(a)
    cut = np.finfo(np.float64).eps * max(m, n) if rcond is None else rcond
    _require_full_rank("lstsq", strip(s), cut * np.max(strip(s)))
    vector = np.ndim(b) == 1

    def back(dy):
        dx, dres, _, ds = dy
        p = np.linalg.pinv(a)
        dxs, bs, xs = (as_column(v) for v in (dx, b, x)) if vector else (dx, b, x)
        da = _pinv_cotangent(a, p, dxs @ mT(bs))
        db = mT(p) @ dxs
        if np.size(residuals) and _used(dres):
            weighted = 2 * (bs - a @ xs) * dres  # d(sum r_j^2) = 2 r_j (db_j - da x_j)
            da = da - weighted @ mT(xs)
            db = db + weighted
        if _used(ds):
            u, _, vt = np.linalg.svd(a, full_matrices=False)
            da = da + (u * ds) @ vt
        return (fit(da, a), fit(np.reshape(db, np.shape(b)), b)) + nones(args[1:])

    return value, back


# -- powers and chains of products -----------------------------------------------------------


def _matrix_power_spec(a, n):
    return a, n


@adjoint(np.linalg.matrix_power, domain=domains.custom(_matrix_power_args, "matrices (stacks) "
                                                       "with singular values in [0.6, 1.5], "
                                                       "n in 0, 1, 2, 3, 5, -1, -2"),
         builtin=True)
def _matrix_power(*args, **kwargs):
    """Adjoint of ``a^n``: ``sum_k (bᵀ)^k dY (bᵀ)^(m-1-k)`` with ``b = a`` (``b = a⁻¹`` and
    ``m = -n`` for a negative ``n``, chained through the inverse's adjoint).

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.matrix_power(a, 3).sum(), np.array([[2.0]]))[0]
    array([[12.]])
    """
    a, n = _matrix_power_spec(*args, **kwargs)
    value = np.linalg.matrix_power(a, n)
    rest = nones(args)
    if n == 0:
        return value, lambda dy: (np.zeros(np.shape(a), np.result_type(a)),) + rest
    base = a if n > 0 else np.linalg.inv(a)

    def back(dy):
        bt = mT(base)
        powers = [None, bt]  # powers[k] = (bᵀ)^k; None stands for the identity
        for _ in range(2, abs(n)):
            powers.append(powers[-1] @ bt)
        g = 0
        for k in range(abs(n)):
            term = dy if k == 0 else powers[k] @ dy
            j = abs(n) - 1 - k
            g = g + (term if j == 0 else term @ powers[j])
        if n < 0:
            g = -(bt @ g @ bt)
        return (fit(g, a),) + rest

    return value, back


def _multi_dot_spec(arrays, *, out=None):
    reject("linalg.multi_dot", out=out)


@adjoint(np.linalg.multi_dot, domain=domains.custom(_multi_dot_args, "2 to 4 chained factors, "
                                                    "vectors at the ends"),
         builtin=True)
def _multi_dot(arrays, **kwargs):
    """Adjoint of ``multi_dot(arrays)``: each factor's cotangent is (product of the factors
    before it)ᵀ · dY · (product of those after it)ᵀ.

    >>> import adcheck as ad
    >>> a, b = np.array([1.0, 2.0]), np.array([[1.0], [1.0]])
    >>> ad.gradient(lambda a: np.linalg.multi_dot([a, b]).sum(), a)[0]
    array([1., 1.])
    """
    _multi_dot_spec(arrays, **kwargs)
    value = np.linalg.multi_dot(arrays)
    shapes = [np.shape(f) for f in arrays]

    def back(dy):
        factors = list(arrays)
        if len(shapes[0]) == 1:
            factors[0] = np.reshape(factors[0], (1,) + shapes[0])
        if len(shapes[-1]) == 1:
            factors[-1] = np.reshape(factors[-1], shapes[-1] + (1,))
        g = np.reshape(dy, (np.shape(factors[0])[0], np.shape(factors[-1])[1]))
        count = len(factors)
        before = [None] * count  # before[i]: product of factors[:i], None when i == 0
        for i in range(1, count):
            before[i] = factors[0] if i == 1 else before[i - 1] @ factors[i - 1]
        grads = [None] * count
        after = None  # product of factors[i + 1:]
        for i in range(count - 1, -1, -1):
            gi = g if after is None else g @ mT(after)
            if before[i] is not None:
                gi = mT(before[i]) @ gi
            grads[i] = fit(np.reshape(gi, shapes[i]), arrays[i])
            after = factors[i] if after is None else factors[i] @ after
        return (grads,)

    return value, back


# -- condition numbers ------------------------------------------------------------------------


def _cond_args(draw: Any) -> tuple[tuple, dict]:
    """Matrices whose condition number of order p is differentiable with room: singular values
    0.3 apart for None/2/-2 (any shape), 'fro', 'nuc'; for 1, -1, inf, -inf a signed
    permuted diagonal with magnitudes a factor 2 apart plus a 2 % dense part, so that the
    largest (smallest) column and row sums of the matrix and of its inverse have no tie."""
    from hypothesis import strategies as st

    ord = draw(st.sampled_from([None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf]))
    batch = draw_batch(draw)
    if ord in (None, 2, -2):
        m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    else:
        m = n = draw(st.integers(1, 3))
    if ord in (1, -1, math.inf, -math.inf):
        scale = draw_array(draw, batch + (n,), 1.0, 1.2) * 2.0 ** np.array(
            draw(st.permutations(range(n))))
        signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
        dense = draw_array(draw, batch + (n, n), -1.0, 1.0)
        a = np.eye(n) * as_row(scale * signs) + 0.02 * dense
    else:
        a = with_singular_values(draw, batch, m, n, spectrum(draw, batch, min(m, n), gap=0.3))
    # p as a keyword: a positional float (inf) would be taken for a differentiable input
    return (a.astype(draw_dtype(draw)),), ({} if ord is None else {"p": ord})


def _cond_spec(x, p=None):
    return x, p


@adjoint(np.linalg.cond, domain=domains.custom(_cond_args, "every p; distinct singular values, "
                                               "no ties in column/row sums"),
         builtin=True)
def _cond(*args, **kwargs):
    """Adjoint of ``cond(x, p)``: ``s_max / s_min`` through the singular vectors (p None, 2,
    -2), else ``|x|_p |x⁻¹|_p`` through the norms' cotangents and the inverse's.

    >>> import adcheck as ad
    >>> ad.gradient(np.linalg.cond, np.diag([4.0, 2.0]))[0]
    array([[ 0.5,  0. ],
           [ 0. , -1. ]])
    """
    x, p = _cond_spec(*args, **kwargs)
    value = np.linalg.cond(x, p)
    rest = nones(args)
    if p in (None, 2, -2):
        u, s, vt = np.linalg.svd(x, full_matrices=False)

        def back(dy):
            top = u[..., :, :1] @ vt[..., :1, :]  # d s_max / dx
            bottom = u[..., :, -1:] @ vt[..., -1:, :]  # d s_min / dx
            den, d_num, d_den = (s[..., -1], top, bottom) if p != -2 else (s[..., 0], bottom, top)
            # d(num / den) = (d num - value d den) / den
            g = per_matrix(dy / den) * (d_num - per_matrix(value) * d_den)
            return (fit(g, x),) + rest

        return value, back
    # |x| |x⁻¹| is stationary at multiples of orthogonal matrices, where the cotangent is the
    # difference of two equal terms: in float32 that leaves rounding noise of the terms' size
    # in place of 0, so the terms are computed in float64 (and the sum cast back by fit).
    x64 = x if np.result_type(x) == np.float64 else x.astype(np.float64)
    b = np.linalg.inv(x64)
    nx, nb = (np.linalg.norm(v, p, axis=(-2, -1)) for v in (x64, b))

    def back(dy):
        one = per_matrix(np.ones(np.shape(dy)))
        gx = matrix_norm_cotangent(x64, per_matrix(nx), one, p)
        gb = matrix_norm_cotangent(b, per_matrix(nb), one, p)
        g = per_matrix(dy * nb) * gx - per_matrix(dy * nx) * (mT(b) @ gb @ mT(b))
        return (fit(g, x),) + rest

    return value, back


# -- aliases in np.linalg --------------------------------------------------------------------


adjoint(np.linalg.matmul, domain=domains.custom(linalg._matmul_args, "as np.matmul"),
        builtin=True)(linalg._matmul)
