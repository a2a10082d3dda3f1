"""Forward-mode products from the reverse rules: ``jvp``, ``hvp`` and forward Jacobians.

adcheck has reverse rules only, but a Jacobian-vector product needs no forward rules: the
pullback ``dy ↦ J'·dy`` is linear in ``dy``, so its own pullback (the "double-vjp trick")
is the transpose of the transpose, ``v ↦ J·v``. The pullback is recorded once with a traced
``dy`` (its value does not matter: zeros), and every ``J·v`` is one reverse sweep of that
recording. A Hessian-vector product is the gradient of ``x ↦ ⟨∇f(x), v⟩`` (reverse over
reverse). Both are exact (no step size), as correct as the rules' pullbacks are
differentiable, and raise :class:`~adcheck.NotDifferentiable` where a pullback cannot be
differentiated.

>>> import numpy as np
>>> f = lambda x: np.stack([x[0] * x[1], np.sin(x[0])])
>>> jvp(f, np.array([2.0, 3.0]), np.array([1.0, 0.0])).tolist()   # J's first column
[3.0, -0.4161468365471424]
>>> hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0])).tolist()
[6.0, 12.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tree import flatten, is_container, unflatten
from .api import gradient, pullback
from .tracer import Traced

__all__ = ["jvp", "hvp", "linearize", "jacobian_fwd"]


def _zero_cotangent(y: Any) -> Any:
    """Zeros in the structure of ``y`` (``None`` for outputs that are not floating)."""
    leaves, spec = flatten(y)
    zeros = []
    for leaf in leaves:
        if type(leaf) is float:
            zeros.append(0.0)
        elif isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype.kind == "f":
            zeros.append(np.zeros(np.shape(leaf), leaf.dtype))
        else:
            zeros.append(None)
    return unflatten(spec, zeros)


def linearize(f: Callable, *args: Any) -> tuple[Any, Callable]:
    """``f(*args)`` and the map ``tangents ↦ J·tangents`` (one tangent per argument).

    ``f`` runs once and its pullback is recorded once; each call of the returned map is one
    reverse sweep through that recording. A tangent has its argument's structure; ``None``
    stands for zeros. The result has the output's structure (``None`` for outputs that are
    not floating).

    >>> y, jv = linearize(lambda a, b: a * b, np.array([1.0, 2.0]), 3.0)
    >>> jv(np.array([1.0, 1.0]), 0.0).tolist(), jv(None, 1.0).tolist()
    ([3.0, 3.0], [1.0, 2.0])
    """
    y, back = pullback(f, *args)
    transposed = pullback(back, _zero_cotangent(y))[1]

    def jv(*tangents: Any) -> Any:
        if len(tangents) != len(args):
            raise TypeError(f"one tangent per argument: {len(args)} expected, "
                            f"got {len(tangents)}")
        return transposed(tuple(tangents))[0]

    return y, jv


def jvp(f: Callable, x: Any, v: Any) -> Any:
    """The Jacobian-vector product ``J·v`` of ``f`` at ``x``, from the reverse rules.

    ``f`` takes one argument ``x`` (an array, a number or a pytree of them; write
    ``lambda a: g(*a)`` for several); ``v`` has ``x``'s structure and the result ``f``'s
    output structure. Computed by differentiating the pullback (see the module docstring):
    no finite differences, no forward rules.

    >>> jvp(np.sin, np.array([0.0, np.pi]), np.array([2.0, 1.0])).tolist()
    [2.0, -1.0]
    >>> jvp(lambda p: p["w"] * p["b"], {"w": np.array([1.0, 2.0]), "b": 3.0},
    ...     {"w": np.zeros(2), "b": 1.0}).tolist()
    [1.0, 2.0]
    """
    return linearize(f, x)[1](v)


def _vdot(a: Any, b: Any) -> Any:
    """``Σ a·b`` over the leaves of two pytrees of the same structure (``None`` leaves skip)."""
    total: Any = 0.0
    for p, q in zip(flatten(a)[0], flatten(b)[0]):
        if p is None or q is None:
            continue
        total = total + np.sum(p * q)
    return total


def hvp(f: Callable, x: Any, v: Any) -> Any:
    """The Hessian-vector product ``H·v`` of a scalar ``f`` at ``x``: the gradient of
    ``x ↦ ⟨∇f(x), v⟩`` (reverse over reverse, exact; ``H`` is never formed).

    ``x`` is one argument (array, number or pytree); ``v`` and the result have its structure.

    >>> hvp(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]), np.array([0.0, 1.0])).tolist()
    [2.0, 0.0]
    """
    return gradient(lambda z: _vdot(gradient(f, z)[0], v), x)[0]


def jacobian_fwd(f: Callable, args: tuple) -> tuple:
    """Jacobians column by column (one ``J·e_k`` per input entry), shaped ``out.shape +
    arg.shape``: cheaper than reverse sweeps (one per output entry) when the inputs are
    fewer than the outputs. Used by :func:`adcheck.jacobian` with ``mode="fwd"``.

    >>> jacobian_fwd(lambda x: np.outer(x, x).ravel(), (np.array([1.0, 2.0]),))[0].tolist()
    [[2.0, 0.0], [2.0, 1.0], [2.0, 1.0], [0.0, 4.0]]
    """
    for a in args:
        if is_container(a):
            raise TypeError("jacobian needs array or number arguments, got a "
                            f"{type(a).__name__}; flatten it into one array first")
    y, back = pullback(f, *args)
    if is_container(y):
        raise TypeError("jacobian needs a function that returns one array")
    out_shape = y.shape if type(y) is Traced else np.shape(y)
    zero = _zero_cotangent(y)
    if zero is None:
        raise TypeError(f"jacobian needs a floating output, got {type(y).__name__}")
    cts, transposed = pullback(back, zero)
    result = []
    for i, ct in enumerate(cts):
        if ct is None:  # not differentiable (a boolean, a string, ...)
            result.append(None)
            continue
        shape = np.shape(ct)
        dtype = ct.dtype if hasattr(ct, "dtype") else np.dtype(np.float64)
        size = int(np.prod(shape))
        columns = []
        for k in range(size):
            e = np.zeros(size, dtype)
            e[k] = 1.0
            tangents = tuple(e.reshape(shape) if t == i else None for t in range(len(cts)))
            col = transposed(tangents)[0]
            columns.append(col if type(col) is Traced else np.asarray(col))
        if not columns:
            result.append(np.zeros(out_shape + shape, np.result_type(y)))
            continue
        stacked = np.stack(columns, axis=-1)  # out.shape + (size,)
        result.append(np.reshape(stacked, out_shape + shape))
    return tuple(result)
