"""adcheck's built-in adjoint rules for NumPy, one module per family.

Importing this package registers every rule. Each rule declares its input domain so that
``adcheck verify --builtin`` (and the test suite) can prove it with the property-based checker.
"""

from . import indexing, linalg, nondiff, reductions, shape, ufuncs  # noqa: F401  (registration)
from . import copying, creation, selection, stacking  # noqa: F401  (shape and copying: registration)
from . import nanfunctions, scans, statistics  # noqa: F401  (reductions and scans: registration)
from . import special  # noqa: F401  (scipy.special: registration; nothing without scipy)
from . import einsum, products  # noqa: F401  (products and einsum: registration)
from . import decompositions, matrix_functions, norms  # noqa: F401  (np.linalg: registration)
from . import constants, covariance, polynomials, quantiles, signal  # noqa: F401  (registration)
