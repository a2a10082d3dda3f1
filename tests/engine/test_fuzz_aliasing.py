"""Random programs that mix aliasing, in-place writes, constants changed after their use and
values reused after the call with ordinary NumPy code (issue 9).

Each program is generated as Python source together with what NumPy semantics say about it:
which names an in-place write makes stale (they share the written memory), whether a write
lands in the caller's array, whether a large constant is changed after its use. adcheck must
then either return the gradient that independent central differences give, or raise the
clear error the program's semantics call for, never a third thing. Seeds are fixed.
"""

import numpy as np
import pytest

import adcheck as ad
from adcheck import NotDifferentiable
from tests.finite import central

N_PROGRAMS = 240

ERRORS = {
    "stale": "changed in place by `x",
    "caller": "NumPy would write into the argument x in place",
    "constant": "used as a constant at .* was changed in place after it was used",
    "input": "the argument x was changed in place after it was used",
}


class Program:
    """A generated function ``f(x)`` of a length-4 vector and what adcheck must do with it."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.lines: list[str] = ["v0 = x * 1.0"]
        self.group = {"v0": 0}  # name -> the memory it views (as NumPy sees it)
        self.stale: set[str] = set()  # names whose memory a write changed behind their back
        self.n_groups = 1
        self.n_names = 1
        self.error: str | None = None  # the first error adcheck must raise inside f
        self.after: str | None = None  # an error back() must raise (found after f)
        self.kinds: list[str] = []
        for _ in range(int(rng.integers(3, 9))):
            if self.error is None:
                self.step()
        self.finish()

    # -- helpers ------------------------------------------------------------------------

    def pick(self) -> str:
        return str(self.rng.choice(sorted(self.group)))

    def read(self, *names: str) -> None:
        if self.error is None and any(n in self.stale for n in names):
            self.error = "stale"

    def new(self, group: int | None = None) -> str:
        name = f"v{self.n_names}"
        self.n_names += 1
        if group is None:
            group = self.n_groups
            self.n_groups += 1
        self.group[name] = group
        return name

    def write(self, target: str) -> None:
        """``target op= ...``: NumPy changes the memory of target's group."""
        g = self.group[target]
        for name, h in self.group.items():
            if h == g and name != target:
                self.stale.add(name)
        # adcheck rebinds target to a new array nobody else sees
        self.group[target] = self.n_groups
        self.n_groups += 1
        self.stale.discard(target)

    # -- one statement ------------------------------------------------------------------

    def step(self) -> None:
        rng = self.rng
        kind = str(rng.choice([
            "unary", "binary", "constant", "mutated_constant", "large_constant",
            "alias", "view", "copy", "inplace", "inplace_self", "slice_write",
            "argument_write",
        ], p=[.14, .12, .08, .08, .05, .12, .1, .08, .1, .05, .05, .03]))
        self.kinds.append(kind)
        a, b = self.pick(), self.pick()
        if kind == "unary":
            fn = rng.choice(["np.sin", "np.tanh", "np.exp", "np.cos"])
            self.read(a)
            self.lines.append(f"{self.new()} = {fn}({a} * 0.5)")
        elif kind == "binary":
            op = rng.choice(["+", "-", "*"])
            self.read(a, b)
            self.lines.append(f"{self.new()} = {a} {op} np.tanh({b})")
        elif kind == "constant":
            self.read(a)
            self.lines.append(f"{self.new()} = {a} * np.array([0.5, -1.0, 2.0, 0.25])")
        elif kind == "mutated_constant":  # NumPy: the result keeps the old constant
            self.read(a)
            self.lines += ["c = np.array([1.5, -0.5, 0.75, 2.0])",
                           f"{self.new()} = np.sin({a}) * c", "c *= 10.0"]
        elif kind == "large_constant":  # 600 x 4 floats: fingerprinted, not copied
            self.read(a)
            self.lines.append(f"{self.new()} = {a} * np.sum(L @ {a}) * 1e-3")
            if rng.random() < 0.5:
                self.lines.append("L[0, 0] += 1.0")
                self.after = self.after or "constant"
        elif kind == "alias":
            how = rng.choice(["{a}", "{a}.astype(np.float64, copy=False)", "{a}.conj()"])
            self.lines.append(f"{self.new(self.group[a])} = " + how.format(a=a))
        elif kind == "view":
            how = rng.choice(["{a}[:]", "{a}[::-1]", "{a}.reshape(2, 2).reshape(4)"])
            self.lines.append(f"{self.new(self.group[a])} = " + how.format(a=a))
        elif kind == "copy":
            how = rng.choice(["{a}.copy()", "+{a}", "{a}.astype(np.float64)"])
            self.read(a)
            self.lines.append(f"{self.new()} = " + how.format(a=a))
        elif kind == "inplace":
            op = rng.choice(["+=", "-=", "*="])
            self.read(a, b)
            self.lines.append(f"{a} {op} np.sin({b}) * 0.5")
            if self.error is None:
                self.write(a)
        elif kind == "inplace_self":
            self.read(a)
            self.lines.append(f"{a} *= {a}")
            if self.error is None:
                self.write(a)
        elif kind == "slice_write":  # writes part of a's memory through a temporary view
            self.read(a)
            self.lines += [f"part = {a}[1:]", "part *= 3.0"]
            if self.error is None:
                g = self.group[a]
                self.stale |= {n for n, h in self.group.items() if h == g}
        elif kind == "argument_write":
            self.lines += ["head = x[:2]", "head += 1.0"]
            self.error = self.error or "caller"

    def finish(self) -> None:
        names = sorted(self.group)
        chosen = [n for n in names if self.rng.random() < 0.6] or [names[-1]]
        self.read(*chosen)
        weights = [f"np.sum({n} * {w:.2f})" for n, w in
                   zip(chosen, self.rng.uniform(-1, 1, len(chosen)))]
        self.lines.append("return " + " + ".join(weights))

    def source(self) -> str:
        return "def f(x):\n" + "".join(f"    {line}\n" for line in self.lines)

    def function(self):
        space = {"np": np, "L": np.linspace(-1.0, 1.0, 2400).reshape(600, 4)}
        exec(self.source(), space)  # noqa: S102 - generated test code
        return space["f"]


def fresh(program: Program):
    """A new ``f`` with its own large constant, so that a run cannot change another's."""
    return program.function()


@pytest.mark.parametrize("seed", range(6))
def test_random_programs_are_right_or_raise_the_error_their_semantics_call_for(seed):
    rng = np.random.default_rng(1000 + seed)
    outcomes = {"number": 0, "error": 0}
    for _ in range(N_PROGRAMS // 6):
        program = Program(rng)
        x = rng.uniform(-1.0, 1.0, 4)
        use_pullback = rng.random() < 0.4
        change_input = (use_pullback and program.error is None and program.after is None
                        and rng.random() < 0.3)
        expected_error = program.error or program.after or ("input" if change_input else None)
        where = "\n" + program.source()
        if expected_error is not None:
            outcomes["error"] += 1
            with pytest.raises(NotDifferentiable, match=ERRORS[expected_error]):
                if use_pullback:
                    x_given = x.copy()
                    y, back = ad.pullback(fresh(program), x_given)
                    if change_input:
                        x_given[1] = 5.0
                    back(1.0)
                else:
                    ad.gradient(fresh(program), x.copy())
            continue
        outcomes["number"] += 1
        expected = central(fresh(program), x)
        value = fresh(program)(x.copy())
        if use_pullback:
            x_given = x.copy()
            y, back = ad.pullback(fresh(program), x_given)
            np.testing.assert_allclose(y, value, rtol=1e-12, err_msg=where)
            first = back(1.0)[0]
            first *= 0.0  # the caller's own array: the next call is not affected
            got = back(1.0)[0]
            np.testing.assert_array_equal(x_given, x, err_msg=where)
        else:
            got = ad.gradient(fresh(program), x.copy())[0]
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, err_msg=where)
    assert outcomes["number"] >= 10 and outcomes["error"] >= 5, outcomes
