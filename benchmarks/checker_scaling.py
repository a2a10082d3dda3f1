"""Cost of checking one rule as the input grows: function evaluations and seconds.

For ``n = 10^2 ... 10^6`` the rule of ``f(x) = sin(x)`` (elementwise, ``n`` inputs and
outputs) is checked by

- adcheck's fast mode (``ad.check_adjoint(..., mode="fast")``): its evaluations stay flat;
- PyTorch's ``gradcheck`` (slow mode: one column per input, so O(n) evaluations and an O(n²)
  Jacobian; run only up to ``--slow-max``) and ``gradcheck(fast_mode=True)``;
- JAX's ``check_grads(order=1, modes=["rev"])``;

when those are installed (columns are skipped otherwise). Evaluations are counted by
wrapping the primal function. Run: ``python benchmarks/checker_scaling.py [--max 6]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import adcheck as ad


class Counter:
    """Counts calls of ``np.sin`` made through it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return np.sin(x)


def bench_adcheck(x: np.ndarray) -> tuple[int, float, bool]:
    counter = Counter()
    with ad.scoped_rules():
        def sine(x):
            return counter(x)

        prim = ad.primitive(sine)

        @ad.adjoint(prim)
        def _(x):
            return np.sin(x), lambda g: (g * np.cos(x),)

        start = time.perf_counter()
        result = ad.check_adjoint(prim, x, mode="fast", seed=0, raise_exception=False)
        elapsed = time.perf_counter() - start
    return result.evaluations, elapsed, result.passed


def bench_torch(x: np.ndarray, fast: bool) -> tuple[int, float, bool]:
    import torch

    counter = Counter()

    class Sine(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.x = t.detach().numpy()
            return torch.from_numpy(counter(ctx.x))

        @staticmethod
        def backward(ctx, g):
            return g * torch.from_numpy(np.cos(ctx.x))

    t = torch.tensor(x, requires_grad=True)
    start = time.perf_counter()
    ok = torch.autograd.gradcheck(Sine.apply, (t,), fast_mode=fast, raise_exception=False)
    return counter.calls, time.perf_counter() - start, bool(ok)


def bench_jax(x: np.ndarray) -> tuple[int, float, bool]:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
    counter = Counter()
    shape = jax.ShapeDtypeStruct(x.shape, jnp.float64)

    @jax.custom_vjp
    def sine(v):
        return jax.pure_callback(counter, shape, v)

    def fwd(v):
        return sine(v), v

    def bwd(v, g):
        return (g * jnp.cos(v),)

    sine.defvjp(fwd, bwd)
    start = time.perf_counter()
    try:
        check_grads(sine, (jnp.asarray(x),), order=1, modes=["rev"])
        ok = True
    except AssertionError:
        ok = False
    return counter.calls, time.perf_counter() - start, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=6, help="largest n is 10**max")
    parser.add_argument("--slow-max", type=int, default=3,
                        help="largest n for PyTorch's slow gradcheck is 10**slow_max")
    args = parser.parse_args()

    columns = {"adcheck fast": bench_adcheck}
    try:
        import torch  # noqa: F401

        columns["torch slow"] = lambda x: bench_torch(x, fast=False)
        columns["torch fast"] = lambda x: bench_torch(x, fast=True)
    except ImportError:
        print("torch not installed: its columns are skipped")
    try:
        import jax  # noqa: F401

        columns["jax"] = bench_jax
    except ImportError:
        print("jax not installed: its column is skipped")

    head = f"{'n':>9s}" + "".join(f"{name + ' evals':>20s}{'s':>9s}" for name in columns)
    print(head)
    rng = np.random.default_rng(0)
    for k in range(2, args.max + 1):
        n = 10**k
        x = rng.uniform(-3, 3, n)
        row = f"{n:>9d}"
        for name, run in columns.items():
            if name == "torch slow" and k > args.slow_max:
                row += f"{'(skipped: O(n))':>20s}{'':>9s}"
                continue
            evals, seconds, ok = run(x)
            mark = "" if ok else "!"
            row += f"{str(evals) + mark:>20s}{seconds:>9.2f}"
        print(row, flush=True)
    print("(! marks a correct rule the checker rejected)")


if __name__ == "__main__":
    main()
