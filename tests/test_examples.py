"""The example scripts run and print the seed notebook's numbers."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_seed_notebook_script_prints_the_notebooks_numbers():
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "seed_notebook.py")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "f(10), f'(10) = (53, 5.0)" in out
    assert "gradient(g, 1, 1) = (2.0, 3.0)" in out
    assert "agg(net([1, 3, 2])) = 6.8233560637319375" in out
    assert "y1_back(y2_back(y3_back(1.0)[0])[0])[0] = -38.30637921293538" in out
    assert "y1 = square(x)\ny2 = sin(y1)\ny3 = multiply(y2, 5.0)" in out
    assert "addg_back(1) = ({'b': 1.0}, 1.0)" in out
    assert "I'll be back!?" in out
