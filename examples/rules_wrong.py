"""DELIBERATELY WRONG adjoint rules: ``adcheck verify examples/rules_wrong.py`` exits 1.

This module exists to show what a failure report looks like. Do not copy these rules.
Each holds a bug of the kind that survives a quick test at one hand-picked point:

- ``sigmoid`` is computed in two branches, the usual way to avoid overflow in ``exp``; its
  adjoint mirrors the branches, and the branch for negative inputs forgets the factor
  ``1 / (1 + exp(x))``. It is right for every ``x >= 0`` and wrong for every ``x < 0``, so
  a check at ``x = 1.0`` passes; the checker's report names the rule and shrinks the failure
  to a small negative input.
- ``mean`` divides the cotangent by ``len(x)`` (the number of rows) instead of ``x.size``.
  It is right for vectors (where ``len(x) == x.size``) and wrong as soon as ``x`` has two
  axes.

``rules_ok.py`` next to this file holds rules that are all correct.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import adcheck as ad


@ad.primitive
def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, without overflow for large ``|x|``.

    >>> float(sigmoid(0.0))
    0.5
    """
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@ad.adjoint(sigmoid, domain=ad.domains.real(-5, 5))
def _sigmoid_adjoint(x):
    """WRONG for x < 0: the derivative there is ``e / (1 + e)**2``, not ``e / (1 + e)``."""
    y = sigmoid(x)
    e = np.exp(-np.abs(x))
    slope = np.where(x >= 0, e / (1.0 + e) ** 2, e / (1.0 + e))  # bug: one factor missing
    return y, lambda dy: (dy * slope,)


@ad.primitive
def mean(x):
    """The mean of all entries of ``x``.

    >>> float(mean(np.ones((2, 3))))
    1.0
    """
    return np.sum(x) / np.size(x)


def _vectors_and_matrices(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=2, max_side=3))
    return (draw(arrays(np.float64, shape, elements=st.floats(-10, 10))),), {}


@ad.adjoint(mean, domain=ad.domains.custom(_vectors_and_matrices, "vectors and matrices"))
def _mean_adjoint(x):
    """WRONG for matrices: divides by the number of rows, ``len(x)``, instead of ``x.size``."""
    return mean(x), lambda dy: (np.ones_like(x) * dy / len(x),)
