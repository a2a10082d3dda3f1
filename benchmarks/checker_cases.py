"""Cases for the checker benchmarks: correct rules on hard inputs, and subtly wrong rules.

Each case is a function written with NumPy, its vector-Jacobian product written with NumPy
(right or deliberately wrong), and an input. ``checker_accuracy.py`` registers each as a
custom rule in every checker it can find (adcheck, autograd, PyTorch, JAX) and asks each
checker for a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Case", "SecondOrderCase", "hard_cases", "second_order_cases", "trust_cases",
           "wrong_cases"]


@dataclass
class Case:
    """``f(*args)`` with pullback ``vjp(g, y, *args) -> tuple``; ``correct`` says which it is."""

    name: str
    f: Callable
    vjp: Callable
    args: tuple
    correct: bool


def _ill_conditioned(rng: np.random.Generator, cond: float) -> np.ndarray:
    u, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    v, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    return u @ np.diag(np.geomspace(1.0, 1.0 / cond, 4)) @ v.T


def hard_cases(seed: int = 0) -> list[Case]:
    """Correct rules at inputs where fixed-step checkers raise false alarms."""
    rng = np.random.default_rng(seed)
    bump_w = 1e-3
    a = _ill_conditioned(rng, 1e5)

    def solve_vjp(g, y, a, b):
        gb = np.linalg.solve(a.T, g)
        return -np.outer(gb, y), gb

    return [
        Case("outputs near 1e8 (quantised)", lambda x: 1e8 + x**2,
             lambda g, y, x: (2 * x * g,), (rng.uniform(0.5, 2.0, 4),), True),
        Case("sqrt at 1e-8", np.sqrt, lambda g, y, x: (g * 0.5 / y,),
             (rng.uniform(1.0, 3.0, 4) * 1e-8,), True),
        Case("log at 1e-8", np.log, lambda g, y, x: (g / x,),
             (rng.uniform(1.0, 3.0, 4) * 1e-8,), True),
        Case("exp(20x)", lambda x: np.exp(20 * x), lambda g, y, x: (20 * y * g,),
             (rng.uniform(0.5, 1.5, 4),), True),
        Case("bump of width 1e-3", lambda x: np.exp(-(((x - 3.0) / bump_w) ** 2)),
             lambda g, y, x: (g * y * (-2 * (x - 3.0) / bump_w**2),),
             (3.0 + rng.uniform(-1e-3, 1e-3, 4),), True),
        Case("inv, condition 1e5", np.linalg.inv, lambda g, y, a: (-y.T @ g @ y.T,), (a,), True),
        Case("solve, condition 1e5", np.linalg.solve, solve_vjp,
             (a, rng.standard_normal(4)), True),
    ]


def wrong_cases(seed: int = 0, large: int = 10**4) -> list[Case]:
    """Rules with small or hidden errors that a checker should catch."""
    rng = np.random.default_rng(seed)
    bad = large // 3

    def one_entry(g, y, x):
        out = g * np.cos(x)
        out[bad] = -out[bad]
        return (out,)

    def transposed(g, y, a, b):
        return g @ b.T, a @ g  # should be a.T @ g: wrong unless a is symmetric

    return [
        Case("relative error 1e-3", np.sin, lambda g, y, x: (g * np.cos(x) * (1 + 1e-3),),
             (rng.uniform(-2, 2, 4),), False),
        Case("relative error 1e-4", np.sin, lambda g, y, x: (g * np.cos(x) * (1 + 1e-4),),
             (rng.uniform(-2, 2, 4),), False),
        Case("wrong only below 0", lambda x: x**3, lambda g, y, x: (g * 3 * x * np.abs(x),),
             (np.array([0.5, 1.5, -0.7, 2.0]),), False),
        Case("missing factor in a small term", lambda x: x**2 + 1e3 * x,
             lambda g, y, x: (g * (x + 1e3),), (rng.uniform(0.5, 1.0, 4),), False),
        Case(f"one wrong entry of {large}", np.sin, one_entry,
             (rng.uniform(-3, 3, large),), False),
        Case("transposed matrix (square)", np.matmul, transposed,
             (rng.standard_normal((3, 3)), rng.standard_normal((3, 2))), False),
        Case("1e-4 error at condition 1e5", np.linalg.inv,
             lambda g, y, a: (-(y.T @ g @ y.T) * (1 + 1e-4),),
             (_ill_conditioned(rng, 1e5),), False),
    ]


def _huber(x, delta=1.0):
    return np.where(np.abs(x) <= delta, 0.5 * x * x, delta * (np.abs(x) - 0.5 * delta))


def _huber_vjp(g, y, x, delta=1.0):
    return (g * np.where(np.abs(x) <= delta, x, delta * np.sign(x)),)


def _eig_gap(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a = q @ np.diag([1.0, 1.0 + 1e-5, 3.0]) @ q.T
    return (a + a.T) / 2


def _eigvalsh_vjp(g, w, a):
    _, v = np.linalg.eigh(a)
    m = (v * g) @ v.T
    return (np.tril(2 * m) - np.diag(np.diag(m)),)  # eigvalsh reads the lower triangle


def trust_cases(seed: int = 0) -> list[Case]:
    """Issue 8's cases: vacuous passes (wrong rules at tiny inputs) and false alarms (correct
    rules at branch points, domain edges, mixed scales, near-degenerate eigenvalues)."""
    rng = np.random.default_rng(seed)
    cases = []
    for x in ([1e-12], [1e-20, 3e-20], [0.0, 1e-30]):
        cases.append(Case(f"exp x2 wrong at {x}", np.exp, lambda g, y, x: (2 * g * y,),
                          (np.array(x),), False))
        cases.append(Case(f"exp at {x}", np.exp, lambda g, y, x: (g * y,), (np.array(x),),
                          True))
    cases += [
        Case("huber at |x| = delta", _huber, _huber_vjp, (np.array([1.0, -1.0, 0.3]),), True),
        Case("huber 1e-8 past delta", _huber, _huber_vjp, (np.array([1.0 + 1e-8]),), True),
        Case("arcsin at 1 - 1e-10", np.arcsin, lambda g, y, x: (g / np.sqrt(1 - x * x),),
             (np.array([1 - 1e-10]),), True),
        Case("log1p at -1 + 1e-10", np.log1p, lambda g, y, x: (g / (1 + x),),
             (np.array([-1 + 1e-10]),), True),
        Case("arcsin wrong at 1 - 1e-10", np.arcsin, lambda g, y, x: (g / np.sqrt(1 - x),),
             (np.array([1 - 1e-10]),), False),
        Case("exp at [-43, 0]", np.exp, lambda g, y, x: (g * y,), (np.array([-43.0, 0.0]),),
             True),
        Case("exp up to e60", np.exp, lambda g, y, x: (g * y,),
             (np.array([60.0, 0.1, -3.0, 1e-3]),), True),
        Case("eigvalsh, gap 1e-5", np.linalg.eigvalsh, _eigvalsh_vjp, (_eig_gap(rng),), True),
        Case("min over axis 0, 0.5 apart", lambda x: np.min(x, axis=0),
             lambda g, y, x: ((x == y[None, :]) * g[None, :],),
             (np.round(rng.uniform(-1, 1, (6, 8)) * 2) / 4 + rng.uniform(0, 1e-3, (6, 8)),),
             True),
    ]
    cases += _rounding_level_cases()
    return cases


def _var_vjp(offset: float) -> Callable:
    def vjp(g, y, x):
        return (g * (2 * (x - np.mean(x)) / x.size + offset),)
    return vjp


def _rounding_level_cases() -> list[Case]:
    """Session 3's false alarms: outputs and cotangents at the rounding level of the values
    they are computed from (and wrong rules at the same inputs)."""
    near_half = np.array([[5.000000000000000e-01, -2.669251111051656e-18],
                          [-2.669251111051656e-18, 5.000000000000000e-01]])
    flat = np.full(3, 5.868559668879664)
    return [
        Case("pinv of 0.5·I + 1e-18", np.linalg.pinv, lambda g, y, a: (-y.T @ g @ y.T,),
             (near_half,), True),
        Case("pinv 0.1% wrong there", np.linalg.pinv,
             lambda g, y, a: (-1.001 * (y.T @ g @ y.T),), (near_half,), False),
        Case("textbook var at a constant vector", np.var, _var_vjp(0.0), (flat,), True),
        Case("var off by 1e-13 there", np.var, _var_vjp(1e-13), (flat,), False),
        Case("huber at [0, 2.2e-82]", lambda x: _huber(x, 0.5),
             lambda g, y, x: _huber_vjp(g, y, x, 0.5), (np.array([0.0, 2.2e-82]),), True),
        Case("exp at 709 (8.2e307)", np.exp, lambda g, y, x: (g * y,),
             (np.array([709.0, 1.0]),), True),
        Case("exp 1% wrong at 709", np.exp, lambda g, y, x: (1.01 * g * y,),
             (np.array([709.0, 1.0]),), False),
        Case("cos at 1e15 (float spacing 0.125)", np.cos, lambda g, y, x: (-g * np.sin(x),),
             (np.array([1e15]),), True),
        Case("exp wrong by 2x below -15, n = 300", np.exp,
             lambda g, y, x: (g * y * np.where(x < -15, 2.0, 1.0),),
             (np.linspace(-30.0, 5.0, 300),), False),
    ] + _coarse_grid_cases()


def _coarse_grid_cases() -> list[Case]:
    """Session 5's false alarms in fast mode (more than 32 inputs), and wrong rules at the
    same inputs: cos where the float spacing is 0.016, subnormal outputs, a pullback whose
    sum over outputs cancels."""
    at_1e14 = np.full(40, 1e14)
    tiny_x, y = np.array(5.185810211876649e-308), np.zeros((3, 3, 4))
    y[2, 2, 1] = 5.960464477539063e-08

    def xlog1py_vjp(factor: float) -> Callable:
        return lambda g, out, x, y: (np.sum(g * np.log1p(y)), factor * g * x / (1 + y))

    def tensordot(a, b):
        return np.tensordot(a, b, 2)

    return [
        Case("cos at 1e14, n = 40 (fast mode)", np.cos, lambda g, y, x: (-g * np.sin(x),),
             (at_1e14,), True),
        Case("cos 1% wrong at 1e14, n = 40", np.cos,
             lambda g, y, x: (-1.01 * g * np.sin(x),), (at_1e14,), False),
        Case("x·log1p(y) at x = 5.2e-308 (subnormal outputs)", lambda x, y: x * np.log1p(y),
             xlog1py_vjp(1.0), (tiny_x, y), True),
        Case("x·log1p(y) 1% wrong in y there", lambda x, y: x * np.log1p(y),
             xlog1py_vjp(1.01), (tiny_x, y), False),
        Case("tensordot at a = 0 (pullback sums cancel)", tensordot,
             lambda g, y, a, b: (np.tensordot(g, b, ([0], [2])), np.multiply.outer(a, g)),
             (np.zeros((4, 5)), np.full((4, 5, 3), 1.1)), True),
        Case("tensordot 1e-6 wrong in a there", tensordot,
             lambda g, y, a, b: ((1 + 1e-6) * np.tensordot(g, b, ([0], [2])),
                                 np.multiply.outer(a, g)),
             (np.zeros((4, 5)), np.full((4, 5, 3), 1.1)), False),
    ]


# -- second order ------------------------------------------------------------------------------


@dataclass
class SecondOrderCase:
    """A rule written once for every framework: ``f(ops, *args)`` and its pullback
    ``vjp(ops, g, *args)`` use the framework's array functions from ``ops`` (``ops.cos``,
    ``ops.const``: a copy the framework does not differentiate, as ``detach`` or
    ``stop_gradient``). Every rule is right at first order; ``correct`` says whether its
    pullback is also right when differentiated (second order)."""

    name: str
    f: Callable
    vjp: Callable
    args: tuple
    correct: bool


def second_order_cases(seed: int = 0) -> list[SecondOrderCase]:
    """Rules right in value; half of them with a pullback whose own derivative is wrong (a
    constant copy of an input where the input belongs, a product rule with a term lost)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, 3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    tiny = rng.uniform(1.0, 3.0, 3) * 1e-8
    steep = rng.uniform(0.5, 1.5, 3)
    return [
        SecondOrderCase("sin", lambda o, x: o.sin(x), lambda o, g, x: (g * o.cos(x),), (x,),
                        True),
        SecondOrderCase("exp", lambda o, x: o.exp(x), lambda o, g, x: (g * o.exp(x),), (x,),
                        True),
        SecondOrderCase("tanh", lambda o, x: o.tanh(x),
                        lambda o, g, x: (g * (1 - o.tanh(x) ** 2),), (x,), True),
        SecondOrderCase("x**3", lambda o, x: x ** 3, lambda o, g, x: (g * 3 * x * x,), (x,),
                        True),
        SecondOrderCase("matmul", lambda o, a, b: a @ b,
                        lambda o, g, a, b: (g @ o.T(b), o.T(a) @ g), (a, b), True),
        SecondOrderCase("sin, cos of a constant copy", lambda o, x: o.sin(x),
                        lambda o, g, x: (g * o.cos(o.const(x)),), (x,), False),
        SecondOrderCase("exp, exp of a constant copy", lambda o, x: o.exp(x),
                        lambda o, g, x: (g * o.exp(o.const(x)),), (x,), False),
        SecondOrderCase("tanh, a constant tanh", lambda o, x: o.tanh(x),
                        lambda o, g, x: (g * (1 - o.const(o.tanh(x)) ** 2),), (x,), False),
        SecondOrderCase("x**3, a term of the product lost", lambda o, x: x ** 3,
                        lambda o, g, x: (g * 3 * x * o.const(x),), (x,), False),
        SecondOrderCase("matmul, constant operands", lambda o, a, b: a @ b,
                        lambda o, g, a, b: (g @ o.T(o.const(b)), o.T(o.const(a)) @ g),
                        (a, b), False),
        # badly scaled inputs: a fixed step leaves the domain, or drowns in the values
        SecondOrderCase("sqrt at 1e-8", lambda o, x: o.sqrt(x),
                        lambda o, g, x: (g * 0.5 / o.sqrt(x),), (tiny,), True),
        SecondOrderCase("log at 1e-8", lambda o, x: o.log(x), lambda o, g, x: (g / x,),
                        (tiny,), True),
        SecondOrderCase("exp(20x)", lambda o, x: o.exp(20 * x),
                        lambda o, g, x: (g * 20 * o.exp(20 * x),), (steep,), True),
        SecondOrderCase("sqrt at 1e-8, constant copy", lambda o, x: o.sqrt(x),
                        lambda o, g, x: (g * 0.5 / o.sqrt(o.const(x)),), (tiny,), False),
        # x - const(x) is 0 in value: first order exact, the second derivative off by 1e-4
        SecondOrderCase("sin, second derivative off by 1e-4", lambda o, x: o.sin(x),
                        lambda o, g, x: (g * o.cos(x) * (1 + 1e-4 * (x - o.const(x))),),
                        (x,), False),
    ]
