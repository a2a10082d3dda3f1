"""adcheck: reverse-mode AD for plain NumPy code, and a checker that proves adjoint rules right.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: np.sin(x ** 2) * 5, 4.0)
(-38.30637921293538,)
"""

# importing `numpy` and `rules` registers the built-in adjoint rules
from . import domains, fd, numpy, rules  # noqa: F401
from .check import CheckResult, GradientMismatch, check_adjoint, gradcheck, verify
from .check.taylor import TaylorResult, taylor_test
from .engine.api import Trace, derivative, gradient, hessian, jacobian, pullback, trace
from .engine.errors import NotDifferentiable, RuleError
from .engine.forward import hvp, jvp
from .engine.params import Grads, Param, Params, param
from .fd import backward_fdm, central_fdm, forward_fdm
from .registry import adjoint, nondifferentiable, primitive, scoped_rules

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "Grads",
    "GradientMismatch",
    "NotDifferentiable",
    "Param",
    "Params",
    "RuleError",
    "TaylorResult",
    "Trace",
    "adjoint",
    "backward_fdm",
    "central_fdm",
    "check_adjoint",
    "derivative",
    "domains",
    "fd",
    "forward_fdm",
    "gradcheck",
    "gradient",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "nondifferentiable",
    "param",
    "primitive",
    "pullback",
    "scoped_rules",
    "taylor_test",
    "trace",
    "verify",
]
