"""Adjoint rules for products and diagonals: vdot, inner, outer, tensordot, kron, trace,
diagonal, cross, vecdot, matvec, vecmat, matrix_transpose, and the array-API aliases in
``np.linalg`` (outer, vecdot, cross, trace, diagonal, tensordot).

Each product is an Einstein sum in disguise: the rule computes NumPy's own value and names the
labels of its operands and output, and the pullback is the shared einsum pullback of
:mod:`adcheck.rules.einsum` (an einsum per operand, so second derivatives work). ``trace`` and
``diagonal`` are sums with a constant 0/1 selection tensor, ``cross`` with the Levi-Civita
symbol; ``kron`` and ``outer`` reshape the cotangent to their operands' axes first.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda a: np.trace(a, offset=1), np.ones((2, 3)))[0]
array([[0., 1., 0.],
       [0., 0., 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.tape import fit
from adcheck.registry import adjoint

from .einsum import LETTERS, contraction_pullback, draw_dtype, draw_operand, refuse_complex
from .shape import reject

# -- the common shape of a product rule --------------------------------------------------------


def _contraction(value: Any, subscripts: list[str], output: str, operands: list, n_args: int,
                 constants: int = 0) -> tuple[Any, Any]:
    """``(value, pullback)`` for ``value = einsum(subscripts -> output, *operands)``.

    The operands are the function's first positional arguments, in order, then
    ``constants`` constant tensors of the rule (no cotangent). The pullback returns one lazy
    cotangent per positional argument (``None`` for the ``n_args`` beyond the operands).
    """
    back = contraction_pullback(subscripts, output, operands)
    n_diff = len(operands) - constants

    def pullback(dy):
        return tuple((lambda k=k: back(dy, k)) if k < n_diff else None for k in range(n_args))

    return value, pullback


def _axis_of(axis: int, ndim: int) -> int:
    return int(axis) % ndim if ndim else 0


def _with(labels: str, at: int, label: str) -> str:
    return labels[:at] + label + labels[at:]


def _batch_labels(shapes: list[tuple], taken: str = "") -> str:
    """Labels for the broadcast batch axes of several operands (right-aligned)."""
    free = [c for c in LETTERS if c not in taken]
    return "".join(free[:max((len(s) for s in shapes), default=0)])


def _tail(batch: str, ndim: int) -> str:
    return batch[len(batch) - ndim:] if ndim else ""


# -- drawing inputs ------------------------------------------------------------------------------


def _shape(draw: Any, min_dims: int = 0, max_dims: int = 3, max_side: int = 3) -> tuple:
    from hypothesis import strategies as st

    return tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims,
                               max_size=max_dims)))


def _two_operands(draw: Any, a_shape: tuple, b_shape: tuple) -> tuple[Any, Any]:
    dtype = draw_dtype(draw)
    return draw_operand(draw, a_shape, dtype), draw_operand(draw, b_shape, dtype)


def _vdot_args(draw: Any) -> tuple[tuple, dict]:
    """Two arrays of the same size, in different shapes (vdot flattens both)."""
    from hypothesis import strategies as st

    a_shape = _shape(draw)
    size = int(np.prod(a_shape))
    b_shape = draw(st.sampled_from([a_shape, (size,), a_shape[::-1], a_shape + (1,)]))
    return _two_operands(draw, a_shape, b_shape), {}


def _inner_args(draw: Any) -> tuple[tuple, dict]:
    """0-d with anything, or N-D pairs (up to 3-D) sharing their last axis."""
    from hypothesis import strategies as st

    k = draw(st.integers(1, 3))
    shapes = [_shape(draw, 0, 2) + (k,) for _ in range(2)]
    for i in range(2):
        if draw(st.integers(0, 4)) == 0:
            shapes[i] = ()  # inner with a scalar is the product
    return _two_operands(draw, *shapes), {}


def _outer_args(draw: Any) -> tuple[tuple, dict]:
    """Any two arrays, 0-d to 2-D (outer flattens them)."""
    return _two_operands(draw, _shape(draw, 0, 2), _shape(draw, 0, 2)), {}


def _linalg_outer_args(draw: Any) -> tuple[tuple, dict]:
    return _two_operands(draw, _shape(draw, 1, 1, 4), _shape(draw, 1, 1, 4)), {}


def _tensordot_axes(draw: Any, a_shape: tuple, b_shape: tuple) -> tuple[Any, tuple]:
    """An ``axes`` argument (an int, a pair of ints, or a pair of lists, negative entries too)
    and b's shape with the paired axes matched to a's."""
    from hypothesis import strategies as st

    na, nb = len(a_shape), len(b_shape)
    n = draw(st.integers(0, min(na, nb)))
    b = list(b_shape)
    if draw(st.booleans()):  # an int: a's last n axes with b's first n
        b[:n] = a_shape[na - n:]
        return n, tuple(b)
    a_axes = draw(st.permutations(range(na)))[:n]
    b_axes = draw(st.permutations(range(nb)))[:n]
    for i, j in zip(a_axes, b_axes):
        b[j] = a_shape[i]
    a_axes = [draw(st.sampled_from([i, i - na])) for i in a_axes]
    b_axes = [draw(st.sampled_from([j, j - nb])) for j in b_axes]
    if n == 1 and draw(st.booleans()):
        return (a_axes[0], b_axes[0]), tuple(b)
    return (a_axes, b_axes), tuple(b)


def _tensordot_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    a_shape = _shape(draw)
    axes, b_shape = _tensordot_axes(draw, a_shape, _shape(draw))
    a, b = _two_operands(draw, a_shape, b_shape)
    if draw(st.booleans()):
        return (a, b, axes), {}
    return (a, b), ({} if axes == 2 and draw(st.booleans()) else {"axes": axes})


def _linalg_tensordot_args(draw: Any) -> tuple[tuple, dict]:
    a_shape = _shape(draw)
    axes, b_shape = _tensordot_axes(draw, a_shape, _shape(draw))
    return _two_operands(draw, a_shape, b_shape), {"axes": axes}


def _kron_args(draw: Any) -> tuple[tuple, dict]:
    """Two arrays, 0-d to 3-D, sides up to 2 (the product's sides multiply)."""
    return _two_operands(draw, _shape(draw, 0, 3, 2), _shape(draw, 0, 3, 2)), {}


def _diagonal_params(draw: Any) -> tuple[Any, dict]:
    """A 2-D or 3-D array, two distinct axes (negative too), an offset on or off the array."""
    from hypothesis import strategies as st

    shape = _shape(draw, 2, 3, 4)
    n = len(shape)
    axis1, axis2 = draw(st.permutations(range(n)))[:2]
    axis1 = draw(st.sampled_from([axis1, axis1 - n]))
    axis2 = draw(st.sampled_from([axis2, axis2 - n]))
    offset = draw(st.integers(-shape[axis1], shape[axis2]))
    x = draw_operand(draw, shape, draw_dtype(draw))
    return x, {"offset": offset, "axis1": axis1, "axis2": axis2}


def _trace_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    x, kw = _diagonal_params(draw)
    if draw(st.booleans()):
        return (x, kw["offset"], kw["axis1"], kw["axis2"]), {}
    return (x,), kw


def _linalg_diagonal_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    shape = _shape(draw, 2, 3, 4)
    offset = draw(st.integers(-shape[-2], shape[-1]))
    return (draw_operand(draw, shape, draw_dtype(draw)),), {"offset": offset}


def _batches(draw: Any, count: int, max_dims: int = 2) -> list[tuple]:
    """Batch shapes that broadcast together: some axes missing, some of length 1."""
    from hypothesis import strategies as st

    batch = _shape(draw, 0, max_dims)
    return [tuple(draw(st.sampled_from([s, 1])) for s in batch)[draw(st.integers(0, len(batch))):]
            for _ in range(count)]


def _vectors_at_one_axis(draw: Any, lengths: list[int]) -> tuple[list, int]:
    """Vectors with broadcast batch axes, the vector axis at one place (``axis=``) in each."""
    from hypothesis import strategies as st

    batches = _batches(draw, len(lengths))
    nd = min(len(b) for b in batches)
    batches = [b[len(b) - nd:] for b in batches]
    at = draw(st.integers(0, nd))
    dtype = draw_dtype(draw)
    arrays = [draw_operand(draw, b[:at] + (n,) + b[at:], dtype) for b, n in zip(batches, lengths)]
    return arrays, draw(st.sampled_from([at, at - nd - 1]))


def _cross_args(draw: Any) -> tuple[tuple, dict]:
    """3-vectors (and the deprecated 2-vectors) with broadcast batch axes and every axis
    argument: axisa/axisb/axisc, or ``axis`` for all three."""
    from hypothesis import strategies as st

    lengths = [draw(st.sampled_from([3, 3, 2])) for _ in range(2)]
    if draw(st.integers(0, 3)) == 0:
        (a, b), axis = _vectors_at_one_axis(draw, lengths)
        return (a, b), {"axis": axis}
    batches = _batches(draw, 2)
    dtype = draw_dtype(draw)
    arrays, axes = [], []
    for batch, n in zip(batches, lengths):
        at = draw(st.integers(0, len(batch)))
        arrays.append(draw_operand(draw, batch[:at] + (n,) + batch[at:], dtype))
        axes.append(draw(st.sampled_from([at, at - len(batch) - 1])))
    nd = max(len(b) for b in batches) + 1
    axisc = draw(st.integers(-nd, nd - 1))
    return tuple(arrays), {"axisa": axes[0], "axisb": axes[1], "axisc": axisc}


def _linalg_cross_args(draw: Any) -> tuple[tuple, dict]:
    (a, b), axis = _vectors_at_one_axis(draw, [3, 3])
    return (a, b), {"axis": axis}


def _vecdot_args(draw: Any, with_axis: bool = True) -> tuple[tuple, dict]:
    """Vectors with broadcast batch axes; the vector axis last, or chosen by ``axis``."""
    from hypothesis import strategies as st

    n = draw(st.integers(1, 3))
    batches = _batches(draw, 2)
    nd = min(len(b) for b in batches) + 1
    axis = draw(st.integers(-nd, -1)) if with_axis else -1
    # counted from the end, the vector axis is at the same place in both arrays
    shapes = [b[:len(b) + axis + 1] + (n,) + b[len(b) + axis + 1:] for b in batches]
    a, b = _two_operands(draw, *shapes)
    if not with_axis or (axis == -1 and draw(st.booleans())):
        return (a, b), {}
    return (a, b), {"axis": axis}


def _ufunc_vecdot_args(draw: Any) -> tuple[tuple, dict]:
    """Without ``axis=``: adcheck's tracer passes no keywords to ufuncs such as np.vecdot."""
    return _vecdot_args(draw, with_axis=False)


def _matvec_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a_batch, v_batch = _batches(draw, 2, 1)
    return _two_operands(draw, a_batch + (m, n), v_batch + (n,)), {}


def _vecmat_args(draw: Any) -> tuple[tuple, dict]:
    from hypothesis import strategies as st

    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    v_batch, a_batch = _batches(draw, 2, 1)
    return _two_operands(draw, v_batch + (n,), a_batch + (n, m)), {}


def _matrix_transpose_args(draw: Any) -> tuple[tuple, dict]:
    return (draw_operand(draw, _shape(draw, 2, 3, 3), draw_dtype(draw)),), {}


# -- vdot, inner, outer, tensordot, kron -------------------------------------------------------


@adjoint(np.vdot, domain=domains.custom(_vdot_args, "two same-size arrays, 0-3 dims, "
                                        "different shapes, float64/32"),
         builtin=True)
def _vdot(a, b):
    """Adjoint of ``np.vdot`` (real): each operand gets ``dy`` times the other, reshaped.

    >>> import adcheck as ad
    >>> ad.gradient(np.vdot, np.array([[1.0, 2.0]]), np.array([3.0, 4.0]))
    (array([[3., 4.]]), array([1., 2.]))
    """
    value = np.vdot(a, b)
    refuse_complex("vdot", value)
    a_shape, b_shape = np.shape(a), np.shape(b)
    return value, lambda dy: (lambda: fit(dy * np.reshape(b, a_shape), a),
                              lambda: fit(dy * np.reshape(a, b_shape), b))


@adjoint(np.inner, domain=domains.custom(_inner_args, "N-D pairs sharing the last axis, "
                                         "0-d operands, float64/32"),
         builtin=True)
def _inner(a, b):
    """Adjoint of ``np.inner``: a sum over the last axes (a product when one is 0-d).

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.inner(a, np.array([1.0, 2.0])).sum(), np.ones((3, 2)))[0]
    array([[1., 2.],
           [1., 2.],
           [1., 2.]])
    """
    value = np.inner(a, b)
    refuse_complex("inner", value)
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        labels = LETTERS[:max(na, nb)]
        subs = [labels if na else "", labels if nb else ""]
        return _contraction(value, subs, labels, [a, b], 2)
    a_sub, b_sub = LETTERS[:na - 1], LETTERS[na - 1:na + nb - 2]
    return _contraction(value, [a_sub + "z", b_sub + "z"], a_sub + b_sub, [a, b], 2)


def _outer_spec(a, b, out=None):
    reject("outer", out=out)


def _outer_of(name: str, a: Any, b: Any, value: Any) -> tuple[Any, Any]:
    """outer flattens its operands: the cotangent, reshaped to their axes, is an outer
    product of them."""
    refuse_complex(name, value)
    a_shape, b_shape = np.shape(a), np.shape(b)
    a_sub, b_sub = LETTERS[:len(a_shape)], LETTERS[len(a_shape):len(a_shape) + len(b_shape)]
    back = contraction_pullback([a_sub, b_sub], a_sub + b_sub, [a, b])

    def pullback(dy):
        dy = np.reshape(dy, a_shape + b_shape)
        return lambda: back(dy, 0), lambda: back(dy, 1)

    return value, pullback


@adjoint(np.outer, domain=domains.custom(_outer_args, "any two arrays 0-2 dims (flattened), "
                                         "float64/32"),
         builtin=True)
def _outer(*args, **kwargs):
    """Adjoint of ``np.outer``: ``da = dy @ b``, ``db = dy^T @ a`` on the flattened operands.

    >>> import adcheck as ad
    >>> ad.pullback(np.outer, np.array([1.0, 2.0]), np.array([3.0]))[1](np.ones((2, 1)))
    (array([3., 3.]), array([3.]))
    """
    _outer_spec(*args, **kwargs)
    a, b = args[0], args[1]
    value, pullback = _outer_of("outer", a, b, np.outer(a, b))
    return value, lambda dy: pullback(dy) + (None,) * (len(args) - 2)


@adjoint(np.linalg.outer, domain=domains.custom(_linalg_outer_args, "two vectors, "
                                                "float64/32"),
         builtin=True)
def _linalg_outer(x1, x2):
    """Adjoint of ``np.linalg.outer`` (vectors only): as ``np.outer``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.linalg.outer(x, x).sum(), np.array([1.0, 2.0]))[0]
    array([6., 6.])
    """
    return _outer_of("linalg.outer", x1, x2, np.linalg.outer(x1, x2))


def _tensordot_labels(a_shape: tuple, b_shape: tuple, axes: Any) -> tuple[str, str, str]:
    """Labels of ``tensordot(a, b, axes)``: paired axes share a label; the output keeps a's
    free axes, then b's."""
    na, nb = len(a_shape), len(b_shape)
    try:
        a_axes, b_axes = axes
    except TypeError:  # an int: a's last `axes` axes with b's first
        n = int(axes)
        a_axes, b_axes = list(range(na - n, na)), list(range(n))
    a_axes = [a_axes] if np.ndim(a_axes) == 0 else list(a_axes)
    b_axes = [b_axes] if np.ndim(b_axes) == 0 else list(b_axes)
    a_sub = list(LETTERS[:na])
    b_sub = list(LETTERS[na:na + nb])
    for i, j in zip(a_axes, b_axes):
        b_sub[int(j) % nb] = a_sub[int(i) % na]
    a_free = [c for i, c in enumerate(a_sub) if i not in {int(k) % na for k in a_axes}]
    b_free = [c for j, c in enumerate(b_sub) if j not in {int(k) % nb for k in b_axes}]
    return "".join(a_sub), "".join(b_sub), "".join(a_free + b_free)


def _tensordot_spec(a, b, axes=2):
    return axes


@adjoint(np.tensordot, domain=domains.custom(_tensordot_args, "0-3 dims, axes an int, a pair "
                                             "of ints or of lists (negative too), float64/32"),
         builtin=True)
def _tensordot(*args, **kwargs):
    """Adjoint of ``np.tensordot`` for int and pair-of-lists ``axes``.

    >>> import adcheck as ad
    >>> A = np.arange(6.0).reshape(2, 3)
    >>> ad.gradient(lambda B: np.tensordot(A, B, axes=([0], [1])).sum(), np.ones((4, 2)))[0]
    array([[ 3., 12.],
           [ 3., 12.],
           [ 3., 12.],
           [ 3., 12.]])
    """
    a, b = args[0], args[1]
    axes = _tensordot_spec(*args, **kwargs)
    value = np.tensordot(*args, **kwargs)
    refuse_complex("tensordot", value)
    a_sub, b_sub, out = _tensordot_labels(np.shape(a), np.shape(b), axes)
    return _contraction(value, [a_sub, b_sub], out, [a, b], len(args))


@adjoint(np.linalg.tensordot, domain=domains.custom(_linalg_tensordot_args, "as np.tensordot"),
         builtin=True)
def _linalg_tensordot(x1, x2, *, axes=2):
    """Adjoint of ``np.linalg.tensordot``: as ``np.tensordot``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda x: np.linalg.tensordot(x, x, axes=1), np.array([1.0, 2.0]))[0]
    array([2., 4.])
    """
    value = np.linalg.tensordot(x1, x2, axes=axes)
    refuse_complex("linalg.tensordot", value)
    a_sub, b_sub, out = _tensordot_labels(np.shape(x1), np.shape(x2), axes)
    return _contraction(value, [a_sub, b_sub], out, [x1, x2], 2)


@adjoint(np.kron, domain=domains.custom(_kron_args, "0-3 dims each, sides up to 2, "
                                        "float64/32"),
         builtin=True)
def _kron(a, b):
    """Adjoint of ``np.kron``: the cotangent, split into (a-axis, b-axis) pairs, contracted
    with the other operand.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.kron(a, np.array([1.0, 10.0])).sum(), np.ones(2))[0]
    array([11., 11.])
    """
    value = np.kron(a, b)
    refuse_complex("kron", value)
    a_shape, b_shape = np.shape(a), np.shape(b)
    nd = max(len(a_shape), len(b_shape))
    sa = (1,) * (nd - len(a_shape)) + a_shape
    sb = (1,) * (nd - len(b_shape)) + b_shape
    a_sub, b_sub = LETTERS[:nd], LETTERS[nd:2 * nd]
    pairs = "".join(x + y for x, y in zip(a_sub, b_sub))
    split = tuple(n for pair in zip(sa, sb) for n in pair)
    back = contraction_pullback([a_sub, b_sub], pairs, [np.reshape(a, sa), np.reshape(b, sb)])

    def pullback(dy):
        dy = np.reshape(dy, split)
        return (lambda: fit(np.reshape(back(dy, 0), a_shape), a),
                lambda: fit(np.reshape(back(dy, 1), b_shape), b))

    return value, pullback


# -- trace, diagonal ---------------------------------------------------------------------------


def _selection(shape: tuple, offset: int, axis1: int, axis2: int, length: int,
               dtype: Any) -> np.ndarray:
    """The 0/1 tensor ``E[l, i, j]`` that is 1 where ``(i, j)`` is entry ``l`` of the
    ``offset`` diagonal of axes ``axis1``, ``axis2`` of an array of ``shape``."""
    e = np.zeros((length, shape[axis1], shape[axis2]), dtype=dtype)
    steps = np.arange(length)
    e[steps, steps + max(-offset, 0), steps + max(offset, 0)] = 1
    return e


def _diagonal_of(name: str, a: Any, offset: int, axis1: int, axis2: int, value: Any,
                 summed: bool, n_args: int) -> tuple[Any, Any]:
    """The diagonal (``summed``: the trace) as a contraction with a selection tensor."""
    refuse_complex(name, value)
    shape = np.shape(a)
    nd = len(shape)
    axis1, axis2 = _axis_of(axis1, nd), _axis_of(axis2, nd)
    labels = LETTERS[:nd]
    rest = "".join(c for k, c in enumerate(labels) if k not in (axis1, axis2))
    length = max(0, min(shape[axis1] + min(offset, 0), shape[axis2] - max(offset, 0)))
    e = _selection(shape, offset, axis1, axis2, length, np.result_type(value))
    ends = labels[axis1] + labels[axis2]
    out = rest if summed else rest + "z"
    return _contraction(value, [labels, "z" + ends], out, [a, e], n_args, constants=1)


def _trace_spec(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    reject("trace", dtype=dtype, out=out)
    return int(offset), axis1, axis2


@adjoint(np.trace, domain=domains.custom(_trace_args, "2-3 dims, any two axes, offsets on and "
                                         "off the array, float64/32"),
         builtin=True)
def _trace(*args, **kwargs):
    """Adjoint of ``np.trace``: the cotangent on the ``offset`` diagonal, zero elsewhere.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.trace(a, 0, 1, 0), np.ones((2, 2)))[0]
    array([[1., 0.],
           [0., 1.]])
    """
    offset, axis1, axis2 = _trace_spec(*args, **kwargs)
    value = np.trace(args[0], offset, axis1, axis2)
    return _diagonal_of("trace", args[0], offset, axis1, axis2, value, True, len(args))


def _diagonal_spec(a, offset=0, axis1=0, axis2=1):
    return int(offset), axis1, axis2


@adjoint(np.diagonal, domain=domains.custom(_trace_args, "2-3 dims, any two axes, offsets on "
                                            "and off the array, float64/32"),
         builtin=True)
def _diagonal(*args, **kwargs):
    """Adjoint of ``np.diagonal``: the cotangent placed back on the diagonal.

    The value is NumPy's own read-only view, as for untraced arrays.

    >>> import adcheck as ad
    >>> ad.pullback(lambda a: np.diagonal(a, 1), np.ones((2, 3)))[1](np.array([5.0, 7.0]))[0]
    array([[0., 5., 0.],
           [0., 0., 7.]])
    """
    offset, axis1, axis2 = _diagonal_spec(*args, **kwargs)
    value = np.diagonal(args[0], offset, axis1, axis2)
    return _diagonal_of("diagonal", args[0], offset, axis1, axis2, value, False, len(args))


@adjoint(np.linalg.trace, domain=domains.custom(_linalg_diagonal_args, "2-3 dims (the last two "
                                                "axes), every offset, float64/32"),
         builtin=True)
def _linalg_trace(x, *, offset=0, dtype=None):
    """Adjoint of ``np.linalg.trace`` (the last two axes).

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.trace(a).sum(), np.ones((2, 2, 2)))[0][0]
    array([[1., 0.],
           [0., 1.]])
    """
    reject("linalg.trace", dtype=dtype)
    value = np.linalg.trace(x, offset=offset)
    return _diagonal_of("linalg.trace", x, int(offset), -2, -1, value, True, 1)


@adjoint(np.linalg.diagonal, domain=domains.custom(_linalg_diagonal_args, "2-3 dims (the last "
                                                   "two axes), every offset, float64/32"),
         builtin=True)
def _linalg_diagonal(x, *, offset=0):
    """Adjoint of ``np.linalg.diagonal`` (the last two axes).

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.diagonal(a, offset=-1).sum(), np.ones((2, 2)))[0]
    array([[0., 0.],
           [1., 0.]])
    """
    value = np.linalg.diagonal(x, offset=offset)
    return _diagonal_of("linalg.diagonal", x, int(offset), -2, -1, value, False, 1)


# -- cross, vecdot, matvec, vecmat, matrix_transpose --------------------------------------------


def _levi_civita(na: int, nb: int, dtype: Any) -> np.ndarray:
    """``eps[i, j, k]`` for ``a`` of length ``na`` and ``b`` of length ``nb`` (a 2-vector is a
    3-vector with a zero third entry); for two 2-vectors only ``i = 2`` (the scalar result)."""
    eps = np.zeros((3, 3, 3), dtype=dtype)
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[i, j, k], eps[i, k, j] = 1, -1
    eps = eps[:, :na, :nb]
    return eps[2:] if na == nb == 2 else eps


def _cross_of(name: str, a: Any, b: Any, axisa: int, axisb: int, axisc: int,
              value: Any) -> tuple[Any, Any]:
    refuse_complex(name, value)
    a_shape, b_shape = np.shape(a), np.shape(b)
    axisa, axisb = _axis_of(axisa, len(a_shape)), _axis_of(axisb, len(b_shape))
    na, nb = a_shape[axisa], b_shape[axisb]
    batch = _batch_labels([a_shape[1:], b_shape[1:]], "ijk")
    a_sub = _with(_tail(batch, len(a_shape) - 1), axisa, "j")
    b_sub = _with(_tail(batch, len(b_shape) - 1), axisb, "k")
    out = batch if na == nb == 2 else _with(batch, _axis_of(axisc, len(batch) + 1), "i")
    eps = _levi_civita(na, nb, np.result_type(value))
    return _contraction(value, [a_sub, b_sub, "ijk"], out, [a, b, eps], 2, constants=1)


def _cross_spec(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        return axis, axis, axis
    return axisa, axisb, axisc


@adjoint(np.cross, domain=domains.custom(_cross_args, "3- and 2-vectors, broadcast batch axes, "
                                         "axisa/axisb/axisc or axis, float64/32"),
         builtin=True)
def _cross(*args, **kwargs):
    """Adjoint of ``np.cross``: ``da = b × dc`` and ``db = dc × a`` (as one contraction with
    the Levi-Civita symbol, which also covers 2-vectors and every axis argument).

    >>> import adcheck as ad
    >>> e1, e2 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    >>> ad.pullback(np.cross, e1, e2)[1](np.array([0.0, 0.0, 1.0]))   # e2 x e3, e3 x e1
    (array([1., 0., 0.]), array([0., 1., 0.]))
    """
    axisa, axisb, axisc = _cross_spec(*args, **kwargs)
    value, pullback = _cross_of("cross", args[0], args[1], axisa, axisb, axisc,
                                np.cross(*args, **kwargs))
    return value, lambda dy: pullback(dy)[:2] + (None,) * (len(args) - 2)


@adjoint(np.linalg.cross, domain=domains.custom(_linalg_cross_args, "3-vectors, broadcast "
                                                "batch axes, axis, float64/32"),
         builtin=True)
def _linalg_cross(x1, x2, *, axis=-1):
    """Adjoint of ``np.linalg.cross`` (3-vectors): as ``np.cross``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.cross(a, np.array([0.0, 0.0, 1.0]))[0],
    ...             np.array([1.0, 2.0, 3.0]))[0]
    array([0., 1., 0.])
    """
    value = np.linalg.cross(x1, x2, axis=axis)
    return _cross_of("linalg.cross", x1, x2, axis, axis, axis, value)


def _vecdot_of(name: str, x1: Any, x2: Any, axis: int, value: Any) -> tuple[Any, Any]:
    refuse_complex(name, value)
    s1, s2 = np.shape(x1), np.shape(x2)
    batch = _batch_labels([s1[1:], s2[1:]], "z")
    sub1 = _with(_tail(batch, len(s1) - 1), _axis_of(axis, len(s1)), "z")
    sub2 = _with(_tail(batch, len(s2) - 1), _axis_of(axis, len(s2)), "z")
    return _contraction(value, [sub1, sub2], batch, [x1, x2], 2)


def _vecdot_spec(x1, x2, /, *, axis=-1, out=None, dtype=None):
    reject("vecdot", out=out, dtype=dtype)
    return axis


@adjoint(np.vecdot, domain=domains.custom(_ufunc_vecdot_args, "vectors with broadcast batch "
                                          "axes, float64/32"),
         builtin=True)
def _vecdot(*args, **kwargs):
    """Adjoint of ``np.vecdot`` (real): each operand gets ``dy`` times the other.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.vecdot(a, np.array([1.0, 2.0])).sum(), np.ones((2, 2)))[0]
    array([[1., 2.],
           [1., 2.]])
    """
    axis = _vecdot_spec(*args, **kwargs)
    value = np.vecdot(*args, **kwargs)
    return _vecdot_of("vecdot", args[0], args[1], axis, value)


@adjoint(np.linalg.vecdot, domain=domains.custom(_vecdot_args, "vectors with broadcast batch "
                                                 "axes, axis, float64/32"),
         builtin=True)
def _linalg_vecdot(x1, x2, *, axis=-1):
    """Adjoint of ``np.linalg.vecdot`` (real): as ``np.vecdot``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.linalg.vecdot(a, a), np.array([1.0, 2.0]))[0]
    array([2., 4.])
    """
    value = np.linalg.vecdot(x1, x2, axis=axis)
    return _vecdot_of("linalg.vecdot", x1, x2, axis, value)


def _matrix_vector(name: str, fn: Any, x1: Any, x2: Any, vector_first: bool) -> tuple[Any, Any]:
    """matvec (``A @ v``) and vecmat (``v @ A``) with broadcast batch axes."""
    value = fn(x1, x2)
    refuse_complex(name, value)
    s1, s2 = np.shape(x1), np.shape(x2)
    if vector_first:
        batch = _batch_labels([s1[:-1], s2[:-2]], "mn")
        subs = [_tail(batch, len(s1) - 1) + "n", _tail(batch, len(s2) - 2) + "nm"]
    else:
        batch = _batch_labels([s1[:-2], s2[:-1]], "mn")
        subs = [_tail(batch, len(s1) - 2) + "mn", _tail(batch, len(s2) - 1) + "n"]
    return _contraction(value, subs, batch + "m", [x1, x2], 2)


@adjoint(np.matvec, domain=domains.custom(_matvec_args, "matrix times vector, broadcast batch "
                                          "axes, float64/32"),
         builtin=True)
def _matvec(x1, x2):
    """Adjoint of ``np.matvec``: ``dA = dy v^T``, ``dv = A^T dy``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda v: np.matvec(np.eye(2) * 3, v).sum(), np.ones(2))[0]
    array([3., 3.])
    """
    return _matrix_vector("matvec", np.matvec, x1, x2, vector_first=False)


@adjoint(np.vecmat, domain=domains.custom(_vecmat_args, "vector times matrix, broadcast batch "
                                          "axes, float64/32"),
         builtin=True)
def _vecmat(x1, x2):
    """Adjoint of ``np.vecmat`` (real): ``dv = A dy``, ``dA = v dy^T``.

    >>> import adcheck as ad
    >>> ad.gradient(lambda v: np.vecmat(v, np.eye(2) * 3).sum(), np.ones(2))[0]
    array([3., 3.])
    """
    return _matrix_vector("vecmat", np.vecmat, x1, x2, vector_first=True)


@adjoint(np.matrix_transpose, domain=domains.custom(_matrix_transpose_args, "2-3 dims, "
                                                    "float64/32"),
         builtin=True)
def _matrix_transpose(x):
    """Adjoint of ``np.matrix_transpose``: the cotangent transposed back.

    >>> import adcheck as ad
    >>> ad.pullback(np.matrix_transpose, np.ones((1, 2)))[1](np.array([[1.0], [2.0]]))
    (array([[1., 2.]]),)
    """
    return np.matrix_transpose(x), lambda dy: (np.swapaxes(dy, -1, -2),)
