"""Adjoint rules for ``cov`` and ``corrcoef``.

Both read their input as a matrix ``X`` of ``k`` variables (rows; columns with
``rowvar=False``) by ``N`` observations, with ``y`` (if given) appended as more variables, as
NumPy does. With ``Xc`` the rows minus their means and ``f = N - ddof`` (``ddof`` 1, or 0
with ``bias=True``, unless given):

- ``cov``: ``C = Xc Xc^T / f``; ``X`` gets ``(G + G^T) Xc / f`` for the cotangent ``G`` (the
  centring needs no term: the rows of ``Xc`` sum to 0);
- ``corrcoef``: ``R_ij = C_ij / sqrt(C_ii C_jj)``; ``C`` gets ``G_ij / sqrt(C_ii C_jj)`` plus,
  on its diagonal, ``-sum_j (G_ij R_ij + G_ji R_ji) / (2 C_ii)``, which then goes through
  ``cov``'s pullback. NumPy clips ``R`` to [-1, 1]; the domain keeps away from ``|R| = 1``.

``fweights=``, ``aweights=`` and ``dtype=`` are rejected with :class:`~adcheck.NotDifferentiable`.
The pullbacks are written with NumPy functions that have rules (second derivatives).

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.cov(x), np.array([1.0, 2.0, 6.0]))[0]
array([-2., -1.,  3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .reductions import real_array
from .shape import reject
from .statistics import centered


def _cov_spec(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None,
              *, dtype=None):
    reject("cov", fweights=fweights, aweights=aweights, dtype=dtype)
    return y, rowvar, bias, ddof


def _corrcoef_spec(x, y=None, rowvar=True, bias=None, ddof=None, *, dtype=None):
    reject("corrcoef", dtype=dtype)
    return y, rowvar


def _rows(m: Any, rowvar: bool) -> tuple[Any, bool]:
    """``m`` as NumPy reads it: at least 2-d, transposed for ``rowvar=False`` (unless one row)."""
    x = np.reshape(m, (1, -1)) if np.ndim(m) < 2 else m
    if not rowvar and np.shape(x)[0] != 1:
        return np.transpose(x), True
    return x, False


def _variables(m: Any, y: Any, rowvar: bool):
    """The stacked variables matrix, and a function splitting its cotangent back to m and y."""
    xm, tm = _rows(m, rowvar)
    parts = [(m, xm, tm)]
    if y is not None:
        xy, ty = _rows(y, rowvar)
        parts.append((y, xy, ty))
    x = xm if y is None else np.concatenate([xm, xy], axis=0)

    def split(dx):
        out = []
        start = 0
        for orig, rows, transposed in parts:
            k = np.shape(rows)[0]
            d = dx[start:start + k]
            start += k
            out.append(fit(np.reshape(np.transpose(d) if transposed else d, np.shape(orig)),
                           orig))
        return out

    return x, split


def _covariance(x: Any, bias: bool, ddof: Any) -> tuple[Any, Any, float]:
    """The centred rows, the covariance matrix and its divisor ``f``."""
    n = np.shape(x)[1]
    if ddof is None:
        ddof = 0 if bias else 1
    f = float(n - ddof)
    xc = centered(x, (1,))
    return xc, np.matmul(xc, np.transpose(xc)) / f, f


def _grads(args: tuple, split: Any, dx: Any, y_given_positionally: bool) -> tuple:
    parts = split(dx)
    grads = [parts[0]] + [None] * (len(args) - 1)
    if y_given_positionally:
        grads[1] = parts[1]
    return tuple(grads)


# -- domains ---------------------------------------------------------------------------------


def _variables_args(draw: Any, corr: bool) -> tuple[np.ndarray, Any, bool]:
    from hypothesis import strategies as st

    rowvar = draw(st.booleans())
    n = draw(st.sampled_from([3, 4] if corr else [2, 3, 4]))
    k = draw(st.sampled_from([0, 1, 2, 3]))  # 0: a 1-d array, one variable
    shape = (n,) if k == 0 else ((k, n) if rowvar else (n, k))
    x = real_array(draw, shape, -3.0, 3.0)
    y = None
    if draw(st.booleans()):
        ky = draw(st.sampled_from([0, 1, 2]))
        y_shape = (n,) if ky == 0 else ((ky, n) if rowvar else (n, ky))
        y = real_array(draw, y_shape, -3.0, 3.0).astype(x.dtype)
    if corr:  # away from |R| = 1 (where NumPy clips): spread the observations apart
        x = x + _spread(shape, rowvar, 1.0).astype(x.dtype)
    return x, y, rowvar


def _spread(shape: tuple, rowvar: bool, phase: float) -> np.ndarray:
    """A fixed, far from collinear pattern of observations per variable (for corrcoef)."""
    if len(shape) == 1:
        rows, n = 1, shape[0]
    else:
        rows, n = shape if rowvar else shape[::-1]
    pattern = np.sin(np.arange(rows * n).reshape(rows, n) * 2.3 + phase) * 4.0
    pattern = pattern if rowvar else pattern.T
    return np.reshape(pattern, shape)


def _cov_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    x, y, rowvar = _variables_args(draw, False)
    n = x.shape[-1] if (x.ndim == 1 or rowvar) else x.shape[0]
    bias = draw(st.booleans())
    ddof = draw(st.sampled_from([None, 0, 1] if n > 1 else [None, 0]))
    kwargs = {"rowvar": rowvar, "bias": bias, "ddof": ddof}
    return ((x, y) if y is not None else (x,)), kwargs


def _corrcoef_args(draw: Any) -> tuple[tuple, dict]:
    x, y, rowvar = _variables_args(draw, True)
    if y is not None:  # keep y apart from x's variables too
        y = y + _spread(y.shape, rowvar, 0.4).astype(y.dtype)
    return ((x, y) if y is not None else (x,)), {"rowvar": rowvar}


# -- rules -----------------------------------------------------------------------------------


@adjoint(np.cov, domain=domains.custom(_cov_args, "1-3 variables by 2-4 observations, "
                                       "rowvar, bias, ddof None/0/1, y none or 1-2 variables"),
         builtin=True)
def _cov(*args, **kwargs):
    """Adjoint of ``np.cov``: ``X`` gets ``(G + G^T) Xc / (N - ddof)``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.cov(x, bias=True)[0, 1],
    ...             np.array([[1.0, 3.0], [0.0, 4.0]]))[0]
    array([[-1. ,  1. ],
           [-0.5,  0.5]])
    """
    y, rowvar, bias, ddof = _cov_spec(*args, **kwargs)
    value = np.cov(*args, **kwargs)
    x, split = _variables(args[0], y, rowvar)
    xc, _, f = _covariance(x, bias, ddof)
    k = np.shape(x)[0]

    def back(dy):
        g = np.reshape(dy, (k, k))
        return _grads(args, split, np.matmul(g + np.transpose(g), xc) / f, len(args) > 1)

    return value, back


@adjoint(np.corrcoef, domain=domains.custom(_corrcoef_args, "1-3 variables by 3-4 "
                                            "observations, rowvar, y none or 1-2 variables, "
                                            "correlations away from +-1"), builtin=True)
def _corrcoef(*args, **kwargs):
    """Adjoint of ``np.corrcoef``: through ``R_ij = C_ij / sqrt(C_ii C_jj)`` to ``cov``'s pullback.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.corrcoef(x), np.array([1.0, 2.0, 6.0]))[0]
    array([0., 0., 0.])
    """
    y, rowvar = _corrcoef_spec(*args, **kwargs)
    value = np.corrcoef(*args, **kwargs)
    x, split = _variables(args[0], y, rowvar)
    xc, c, f = _covariance(x, False, None)
    k = np.shape(x)[0]
    d = np.diagonal(c)
    # sqrt(d_i d_j), not s_i s_j: exactly d_i on the diagonal, so R_ii is exactly 1 and the
    # diagonal's two terms cancel exactly (corrcoef of one variable is the constant 1)
    scale = np.sqrt(np.reshape(d, (k, 1)) * np.reshape(d, (1, k)))
    r = c / scale

    def back(dy):
        g = np.reshape(dy, (k, k))
        gr = g * r
        gd = -(np.sum(gr, axis=1) + np.sum(gr, axis=0)) / (2.0 * d)
        eye = np.eye(k, dtype=np.result_type(strip(d)))
        dc = g / scale + eye * np.reshape(gd, (1, k))
        return _grads(args, split, np.matmul(dc + np.transpose(dc), xc) / f, len(args) > 1)

    return value, back
