"""Second-order checks beside the peers': the same rules, the same inputs, each tool's checker.

Every case of ``checker_cases.second_order_cases`` is a rule right at first order, written
once with each framework's own array functions; half of them have a pullback that is wrong
when differentiated (a constant copy where the input belongs). Each tool is asked with its
own second-order check, default settings:

- adcheck: ``ad.check_adjoint(fn, *args, order=2)``;
- autograd: ``autograd.test_util.check_grads(f, modes=["rev"], order=2)``;
- PyTorch: ``torch.autograd.gradgradcheck`` (float64) of a ``torch.autograd.Function``
  whose ``backward`` is written in torch (``ops.const`` is ``detach``);
- JAX: ``jax.test_util.check_grads(f, args, order=2, modes=["rev"])`` of a ``custom_vjp``
  whose ``bwd`` is written in ``jax.numpy`` (``ops.const`` is ``stop_gradient``).

Run: ``python benchmarks/second_order_accuracy.py``. Missing frameworks are skipped; a
checker that crashes on a case counts as a failed check. Each cell shows the verdict and the
time the check took.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from checker_cases import SecondOrderCase, second_order_cases  # noqa: E402
from common import score  # noqa: E402

import adcheck as ad  # noqa: E402


def run_adcheck(case: SecondOrderCase) -> bool:
    with ad.scoped_rules():
        @ad.primitive
        def const(x):  # a copy adcheck does not differentiate (as detach / stop_gradient)
            return np.array(x, copy=True)

        ad.registry.nondifferentiable(const)
        ops = SimpleNamespace(sin=np.sin, cos=np.cos, exp=np.exp, tanh=np.tanh,
                              sqrt=np.sqrt, log=np.log, T=np.transpose, const=const)

        def body(*args):
            return case.f(ops, *args)

        body.__name__ = "case"
        prim = ad.primitive(body)

        @ad.adjoint(prim)
        def _(*args):
            return case.f(ops, *args), lambda g: case.vjp(ops, g, *args)

        return ad.check_adjoint(prim, *case.args, seed=0, order=2,
                                raise_exception=False).passed


def run_autograd(case: SecondOrderCase) -> bool:
    import autograd.numpy as anp
    from autograd.extend import defvjp_argnums, primitive
    from autograd.test_util import check_grads

    ops = SimpleNamespace(sin=anp.sin, cos=anp.cos, exp=anp.exp, tanh=anp.tanh,
                          sqrt=anp.sqrt, log=anp.log, T=anp.transpose,
                          const=lambda v: getattr(v, "_value", v))

    @primitive
    def f(*args):
        return case.f(ops, *args)

    defvjp_argnums(f, lambda argnums, ans, args, kwargs: (
        lambda g: tuple(case.vjp(ops, g, *args)[i] for i in argnums)))
    try:
        check_grads(f, modes=["rev"], order=2, argnum=tuple(range(len(case.args))))(*case.args)
    except AssertionError:
        return False
    return True


def run_torch(case: SecondOrderCase) -> bool:
    import torch

    ops = SimpleNamespace(sin=torch.sin, cos=torch.cos, exp=torch.exp, tanh=torch.tanh,
                          sqrt=torch.sqrt, log=torch.log, T=lambda v: v.transpose(-1, -2),
                          const=lambda v: v.detach())

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *args):
            ctx.save_for_backward(*args)
            return case.f(ops, *args)

        @staticmethod
        def backward(ctx, g):
            return tuple(case.vjp(ops, g, *ctx.saved_tensors))

    inputs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in case.args)
    return bool(torch.autograd.gradgradcheck(F.apply, inputs, raise_exception=False))


def run_jax(case: SecondOrderCase) -> bool:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
    ops = SimpleNamespace(sin=jnp.sin, cos=jnp.cos, exp=jnp.exp, tanh=jnp.tanh,
                          sqrt=jnp.sqrt, log=jnp.log, T=lambda v: jnp.swapaxes(v, -1, -2),
                          const=jax.lax.stop_gradient)

    @jax.custom_vjp
    def f(*args):
        return case.f(ops, *args)

    f.defvjp(lambda *args: (f(*args), args), lambda args, g: tuple(case.vjp(ops, g, *args)))
    try:
        check_grads(f, tuple(jnp.asarray(a) for a in case.args), order=2, modes=["rev"])
    except AssertionError:
        return False
    return True


def checkers() -> dict[str, Callable[[SecondOrderCase], bool]]:
    found: dict[str, Callable[[SecondOrderCase], bool]] = {"adcheck": run_adcheck}
    for name, module, run in (("autograd", "autograd", run_autograd),
                              ("torch", "torch", run_torch), ("jax", "jax", run_jax)):
        try:
            __import__(module)
        except ImportError:
            print(f"{name} not installed: column skipped")
            continue
        found[name] = run
    return found


def verdict(run: Callable[[SecondOrderCase], bool], case: SecondOrderCase) -> tuple[bool, float]:
    start = time.perf_counter()
    try:
        passed = run(case)
    except Exception:  # noqa: BLE001  (a checker that crashes counts as a failed check)
        passed = False
    return passed, time.perf_counter() - start


def main() -> None:
    found = checkers()
    cases = second_order_cases()
    width = max(len(c.name) for c in cases) + 2
    print(f"{'case (second order)':{width}s}{'kind':10s}" + "".join(f"{n:>20s}" for n in found))
    alarms = dict.fromkeys(found, 0)
    misses = dict.fromkeys(found, 0)
    for case in cases:
        row = f"{case.name:{width}s}{'correct' if case.correct else 'wrong':10s}"
        for name, run in found.items():
            passed, seconds = verdict(run, case)
            text, alarm, miss = score(case.correct, passed)
            alarms[name] += alarm
            misses[name] += miss
            row += f"{f'{text} {seconds * 1e3:.0f} ms':>20s}"
        print(row)
    print()
    print(f"{'false alarms':{width + 10}s}" + "".join(f"{alarms[n]:>20d}" for n in found))
    print(f"{'misses':{width + 10}s}" + "".join(f"{misses[n]:>20d}" for n in found))


if __name__ == "__main__":
    main()
