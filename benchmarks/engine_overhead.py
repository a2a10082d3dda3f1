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


def best_times(fns: dict, rounds: int = 9) -> dict:
    """Best wall time of one call of each function, in seconds.

    The functions are timed in interleaved rounds, so that a burst of load on the machine
    slows all of them alike instead of whichever happened to be running; the best round of
    each is its least disturbed one.
    """
    timers = {name: timeit.Timer(fn) for name, fn in fns.items()}
    numbers = {name: t.autorange()[0] for name, t in timers.items()}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, t in timers.items():
            best[name] = min(best[name], t.timeit(numbers[name]) / numbers[name])
    return best


def autograd_gradient():
    """autograd's gradient of the same loop, or None without the optional extra."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None

    def forward_ag(x):
        for _ in range(N_ITER):
            x = anp.sin(x * 1.001)
        return x.sum()

    return autograd.grad(forward_ag)


def main() -> None:
    x = np.array([0.3])
    g_ad = ad.gradient(forward, x)[0]
    np.testing.assert_allclose(g_ad, by_hand(x), rtol=1e-12)
    fns = {
        "numpy forward only": lambda: forward(x),
        "numpy gradient by hand": lambda: by_hand(x),
        "adcheck.gradient": lambda: ad.gradient(forward, x),
    }
    grad_ag = autograd_gradient()
    if grad_ag is not None:
        np.testing.assert_allclose(grad_ag(x), g_ad, rtol=1e-12)
        fns["autograd.grad"] = lambda: grad_ag(x)
    times = best_times(fns)

    t_forward = times["numpy forward only"]
    print(f"gradient through {N_OPS} elementwise operations on a length-1 array")
    print(f"{'method':<26}{'total ms':>10}{'us / op':>10}{'x forward':>11}")
    for name, t in times.items():
        print(f"{name:<26}{t * 1e3:>10.2f}{t / N_OPS * 1e6:>10.2f}{t / t_forward:>11.1f}")
    if grad_ag is not None:
        ratio = times["adcheck.gradient"] / times["autograd.grad"]
        print(f"adcheck / autograd per op: {ratio:.2f} (target <= 0.5)")


if __name__ == "__main__":
    main()
