"""Run every benchmark, each in a fresh process, and print what each measured.

    python -m benchmarks            # the full suite (minutes; peers from the `bench` extra)
    python -m benchmarks --quick    # a smoke run with small sizes (the test suite runs it)
    python -m benchmarks mlp        # only the benchmarks whose name contains "mlp"

Peers (autograd, torch, jax, numdifftools) are optional: a benchmark reports a missing
peer and goes on. The exit status is 1 when a benchmark itself fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Each benchmark script and the arguments of its quick (smoke) run.
BENCHMARKS = {
    "engine_overhead.py": ["--quick"],
    "mlp.py": ["--quick"],
    "large_n.py": ["--quick"],
    "fd_accuracy.py": [],
    "checker_accuracy.py": [],
    "second_order_accuracy.py": [],
    "structural_accuracy.py": ["--quick"],
    "checker_scaling.py": ["--max", "3", "--slow-max", "2"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("names", nargs="*", help="only benchmarks whose name contains one")
    args = parser.parse_args(argv)
    failed = []
    for script, quick_args in BENCHMARKS.items():
        if args.names and not any(n in script for n in args.names):
            continue
        command = [sys.executable, str(HERE / script), *(quick_args if args.quick else [])]
        print(f"\n=== {script} {' '.join(command[2:])}".rstrip(), flush=True)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=HERE.parent)
        print(f"=== {script}: {'ok' if done.returncode == 0 else 'FAILED'} "
              f"in {time.perf_counter() - start:.1f} s", flush=True)
        if done.returncode != 0:
            failed.append(script)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
