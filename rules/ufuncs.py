"""Adjoint rules for NumPy's elementwise functions (ufuncs) and ``np.where``.

Each rule is the textbook derivative; ``fit`` (the engine's own projection) sums a cotangent
over the axes broadcasting added and casts it to its argument's dtype, so every cotangent has
exactly its argument's shape and dtype. Binary rules hand back *lazy* cotangents
(``lambda: ...``): in ``x * 1.001`` the constant's cotangent is never computed.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.tanh(x).sum(), np.array([0.0, 1.0]))[0].round(6)
array([1.      , 0.419974])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

real = domains.real()
LN2, LN10 = math.log(2.0), math.log(10.0)  # Python floats: float32 stays float32


def _unary(ufunc: np.ufunc, derivative: Callable[[Any, Any], Any], domain: Any) -> None:
    """Register ``dy * derivative(x, y)`` as the adjoint of the unary ``ufunc``.

    ``dy`` has ``y``'s shape and dtype, which are ``x``'s, and each derivative below keeps
    that dtype (its constants are Python floats, which NumPy does not let promote float32),
    so no projection is needed on this hot path.
    """

    def rule(x):
        y = ufunc(x)
        return y, lambda dy: (dy * derivative(x, y),)

    rule.__name__ = rule.__qualname__ = f"{ufunc.__name__}_adjoint"
    rule.__doc__ = f"Adjoint of np.{ufunc.__name__}."
    adjoint(ufunc, domain=domain, builtin=True)(rule)


_unary(np.negative, lambda x, y: -1.0, real)
_unary(np.positive, lambda x, y: 1.0, real)
_unary(np.square, lambda x, y: 2 * x, real)
_unary(np.reciprocal, lambda x, y: -(y * y), domains.nonzero())
_unary(np.sqrt, lambda x, y: 0.5 / y, domains.positive())
_unary(np.cbrt, lambda x, y: 1.0 / (3 * y * y), domains.nonzero())
_unary(np.exp, lambda x, y: y, domains.real(-5, 5))
_unary(np.exp2, lambda x, y: y * LN2, domains.real(-5, 5))
_unary(np.expm1, lambda x, y: y + 1, domains.real(-5, 5))
_unary(np.log, lambda x, y: 1 / x, domains.positive())
_unary(np.log2, lambda x, y: 1 / (x * LN2), domains.positive())
_unary(np.log10, lambda x, y: 1 / (x * LN10), domains.positive())
_unary(np.log1p, lambda x, y: 1 / (1 + x), domains.interval(-0.9, 10))
_unary(np.sin, lambda x, y: np.cos(x), real)
_unary(np.cos, lambda x, y: -np.sin(x), real)
_unary(np.tan, lambda x, y: 1 + y * y, domains.interval(-1.4, 1.4))
_unary(np.arcsin, lambda x, y: 1 / np.sqrt(1 - x * x), domains.interval(-0.9, 0.9))
_unary(np.arccos, lambda x, y: -1 / np.sqrt(1 - x * x), domains.interval(-0.9, 0.9))
_unary(np.arctan, lambda x, y: 1 / (1 + x * x), real)
_unary(np.sinh, lambda x, y: np.cosh(x), domains.real(-5, 5))
_unary(np.cosh, lambda x, y: np.sinh(x), domains.real(-5, 5))
_unary(np.tanh, lambda x, y: 1 - y * y, domains.real(-5, 5))
_unary(np.arctanh, lambda x, y: 1 / (1 - x * x), domains.interval(-0.9, 0.9))
# |x| has a kink at 0: the checker keeps its inputs away from it.
_unary(np.absolute, lambda x, y: np.sign(x), domains.nonzero())


@adjoint(np.add, domain=real, builtin=True)
def _add(x, y):
    """Adjoint of ``x + y``: the cotangent passes through to both."""
    return np.add(x, y), lambda dy: (lambda: fit(dy, x), lambda: fit(dy, y))


@adjoint(np.subtract, domain=real, builtin=True)
def _subtract(x, y):
    """Adjoint of ``x - y``."""
    return np.subtract(x, y), lambda dy: (lambda: fit(dy, x), lambda: fit(-dy, y))


@adjoint(np.multiply, domain=real, builtin=True)
def _multiply(x, y):
    """Adjoint of ``x * y``: each factor's cotangent is ``dy`` times the other factor."""
    return np.multiply(x, y), lambda dy: (lambda: fit(dy * y, x), lambda: fit(dy * x, y))


@adjoint(np.true_divide, domain=(real, domains.nonzero()), builtin=True)
def _divide(x, y):
    """Adjoint of ``x / y``."""
    z = np.true_divide(x, y)
    return z, lambda dy: (lambda: fit(dy / y, x), lambda: fit(-dy * z / y, y))


@adjoint(np.power, domain=(domains.positive(0.1, 5.0), domains.real(-3, 3)), builtin=True)
def _power(x, p):
    """Adjoint of ``x ** p``; the exponent's cotangent uses ``log(x)`` and is 0 where x <= 0."""
    z = np.power(x, p)

    def d_exponent(dy):
        positive = np.greater(x, 0)
        dp = dy * z * np.log(np.where(positive, x, 1.0))
        return fit(np.where(positive, dp, 0.0), p)

    def d_base(dy):
        # x ** 0 is the constant 1: where p == 0 the derivative is 0, not 0 * x ** -1 (NaN
        # at x = 0). The base is replaced by 1 there, so that no derivative of this is NaN.
        zero = np.equal(strip(p), 0)
        if not np.any(zero):  # the usual case
            return fit(dy * p * np.power(x, p - 1), x)
        return fit(dy * p * np.power(np.where(zero, 1.0, x), p - 1), x)

    def back(dy):
        return lambda: d_base(dy), lambda: d_exponent(dy)

    return z, back


def _separated_pair(draw) -> tuple[tuple, dict]:
    """Two broadcastable arrays whose entries differ by at least 0.1 (no ties, no kinks)."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    gap = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.1, 5)))
    sign = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    return (x, x + sign * gap), {}


_separated = domains.custom(_separated_pair, "two arrays whose entries differ by >= 0.1")


def _extremum(ufunc: np.ufunc, pick_first: Callable) -> None:
    def rule(x, y):
        z = ufunc(x, y)

        def back(dy):
            # Ties (a kink) split the cotangent evenly, the subgradient's midpoint.
            first = np.where(pick_first(x, y), 1.0, np.where(np.equal(x, y), 0.5, 0.0))
            return lambda: fit(dy * first, x), lambda: fit(dy * (1.0 - first), y)

        return z, back

    rule.__name__ = rule.__qualname__ = f"{ufunc.__name__}_adjoint"
    rule.__doc__ = f"Adjoint of np.{ufunc.__name__}; ties split the cotangent evenly."
    adjoint(ufunc, domain=_separated, builtin=True)(rule)


_extremum(np.maximum, np.greater)
_extremum(np.minimum, np.less)


def _where_args(draw) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    cond = draw(hnp.arrays(np.bool_, shape))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)))
    y = draw(hnp.arrays(np.float64, shape[1:], elements=st.floats(-10, 10)))
    return (cond, x, y), {}


@adjoint(np.where, domain=domains.custom(_where_args, "condition, x, y (y broadcast)"),
         builtin=True)
def _where(cond, *xy):
    """Adjoint of ``np.where(cond, x, y)``: the cotangent goes to the branch that was taken."""
    if not xy:  # np.where(cond): indices, nothing to differentiate
        return np.where(cond), lambda dy: (None,)
    x, y = xy
    value = np.where(cond, x, y)
    # The value's dtype, not np.result_type(x, y): a list operand would be read as a dtype.
    zero = np.zeros((), value.dtype)
    return value, lambda dy: (
        None,
        lambda: fit(np.where(cond, dy, zero), x),
        lambda: fit(np.where(cond, zero, dy), y),
    )
