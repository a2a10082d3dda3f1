"""Adjoint rules for ``scipy.special``: error functions, gamma family, logistic, ``xlogy``.

The functions here are NumPy ufuncs, so calls on traced values reach the engine unchanged:
``scipy.special.erf(x)`` differentiates as it is. Two are plain Python functions that convert
their input with ``np.asarray``, which no tracer can pass through: ``scipy.special.logsumexp``
and ``scipy.special.polygamma``. This module provides them as primitives with the same
signatures, :func:`logsumexp` and :func:`polygamma` (``from adcheck.rules.special import
logsumexp``); scipy's own raise :class:`~adcheck.NotDifferentiable` on traced values.

scipy is optional: without it this module registers nothing.

Every derivative is written with functions that have rules themselves (``digamma`` through
:func:`polygamma`, ``erfinv`` through itself), so second derivatives nest.

>>> import numpy as np
>>> import adcheck as ad
>>> from scipy import special
>>> ad.gradient(lambda x: special.gammaln(x).sum(), np.array([1.0, 2.0]))[0].round(6)
array([-0.577216,  0.422784])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint, nondifferentiable, primitive

from .shape import draw_axis, normalize_axes

try:
    from scipy import special as sp
except ImportError:  # scipy is optional
    sp = None

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
SQRT_2PI = math.sqrt(2 * math.pi)

real = domains.real()
# Gamma and its relatives have poles at 0, -1, -2, ...; log|gamma| is smooth between them.
_POLES = tuple(float(-k) for k in range(5))
gamma_domain = domains.interval(-4.5, 8, avoid=_POLES, margin=0.05)


# -- the two Python functions of scipy.special, as primitives ---------------------------------


@primitive
def polygamma(n: Any, x: Any) -> Any:
    """``scipy.special.polygamma(n, x)``, the n-th derivative of digamma, as a primitive.

    >>> import adcheck as ad
    >>> round(float(ad.derivative(lambda x: polygamma(1, x))(2.0)), 6)  # polygamma(2, 2)
    -0.404114
    """
    return sp.polygamma(n, x)


@primitive
def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``scipy.special.logsumexp``, ``log(sum(b * exp(a), axis))``, as a primitive.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: logsumexp(a), np.log(np.array([1.0, 3.0])))[0]
    array([0.25, 0.75])
    """
    return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)


def _polygamma_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    from adcheck.check.strategies import interval_args

    (x,), _ = draw(interval_args([gamma_domain]))
    n = draw(st.sampled_from([0, 1, 2, 3]))
    if draw(st.booleans()):
        n = np.full(np.shape(x), n)
    return (n, x), {}


def _iv_args(draw: Any) -> tuple[tuple, dict]:
    """An integer order 0..3 (a Python int or an int array like x), x in [-5, 5]."""
    from hypothesis import strategies as st

    from adcheck.check.strategies import interval_args

    (x,), _ = draw(interval_args([domains.real(-5, 5)]))
    v = draw(st.sampled_from([0, 1, 2, 3]))
    if draw(st.booleans()):
        v = np.full(np.shape(x), v)
    return (v, x), {}


def _iv(v, x):
    """Adjoint of the modified Bessel function ``iv(v, x)`` in ``x``:
    ``(iv(v - 1, x) + iv(v + 1, x)) / 2``, written with ``iv`` so that every order nests (the
    rule of ``np.i0``, whose derivative is ``i1``, relies on it). The order ``v`` is not
    differentiated: a float ``v`` that is being differentiated is refused (its cotangent is
    computed only then, see :mod:`adcheck.registry`), an integer one has none.

    >>> import adcheck as ad
    >>> round(float(ad.derivative(lambda x: sp.iv(1, x))(0.0)), 12)  # I1'(0) = 1/2
    0.5
    """
    integer = np.result_type(v).kind in "iub"
    return sp.iv(v, x), lambda dy: (None if integer else _iv_order_cotangent,
                                    fit(dy * 0.5 * (_iv_tiny_safe(v - 1, x)
                                                    + _iv_tiny_safe(v + 1, x)), x))


def _iv_tiny_safe(v, x):
    """``iv(v, x)``, with the leading term ``(|x|/2)**|v| / |v|!`` of its series (signed) for
    integer ``v`` and ``|x| < 1e-150``: scipy's ``iv`` is NaN or 0 there (``iv(2, 2.2e-308)``
    is NaN, ``iv(1, 1e-300)`` is 0), which made ``i1``'s derivative NaN at the smallest
    normal number. Written with traced operations, so second derivatives nest.

    >>> float(_iv_tiny_safe(2, 2.2250738585072014e-308)), float(_iv_tiny_safe(1, 1e-300))
    (0.0, 5e-301)
    """
    n = np.abs(v)
    tiny = (np.abs(x) < 1e-150) & (np.mod(v, 1) == 0)
    # Two terms, in x itself (an integer power keeps the sign of odd orders): |x| has slope
    # 0 at x = 0, and one term has none for |v| = 0, so second derivatives were 0 instead
    # of 1/2 for iv(0, x) at 0 and 1/3 of the truth for iv(1, x) at 1e-200 (verify
    # --builtin --order 2 --seed 402). Below 1e-150 the second term changes no value.
    half = x / 2
    series = half**n / sp.gamma(n + 1) + half ** (n + 2) / sp.gamma(n + 2)
    return np.where(tiny, series, sp.iv(v, np.where(tiny, 1.0, x)))


def _iv_order_cotangent() -> Any:
    raise NotDifferentiable(
        "scipy.special.iv(v, x) is differentiated in x only; its derivative in the order v "
        "is not implemented. Pass v as a constant (an int, or a float that is not being "
        "differentiated).")


def _polygamma(n, x):
    """Adjoint of ``polygamma(n, x)``: ``polygamma(n + 1, x)``. The order is an integer: a
    float ``n`` being differentiated is refused (a None would be a silent zero).

    >>> import adcheck as ad
    >>> ad.gradient(lambda n: polygamma(n, 1.5), 1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adcheck.engine.errors.NotDifferentiable: polygamma(n, x) is differentiated in x only...
    """
    integer = np.result_type(n).kind in "iub"
    return polygamma(n, x), lambda dy: (None if integer else _polygamma_order_cotangent,
                                        fit(dy * polygamma(n + 1, x), x))


def _polygamma_order_cotangent() -> Any:
    raise NotDifferentiable(
        "polygamma(n, x) is differentiated in x only; the order n is an integer and has no "
        "derivative. Pass n as a constant (an int, or a float that is not being "
        "differentiated).")


def _logsumexp_spec(a, axis=None, b=None, keepdims=False, return_sign=False):
    if return_sign:
        raise NotDifferentiable(
            "logsumexp(..., return_sign=True) is not differentiable by adcheck's rule; "
            "keep the weights b positive and call it without return_sign."
        )
    return axis, b, keepdims


def _logsumexp_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    from adcheck.check.strategies import interval_args

    (a,), _ = draw(interval_args([real]))
    shape = np.shape(a)
    axis = draw_axis(draw, len(shape))
    keepdims = draw(st.booleans())
    if not draw(st.booleans()):
        return (a,), {"axis": axis, "keepdims": keepdims}
    b_shape = draw(hnp.broadcastable_shapes(shape, max_dims=len(shape), max_side=3))
    b = draw(hnp.arrays(np.result_type(a), b_shape,
                        elements=st.floats(0.0625, 3.0, width=32, allow_subnormal=False)))
    if draw(st.booleans()):  # b positionally, so that its cotangent is checked too
        return (a, axis, b, keepdims), {}
    return (a,), {"axis": axis, "b": b, "keepdims": keepdims}


def _logsumexp(a, *args, **kwargs):
    """Adjoint of ``log(sum(b * exp(a)))``: the softmax weights ``b * exp(a - z)`` for ``a``,
    ``exp(a - z)`` for ``b``, the cotangent broadcast back over the reduced axes."""
    axis, b, keepdims = _logsumexp_spec(a, *args, **kwargs)
    z = logsumexp(a, *args, **kwargs)
    shape = np.shape(a) if b is None else np.broadcast_shapes(np.shape(a), np.shape(b))
    shape = shape or (1,)  # scipy reads a 0-d input as one entry (np.atleast_1d)
    axes = normalize_axes(axis, len(shape))

    def back(dy):
        z_kept, dy_kept = (z, dy) if keepdims else (np.expand_dims(z, axes),
                                                    np.expand_dims(dy, axes))
        weights = np.exp(a - z_kept)
        d_a = lambda: fit(dy_kept * (weights if b is None else b * weights), a)  # noqa: E731
        # exp(a - z) over the whole broadcast shape: b may be larger than a
        d_b = lambda: fit(np.broadcast_to(dy_kept * weights, shape), b)  # noqa: E731
        # Positional arguments: a, axis, b, keepdims, return_sign.
        return (d_a, None, None if b is None else d_b, None, None)[:1 + len(args)]

    return z, back


# -- ufuncs -----------------------------------------------------------------------------------


def _unary(ufunc: Any, derivative: Callable[[Any, Any], Any], domain: Any) -> None:
    """Register ``dy * derivative(x, y)`` (brought to x's dtype) as the adjoint of ``ufunc``."""

    def rule(x):
        y = ufunc(x)
        return y, lambda dy: (fit(dy * derivative(x, y), x),)

    rule.__name__ = rule.__qualname__ = f"{ufunc.__name__}_adjoint"
    rule.__doc__ = f"Adjoint of scipy.special.{ufunc.__name__}."
    adjoint(ufunc, domain=domain, builtin=True)(rule)


def _xlogy(x, y):
    """Adjoint of ``x * log(y)`` (0 where x == 0): ``log(y)`` and ``x / y``."""
    z = sp.xlogy(x, y)

    def d_y(dy):
        # At x == 0 and y == 0 the value is the constant 0; x / y there is 0 / 0. Masked on
        # both sides, so that no derivative of it sees the substituted y.
        singular = np.logical_and(np.equal(strip(x), 0), np.equal(strip(y), 0))
        if not np.any(singular):
            return fit(dy * x / y, y)
        safe = np.where(singular, 1.0, y)
        return fit(np.where(singular, 0.0, dy * x / safe), y)

    return z, lambda dy: (lambda: fit(dy * np.log(y), x), lambda: d_y(dy))


def _xlog1py(x, y):
    """Adjoint of ``x * log1p(y)`` (0 where x == 0): ``log1p(y)`` and ``x / (1 + y)``."""
    z = sp.xlog1py(x, y)

    def d_y(dy):
        singular = np.logical_and(np.equal(strip(x), 0), np.equal(strip(y), -1))
        if not np.any(singular):
            return fit(dy * x / (1 + y), y)
        safe = np.where(singular, 0.0, y)
        return fit(np.where(singular, 0.0, dy * x / (1 + safe)), y)

    return z, lambda dy: (lambda: fit(dy * np.log1p(y), x), lambda: d_y(dy))


def _betaln(a, b):
    """Adjoint of ``log|B(a, b)|``: ``digamma(a) - digamma(a + b)`` and the same for b."""
    z = sp.betaln(a, b)

    def back(dy):
        both = sp.digamma(a + b)
        return (lambda: fit(dy * (sp.digamma(a) - both), a),
                lambda: fit(dy * (sp.digamma(b) - both), b))

    return z, back


def _beta(a, b):
    """Adjoint of ``B(a, b)``: ``B(a, b)`` times betaln's derivatives."""
    z = sp.beta(a, b)

    def back(dy):
        both = sp.digamma(a + b)
        return (lambda: fit(dy * z * (sp.digamma(a) - both), a),
                lambda: fit(dy * z * (sp.digamma(b) - both), b))

    return z, back


if sp is not None:
    adjoint(polygamma, domain=domains.custom(_polygamma_args, "n in 0..3 (int or int array), "
                                             "x avoiding the poles 0, -1, ..., -4"),
            builtin=True)(_polygamma)
    adjoint(logsumexp, domain=domains.custom(_logsumexp_args, "a, every axis, keepdims, "
                                             "positive weights b (broadcast)"),
            builtin=True)(_logsumexp)

    _unary(sp.erf, lambda x, y: TWO_OVER_SQRT_PI * np.exp(-x * x), real)
    _unary(sp.erfc, lambda x, y: -TWO_OVER_SQRT_PI * np.exp(-x * x), real)
    # erfinv is defined on (-1, 1), erfcinv on (0, 2); their derivatives have poles at the ends.
    _unary(sp.erfinv, lambda x, y: (1 / TWO_OVER_SQRT_PI) * np.exp(y * y),
           domains.interval(-1, 1, avoid=(-1.0, 1.0), margin=0.01))
    _unary(sp.erfcinv, lambda x, y: (-1 / TWO_OVER_SQRT_PI) * np.exp(y * y),
           domains.interval(0, 2, avoid=(0.0, 2.0), margin=0.01))
    _unary(sp.gammaln, lambda x, y: sp.digamma(x), gamma_domain)
    _unary(sp.digamma, lambda x, y: polygamma(1, x), gamma_domain)  # also scipy.special.psi
    _unary(sp.gamma, lambda x, y: y * sp.digamma(x), gamma_domain)
    _unary(sp.expit, lambda x, y: y * (1 - y), real)
    _unary(sp.log_expit, lambda x, y: sp.expit(-x), real)
    _unary(sp.logit, lambda x, y: 1 / (x * (1 - x)),
           domains.interval(0, 1, avoid=(0.0, 1.0), margin=0.01))
    _unary(sp.ndtr, lambda x, y: np.exp(-0.5 * x * x) / SQRT_2PI, real)
    # phi(x) / Phi(x) in logs: no underflow far in the left tail.
    _unary(sp.log_ndtr, lambda x, y: np.exp(-0.5 * x * x - y) / SQRT_2PI, domains.real(-20, 10))
    _unary(sp.ndtri, lambda x, y: SQRT_2PI * np.exp(0.5 * y * y),
           domains.interval(0, 1, avoid=(0.0, 1.0), margin=0.01))

    nondifferentiable(sp.gammasgn)  # the sign of gamma: piecewise constant

    # Modified Bessel functions: np.i0's rule differentiates to i1, i1 to i0 and iv(2, .),
    # iv(v, .) to iv(v ± 1, .): second derivatives of np.i0 nest through these.
    adjoint(sp.iv, domain=domains.custom(_iv_args, "v in 0..3 (int or int array), x in "
                                         "[-5, 5]"), builtin=True)(_iv)
    _unary(sp.i0, lambda x, y: sp.i1(x), domains.real(-5, 5))
    _unary(sp.i1, lambda x, y: 0.5 * (np.i0(x) + _iv_tiny_safe(2, x)), domains.real(-5, 5))

    adjoint(sp.xlogy, domain=(real, domains.positive()), builtin=True)(_xlogy)
    adjoint(sp.xlog1py, domain=(real, domains.interval(-1, 10, avoid=(-1.0,), margin=0.01)),
            builtin=True)(_xlog1py)
    adjoint(sp.betaln, domain=domains.positive(0.1, 10), builtin=True)(_betaln)
    adjoint(sp.beta, domain=domains.positive(0.1, 5), builtin=True)(_beta)
