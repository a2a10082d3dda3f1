"""Jacobians, Jacobian-vector products and vector-Jacobian products by finite differences.

Each is built from one-dimensional derivatives along straight lines through the inputs,
``g(t) = f(*(args + t·v))``, estimated by a :class:`~adcheck.fd.FiniteDifferenceMethod`
(its step adapts per line, see :mod:`adcheck.fd.adapt`). Arguments may be pytrees of arrays
and floats (see :mod:`adcheck.tree`); integer leaves are promoted to float64, float32 leaves
are evaluated in float32. The caller's arrays are never written to, and ``f``'s outputs are
copied as soon as they are returned.

Cost, in calls of ``f``: one at the point itself, then for each column of the Jacobian
(each input coordinate) the method's points other than the centre, ``p + 3`` for the bound
on ``g^(p)`` at each level of adaptation, and ``p + 3`` more each time that bound is measured
again (see :mod:`adcheck.fd.adapt`). For ``central_fdm(5, 1)`` that is 12 calls per input
coordinate, plus 8 per re-measurement (needed where ``f`` changes fast, as near a
singularity); ``jvp`` pays it once in all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tree import unflatten
from .adapt import Lines, estimate_lines
from .arguments import FlatArgs, FlatOutput
from .evaluation import check_callable, check_finite
from .methods import FiniteDifferenceMethod

__all__ = ["jacobian", "jvp", "vjp"]

# Columns are done in blocks whose points (inputs and outputs, all stencil points) take at
# most about this many floats, which bounds memory and the batch of a vectorized call.
_BLOCK_FLOATS = 2**22


def jacobian(
    m: FiniteDifferenceMethod,
    f: Callable[..., Any],
    *args: Any,
    vectorized: bool = False,
    return_error: bool = False,
) -> tuple | tuple[tuple, tuple]:
    """The Jacobian of ``f`` at ``args``: a tuple with one entry per positional argument.

    The entry for an argument has that argument's pytree structure; each leaf is an array
    of shape ``out_shape + leaf.shape``, where ``out_shape`` is the shape of ``f``'s output
    if that is a single array or number, and ``(n_out,)`` if ``f`` returns a pytree (whose
    raveled leaves, concatenated in :func:`adcheck.tree.flatten` order, are then the rows).
    With ``return_error=True`` the result is ``(jacobians, errors)``, ``errors`` holding an
    estimated bound on the error of every entry, in the same structure.

    With ``vectorized=True``, ``f`` is only ever called on a stack of ``B`` points: each
    array leaf of shape ``s`` arrives with shape ``(B, *s)`` and each number leaf with shape
    ``(B,)``, and every leaf of the output must come back with a leading axis of size ``B``,
    row ``b`` belonging to point ``b``. Each stage of the step adaptation of a block of
    columns is then one call (the point itself is a batch of one).

    >>> from adcheck.fd import central_fdm
    >>> f = lambda x: np.array([x[0] + x[1], x[0] * x[1]])
    >>> (jac,) = jacobian(central_fdm(4, 1), f, np.array([1.0, 2.0]))
    >>> np.round(jac, 10).tolist()
    [[1.0, 1.0], [2.0, 1.0]]
    >>> (jac,), (err,) = jacobian(central_fdm(4, 1), f, np.array([1.0, 2.0]), return_error=True)
    >>> bool(np.all(np.abs(jac - [[1, 1], [2, 1]]) <= err))
    True
    """
    matrix, errors, flat, output = _jacobian_matrix(m, f, args, vectorized)
    jac = _per_argument(matrix, flat, output.shape)
    if return_error:
        return jac, _per_argument(errors, flat, output.shape)
    return jac


def jvp(
    m: FiniteDifferenceMethod,
    f: Callable[..., Any],
    args: tuple,
    tangents: tuple,
    *,
    return_error: bool = False,
) -> Any:
    """The directional derivative ``J·v`` of ``f`` at ``args`` along ``tangents``.

    ``args`` is the tuple of ``f``'s positional arguments and ``tangents`` a tuple of the same
    structure and shapes. One one-dimensional finite difference is taken, of
    ``g(t) = f(*(args + t·tangents / s)) `` with ``s = max|tangents|`` (so the adaptive step
    sees a direction of unit size), and multiplied by ``s``. The result has the structure of
    ``f``'s output (numbers as floats); with ``return_error=True`` it is ``(jvp, error)``.

    >>> from adcheck.fd import central_fdm
    >>> jvp(central_fdm(5, 1), lambda x, y: x * y, (2.0, 3.0), (1.0, 0.0))  # doctest: +ELLIPSIS
    3.0...
    >>> out = jvp(central_fdm(5, 1), np.sin, (np.zeros(2),), (np.array([1.0, 2.0]),))
    >>> np.round(out, 10).tolist()
    [1.0, 2.0]
    """
    check_callable(f)
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"args must be the tuple of f's positional arguments, got {type(args).__name__}; "
            "for a single argument x write (x,)"
        )
    flat = FlatArgs(args)
    direction = _tangent_vector(flat, tangents)
    calls = _Calls(f, flat, vectorized=False)
    size = float(np.max(np.abs(direction), initial=0.0))
    if size == 0.0:
        value = error = np.zeros(calls.output.size)
    else:
        unit = direction / size
        lead = int(np.argmax(np.abs(unit)))
        lines = Lines(
            evaluate=calls.along(unit),
            f0=calls.f0,
            eps=np.array([max(calls.output.dtype_eps, *flat.coordinate_eps[unit != 0])]),
            # The step must at least move the coordinate that moves most.
            min_step=np.array([flat.coordinate_ulp[lead]]),
        )
        values, _, errors = estimate_lines(m, lines)
        value, error = size * values[0], size * errors[0]
    if return_error:
        return calls.output.rebuild(value), calls.output.rebuild(error)
    return calls.output.rebuild(value)


def vjp(
    m: FiniteDifferenceMethod,
    f: Callable[..., Any],
    dy: Any,
    *args: Any,
    vectorized: bool = False,
    return_error: bool = False,
) -> tuple | tuple[tuple, tuple]:
    """The vector-Jacobian product ``dy'·J`` (the j'vp) of ``f`` at ``args``.

    ``dy`` has the structure and shapes of ``f``'s output. The result is a tuple with the
    structure of ``args`` (number leaves as floats). It is computed from the full Jacobian,
    so it costs as many calls of ``f`` as :func:`jacobian` (one finite difference per input
    coordinate), not one; its error bound is ``|dy|'·errors`` of the Jacobian.

    >>> from adcheck.fd import central_fdm
    >>> f = lambda x: np.array([x[0] + x[1], x[0] * x[1]])
    >>> (g,) = vjp(central_fdm(4, 1), f, np.array([1.0, 10.0]), np.array([1.0, 2.0]))
    >>> np.round(g, 10).tolist()
    [21.0, 11.0]
    """
    matrix, errors, flat, output = _jacobian_matrix(m, f, args, vectorized)
    try:
        weights = output.read(dy, what="dy")
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"dy must have the structure and shapes of f's output: {exc}") from exc
    result = flat.rebuild(weights @ matrix)
    if return_error:
        return result, flat.rebuild(np.abs(weights) @ errors)
    return result


class _Calls:
    """Calls of ``f`` at moved copies of ``args``, read as flat float64 output vectors."""

    def __init__(self, f: Callable[..., Any], flat: FlatArgs, vectorized: bool) -> None:
        self.f, self.flat, self.vectorized = f, flat, vectorized
        if vectorized:
            raw = f(*flat.batch_at(np.zeros((1, flat.size))))
            self.output = FlatOutput(raw, batch=1)
            self.f0 = self.output.read_batch(raw, 1, "f's output")[0]
        else:
            raw = f(*flat.args_at(np.zeros(flat.size)))
            self.output = FlatOutput(raw)
            self.f0 = self.output.read(raw, "f's output")
        check_finite(self.f0, "the point of differentiation itself")

    def at(self, deltas: np.ndarray, describe: Callable[[int], str]) -> np.ndarray:
        """``f`` at ``x + deltas[b]`` for every row ``b``, shape ``(B, n_out)``."""
        if self.vectorized:
            values = self.output.read_batch(self.f(*self.flat.batch_at(deltas)), len(deltas))
        else:
            values = np.stack([self.output.read(self.f(*self.flat.args_at(d))) for d in deltas])
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
        if bad.size:
            check_finite(values[bad[0]], describe(int(bad[0])))
        return values

    def columns(self, cols: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Line evaluator for ``g_k(t) = f(x + t·e_cols[k])``."""

        def evaluate(ts: np.ndarray, rows: np.ndarray) -> np.ndarray:
            coordinate = np.repeat(cols[rows], ts.shape[1])
            offsets = ts.ravel()
            deltas = np.zeros((len(offsets), self.flat.size))
            deltas[np.arange(len(offsets)), coordinate] = offsets
            values = self.at(
                deltas,
                lambda b: (
                    f"the inputs with {self.flat.describe(coordinate[b])} moved by {offsets[b]:.6g}"
                ),
            )
            return values.reshape(ts.shape + (-1,))

        return evaluate

    def along(self, direction: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Line evaluator for ``g(t) = f(x + t·direction)`` (a single line)."""

        def evaluate(ts: np.ndarray, rows: np.ndarray) -> np.ndarray:
            offsets = ts.ravel()
            values = self.at(
                offsets[:, None] * direction[None, :],
                lambda b: f"the inputs moved by {offsets[b]:.6g} times the tangent",
            )
            return values.reshape(ts.shape + (-1,))

        return evaluate


def _jacobian_matrix(
    m: FiniteDifferenceMethod, f: Callable[..., Any], args: tuple, vectorized: bool
) -> tuple[np.ndarray, np.ndarray, FlatArgs, FlatOutput]:
    """The Jacobian and its error bounds as ``(n_out, n_in)`` matrices, column by column."""
    check_callable(f)
    flat = FlatArgs(args)
    calls = _Calls(f, flat, vectorized)
    n_out = calls.output.size
    matrix = np.zeros((n_out, flat.size))
    errors = np.zeros((n_out, flat.size))
    eps = np.maximum(flat.coordinate_eps, calls.output.dtype_eps)
    # The largest stencil the adaptation evaluates has p + 4·adapt points.
    block = max(1, _BLOCK_FLOATS // ((m.p + 4 * m.adapt) * (flat.size + n_out)))
    for start in range(0, flat.size, block):
        cols = np.arange(start, min(start + block, flat.size))
        lines = Lines(
            evaluate=calls.columns(cols),
            f0=calls.f0,
            eps=eps[cols],
            min_step=flat.coordinate_ulp[cols],
        )
        values, _, errs = estimate_lines(m, lines)
        matrix[:, cols] = values.T
        errors[:, cols] = errs.T
    return matrix, errors, flat, calls.output


def _per_argument(matrix: np.ndarray, flat: FlatArgs, out_shape: tuple[int, ...]) -> tuple:
    pieces = flat.split(matrix)
    leaves = [
        p.reshape(out_shape + leaf.shape) for p, leaf in zip(pieces, flat.leaves, strict=True)
    ]
    return unflatten(flat.spec, leaves)


def _tangent_vector(flat: FlatArgs, tangents: Any) -> np.ndarray:
    """``tangents`` as a flat float64 vector matching ``flat``, or a clear error."""
    if not isinstance(tangents, (tuple, list)):
        raise TypeError(
            f"tangents must be a tuple like args, got {type(tangents).__name__}; "
            "for a single argument write (v,)"
        )
    other = FlatArgs(tangents)
    if other.spec != flat.spec:
        raise ValueError(
            f"tangents must have the structure of args: {flat.spec!r}, got {other.spec!r}"
        )
    for i, (a, t) in enumerate(zip(flat.leaves, other.leaves, strict=True)):
        if a.shape != t.shape:
            raise ValueError(
                f"tangent leaf {i} has shape {t.shape}, but argument leaf {i} has {a.shape}"
            )
    return other.x
