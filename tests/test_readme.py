"""The README's Python examples run as written, and say what they print."""

import re
from pathlib import Path

import numpy as np

import adcheck as ad

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    with ad.scoped_rules():
        exec(compile("\n".join(blocks), str(README), "exec"), namespace)
    assert capsys.readouterr().out.splitlines() == [
        "y1 = square(x)", "y2 = sin(y1)", "y3 = multiply(y2, 5)",
    ]
    assert namespace["ad"].gradient(namespace["s"], 4.0) == (-38.30637921293538,)
    np.testing.assert_allclose(namespace["back"]([0.0, 1.0])[0], [2.0, 1.0])
