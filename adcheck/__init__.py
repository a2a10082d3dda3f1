"""adcheck: reverse-mode AD for plain NumPy code, and a checker that proves adjoint rules right.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.sin(x ** 2) * 5, 4.0)
(-38.30637921293538,)
"""

from . import domains
from .engine.api import Trace, derivative, gradient, hessian, jacobian, pullback, trace
from .engine.errors import NotDifferentiable, RuleError
from .engine.params import Grads, Param, Params, param
from .registry import adjoint, primitive, scoped_rules

from . import numpy, rules  # noqa: E402,F401,I001  (registers the built-in rules)

__version__ = "0.1.0"

__all__ = [
    "Grads",
    "NotDifferentiable",
    "Param",
    "Params",
    "RuleError",
    "Trace",
    "adjoint",
    "derivative",
    "domains",
    "gradient",
    "hessian",
    "jacobian",
    "param",
    "primitive",
    "pullback",
    "scoped_rules",
    "trace",
]
