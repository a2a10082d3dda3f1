"""The benchmark suite's smoke run works (peers optional: a missing one is reported, not failed).

No timing is asserted here: speed goals live in benchmarks/ and the README's table.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_suite_runs_every_benchmark():
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for script in ("engine_overhead.py", "mlp.py", "large_n.py", "fd_accuracy.py",
                   "checker_accuracy.py", "checker_scaling.py", "second_order_accuracy.py",
                   "structural_accuracy.py"):
        assert f"=== {script}: ok" in done.stdout, done.stdout[-3000:]
