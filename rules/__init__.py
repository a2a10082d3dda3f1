"""adcheck's built-in adjoint rules for NumPy, one module per family.

Importing this package registers every rule, except scipy.special's: ``special`` is imported
(and its rules registered) only once scipy.special is, so that ``import adcheck`` does not
import scipy (see :func:`adcheck.registry.register_lazily`). Each rule declares its input
domain so that ``adcheck verify --builtin`` (and the test suite) can prove it with the
property-based checker.

The families: elementwise functions (``ufuncs``, ``special`` for scipy.special, ``nondiff``
for piecewise-constant ones), reductions and scans (``reductions``, ``statistics``,
``nanfunctions``, ``scans``, ``quantiles``, ``covariance``), products and linear algebra
(``linalg``, ``products``, ``einsum``, ``matrix_functions``, ``decompositions``, ``norms``),
moving and making arrays (``shape``, ``indexing``, ``copying``, ``stacking``, ``selection``,
``creation``, ``constants``), and ``polynomials`` and ``signal``.
"""

from adcheck import registry

from . import (  # noqa: F401  (importing a module registers its rules)
    constants,
    copying,
    covariance,
    creation,
    decompositions,
    einsum,
    indexing,
    linalg,
    matrix_functions,
    nanfunctions,
    nondiff,
    norms,
    polynomials,
    products,
    quantiles,
    reductions,
    scans,
    selection,
    shape,
    signal,
    stacking,
    statistics,
    ufuncs,
)

registry.register_lazily("scipy.special", "adcheck.rules.special")
