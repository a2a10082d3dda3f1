"""Finite differences: the ground truth the checker compares adjoint rules against.

>>> from adcheck.fd import central_fdm, jacobian
>>> jac, = jacobian(central_fdm(4, 1), lambda x: np.array([x[0] + x[1], x[0] * x[1]]),
...                 np.array([1.0, 2.0]))
>>> np.round(jac, 10).tolist()
[[1.0, 1.0], [2.0, 1.0]]
"""

import numpy as np  # noqa: F401  (used by the doctest above)

from .errors import FiniteDifferenceError
from .jacobian import jacobian, jvp, vjp
from .methods import Estimate, FiniteDifferenceMethod, backward_fdm, central_fdm, forward_fdm

__all__ = [
    "Estimate",
    "FiniteDifferenceError",
    "FiniteDifferenceMethod",
    "backward_fdm",
    "central_fdm",
    "forward_fdm",
    "jacobian",
    "jvp",
    "vjp",
]
