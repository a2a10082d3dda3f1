"""Custom adjoint rules that are all correct: ``adcheck verify examples/rules_ok.py`` exits 0.

A small module of the kind a user writes next to a model: functions made primitives with
``@ad.primitive`` and their adjoints with ``@ad.adjoint``, each with the input domain the
checker should draw from (or none, to use the checker's default inputs). Try::

    adcheck list examples/rules_ok.py        # the rules and their domains
    adcheck verify examples/rules_ok.py      # every rule against finite differences
    adcheck trace examples/rules_ok.py:softplus 1.5

The last two rules are the seed notebook's examples, in Python: Zygote's
``@adjoint add(a, b) = add(a, b), Δ -> (Δ, Δ)`` and ``@adjoint f(x) = f(x), Δ -> (Δ'*df(x),)``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import adcheck as ad

# -- softplus: a smooth ReLU, computed without overflow -----------------------------------


@ad.primitive
def softplus(x):
    """``log(1 + exp(x))``, stable for large ``|x|``.

    >>> float(softplus(0.0)) == float(np.log(2.0))
    True
    """
    return np.logaddexp(0.0, x)


@ad.adjoint(softplus)  # no domain: the checker uses its default inputs (real floats)
def _softplus_adjoint(x):
    """The derivative of softplus is the logistic sigmoid ``1 / (1 + exp(-x))``.

    Written as ``exp(-softplus(-x))``, which keeps full relative precision for negative
    ``x`` even in float32 (``0.5 * (1 + tanh(x / 2))`` cancels there).
    """
    return softplus(x), lambda dy: (dy * np.exp(-softplus(-x)),)


# -- log-sum-exp over an axis ---------------------------------------------------------------


@ad.primitive
def logsumexp(x, axis=None):
    """``log(sum(exp(x), axis))`` without overflow: shift by the maximum first.

    >>> float(logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    """
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _matrix_and_axis(draw):
    """A matrix (or vector) of moderate values and an axis that exists in it."""
    x = draw(arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=4),
                    elements=st.floats(-5, 5)))
    axis = draw(st.sampled_from([None, *range(-x.ndim, x.ndim)]))
    return (x,), {"axis": axis}


@ad.adjoint(logsumexp, domain=ad.domains.custom(_matrix_and_axis, "arrays, any valid axis"))
def _logsumexp_adjoint(x, axis=None):
    """The gradient is the softmax along ``axis``; ``dy`` is broadcast back over that axis."""
    y = logsumexp(x, axis=axis)

    def back(dy):
        keep = y if axis is None else np.expand_dims(y, axis)
        dkeep = dy if axis is None else np.expand_dims(dy, axis)
        return (dkeep * np.exp(x - keep),)

    return y, back


# -- a logarithm that never returns -inf ----------------------------------------------------


@ad.primitive
def safe_log(x):
    """``log(x)``, clipped below at the smallest positive float so that 0 gives -708.

    The floor has ``x``'s own float type, so that float32 stays float32.

    >>> float(safe_log(np.e)), float(safe_log(0.0))
    (1.0, -708.3964185322641)
    """
    dtype = np.result_type(x, 1.0)
    return np.log(np.maximum(x, np.finfo(dtype).tiny.astype(dtype)))


@ad.adjoint(safe_log, domain=ad.domains.positive())
def _safe_log_adjoint(x):
    """``d log(x) / dx = 1 / x``, checked only where the clipping does not bite (x > 0)."""
    return safe_log(x), lambda dy: (dy / x,)


# -- the seed notebook: add(a, b) and f(x) = [x1 + x2, x1 * x2] ---------------------------


@ad.primitive
def add(a, b):
    """``a + b``, made a primitive so that its adjoint below is used.

    >>> add(2, 3)
    5
    """
    return a + b


def _same_shape_pair(draw):
    """Two float arrays of one shape (0-d included), as the notebook's add(2, 3) takes."""
    shape = draw(array_shapes(min_dims=0, max_dims=2, max_side=3))
    values = arrays(np.float64, shape, elements=st.floats(-10, 10))
    return (draw(values), draw(values)), {}


@ad.adjoint(add, domain=ad.domains.custom(_same_shape_pair, "two arrays of one shape"))
def _add_adjoint(a, b):
    """Zygote's ``@adjoint add(a, b) = add(a, b), Δ -> (Δ, Δ)``.

    With arguments of different (broadcast) shapes, each cotangent would have to be summed
    back to its argument's shape; the domain keeps to the notebook's case, one shape.
    """
    return add(a, b), lambda dy: (dy, dy)


@ad.primitive
def f(x):
    """The notebook's vector function ``f(x) = [x1 + x2, x1 * x2]``.

    >>> f(np.array([1.0, 2.0]))
    array([3., 2.])
    """
    return np.array([x[0] + x[1], x[0] * x[1]])


def df(x):
    """The Jacobian of :func:`f`: rows are outputs, columns inputs.

    >>> df(np.array([1.0, 2.0]))
    array([[1., 1.],
           [2., 1.]])
    """
    return np.array([[1.0, 1.0], [x[1], x[0]]])


def _pair(draw):
    return (draw(arrays(np.float64, 2, elements=st.floats(-10, 10))),), {}


@ad.adjoint(f, domain=ad.domains.custom(_pair, "vectors of length 2"))
def _f_adjoint(x):
    """Zygote's ``@adjoint f(x) = f(x), Δ -> (Δ'*df(x),)``: the cotangent times the Jacobian."""
    return f(x), lambda dy: (dy @ df(x),)
