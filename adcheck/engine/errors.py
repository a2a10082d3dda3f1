"""Errors the engine raises instead of returning a wrong gradient."""

from __future__ import annotations

__all__ = ["NotDifferentiable", "RuleError", "HOW_TO_REGISTER"]

HOW_TO_REGISTER = (
    "Register an adjoint for it:\n"
    "    @adcheck.adjoint({fn})\n"
    "    def _(*args):\n"
    "        return {fn}(*args), lambda dy: (...one cotangent per positional argument...)\n"
    "(for a function of your own, decorate it with @adcheck.primitive first)."
)


class NotDifferentiable(TypeError):
    """An operation the engine cannot differentiate, or one that would drop the tape.

    >>> raise NotDifferentiable("np.foo has no adjoint")
    Traceback (most recent call last):
    ...
    adcheck.engine.errors.NotDifferentiable: np.foo has no adjoint
    """


class RuleError(ValueError):
    """An adjoint rule returned something the engine cannot use (wrong count, wrong shape)."""
