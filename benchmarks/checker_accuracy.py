"""False alarms and misses: adcheck's checker beside autograd's, PyTorch's and JAX's.

Every case of ``checker_cases.py`` (correct rules on badly scaled inputs, subtly wrong
rules, and issue 8's vacuous passes and false alarms) is registered as a custom rule in each
framework that is installed, and each framework's own checker is asked for a verdict with its
default settings:

- adcheck: ``ad.check_adjoint`` (auto mode);
- autograd: ``autograd.test_util.check_grads(f, modes=["rev"], order=1)``;
- PyTorch: ``torch.autograd.gradcheck`` (float64), slow and ``fast_mode=True``;
- JAX: ``jax.test_util.check_grads(f, args, order=1, modes=["rev"])`` (float64 enabled).

Run: ``python benchmarks/checker_accuracy.py``. Missing frameworks are skipped.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from checker_cases import Case, hard_cases, trust_cases, wrong_cases  # noqa: E402
from common import score  # noqa: E402

import adcheck as ad  # noqa: E402

# What each adcheck check cost: (evaluations of f, pullback calls, seconds), by case name.
COSTS: dict[str, tuple[int, int, float]] = {}


def run_adcheck(case: Case) -> bool:
    """True when adcheck's check passes (its cost is kept in ``COSTS``)."""
    start = time.perf_counter()
    with ad.scoped_rules():
        def body(*args):
            return case.f(*args)

        body.__name__ = "case"
        prim = ad.primitive(body)

        @ad.adjoint(prim)
        def _(*args):
            y = case.f(*args)
            return y, lambda g: case.vjp(g, y, *args)

        result = ad.check_adjoint(prim, *case.args, seed=0, raise_exception=False)
    COSTS[case.name] = (result.evaluations, result.pullbacks, time.perf_counter() - start)
    return result.passed


def run_checker(run: Callable[[Case], bool], case: Case) -> bool:
    """A checker's verdict; one that crashes on a case counts as a failed check."""
    try:
        return run(case)
    except Exception:  # noqa: BLE001
        return False


def run_autograd(case: Case) -> bool:
    from autograd.extend import defvjp_argnums, primitive
    from autograd.test_util import check_grads

    @primitive
    def f(*args):
        return case.f(*args)

    defvjp_argnums(f, lambda argnums, ans, args, kwargs: (
        lambda g: tuple(case.vjp(g, ans, *args)[i] for i in argnums)))
    try:
        check_grads(f, modes=["rev"], order=1, argnum=tuple(range(len(case.args))))(*case.args)
    except AssertionError:
        return False
    return True


def _torch_function(case: Case):
    import torch

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *args):
            arrays = [a.detach().numpy() for a in args]
            ctx.arrays = arrays
            y = case.f(*arrays)
            ctx.y = y
            return torch.from_numpy(np.array(y, dtype=np.float64))

        @staticmethod
        def backward(ctx, g):
            grads = case.vjp(g.detach().numpy(), ctx.y, *ctx.arrays)
            return tuple(torch.from_numpy(np.array(d, dtype=np.float64)) for d in grads)

    return F.apply


def run_torch(case: Case, fast: bool) -> bool:
    import torch

    apply = _torch_function(case)
    inputs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in case.args)
    try:
        return bool(torch.autograd.gradcheck(apply, inputs, fast_mode=fast,
                                             raise_exception=False))
    except Exception:  # noqa: BLE001  (a checker that crashes counts as a failed check)
        return False


def run_jax(case: Case) -> bool:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
    out_shape = jax.ShapeDtypeStruct(np.shape(case.f(*case.args)), jnp.float64)

    @jax.custom_vjp
    def f(*args):
        return jax.pure_callback(
            lambda *a: np.asarray(case.f(*[np.array(v) for v in a]), np.float64), out_shape,
            *args)

    def fwd(*args):
        return f(*args), args

    def bwd(args, g):
        shapes = tuple(jax.ShapeDtypeStruct(np.shape(a), jnp.float64) for a in args)

        def host(g, *a):
            g, a = np.array(g), [np.array(v) for v in a]  # writable NumPy copies
            y = case.f(*a)
            return tuple(np.asarray(d, np.float64) for d in case.vjp(g, y, *a))

        return jax.pure_callback(host, shapes, g, *args)

    f.defvjp(fwd, bwd)
    try:
        check_grads(f, tuple(jnp.asarray(a) for a in case.args), order=1, modes=["rev"])
    except AssertionError:
        return False
    return True


def checkers() -> dict[str, Callable[[Case], bool]]:
    found: dict[str, Callable[[Case], bool]] = {"adcheck": run_adcheck}
    try:
        import autograd  # noqa: F401

        found["autograd"] = run_autograd
    except ImportError:
        print("autograd not installed: column skipped")
    try:
        import torch  # noqa: F401

        found["torch"] = lambda c: run_torch(c, fast=False)
        found["torch fast"] = lambda c: run_torch(c, fast=True)
    except ImportError:
        print("torch not installed: columns skipped")
    try:
        import jax  # noqa: F401

        found["jax"] = run_jax
    except ImportError:
        print("jax not installed: column skipped")
    return found


def main() -> None:
    found = checkers()
    cases = hard_cases() + wrong_cases() + trust_cases()
    width = max(len(c.name) for c in cases) + 2
    print(f"{'case':{width}s}{'kind':10s}" + "".join(f"{n:>14s}" for n in found)
          + f"{'adcheck evals':>15s}{'pullbacks':>10s}{'ms':>8s}")
    alarms = dict.fromkeys(found, 0)
    misses = dict.fromkeys(found, 0)
    start = time.perf_counter()
    for case in cases:
        row = f"{case.name:{width}s}{'correct' if case.correct else 'wrong':10s}"
        for name, run in found.items():
            verdict, alarm, miss = score(case.correct, run_checker(run, case))
            alarms[name] += alarm
            misses[name] += miss
            row += f"{verdict:>14s}"
        evals, pulls, seconds = COSTS.get(case.name, (0, 0, 0.0))
        print(row + f"{evals:>15d}{pulls:>10d}{1e3 * seconds:>8.1f}")
    print()
    print(f"{'false alarms':{width + 10}s}" + "".join(f"{alarms[n]:>14d}" for n in found))
    print(f"{'misses':{width + 10}s}" + "".join(f"{misses[n]:>14d}" for n in found))
    total = [sum(c[i] for c in COSTS.values()) for i in range(3)]
    print(f"({len(cases)} cases, {time.perf_counter() - start:.1f} s; adcheck: {total[0]} "
          f"evaluations, {total[1]} pullbacks, {total[2]:.1f} s)")


if __name__ == "__main__":
    main()
