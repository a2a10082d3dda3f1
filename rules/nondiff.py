"""Functions whose outputs carry no derivative.

Their results are integers, booleans, or piecewise-constant floats (``floor``, ``sign``,
``round``): the derivative is zero wherever it exists, so the engine runs them on the plain
values and the result is a constant on the tape. Rounding functions are declared here on
purpose: a zero gradient is the right answer almost everywhere, and the checker's domains
never straddle their jumps.

>>> import numpy as np
>>> import adcheck as ad
>>> ad.gradient(lambda x: (np.floor(x) * x).sum(), np.array([1.5, -0.5]))
(array([ 1., -1.]),)
"""

from __future__ import annotations

import numpy as np

from adcheck.registry import nondifferentiable

# Rounding and sign: piecewise constant.
nondifferentiable(
    np.sign, np.floor, np.ceil, np.round, np.around, np.trunc, np.rint, np.fix, np.floor_divide,
    np.signbit, np.spacing,
)
# Indices and orderings.
nondifferentiable(
    np.argmax, np.argmin, np.argsort, np.argpartition, np.nonzero, np.flatnonzero, np.argwhere,
    np.searchsorted, np.count_nonzero,
)
# Arrays whose values do not depend on the input's values.
nondifferentiable(np.zeros_like, np.ones_like, np.empty_like)
# Predicates and comparisons.
nondifferentiable(
    np.isnan, np.isfinite, np.isinf, np.isneginf, np.isposinf, np.isclose, np.allclose,
    np.array_equal, np.array_equiv, np.iscomplex, np.isreal, np.isin, np.all, np.any,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
)
