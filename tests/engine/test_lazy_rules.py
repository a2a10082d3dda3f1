"""scipy.special's rules are registered lazily: `import adcheck` does not import scipy, and
scipy.special functions still differentiate, are listed and verified (fresh processes)."""

import math
import subprocess
import sys


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_adcheck_does_not_import_scipy():
    assert run("import sys, adcheck; print('scipy' in sys.modules)") == "False"


ERF_GRADIENT = """
import numpy as np
import adcheck as ad
import scipy.special as sp
print(repr(float(ad.gradient(lambda x: sp.erf(x), 0.5)[0])))
print(repr(float(ad.gradient(lambda x: sp.gammasgn(x) * x, -1.5)[0])))
"""


def test_scipy_special_imported_after_adcheck_differentiates():
    erf, gammasgn = run(ERF_GRADIENT).splitlines()
    assert float(erf) == 2 / math.sqrt(math.pi) * math.exp(-0.25)
    assert float(gammasgn) == 1.0  # gammasgn(-1.5) = 1, a constant factor (nondifferentiable)


def test_scipy_special_imported_before_adcheck_differentiates():
    code = "import scipy.special\n" + ERF_GRADIENT
    assert float(run(code).splitlines()[0]) == 2 / math.sqrt(math.pi) * math.exp(-0.25)


def test_builtin_rules_list_scipy_special_without_importing_it_first():
    code = ("import adcheck as ad\n"
            "print(sorted(r.name for r in ad.registry.builtin_rules()"
            " if r.name in ('erf', 'gammaln', 'logsumexp', 'sin')))")
    assert run(code) == "['erf', 'gammaln', 'logsumexp', 'sin']"


def test_a_user_rule_registered_first_stays_in_force_over_the_lazy_builtin():
    code = """
import adcheck as ad
import scipy.special as sp
@ad.adjoint(sp.erf)
def _(x):
    return sp.erf(x), lambda dy: (dy * 7.0,)
print(ad.gradient(lambda x: sp.erf(x), 0.5)[0], ad.registry.lookup(sp.erf).builtin)
print(any(r.builtin and r.name == 'erf' for r in ad.registry.builtin_rules()))
print(ad.gradient(lambda x: sp.erf(x), 0.5)[0], ad.registry.lookup(sp.erf).builtin)
"""
    assert run(code).splitlines() == ["7.0 False", "True", "7.0 False"]
