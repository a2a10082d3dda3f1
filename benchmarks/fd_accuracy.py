"""Accuracy of ``adcheck.fd`` against simpler finite differences, on a table of functions.

For each function the first derivative is computed three ways, and the relative error and
the number of calls of ``f`` are printed side by side:

- ``adcheck``: ``central_fdm(5, 1)`` with its adaptive step, and the error it reports;
- ``h=1e-6``: the two-point central difference ``(f(x+h) - f(x-h)) / 2h`` with ``h = 1e-6``,
  what PyTorch's ``gradcheck`` uses;
- ``numdifftools``: ``numdifftools.Derivative`` with its defaults (Richardson extrapolation
  over many steps; one-sided where adcheck's method is); skipped if numdifftools is not
  installed.

Run: ``python benchmarks/fd_accuracy.py``
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from adcheck.fd import central_fdm, forward_fdm

try:
    import numdifftools
except ImportError:  # optional
    numdifftools = None

# name, f, f', x, method (log near 0 needs a one-sided method)
FUNCTIONS = [
    ("sin", np.sin, np.cos, 1.0, central_fdm(5, 1)),
    ("exp", np.exp, np.exp, 1.0, central_fdm(5, 1)),
    ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2, 0.5, central_fdm(5, 1)),
    ("x**3", lambda x: x**3, lambda x: 3 * x**2, 2.0, central_fdm(5, 1)),
    ("1/x", lambda x: 1 / x, lambda x: -1 / x**2, 0.1, central_fdm(5, 1)),
    ("exp(20x)", lambda x: np.exp(20 * x), lambda x: 20 * np.exp(20 * x), 1.0, central_fdm(5, 1)),
    ("log", np.log, lambda x: 1 / x, 1e-3, forward_fdm(5, 1)),
]


class Counted:
    """``f`` with a count of its calls."""

    def __init__(self, f: Callable[[float], float]) -> None:
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


def two_point(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def measure(derivative: Callable[[Callable, float], float], f, x, exact) -> tuple[float, int]:
    """Relative error of ``derivative(f, x)`` and the number of calls of ``f`` it made."""
    counted = Counted(f)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(derivative(counted, x))
    error = abs(value - exact) / abs(exact) if math.isfinite(value) else math.inf
    return error, counted.calls


def main() -> None:
    header = ["function", "x", "adcheck", "(reported)", "calls", "h=1e-6", "calls"]
    if numdifftools is not None:
        header += ["numdifftools", "calls"]
    rows = []
    for name, f, df, x, method in FUNCTIONS:
        exact = float(df(x))
        estimate = method.estimate(f, x)
        ours, our_calls = measure(method, f, x, exact)
        plain, plain_calls = measure(two_point, f, x, exact)
        row = [
            name,
            f"{x:g}",
            f"{ours:.1e}",
            f"{estimate.error / abs(exact):.1e}",
            str(our_calls),
            f"{plain:.1e}",
            str(plain_calls),
        ]
        if numdifftools is not None:
            side = "forward" if min(method.grid) >= 0 else "central"
            nd_error, nd_calls = measure(
                lambda g, y, side=side: numdifftools.Derivative(g, method=side)(y), f, x, exact
            )
            row += [f"{nd_error:.1e}", str(nd_calls)]
        rows.append(row)
    print("Relative error of f'(x); 'calls' counts evaluations of f.")
    print("adcheck uses central_fdm(5, 1), except forward_fdm(5, 1) for log near 0.\n")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
