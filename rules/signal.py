"""Adjoint rules for 1-d discrete convolution and correlation: ``convolve``, ``correlate``.

Both are bilinear. With ``y = convolve(a, v, 'full')`` (length ``n + m - 1``) the cotangents
are ``a: correlate(dy, v, 'valid')`` and ``v: correlate(dy, a, 'valid')``; ``correlate(a, v)``
is ``convolve(a, v[::-1])``. Modes ``'same'`` and ``'valid'`` are a window of the full result,
so their cotangent is first placed back at the window's offset in a zero full-length one.
The pullbacks are written with ``convolve``/``correlate`` themselves (second derivatives).

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda a: np.convolve(a, np.array([1.0, 2.0])).sum(), np.zeros(3))[0]
array([3., 3., 3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.engine.tracer import strip
from adcheck.registry import adjoint

from .reductions import real_array

_MODES = ("full", "same", "valid")


def window(n: int, m: int, mode: str, reverse: bool) -> int:
    """Where mode's result starts inside the full result, for lengths ``n`` and ``m``
    (``reverse`` for ``correlate``, whose ``'same'`` window differs when ``n < m``).

    >>> window(4, 3, "same", False), window(4, 3, "valid", False), window(2, 4, "same", True)
    (1, 2, 1)
    """
    if mode == "full":
        return 0
    if mode == "valid":
        return min(n, m) - 1
    if reverse and n < m:
        return n // 2
    return (min(n, m) - 1) // 2


def _mode(name: str, mode: Any) -> str:
    text = {0: "valid", 1: "same", 2: "full"}.get(mode, mode) if not isinstance(mode, str) \
        else mode
    if text not in _MODES:
        raise NotDifferentiable(f"np.{name}(..., mode={mode!r}) is not differentiable by "
                                "adcheck's built-in rule; use 'full', 'same' or 'valid'.")
    return text


def _full_cotangent(dy: Any, n: int, m: int, offset: int) -> Any:
    """``dy`` placed at ``offset`` in a zero vector of the full length ``n + m - 1``."""
    dy = np.reshape(dy, (-1,))
    length = n + m - 1
    after = length - offset - np.shape(dy)[0]
    dtype = np.result_type(strip(dy))
    return np.concatenate([np.zeros(offset, dtype), dy, np.zeros(after, dtype)])


def _convolve_spec(a, v, mode="full"):
    return mode


def _correlate_spec(a, v, mode="valid"):  # NumPy's defaults differ
    return mode


def _signal_rule(name: str, reverse: bool):
    def rule(*args, **kwargs):
        a, v = args[0], args[1]
        value = getattr(np, name)(*args, **kwargs)  # NumPy's own error for a bad mode
        spec = _correlate_spec if reverse else _convolve_spec
        mode = _mode(name, spec(*args, **kwargs))
        n, m = np.size(a), np.size(v)
        offset = window(n, m, mode, reverse)
        a1, v1 = np.reshape(a, (-1,)), np.reshape(v, (-1,))

        def back(dy):
            full = _full_cotangent(dy, n, m, offset)
            if reverse:  # correlate(a, v) = convolve(a, v[::-1])
                da = lambda: fit(np.reshape(np.correlate(full, v1[::-1], "valid"), np.shape(a)),
                                 a)
                dv = lambda: fit(np.reshape(np.correlate(full, a1, "valid")[::-1], np.shape(v)),
                                 v)
            else:
                da = lambda: fit(np.reshape(np.correlate(full, v1, "valid"), np.shape(a)), a)
                dv = lambda: fit(np.reshape(np.correlate(full, a1, "valid"), np.shape(v)), v)
            return (da, dv) + (None,) * (len(args) - 2)

        return value, back

    return rule


def _signal_args(draw: Any) -> tuple[tuple, dict]:
    """Two vectors of lengths 1-5 (either longer), every mode, positional or keyword.

    (The default mode differs between the two functions, so it is always given.)"""
    from hypothesis import strategies as st

    n, m = draw(st.sampled_from([1, 2, 3, 4, 5])), draw(st.sampled_from([1, 2, 3, 4, 5]))
    a = real_array(draw, (n,), -3.0, 3.0)
    v = real_array(draw, (m,), -3.0, 3.0).astype(a.dtype)
    mode = draw(st.sampled_from(_MODES))
    if draw(st.booleans()):
        return (a, v, mode), {}
    return (a, v), {"mode": mode}


_DOMAIN = domains.custom(_signal_args, "two vectors of lengths 1-5, modes full/same/valid, "
                                       "entries in [-3, 3], float64/32")


@adjoint(np.convolve, domain=_DOMAIN, builtin=True)
def _convolve(*args, **kwargs):
    """Adjoint of ``np.convolve``: ``a`` gets ``correlate(dy_full, v, 'valid')``, ``v`` gets
    ``correlate(dy_full, a, 'valid')``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda v: np.convolve(np.array([1.0, 2.0, 3.0]), v, "valid")[0],
    ...             np.array([1.0, 1.0]))[0]
    array([2., 1.])
    """
    return _signal_rule("convolve", False)(*args, **kwargs)


@adjoint(np.correlate, domain=_DOMAIN, builtin=True)
def _correlate(*args, **kwargs):
    """Adjoint of ``np.correlate`` (real inputs): that of ``convolve(a, v[::-1])``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda v: np.correlate(np.array([1.0, 2.0, 3.0]), v, "valid")[0],
    ...             np.array([1.0, 1.0]))[0]
    array([1., 2.])
    """
    return _signal_rule("correlate", True)(*args, **kwargs)
