"""Per-operation overhead of a reverse-mode gradient through a Python loop of tiny operations.

The function runs 2,000 elementwise operations (1,000 x ``sin(x * 1.001)``) on a length-1
array, so the time is almost all bookkeeping: tracing, the tape, the reverse sweep. It is
measured as users meet it (see ``common.py``): the garbage collector on, a realistic heap
(torch and jax imported when installed, ~250k objects), medians of back-to-back calls,
side by side in one process, for:

- plain NumPy, forward only (the floor), and a hand-written NumPy forward+backward (the limit);
- adcheck's ``gradient``;
- HIPS autograd's ``grad``, torch eager (``torch.autograd.grad`` on a 1-element double
  tensor) and jax without jit (``jax.grad``, op by op), when installed. jax without jit
  costs milliseconds per operation, so it runs 1/20 of the loop; every ratio is per op.

Targets (issue 11): adcheck <= 0.25x autograd, and below torch eager in the same process.

Run: ``python benchmarks/engine_overhead.py [--quick]``
or ``python -m benchmarks.engine_overhead [--quick]``
"""

from __future__ import annotations

import argparse

import numpy as np

try:  # run as python -m benchmarks.engine_overhead (a package module) or as a script
    from .common import header, median_time, peer, realistic_heap
except ImportError:
    from common import header, median_time, peer, realistic_heap

import adcheck as ad

N_ITER = 1000  # two operations each
N_OPS = 2 * N_ITER


def forward(x, n=N_ITER):
    for _ in range(n):
        x = np.sin(x * 1.001)
    return x.sum()


def by_hand(x, n=N_ITER):
    saved = []
    for _ in range(n):
        u = x * 1.001
        saved.append(u)
        x = np.sin(u)
    g = np.ones_like(x)
    for u in reversed(saved):
        g = g * np.cos(u) * 1.001
    return g


def peers(x: np.ndarray, n: int) -> tuple[dict, dict]:
    """The peers' gradients of the same loop, each checked against the hand-written one,
    and the number of operations each runs."""
    fns = {}
    ops = {}
    want = by_hand(x, n)
    autograd = peer("autograd")
    if autograd is not None:
        import autograd.numpy as anp

        def forward_ag(x):
            for _ in range(n):
                x = anp.sin(x * 1.001)
            return x.sum()

        grad_ag = autograd.grad(forward_ag)
        np.testing.assert_allclose(grad_ag(x), want, rtol=1e-12)
        fns["autograd.grad"] = lambda: grad_ag(x)
    torch = peer("torch")
    if torch is not None:
        torch.set_num_threads(1)
        tx = torch.tensor(x, requires_grad=True)

        def torch_grad():
            y = tx
            for _ in range(n):
                y = torch.sin(y * 1.001)
            return torch.autograd.grad(y.sum(), tx)[0]

        np.testing.assert_allclose(torch_grad().numpy(), want, rtol=1e-12)
        fns["torch eager"] = torch_grad
    jax = peer("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def forward_jax(x, n):
            for _ in range(n):
                x = jnp.sin(x * 1.001)
            return x.sum()

        n_jax = max(1, n // 20)
        ops["jax.grad, no jit"] = 2 * n_jax
        grad_jax = jax.grad(lambda x: forward_jax(x, n_jax))
        jx = jnp.asarray(x)
        with jax.disable_jit():
            np.testing.assert_allclose(np.asarray(grad_jax(jx)), by_hand(x, n_jax), rtol=1e-12)

        def jax_nojit():
            with jax.disable_jit():
                return grad_jax(jx).block_until_ready()

        fns["jax.grad, no jit"] = jax_nojit
    return fns, ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 operations, few rounds")
    args = parser.parse_args()
    n = 50 if args.quick else N_ITER
    realistic_heap(25_000 if args.quick else 250_000)
    x = np.array([0.3])
    np.testing.assert_allclose(ad.gradient(lambda x: forward(x, n), x)[0], by_hand(x, n),
                               rtol=1e-12)
    fns = {
        "numpy forward only": lambda: forward(x, n),
        "numpy gradient by hand": lambda: by_hand(x, n),
        "adcheck.gradient": lambda: ad.gradient(lambda x: forward(x, n), x),
    }
    peer_fns, ops = peers(x, n)
    fns.update(peer_fns)
    times = median_time(fns, rounds=3 if args.quick else 15, min_seconds=0.01 if args.quick
                        else 0.2)
    per_op = {name: t / ops.get(name, 2 * n) for name, t in times.items()}

    print(header(f"gradient through {2 * n} elementwise operations on a length-1 array, "
                 "GC on, realistic heap"))
    t_forward = per_op["numpy forward only"]
    print(f"{'method':<26}{'ops':>6}{'total ms':>10}{'us / op':>10}{'x forward':>11}")
    for name, t in times.items():
        print(f"{name:<26}{ops.get(name, 2 * n):>6}{t * 1e3:>10.2f}{per_op[name] * 1e6:>10.2f}"
              f"{per_op[name] / t_forward:>11.1f}")
    t_ad = per_op["adcheck.gradient"]
    for name, target in (("autograd.grad", 0.25), ("torch eager", 1.0),
                         ("jax.grad, no jit", None)):
        if name in times:
            goal = f" (target <= {target})" if target is not None else ""
            print(f"adcheck / {name}: {t_ad / per_op[name]:.2f} per op{goal}")
        else:
            print(f"{name}: not installed (pip install '.[bench]')")


if __name__ == "__main__":
    main()
