"""A small library of custom adjoints, as a user ships them: proven in CI by adcheck.

Its test file, ``test_softmath.py`` beside it, uses adcheck's pytest fixtures; every rule
here also becomes its own test item with::

    cd examples/ci && pytest --adcheck-verify=softmath.py

>>> float(softplus(0.0)) == float(np.log(2.0))
True
"""

from __future__ import annotations

import numpy as np

import adcheck as ad


@ad.primitive
def softplus(x):
    """``log(1 + exp(x))`` without overflow.

    >>> float(softplus(np.array(800.0)))
    800.0
    """
    return np.logaddexp(0.0, x)


@ad.adjoint(softplus, domain=ad.domains.real(-30, 30))
def _softplus_adjoint(x):
    """The derivative of softplus is the logistic sigmoid, written as ``exp(-softplus(-x))``."""
    return softplus(x), lambda dy: (dy * np.exp(-softplus(-x)),)


@ad.primitive
def huber(x, delta=1.0):
    """The Huber loss: ``x²/2`` for ``|x| <= delta``, ``delta (|x| - delta/2)`` beyond.

    >>> huber(np.array([0.5, 3.0]))
    array([0.125, 2.5  ])
    """
    a = np.abs(x)
    return np.where(a <= delta, 0.5 * x * x, delta * (a - 0.5 * delta))


def _huber_args(draw):
    """Values and a keyword argument ``delta`` drawn together.

    The second derivative of huber jumps at ``|x| == delta``; values are kept 1e-3 away
    from it (relative to delta) so that the finite differences compare a smooth piece.
    """
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes, arrays

    delta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    values = st.floats(-5, 5).filter(lambda v: abs(abs(v) - delta) > 1e-3 * delta)
    x = draw(arrays(np.float64, array_shapes(min_dims=0, max_dims=2, max_side=3),
                    elements=values))
    return (x,), {"delta": delta}


@ad.adjoint(huber, domain=ad.domains.custom(_huber_args, "arrays, delta in {0.5, 1, 2}"))
def _huber_adjoint(x, delta=1.0):
    """``x`` inside ``[-delta, delta]``, ``delta * sign(x)`` outside: the clipped residual."""
    return huber(x, delta), lambda dy: (dy * np.clip(x, -delta, delta),)
