"""Large arrays: the gradient of ``np.sum(np.sin(x))`` at n = 10⁷, and a primitive's overhead.

1. Time and peak memory of ``ad.gradient`` against the plain NumPy forward pass (the
   forward alone allocates one array of n floats: 80 MB at n = 10⁷). Target (issue 11):
   ≤ 1.5× the time and ≤ 2× the memory of the forward pass.
2. An ``@ad.primitive`` called on plain arrays (nothing traced) against the function
   itself: tracing must add no work when nothing is differentiated. Target: ≤ 1 µs more.

Run: ``python benchmarks/large_n.py [--quick]`` or ``python -m benchmarks.large_n [--quick]``
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np

try:  # run as python -m benchmarks.large_n (a package module) or as a script
    from .common import header, median_time, realistic_heap
except ImportError:
    from common import header, median_time, realistic_heap

import adcheck as ad


def forward(x):
    return np.sum(np.sin(x))


def peak_bytes(fn) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def large(n: int, rounds: int) -> None:
    x = np.random.default_rng(0).standard_normal(n)
    np.testing.assert_allclose(ad.gradient(forward, x)[0], np.cos(x), rtol=1e-15)
    times = median_time({"numpy forward": lambda: forward(x),
                         "adcheck.gradient": lambda: ad.gradient(forward, x)},
                        rounds=rounds, min_seconds=0.0)
    mem_fwd = peak_bytes(lambda: forward(x))
    mem_ad = peak_bytes(lambda: ad.gradient(forward, x))
    t_fwd, t_ad = times["numpy forward"], times["adcheck.gradient"]
    print(f"gradient of sum(sin(x)) at n = {n:.0e}")
    print(f"  numpy forward      {t_fwd * 1e3:8.1f} ms  peak {mem_fwd / 1e6:7.1f} MB")
    print(f"  adcheck.gradient   {t_ad * 1e3:8.1f} ms  peak {mem_ad / 1e6:7.1f} MB")
    print(f"  ratio: time {t_ad / t_fwd:.2f} (target <= 1.5), memory {mem_ad / mem_fwd:.2f} "
          "(target <= 2)")


def primitive_overhead(rounds: int) -> None:
    def scale(x):
        return x * 2.0

    prim = ad.primitive(scale)
    x = np.ones(3)
    times = median_time({"function": lambda: scale(x), "primitive": lambda: prim(x)},
                        rounds=rounds, min_seconds=0.05)
    extra = (times["primitive"] - times["function"]) * 1e6
    print(f"@ad.primitive on plain arrays: {times['function'] * 1e6:.2f} us -> "
          f"{times['primitive'] * 1e6:.2f} us, {extra:+.2f} us per call (target <= 1 us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 10^5, few rounds")
    args = parser.parse_args()
    realistic_heap(25_000 if args.quick else 250_000)
    print(header("large arrays and primitive overhead"))
    large(10**5 if args.quick else 10**7, rounds=3 if args.quick else 9)
    primitive_overhead(rounds=3 if args.quick else 15)


if __name__ == "__main__":
    main()
