"""The stencil table: findiff's exact weights, complete for adcheck's own methods, and what
lets a fresh process take its first finite difference without importing findiff (sympy)."""

import math
import subprocess
import sys
from fractions import Fraction

import pytest

from adcheck.fd import stencil
from adcheck.fd.stencil_table import WEIGHTS


def test_every_entry_is_findiffs_exact_weights():
    for (grid, q), text in WEIGHTS.items():
        assert [Fraction(w) for w in text.split()] == stencil.findiff_weights(grid, q), (grid, q)


def test_the_table_holds_exactly_the_standard_stencils():
    assert set(WEIGHTS) == set(stencil.standard_keys())


@pytest.mark.parametrize("grid, q", [((-2, -1, 1, 2), 1), ((0, 1, 2, 3), 2), ((-3, -1, 2), 1)])
def test_weights_are_exact_on_polynomials(grid, q):
    # Inside the table or not (the last grid is not), the weights differentiate every
    # polynomial of degree < p exactly: sum_i c_i g_i^k = q! if k == q else 0.
    weights = stencil.exact_weights(grid, q)
    for k in range(len(grid)):
        moment = sum(c * Fraction(g) ** k for c, g in zip(weights, grid))
        assert moment == (math.factorial(q) if k == q else 0), (grid, q, k)


def test_a_fresh_process_checks_rules_without_importing_findiff():
    code = (
        "import sys, numpy as np, adcheck as ad\n"
        "ad.gradcheck(lambda x: np.sin(x).sum(), np.ones(3))\n"
        "ad.check_adjoint(np.exp, np.ones(2))\n"
        "ad.verify(np.tanh, max_examples=5, seed=1)\n"
        "print('findiff' in sys.modules, 'sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
