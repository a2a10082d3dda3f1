"""Cost of checking one rule as the input grows: function evaluations and seconds.

For ``n = 10^2 ... 10^6`` the rule of ``f(x) = sin(x)`` (elementwise, ``n`` inputs and
outputs) is checked by

- adcheck's fast mode (``ad.check_adjoint(..., mode="fast")``): its evaluations stay flat;
- PyTorch's ``gradcheck`` (slow mode: one column per input, so O(n) evaluations and an O(n²)
  Jacobian; run only up to ``--slow-max``) and ``gradcheck(fast_mode=True)``;
- JAX's ``check_grads(order=1, modes=["rev"])``;

when those are installed (columns are skipped otherwise). Evaluations are counted by
wrapping the primal function. Run: ``python benchmarks/checker_scaling.py [--max 6]``.

A second table is issue 11's measure: a whole-function check of ``f(x) = sin(x)·x²`` in fast
mode (``ad.gradcheck(f, x, mode="fast")``; PyTorch's ``gradcheck(fast_mode=True)`` and JAX's
``check_grads``), as calls of ``f`` and as time divided by the time of 20 plain evaluations
of ``f`` at the same ``n``, measured in the same run (the target is at most 3).

Also printed: the first finite difference in a fresh process (it loaded findiff and sympy,
about a second, before the stencil table), and with ``--verify-rules N`` the mean cost of
``ad.verify`` (default settings, seed 5) over the first ``N`` built-in rules, wall and CPU.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
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


def sin_x2(x):
    return np.sin(x) * x**2


def plain_time(f, x, repeats: int = 20) -> float:
    """Seconds of ``repeats`` back-to-back evaluations of ``f(x)`` (the median of 3 runs)."""
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            f(x)
        runs.append(time.perf_counter() - start)
    return sorted(runs)[1]


def gradcheck_adcheck(x: np.ndarray) -> tuple[int, float, bool]:
    calls = [0]

    def f(x):
        calls[0] += 1
        return sin_x2(x)

    start = time.perf_counter()
    result = ad.gradcheck(f, x, mode="fast", seed=0, raise_exception=False)
    return calls[0], time.perf_counter() - start, result.passed


def gradcheck_torch(x: np.ndarray) -> tuple[int, float, bool]:
    import torch

    calls = [0]

    def f(t):
        calls[0] += 1
        return torch.sin(t) * t**2

    t = torch.tensor(x, requires_grad=True)
    start = time.perf_counter()
    ok = torch.autograd.gradcheck(f, (t,), fast_mode=True, raise_exception=False)
    return calls[0], time.perf_counter() - start, bool(ok)


def gradcheck_jax(x: np.ndarray) -> tuple[int, float, bool]:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
    calls = [0]

    def f(v):
        calls[0] += 1  # counts traces and eager calls alike
        return jnp.sin(v) * v**2

    start = time.perf_counter()
    try:
        check_grads(f, (jnp.asarray(x),), order=1, modes=["rev"])
        ok = True
    except AssertionError:
        ok = False
    return calls[0], time.perf_counter() - start, ok


def gradcheck_table(max_power: int) -> None:
    """Calls of f and time / time of 20 plain evaluations, per checker and n."""
    columns = {"adcheck fast": gradcheck_adcheck}
    try:
        import torch  # noqa: F401

        columns["torch fast"] = gradcheck_torch
    except ImportError:
        print("torch not installed: its column is skipped")
    try:
        import jax  # noqa: F401

        columns["jax"] = gradcheck_jax
    except ImportError:
        print("jax not installed: its column is skipped")
    print("\ngradcheck of sin(x)*x**2, fast mode: calls of f, time / time of 20 plain "
          "evaluations (target <= 3)")
    print(f"{'n':>9s}{'20 evals s':>12s}" + "".join(f"{name + ' calls':>20s}{'ratio':>10s}"
                                                  for name in columns))
    rng = np.random.default_rng(0)
    for k in range(2, max_power + 1):
        n = 10**k
        x = rng.uniform(-3, 3, n)
        base = plain_time(sin_x2, x)
        row = f"{n:>9d}{base:>12.4f}"
        for run in columns.values():
            calls, seconds, ok = run(x)
            row += f"{str(calls) + ('' if ok else '!'):>20s}{seconds / base:>10.1f}"
        print(row, flush=True)


FIRST_FD = """
import time
t0 = time.perf_counter()
import numpy as np
import adcheck as ad
t1 = time.perf_counter()
ad.central_fdm(5, 1)(np.sin, 1.0)
t2 = time.perf_counter()
import sys
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {'findiff' in sys.modules}")
"""


def first_finite_difference() -> tuple[float, float, bool]:
    """Seconds to import adcheck and to take the first finite difference, in a fresh
    process, and whether findiff got imported."""
    out = subprocess.run([sys.executable, "-c", FIRST_FD], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True"


def verify_cost(n_rules: int) -> tuple[int, float, float, int]:
    """Mean wall and CPU seconds of ``ad.verify`` per built-in rule, over the first
    ``n_rules`` (default settings, seed 5), and how many did not pass."""
    from adcheck import registry

    rules = registry.builtin_rules()[:n_rules]
    wall = cpu = 0.0
    failed = 0
    for rule in rules:
        w, c = time.perf_counter(), time.process_time()
        result = ad.verify(rule.fn, seed=5, raise_exception=False)
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
        failed += not result.passed
    return len(rules), wall / len(rules), cpu / len(rules), failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=6, help="largest n is 10**max")
    parser.add_argument("--slow-max", type=int, default=3,
                        help="largest n for PyTorch's slow gradcheck is 10**slow_max")
    parser.add_argument("--verify-rules", type=int, default=0,
                        help="also time ad.verify on this many built-in rules")
    args = parser.parse_args()

    imported, first, loaded = first_finite_difference()
    print(f"fresh process: import adcheck {imported:.2f} s, first finite difference "
          f"{first:.3f} s (findiff imported: {loaded})")
    if args.verify_rules > 0:
        n, wall, cpu, failed = verify_cost(args.verify_rules)
        print(f"ad.verify per built-in rule (first {n}, seed 5): {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU; {failed} did not pass")

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
    gradcheck_table(args.max)


if __name__ == "__main__":
    main()
