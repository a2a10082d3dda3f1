"""The structural-accuracy benchmark: its labels are true, and it runs without any peer.

Whether a case is "correct" or "wrong" is decided here without adcheck's checker: each rule is
called as a program would call it (twice, after a call at another point, on cotangents in
other layouts, with a zero or ``None`` cotangent for one output) and its pullback is compared
with central differences of the function (or, at points where differences cannot work, with
the textbook derivative, itself checked by central differences at an ordinary point).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.structural_accuracy import StructuralCase, structural_cases

ROOT = Path(__file__).resolve().parents[2]
CASES = structural_cases()


def _outputs(value):
    return value if isinstance(value, tuple) else (value,)


def central_vjp(fn, args, dy):
    """``J(args)ᵀ dy`` for every positional argument, by central differences with a step
    scaled to each entry (a ``None`` in ``dy`` is an unused output)."""
    def weighted(*a):
        return sum(float(np.sum(d * o)) for d, o in zip(_outputs(dy), _outputs(fn(*a)))
                   if d is not None)

    grads = []
    for k, a in enumerate(args):
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            up, down = a.copy(), a.copy()
            up[i] += 1e-5 * max(abs(a[i]), 1.0)
            down[i] -= 1e-5 * max(abs(a[i]), 1.0)
            g[i] = ((weighted(*args[:k], up, *args[k + 1:])
                     - weighted(*args[:k], down, *args[k + 1:])) / (up[i] - down[i]))
        grads.append(g)
    return grads


def _agrees(got, want, dy) -> bool:
    """Equal within the differences' error, relative to the cotangents and to ``|Δ|`` (a
    result that cancels to 0 is judged at the scale of its terms)."""
    got = [np.zeros_like(w) if g is None else np.asarray(g) for g, w in zip(got, want)]
    scale = max([float(np.max(np.abs(v), initial=0.0)) for v in [*want, *_outputs(dy)]
                 if v is not None])
    return all(g.shape == w.shape and np.allclose(g, w, rtol=1e-7, atol=1e-7 * scale)
               for g, w in zip(got, want))


def _layouts(d: np.ndarray) -> list[np.ndarray]:
    """``d``'s values strided, Fortran-ordered, reversed twice, and a broadcast Δ."""
    big = np.zeros(d.shape[:-1] + (2 * d.shape[-1],))
    big[..., ::2] = d
    flip = (slice(None, None, -1),) * d.ndim
    return [big[..., ::2], np.asfortranarray(d), d[flip].copy()[flip],
            np.broadcast_to(d[:1], d.shape)]


def _used_as_a_program_would(case: StructuralCase) -> list[str]:
    """What goes wrong when the case's rule is used: an empty list for a correct rule."""
    fn, rule = case.make()
    rng = np.random.default_rng(7)
    x, other = case.args, tuple(a * 17 / 16 for a in case.args)
    problems = []

    def check(what, back, dy, at=x):
        saved = [None if d is None else np.array(d) for d in _outputs(dy)]
        try:
            got = back(dy)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{what}: raised {type(exc).__name__}")
            return None
        if any(s is not None and not np.array_equal(s, d) for s, d in zip(saved, _outputs(dy))):
            problems.append(f"{what}: wrote into Δ")
        if not _agrees(got, central_vjp(fn, at, dy), dy):
            problems.append(f"{what}: wrong cotangent")
        return got

    value, back = rule(*x)
    several = isinstance(value, tuple)
    dys = [rng.standard_normal(np.shape(v)) for v in _outputs(value)]
    dy = tuple(dys) if several else dys[0]
    first = check("first pull", back, dy)
    kept = None if first is None else [None if g is None else np.array(g) for g in first]
    check("second pull", back, dy)
    _, back_other = rule(*other)
    check("pull at another point", back_other, dy, other)
    if kept is not None and any(k is not None and not np.array_equal(k, g)
                                for k, g in zip(kept, first)):
        problems.append("a returned cotangent changed later")
    check("the first call's pullback, later", back, dy)
    _, back_again = rule(*x)
    check("a second call at x", back_again, dy)
    for i in range(len(dys)) if several else []:
        check(f"zeros for output {i}", back, tuple(
            np.zeros_like(d) if j == i else d for j, d in enumerate(dys)))
        if case.takes_none:
            check(f"None for output {i}", back, tuple(
                None if j == i else d for j, d in enumerate(dys)))
    if not several and dys[0].ndim >= 1 and dys[0].size > 1:
        for view in _layouts(dys[0]):
            check(f"Δ with strides {view.strides}", back, view)
    return problems


@pytest.mark.parametrize("case", [c for c in CASES if c.kind != "reference"],
                         ids=lambda c: c.name)
def test_label_is_what_the_rule_does(case):
    problems = _used_as_a_program_would(case)
    assert (not problems) == case.correct, problems


def _ordinary(args: tuple) -> tuple:
    """The same shapes at ordinary values, where central differences work."""
    return tuple(np.linspace(0.2, 0.7, a.size).reshape(a.shape) for a in args)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "reference"],
                         ids=lambda c: c.name)
def test_reference_case_label(case):
    fn, rule = case.make()
    x = _ordinary(case.args)
    dy = np.linspace(-1.0, 2.0, np.size(fn(*x)))
    reference_right = np.allclose(case.reference(*x).T @ dy, central_vjp(fn, x, dy)[0],
                                  rtol=1e-7, atol=1e-9)
    # the rule at the case's own point, against the reference there (its formula is right
    # when reference_right is: the same expression)
    dy = np.linspace(-1.0, 2.0, np.size(fn(*case.args)))
    (got,) = rule(*case.args)[1](dy)
    rule_right = np.allclose(got, case.reference(*case.args).T @ dy, rtol=1e-12, atol=0)
    if not reference_right:  # then the rule is judged by differences at the case's point
        rule_right = np.allclose(got, central_vjp(fn, case.args, dy)[0], rtol=1e-7)
    assert (reference_right and rule_right) == case.correct


def test_every_kind_has_wrong_rules_and_correct_controls():
    kinds = {c.kind for c in CASES}
    assert kinds == {"undefined", "reentrancy", "mutation", "layout", "nondeterminism",
                     "reference"}
    for kind in kinds:
        labels = {c.correct for c in CASES if c.kind == kind}
        assert labels == {True, False}, kind


def test_quick_run_without_any_peer():
    block = "; ".join(f"sys.modules[{name!r}] = None" for name in ("torch", "jax", "autograd"))
    script = (f"import runpy, sys; {block}; sys.argv = ['structural_accuracy.py', '--quick']; "
              "runpy.run_path('benchmarks/structural_accuracy.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in ("autograd", "torch", "jax"):
        assert f"{name} not installed: column skipped" in done.stdout
        assert f"{name} missing" in done.stdout  # the header's versions
    counted = [line for line in done.stdout.splitlines() if line.startswith("cases counted")]
    applicable = [c for c in CASES if "adcheck" not in c.na]
    correct = sum(c.correct for c in applicable)
    assert counted and counted[0].split()[-1] == f"{correct}/{len(applicable) - correct}"
    rows = [line for line in done.stdout.splitlines()
            if any(line.startswith(c.name) for c in CASES)]
    assert len(rows) == len(CASES)
