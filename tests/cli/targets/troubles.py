"""Rules that go wrong in every way but a wrong number: NaN, an exception, no rule at all."""

import numpy as np

import adcheck as ad


@ad.primitive
def cube(x):
    return x**3


@ad.adjoint(cube)
def _cube(x):
    """A correct rule, so that the others are seen not to stop the run."""
    return cube(x), lambda dy: (3 * x**2 * dy,)


@ad.primitive
def nan_slope(x):
    return 2 * x


@ad.adjoint(nan_slope)
def _nan_slope(x):
    """Returns NaN instead of 2 * dy."""
    return nan_slope(x), lambda dy: (dy * np.nan,)


@ad.primitive
def raises(x):
    return x + 1


@ad.adjoint(raises)
def _raises(x):
    """Its pullback raises."""

    def back(dy):
        raise RuntimeError("pullback of raises is not implemented yet")

    return raises(x), back


@ad.primitive
def lonely(x):
    """A primitive without an adjoint: nothing can differentiate it."""
    return x * 2
