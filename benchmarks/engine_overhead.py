"""Per-operation overhead of a reverse-mode gradient through a Python loop of tiny operations.

The function runs 2,000 elementwise operations (1,000 x ``sin(x * 1.001)``) on a length-1
array, so the time is almost all bookkeeping: tracing, the tape, the reverse sweep. It is
measured side by side, in one run, for:

- plain NumPy, forward only (the floor: what the operations themselves cost);
- a hand-written gradient in NumPy (the limit for a reverse sweep: forward, saving values,
  then the chain rule by hand);
- adcheck's ``gradient``;
- HIPS autograd's ``grad`` (optional extra: ``pip install autograd``).

Target (issue 2): adcheck at most 0.5x autograd's time per operation.

Run: ``python benchmarks/engine_overhead.py``
"""

from __future__ import annotations

import timeit

import numpy as np

import adcheck as ad

N_ITER = 1000  # two operations each
N_OPS = 2 * N_ITER


def forward(x):
    for _ in range(N_ITER):
        x = np.sin(x * 1.001)
    return x.sum()


def by_hand(x):
    saved = []
    for _ in range(N_ITER):
        u = x * 1.001
        saved.append(u)
        x = np.sin(u)
    g = np.ones_like(x)
    for u in reversed(saved):
        g = g * np.cos(u) * 1.001
    return g


def best_of(fn, repeat: int = 7) -> float:
    """Best wall time of one call, in seconds (the least disturbed run)."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


def main() -> None:
    x = np.array([0.3])
    rows = []
    t_forward = best_of(lambda: forward(x))
    rows.append(("numpy forward only", t_forward))
    rows.append(("numpy gradient by hand", best_of(lambda: by_hand(x))))
    g_ad = ad.gradient(forward, x)[0]
    np.testing.assert_allclose(g_ad, by_hand(x), rtol=1e-12)
    t_ad = best_of(lambda: ad.gradient(forward, x))
    rows.append(("adcheck.gradient", t_ad))
    t_ag = None
    try:
        import autograd
        import autograd.numpy as anp

        def forward_ag(x):
            for _ in range(N_ITER):
                x = anp.sin(x * 1.001)
            return x.sum()

        grad_ag = autograd.grad(forward_ag)
        np.testing.assert_allclose(grad_ag(x), g_ad, rtol=1e-12)
        t_ag = best_of(lambda: grad_ag(x))
        rows.append(("autograd.grad", t_ag))
    except ImportError:
        pass

    print(f"gradient through {N_OPS} elementwise operations on a length-1 array")
    print(f"{'method':<26}{'total ms':>10}{'us / op':>10}{'x forward':>11}")
    for name, t in rows:
        print(f"{name:<26}{t * 1e3:>10.2f}{t / N_OPS * 1e6:>10.2f}{t / t_forward:>11.1f}")
    if t_ag is not None:
        print(f"adcheck / autograd per op: {t_ad / t_ag:.2f} (target <= 0.5)")


if __name__ == "__main__":
    main()
