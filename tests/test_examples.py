"""The example scripts run on their own and print the seed notebook's numbers.

Each example asserts what is deterministic itself; these tests run every script as a user
would (a subprocess, from the repository root) and check a few printed values as well.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))


def run(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_there_is_an_example_per_part_of_the_notebook():
    assert len(SCRIPTS) >= 9, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script):
    assert run(str(EXAMPLES / script)).strip()


def test_printed_numbers_are_the_notebooks():
    out = run(str(EXAMPLES / "01_derivatives.py"))
    assert "f(10), f'(10)       = (53, 5.0)" in out
    assert "gradient(g, 1, 1)   = (2.0, 3.0)" in out
    out = run(str(EXAMPLES / "02_linear_layer.py"))
    assert "agg(net([1, 3, 2]))        = 6.8233560637319375" in out
    out = run(str(EXAMPLES / "03_wengert_list.py"))
    assert "(-1.4395165833253265, -38.30637921293538)" in out
    assert "y1 = square(x)\ny2 = sin(y1)\ny3 = multiply(y2, 5.0)" in out
    assert "y1_back(y2_back(y3_back(1.0)[0])[0])[0] = -38.30637921293538" in out
    out = run(str(EXAMPLES / "06_custom_adjoints.py"))
    assert out.count("I'll be back!?") == 1
    out = run(str(EXAMPLES / "08_closures_and_structs.py"))
    assert "addg_back(1) = ({'b': 1.0}, 1.0)" in out


def test_gradcheck_example_shows_the_wrong_rules_report():
    out = run(str(EXAMPLES / "07_gradcheck.py"))
    assert "passed check_adjoint(f)" in out
    assert "FAILED check_adjoint(f_wrong)" in out and "FAILED verify(f_wrong)" in out
    assert "∂y[1]/∂x[0]" in out


def test_training_example_says_when_matplotlib_is_missing_or_saves_the_plot(tmp_path):
    png = tmp_path / "loss.png"
    out = run(str(EXAMPLES / "10_train_mlp.py"), "--plot", str(png))
    assert "loss fell from" in out
    assert png.exists() or "matplotlib is not installed" in out


def test_seed_notebook_script_prints_the_notebooks_numbers():
    out = run(str(EXAMPLES / "seed_notebook.py"))
    assert "f(10), f'(10) = (53, 5.0)" in out
    assert "gradient(g, 1, 1) = (2.0, 3.0)" in out
    assert "agg(net([1, 3, 2])) = 6.8233560637319375" in out
    assert "y1_back(y2_back(y3_back(1.0)[0])[0])[0] = -38.30637921293538" in out
    assert "y1 = square(x)\ny2 = sin(y1)\ny3 = multiply(y2, 5.0)" in out
    assert "addg_back(1) = ({'b': 1.0}, 1.0)" in out
    assert "I'll be back!?" in out


def test_ci_example_project_passes_its_own_tests_and_rule_items():
    out = run("-m", "pytest", "-q", "-p", "no:cacheprovider",
              "--adcheck-verify=softmath.py", cwd=EXAMPLES / "ci")
    assert "6 passed" in out, out
