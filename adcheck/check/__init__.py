"""Checking adjoint rules: ``gradcheck``, ``check_adjoint`` and property-based ``verify``.

>>> import numpy as np
>>> import adcheck as ad
>>> bool(ad.check_adjoint(np.tanh, np.array([0.5, -2.0]), seed=0))
True
"""

from .check_adjoint import check_adjoint
from .gradcheck import gradcheck
from .result import CheckResult, Failure, GradientMismatch
from .verify import verify

__all__ = ["CheckResult", "Failure", "GradientMismatch", "check_adjoint", "gradcheck", "verify"]
