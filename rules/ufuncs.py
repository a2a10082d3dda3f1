"""Adjoint rules for NumPy's elementwise functions: ufuncs, ``np.where``, ``np.clip``,
``np.nan_to_num``, ``np.sinc``, and ``real``/``imag``/``conj``/``angle`` of real arrays (complex
values are refused with :class:`~adcheck.NotDifferentiable`: no rule handles them yet).

Each rule is the textbook derivative; ``fit`` (the engine's own projection) sums a cotangent
over the axes broadcasting added and casts it to its argument's dtype, so every cotangent has
exactly its argument's shape and dtype. Binary rules hand back *lazy* cotangents
(``lambda: ...``): in ``x * 1.001`` the constant's cotangent is never computed.

Pullbacks are written with NumPy functions that have rules, so derivatives of any order nest.
Where a formula is special-cased at a point (``x ** p`` at ``x = p = 0``, ``sinc`` near 0),
the special case holds for every order: the substituted value is masked on both sides of a
``where``, or replaced by a series that is exact there, never by a constant that only the first
derivative gets right. Kinks and jumps (``maximum`` at ties, ``clip`` at its bounds,
``remainder`` where ``x / y`` is an integer) are kept out of the checker's domains.

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
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .shape import NOT_GIVEN, reject

real = domains.real()
LN2, LN10 = math.log(2.0), math.log(10.0)  # Python floats: float32 stays float32
DEG = math.pi / 180


def _unary(ufunc: np.ufunc, derivative: Callable[[Any], Any], domain: Any,
           of: str | None = "x") -> None:
    """Register ``dy * derivative(v)`` as the adjoint of the unary ``ufunc``, where ``v`` is
    the input ``x`` or the output ``y`` as ``of`` says (None: a constant derivative).

    The pullback holds only that one array, so a gradient keeps no more in memory than the
    derivative needs (``tanh`` holds its output, ``sin`` its input). ``dy`` has ``y``'s
    shape and dtype, which are ``x``'s, and each derivative below keeps that dtype (its
    constants are Python floats, which NumPy does not let promote float32), so no
    projection is needed on this hot path.
    """

    def rule(x):
        y = ufunc(x)
        v = x if of == "x" else y if of == "y" else None
        return y, lambda dy: (dy * derivative(v),)

    rule.__name__ = rule.__qualname__ = f"{ufunc.__name__}_adjoint"
    rule.__doc__ = f"Adjoint of np.{ufunc.__name__}."
    adjoint(ufunc, domain=domain, builtin=True)(rule)


_unary(np.negative, lambda _: -1.0, real, of=None)
_unary(np.positive, lambda _: 1.0, real, of=None)
_unary(np.square, lambda x: 2 * x, real)
_unary(np.reciprocal, lambda y: -(y * y), domains.nonzero(), of="y")
_unary(np.sqrt, lambda y: 0.5 / y, domains.positive(), of="y")
_unary(np.cbrt, lambda y: 1.0 / (3 * y * y), domains.nonzero(), of="y")
_unary(np.exp, lambda y: y, domains.real(-5, 5), of="y")
_unary(np.exp2, lambda y: y * LN2, domains.real(-5, 5), of="y")
_unary(np.expm1, lambda y: y + 1, domains.real(-5, 5), of="y")
_unary(np.log, lambda x: 1 / x, domains.positive())
_unary(np.log2, lambda x: 1 / (x * LN2), domains.positive())
_unary(np.log10, lambda x: 1 / (x * LN10), domains.positive())
_unary(np.log1p, lambda x: 1 / (1 + x), domains.interval(-0.9, 10))
_unary(np.sin, lambda x: np.cos(x), real)
_unary(np.cos, lambda x: -np.sin(x), real)
_unary(np.tan, lambda y: 1 + y * y, domains.interval(-1.4, 1.4), of="y")
_unary(np.arcsin, lambda x: 1 / np.sqrt(1 - x * x), domains.interval(-0.9, 0.9))
_unary(np.arccos, lambda x: -1 / np.sqrt(1 - x * x), domains.interval(-0.9, 0.9))
_unary(np.arctan, lambda x: 1 / (1 + x * x), real)
_unary(np.sinh, lambda x: np.cosh(x), domains.real(-5, 5))
_unary(np.cosh, lambda x: np.sinh(x), domains.real(-5, 5))
_unary(np.tanh, lambda y: 1 - y * y, domains.real(-5, 5), of="y")
_unary(np.arctanh, lambda x: 1 / (1 - x * x), domains.interval(-0.9, 0.9))
# |x| has a kink at 0: the checker keeps its inputs away from it.
_unary(np.absolute, lambda x: np.sign(x), domains.nonzero())
_unary(np.fabs, lambda x: np.sign(x), domains.nonzero())
_unary(np.arcsinh, lambda x: 1 / np.sqrt(x * x + 1), real)
# arccosh is defined from 1 on, where its derivative has a pole.
_unary(np.arccosh, lambda x: 1 / np.sqrt(x * x - 1),
       domains.interval(1, 10, avoid=(1.0,), margin=0.05))
_unary(np.deg2rad, lambda _: DEG, domains.real(-360, 360), of=None)
_unary(np.radians, lambda _: DEG, domains.real(-360, 360), of=None)
_unary(np.rad2deg, lambda _: 1 / DEG, real, of=None)
_unary(np.degrees, lambda _: 1 / DEG, real, of=None)


def like(x: Any) -> Any:
    """What ``fit`` reads of ``x`` (shape, dtype, whether it is an array), without its entries.

    A pullback that only projects onto ``x`` holds this, so that ``x`` itself can be freed:
    a float array becomes a read-only one of the same shape and dtype whose entries all
    share one buffer of a few bytes; anything else (scalars, traced values) is ``x`` itself.

    >>> s = like(np.ones((1000, 3), np.float32))
    >>> s.shape, s.dtype, s.strides, fit(np.ones((2, 1000, 3)), s).dtype
    ((1000, 3), dtype('float32'), (0, 0), dtype('float32'))
    """
    if x.__class__ is np.ndarray and x.size > 1 and x.dtype.kind in "fc":
        return np.ndarray(x.shape, x.dtype, _ZEROS, 0, (0,) * x.ndim)  # one entry, repeated
    return x


_ZEROS = bytes(64)  # the buffer of every stand-in: room for one entry of any float dtype


@adjoint(np.add, domain=real, builtin=True)
def _add(x, y):
    """Adjoint of ``x + y``: the cotangent passes through to both."""
    z = np.add(x, y)
    x, y = like(x), like(y)  # the pullback needs only their shapes and dtypes
    return z, lambda dy: (lambda: fit(dy, x), lambda: fit(dy, y))


@adjoint(np.subtract, domain=real, builtin=True)
def _subtract(x, y):
    """Adjoint of ``x - y``."""
    z = np.subtract(x, y)
    x, y = like(x), like(y)  # the pullback needs only their shapes and dtypes
    return z, lambda dy: (lambda: fit(dy, x), lambda: fit(-dy, y))


@adjoint(np.multiply, domain=real, builtin=True)
def _multiply(x, y):
    """Adjoint of ``x * y``: each factor's cotangent is ``dy`` times the other factor."""
    return np.multiply(x, y), lambda dy: (lambda: fit(dy * y, x), lambda: fit(dy * x, y))


@adjoint(np.true_divide, domain=(real, domains.nonzero()), builtin=True)
def _divide(x, y):
    """Adjoint of ``x / y``."""
    z = np.true_divide(x, y)
    return z, lambda dy: (lambda: fit(dy / y, x), lambda: fit(-dy * z / y, y))


def _power_rule(ufunc: np.ufunc) -> Callable:
    """The adjoint of ``ufunc(x, p)`` = ``x ** p`` (``np.power`` and ``np.float_power``)."""

    def rule(x, p):
        z = ufunc(x, p)

        def d_exponent(dy):
            # d/dp x ** p = x ** p * log(x), for x > 0; 0 elsewhere (0 ** p is 0 for p > 0;
            # a negative base has no real power for p near a non-integer).
            positive = np.greater(x, 0)
            dp = dy * z * np.log(np.where(positive, x, 1.0))
            return fit(np.where(positive, dp, 0.0), p)

        def d_base(dy):
            # At x = 0 and p = 0 the value is the constant 1 (x ** 0), whose derivative is 0,
            # but p * x ** (p - 1) is 0 * inf. Only there both the value and every derivative
            # of it are masked (a where on both sides, so that no higher derivative sees the
            # substituted base); everywhere else, p == 0 included, the formula is used as it
            # is, so that d/dp of it (the mixed second derivative, 1/x at p = 0) stays right.
            sx, sp = strip(x), strip(p)
            singular = np.logical_and(np.equal(sx, 0), np.equal(sp, 0))
            if not np.any(singular):  # the usual case
                return fit(dy * p * ufunc(x, p - 1), x)
            safe = np.where(singular, 1.0, x)
            return fit(np.where(singular, 0.0, dy * p * ufunc(safe, p - 1)), x)

        return z, lambda dy: (lambda: d_base(dy), lambda: d_exponent(dy))

    rule.__name__ = rule.__qualname__ = f"{ufunc.__name__}_adjoint"
    rule.__doc__ = (f"Adjoint of ``np.{ufunc.__name__}(x, p)``; the exponent's cotangent uses "
                    "``log(x)`` and is 0 where x <= 0.")
    return rule


_power_domain = (domains.positive(0.1, 5.0), domains.real(-3, 3))
adjoint(np.power, domain=_power_domain, builtin=True)(_power_rule(np.power))
adjoint(np.float_power, domain=_power_domain, builtin=True)(_power_rule(np.float_power))


def pair_domain(first: domains.Interval, second: domains.Interval,
                keep: Callable[[np.ndarray, np.ndarray], np.ndarray],
                description: str) -> domains.Custom:
    """Two arguments drawn as the checker draws ``(first, second)`` (broadcastable shapes,
    0-d, float32 and float64), keeping only draws where ``keep(x, y)`` holds for every pair
    of entries that broadcasting puts together.

    For binary functions whose kinks or jumps depend on both arguments (``x == y`` for
    ``maximum``, ``x / y`` an integer for ``remainder``).

    >>> d = pair_domain(domains.real(), domains.real(), lambda x, y: abs(x - y) >= 0.1, "apart")
    >>> str(d)
    'apart'
    """

    def keeps(example: tuple[tuple, dict]) -> bool:
        x, y = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in example[0]))
        with np.errstate(all="ignore"):
            return bool(np.all(keep(x, y)))

    def draw_args(draw: Any) -> tuple[tuple, dict]:
        from adcheck.check.strategies import interval_args

        return draw(interval_args([first, second]).filter(keeps))

    return domains.custom(draw_args, description)


_separated = pair_domain(real, real, lambda x, y: np.abs(x - y) >= 0.1,
                         "two arrays whose entries differ by >= 0.1")


def _extremum(ufunc: np.ufunc, pick_first: Callable, nan_aware: bool = False) -> None:
    def rule(x, y):
        z = ufunc(x, y)

        def back(dy):
            # Ties (a kink) split the cotangent evenly, the subgradient's midpoint. fmax and
            # fmin return the other argument where one is NaN: the cotangent goes there too.
            sx, sy = strip(x), strip(y)
            first = pick_first(sx, sy)
            if nan_aware:
                first = np.logical_or(first, np.isnan(sy))
            first = np.where(first, 1.0, np.where(np.equal(sx, sy), 0.5, 0.0))
            return lambda: fit(dy * first, x), lambda: fit(dy * (1.0 - first), y)

        return z, back

    rule.__name__ = rule.__qualname__ = f"{ufunc.__name__}_adjoint"
    rule.__doc__ = f"Adjoint of np.{ufunc.__name__}; ties split the cotangent evenly."
    adjoint(ufunc, domain=_separated, builtin=True)(rule)


_extremum(np.maximum, np.greater)
_extremum(np.minimum, np.less)
_extremum(np.fmax, np.greater, nan_aware=True)
_extremum(np.fmin, np.less, nan_aware=True)


# -- more binary functions --------------------------------------------------------------------


@adjoint(np.logaddexp, domain=real, builtin=True)
def _logaddexp(x, y):
    """Adjoint of ``log(exp(x) + exp(y))``: the softmax weights ``exp(x - z)``, ``exp(y - z)``."""
    z = np.logaddexp(x, y)
    return z, lambda dy: (lambda: fit(dy * np.exp(x - z), x),
                          lambda: fit(dy * np.exp(y - z), y))


@adjoint(np.logaddexp2, domain=real, builtin=True)
def _logaddexp2(x, y):
    """Adjoint of ``log2(2**x + 2**y)``: the weights ``2 ** (x - z)``, ``2 ** (y - z)``."""
    z = np.logaddexp2(x, y)
    return z, lambda dy: (lambda: fit(dy * np.exp2(x - z), x),
                          lambda: fit(dy * np.exp2(y - z), y))


def _off_the_cut(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    # arctan2 jumps by 2 pi across the negative x axis and is singular at the origin.
    return np.logical_or(np.abs(y) >= 0.05, x >= 0.05)


@adjoint(np.arctan2, domain=pair_domain(real, real, _off_the_cut, "points (x2, x1) away from "
                                        "the origin and the cut along the negative x axis"),
         builtin=True)
def _arctan2(y, x):
    """Adjoint of ``np.arctan2(y, x)``, the angle of the point ``(x, y)``."""
    r2 = x * x + y * y
    return np.arctan2(y, x), lambda dy: (lambda: fit(dy * x / r2, y),
                                         lambda: fit(-dy * y / r2, x))


@adjoint(np.hypot, domain=pair_domain(real, real, lambda x, y: np.hypot(x, y) >= 0.05,
                                      "points away from the origin (hypot's kink)"),
         builtin=True)
def _hypot(x, y):
    """Adjoint of ``sqrt(x**2 + y**2)``: ``x / z`` and ``y / z``."""
    z = np.hypot(x, y)
    return z, lambda dy: (lambda: fit(dy * x / z, x), lambda: fit(dy * y / z, y))


def _jump_distance(x: np.ndarray, y: np.ndarray, jumps_at_zero: bool) -> np.ndarray:
    # The remainder jumps where x / y crosses an integer (fmod: a nonzero integer). The
    # distance to the nearest jump, along x and along y, must exceed the margin.
    q = x / y
    k = np.round(q)
    if not jumps_at_zero:
        k = np.where(k == 0, np.where(q < 0, -1.0, 1.0), k)
    off = np.abs(q - k)
    along_x = off * np.abs(y)
    along_y = off * y * y / np.maximum(np.abs(x), 1e-300)
    return np.minimum(along_x, along_y)


_MOD_MARGIN = 0.05


def _remainder_rule(ufunc: np.ufunc) -> Callable:
    def rule(x, y):
        z = ufunc(x, y)

        def back(dy):
            # z = x - k * y with k an integer, constant between the jumps; k exactly, from z.
            sx, sy = strip(x), strip(y)
            k = np.round((sx - strip(z)) / sy)
            return lambda: fit(dy, x), lambda: fit(-dy * k, y)

        return z, back

    rule.__name__ = rule.__qualname__ = f"{ufunc.__name__}_adjoint"
    rule.__doc__ = (f"Adjoint of ``np.{ufunc.__name__}(x, y) = x - k * y`` (k an integer, "
                    "constant between the jumps): 1 and ``-k``.")
    return rule


adjoint(np.remainder, builtin=True, domain=pair_domain(
    real, domains.nonzero(),
    lambda x, y: _jump_distance(x, y, jumps_at_zero=True) >= _MOD_MARGIN,
    "x, y != 0 away from the jumps of the remainder (x / y an integer)"))(
    _remainder_rule(np.remainder))
adjoint(np.fmod, builtin=True, domain=pair_domain(
    real, domains.nonzero(),
    lambda x, y: _jump_distance(x, y, jumps_at_zero=False) >= _MOD_MARGIN,
    "x, y != 0 away from the jumps of fmod (x / y a nonzero integer)"))(
    _remainder_rule(np.fmod))


@adjoint(np.copysign, domain=domains.nonzero(), builtin=True)
def _copysign(x, s):
    """Adjoint of ``|x|`` with the sign of ``s``: ``±sign(x)`` for x; 0 for s (a jump at 0)."""
    z = np.copysign(x, s)

    def back(dy):
        sx, ss = strip(x), strip(s)
        return (lambda: fit(dy * np.where(np.signbit(ss) != np.signbit(sx), -1.0, 1.0), x),
                lambda: fit(np.zeros_like(dy), s))

    return z, back


@adjoint(np.heaviside, domain=(domains.nonzero(), real), builtin=True)
def _heaviside(x, h):
    """Adjoint of the step function ``heaviside(x, h)``: 0 for x (a jump at 0); for ``h``,
    the value taken where x is exactly 0, the cotangent of those entries."""
    z = np.heaviside(x, h)
    at_zero = np.equal(strip(x), 0)
    return z, lambda dy: (lambda: fit(np.zeros_like(dy), x),
                          lambda: fit(np.where(at_zero, dy, 0.0), h))


def _ldexp_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    from adcheck.check.strategies import interval_args

    (x,), _ = draw(interval_args([real]))
    shape = draw(hnp.broadcastable_shapes(np.shape(x), min_side=1, max_side=3, max_dims=3))
    exponent = draw(hnp.arrays(draw(st.sampled_from([np.int32, np.int64])), shape,
                               elements=st.integers(-4, 4)))
    if shape == () and draw(st.booleans()):
        exponent = int(exponent)
    return (x, exponent), {}


@adjoint(np.ldexp, domain=domains.custom(_ldexp_args, "x real, an integer exponent"),
         builtin=True)
def _ldexp(x, e):
    """Adjoint of ``x * 2 ** e`` (``e`` an integer): ``dy * 2 ** e``."""
    return np.ldexp(x, e), lambda dy: (lambda: fit(np.ldexp(dy, e), x), None)


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


# -- clip, nan_to_num, sinc --------------------------------------------------------------------


def _clip_spec(a, a_min=NOT_GIVEN, a_max=NOT_GIVEN, out=None, *, min=NOT_GIVEN, max=NOT_GIVEN,
               **kwargs):
    reject("clip", out=out, **kwargs)
    low = a_min if min is NOT_GIVEN else min
    high = a_max if max is NOT_GIVEN else max
    return (None if low is NOT_GIVEN else low), (None if high is NOT_GIVEN else high)


def _upper_share(z, bound):
    # The share of the cotangent that goes to ``bound`` in minimum(z, bound): 1 where the
    # bound is taken, 1/2 at a tie (as np.minimum), 0 where z is.
    z, bound = strip(z), strip(bound)
    return np.where(np.greater(z, bound), 1.0, np.where(np.equal(z, bound), 0.5, 0.0))


def _clip_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    from adcheck.check.strategies import interval_args

    # Each bound an array (broadcast against a), a constant, or None; not both None.
    kinds = draw(st.sampled_from([("array", "array"), ("array", None), (None, "array"),
                                  ("constant", "array"), ("array", "constant"),
                                  ("constant", None)]))
    constants = (-2.0, 3.0)

    def pick(example: tuple[tuple, dict]) -> tuple:
        a, low, high = example[0]
        return (a, *(c if k == "constant" else (None if k is None else b)
                     for k, b, c in zip(kinds, (low, high), constants)))

    def off_the_bounds(choice: tuple) -> bool:  # an entry at a bound is a kink
        a = np.asarray(choice[0], dtype=np.float64)
        return all(np.all(np.abs(a - np.asarray(b, dtype=np.float64)) >= 0.05)
                   for b in choice[1:] if b is not None)

    a, low, high = draw(interval_args([real, real, real]).map(pick).filter(off_the_bounds))
    style = draw(st.sampled_from(["positional", "a_min", "min"]))
    if style == "positional":
        return (a, low, high), {}
    if style == "a_min":
        return (a,), {"a_min": low, "a_max": high}
    return (a,), {k: v for k, v in (("min", low), ("max", high)) if v is not None}


@adjoint(np.clip, domain=domains.custom(_clip_args, "a, bounds (arrays, scalars or None), "
                                        "positional or by keyword, no entry at a bound"),
         builtin=True)
def _clip(a, *args, **kwargs):
    """Adjoint of ``np.clip(a, low, high)`` = ``minimum(maximum(a, low), high)``.

    The cotangent goes to ``a`` where it lies inside the bounds and to the bound that is
    taken elsewhere (traced bounds get theirs); exactly at a bound it is split evenly, as
    ``np.maximum`` and ``np.minimum`` do.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.clip(x, -1.0, 1.0).sum(), np.array([-2.0, 0.5, 3.0]))
    (array([0., 1., 0.]),)
    """
    low, high = _clip_spec(a, *args, **kwargs)
    z = np.clip(a, *args, **kwargs)
    inner = a if low is None else np.maximum(a, low)

    def back(dy):
        to_high = 0.0 if high is None else _upper_share(inner, high)
        to_inner = 1.0 - to_high
        to_low = 0.0 if low is None else _upper_share(low, a)  # maximum(a, low): low's share
        # Positional bounds get their cotangents (None where a bound is None); keyword
        # bounds are never traced (the engine refuses traced keyword arguments).
        cotangents = (
            lambda: fit(dy * (to_inner * (1.0 - to_low)), a),
            None if low is None else lambda: fit(dy * (to_inner * to_low), low),
            None if high is None else lambda: fit(dy * to_high, high),
        )
        return cotangents[:1 + len(args)]

    return z, back


def _nan_to_num_spec(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return copy, nan, posinf, neginf


def _nan_to_num_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    from adcheck.check.strategies import interval_args

    # Finite entries only: the checker takes finite differences around every input entry
    # (the NaN and infinite entries, whose cotangent is 0, are covered by the unit tests).
    (x,), _ = draw(interval_args([real]))
    kwargs = {}
    for name in ("nan", "posinf", "neginf"):
        value = draw(st.sampled_from([None, -1.5, 2.0]))
        if value is not None:
            kwargs[name] = value
    if draw(st.booleans()):
        kwargs["copy"] = True
    return (x,), kwargs


@adjoint(np.nan_to_num, domain=domains.custom(_nan_to_num_args, "finite real arrays; "
                                              "nan/posinf/neginf by keyword"),
         builtin=True)
def _nan_to_num(x, *args, **kwargs):
    """Adjoint of ``np.nan_to_num``: the cotangent of the finite entries goes to ``x``; that of
    the replaced ones to the replacement (when it was passed positionally and is traced).

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: (np.nan_to_num(x) * 2.0).sum(), np.array([1.0, np.nan]))
    (array([2., 0.]),)
    """
    refuse_complex("nan_to_num", x)
    copy, nan, posinf, neginf = _nan_to_num_spec(x, *args, **kwargs)
    if not copy:
        raise NotDifferentiable(
            "np.nan_to_num(x, copy=False) replaces the entries of x in place, which the tape "
            "cannot record; write y = np.nan_to_num(x) and use y."
        )
    z = np.nan_to_num(x, True, nan, posinf, neginf)
    sx = strip(x)
    replaced = (np.isnan(sx), np.isposinf(sx), np.isneginf(sx))

    def back(dy):
        def fill(where_replaced, value):
            return lambda: fit(np.sum(np.where(where_replaced, dy, 0.0)), value)

        cotangents = (
            lambda: fit(np.where(np.isfinite(sx), dy, 0.0), x),
            None,  # copy
            fill(replaced[0], nan),
            None if posinf is None else fill(replaced[1], posinf),
            None if neginf is None else fill(replaced[2], neginf),
        )
        return cotangents[:1 + len(args)]

    return z, back


_SINC_NEAR = 0.25
# sinc'(x) = 2 pi^2 x * sum_k (-1)^k k u^(k-1) / (2k+1)!, u = (pi x)^2: near 0, where the closed
# form (cos(pi x) - sinc(x)) / x cancels. Twelve terms are exact in float64 for |x| < 0.25.
_SINC_SERIES = tuple((-1) ** k * k / math.factorial(2 * k + 1) for k in range(1, 13))


def _sinc_slope(x: Any) -> Any:
    near = np.less(np.abs(strip(x)), _SINC_NEAR)
    # Each branch only sees arguments where it is accurate (and finite), so that no
    # derivative of the branch not taken is NaN (a where on both sides).
    x_near = np.where(near, x, 0.0)
    x_far = np.where(near, 1.0, x)
    u = (math.pi * x_near) ** 2
    series = _SINC_SERIES[-1]
    for c in reversed(_SINC_SERIES[:-1]):
        series = series * u + c
    series = (2 * math.pi**2) * x_near * series
    closed = (np.cos(math.pi * x_far) - np.sinc(x_far)) / x_far
    return np.where(near, series, closed)


@adjoint(np.sinc, domain=real, builtin=True)
def _sinc(x):
    """Adjoint of ``np.sinc(x) = sin(pi x) / (pi x)``, smooth through 0 at every order.

    >>> import adcheck as ad
    >>> round(ad.derivative(np.sinc)(0.5), 6), round(ad.derivative(ad.derivative(np.sinc))(0.0), 6)
    (-1.27324, -3.289868)
    """
    return np.sinc(x), lambda dy: (dy * _sinc_slope(x),)


# -- real, imag, conj on real arrays -----------------------------------------------------------


def refuse_complex(name: str, x: Any) -> None:
    """Raise :class:`NotDifferentiable` when ``x`` is complex: no rule handles complex yet.

    >>> refuse_complex("real", np.ones(2))
    >>> refuse_complex("real", np.ones(2) * 1j)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adcheck.engine.errors.NotDifferentiable: np.real of a complex array: ...
    """
    if np.result_type(strip(x)).kind == "c":
        raise NotDifferentiable(
            f"np.{name} of a complex array: complex numbers are not supported by adcheck's "
            "rules yet; differentiate the real and imaginary parts as separate real arrays."
        )


@adjoint(np.real, domain=real, builtin=True)
def _real(x):
    """Adjoint of ``np.real`` of a real array: the identity."""
    refuse_complex("real", x)
    return np.real(x), lambda dy: (dy,)


@adjoint(np.imag, domain=real, builtin=True)
def _imag(x):
    """Adjoint of ``np.imag`` of a real array: zeros, whose derivative is 0."""
    refuse_complex("imag", x)
    return np.imag(x), lambda dy: (np.zeros_like(dy),)


@adjoint(np.conjugate, domain=real, builtin=True)
def _conjugate(x):
    """Adjoint of ``np.conjugate`` (``np.conj``) of a real array: the identity."""
    refuse_complex("conjugate", x)
    return np.conjugate(x), lambda dy: (dy,)


@adjoint(np.real_if_close, domain=real, builtin=True)
def _real_if_close(a, *args, **kwargs):
    """Adjoint of ``np.real_if_close`` of a real array: the identity."""
    refuse_complex("real_if_close", a)
    return np.real_if_close(a, *args, **kwargs), lambda dy: (dy,) + (None,) * len(args)


@adjoint(np.angle, domain=domains.nonzero(), builtin=True)
def _angle(z, *args, **kwargs):
    """Adjoint of ``np.angle`` of a real array (0 or pi, a jump at 0): zero."""
    refuse_complex("angle", z)
    return np.angle(z, *args, **kwargs), lambda dy: (np.zeros_like(dy),) + (None,) * len(args)
