"""Structural checks beside the peers': the same rules, the same inputs, each tool's checker.

A rule can be right in value at the point checked and still be wrong: it mishandles an
output's undefined (``None``) or zero cotangent, keeps state that leaks from one call into
the next, writes into the cotangent it is given, reads that cotangent's memory as if it were
contiguous, or is nondeterministic beyond rounding. And a caller may know the Jacobian
(``reference=``) where finite differences cannot decide. Each case below is a NumPy rule
written once, ``make() -> (fn, rule)`` (fresh state for every checker), with
``rule(*args) -> (value, back)``; half of them are wrong, the others correct but tricky (a
``None`` cotangent that is legitimate, a memo keyed right, a sum whose order varies at the
rounding level), so that false alarms count as well as misses. Each tool is asked with its
own check, default settings:

- adcheck: ``ad.check_adjoint(fn, *args, seed=0, raise_exception=False)`` (and
  ``reference=`` for the reference cases);
- autograd: ``autograd.test_util.check_grads(f, modes=["rev"], order=1)``, the rule as a
  ``primitive`` whose vjp maker calls it;
- PyTorch: ``torch.autograd.gradcheck`` (float64) of a ``torch.autograd.Function`` whose
  ``forward`` calls the rule and ``backward`` its pullback on ``g.numpy()`` (the cotangent's
  own memory and layout). Three columns: the defaults (``check_undefined_grad=True``,
  ``nondet_tol=0``, ``check_backward_ad=True``), ``fast_mode=True``, and ``nondet_tol=1e-10``
  (a tolerance a user whose backward sums in a varying order would set). Rules written for
  ``None`` cotangents set ``ctx.set_materialize_grads(False)``, so that torch passes them
  ``None`` for an unused output as it then does;
- JAX: ``jax.test_util.check_grads(f, args, order=1, modes=["rev"])`` of a ``custom_vjp``
  whose ``fwd`` and ``bwd`` call the rule and its pullback on the host
  (``jax.pure_callback``); rules written for ``None`` use ``symbolic_zeros=True``, and a
  ``SymbolicZero`` reaches them as ``None``.

Options that do not apply: torch's ``check_batched_grad`` needs a vmap rule, and
``gradgradcheck`` (whose ``gen_non_contig_grad_outputs`` is torch's only check that hands a
backward non-contiguous cotangents: ``gradcheck`` has no such option, and builds its basis
cotangents contiguous) needs a backward torch can differentiate; JAX's ``order=2`` needs a
differentiable ``bwd``. None of these NumPy pullbacks is.

A cell is ``n/a`` where the tool cannot meet the case, and is not counted: JAX arrays are
immutable and dense, so a JAX pullback can neither write into a cotangent nor see an unusual
layout; autograd's engine passes zeros for an unused output, never ``None``; no peer takes a
reference Jacobian; adcheck's engine passes zeros for an unused numeric output (never
``None``), so a pullback that cannot take ``None`` is not wrong there.

Run: ``python benchmarks/structural_accuracy.py`` (``--quick``: the default torch column
only). Missing frameworks are reported and skipped; a checker that crashes on a case counts
as a failed check. Each cell shows the verdict; the last column lists the kinds adcheck
reported.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import adcheck as ad

if __package__:  # imported as benchmarks.structural_accuracy (the tests)
    from .common import header, score
else:  # run as a script: python benchmarks/structural_accuracy.py
    sys.path.insert(0, str(Path(__file__).parent))
    from common import header, score

__all__ = ["StructuralCase", "structural_cases"]


@dataclass
class StructuralCase:
    """``make()`` returns a fresh ``(fn, rule)``: ``fn(*args)`` the NumPy function, and
    ``rule(*args) -> (value, back)`` with ``back(dy) -> tuple`` (one cotangent per input;
    ``dy`` a tuple for several outputs). ``correct`` says whether the rule is right (for a
    reference case: whether rule and reference are); ``na`` maps a tool family (``adcheck``,
    ``autograd``, ``torch``, ``jax``) to why it cannot meet the case."""

    name: str
    kind: str
    make: Callable[[], tuple[Callable, Callable]]
    args: tuple
    correct: bool
    takes_none: bool = False  # written for engines that pass None for an unused output
    reference: Callable | None = None
    na: dict[str, str] = field(default_factory=dict)


NO_NONE_AUTOGRAD = {"autograd": "autograd passes zeros for an unused output, never None"}
IMMUTABLE_JAX = {"jax": "JAX arrays are immutable and dense"}
NO_REFERENCE = {p: "no reference-Jacobian option" for p in ("autograd", "torch", "jax")}


def _stateless(fn: Callable, rule: Callable) -> Callable[[], tuple[Callable, Callable]]:
    return lambda: (fn, rule)


# -- undefined and zero output cotangents (a rule with two outputs) ----------------------------


def _sincos(x):
    return np.sin(x), np.cos(x)


def _sincos_rule(back: Callable) -> Callable:
    def rule(x):
        return _sincos(x), lambda dy: back(x, *dy)
    return rule


def _zero_if_none(d, like):
    return np.zeros_like(like) if d is None else d


def _undefined_cases(rng: np.random.Generator) -> list[StructuralCase]:
    x = rng.uniform(-1.5, 1.5, 4)
    c = np.array([0.7, -0.4, 1.3, -2.1])
    none = NO_NONE_AUTOGRAD

    def raises(x, dr, dt):
        return (dr * np.cos(x) - dt * np.sin(x),)  # TypeError when one of them is None

    def none_means_nothing(x, dr, dt):
        if dr is None or dt is None:
            return (None,)  # "an undefined cotangent: no gradient flows"
        return (dr * np.cos(x) - dt * np.sin(x),)

    def zero_shortcut(x, dr, dt):
        if not np.any(dr):
            return (np.zeros_like(x),)  # forgets that the cosine output may be used
        return (dr * np.cos(x) - dt * np.sin(x),)

    def none_as_zeros(x, dr, dt):
        return (_zero_if_none(dr, x) * np.cos(x) - _zero_if_none(dt, x) * np.sin(x),)

    def skip_terms(x, dr, dt):
        out = np.zeros_like(x)
        if dr is not None and np.any(dr):
            out = out + dr * np.cos(x)
        if dt is not None and np.any(dt):
            out = out - dt * np.sin(x)
        return (out,)

    def sin_floor(x):
        return np.sin(x), np.floor(x)

    def sin_floor_rule(x):  # floor is piecewise constant: its cotangent is rightly ignored
        return sin_floor(x), lambda dy: (dy[0] * np.cos(x),)

    def masked(x, c):
        return x * (c > 0)

    def masked_rule(x, c):  # the condition's cotangent is legitimately None
        return masked(x, c), lambda dy: (dy * (c > 0), None)

    adcheck_na = {"adcheck": "adcheck passes zeros for an unused numeric output, never None"}
    return [
        StructuralCase("sincos: raises on a None cotangent", "undefined",
                       _stateless(_sincos, _sincos_rule(raises)), (x,), False,
                       takes_none=True, na={**none, **adcheck_na}),
        StructuralCase("sincos: None read as 'no gradient'", "undefined",
                       _stateless(_sincos, _sincos_rule(none_means_nothing)), (x,), False,
                       takes_none=True, na=none),
        StructuralCase("sincos: zero shortcut drops cos's term", "undefined",
                       _stateless(_sincos, _sincos_rule(zero_shortcut)), (x,), False),
        StructuralCase("sincos: None read as zeros", "undefined",
                       _stateless(_sincos, _sincos_rule(none_as_zeros)), (x,), True,
                       takes_none=True, na=none),
        StructuralCase("sincos: skips zero or None terms", "undefined",
                       _stateless(_sincos, _sincos_rule(skip_terms)), (x,), True,
                       takes_none=True, na=none),
        StructuralCase("(sin, floor): floor's cotangent ignored", "undefined",
                       _stateless(sin_floor, sin_floor_rule), (x + 0.5,), True),
        StructuralCase("x * (c > 0): None for c", "undefined",
                       _stateless(masked, masked_rule), (x, c), True),
    ]


# -- re-entrancy: state kept between calls --------------------------------------------------


def _reentrancy_cases(rng: np.random.Generator) -> list[StructuralCase]:
    x = rng.uniform(-1.5, 1.5, 4)

    def cache_by_shape():
        cache: dict = {}

        def rule(x):
            slope = cache.setdefault(x.shape, np.cos(x))  # keyed by shape: stale elsewhere
            return np.sin(x), lambda dy: (dy * slope,)
        return np.sin, rule

    def cache_by_bytes():
        cache: dict = {}

        def rule(x):
            key = (x.shape, x.dtype.str, x.tobytes())
            slope = cache.setdefault(key, np.cos(x))
            return np.sin(x), lambda dy: (dy * slope,)
        return np.sin, rule

    def accumulates():
        def rule(x):
            grad = np.zeros_like(x)

            def back(dy):
                grad[...] += dy * np.cos(x)  # right on the pullback's first call only
                return (grad.copy(),)
            return np.sin(x), back
        return np.sin, rule

    def global_input():
        last: dict = {}

        def rule(x):
            last["x"] = x  # the pullback reads whatever the latest call saved
            return np.sin(x), lambda dy: (dy * np.cos(last["x"]),)
        return np.sin, rule

    def reused_buffer():
        scratch: dict = {}

        def rule(x):
            def back(dy):
                out = scratch.setdefault(x.shape, np.empty_like(x))
                np.multiply(dy, np.cos(x), out=out)
                return (out,)  # later calls overwrite what this one returned
            return np.sin(x), back
        return np.sin, rule

    def buffer_copied():
        scratch: dict = {}

        def rule(x):
            def back(dy):
                out = scratch.setdefault(x.shape, np.empty_like(x))
                np.multiply(dy, np.cos(x), out=out)
                return (out.copy(),)
            return np.sin(x), back
        return np.sin, rule

    def counter():
        stats = {"calls": 0, "pullbacks": 0}

        def rule(x):
            stats["calls"] += 1

            def back(dy):
                stats["pullbacks"] += 1  # statistics only: results do not depend on them
                return (dy * np.cos(x),)
            return np.sin(x), back
        return np.sin, rule

    def fresh():
        def rule(x):
            slope = np.cos(x)
            return np.sin(x), lambda dy: (np.multiply(dy, slope),)
        return np.sin, rule

    def lazy():
        def rule(x):
            memo: list = []

            def back(dy):
                if not memo:
                    memo.append(np.cos(x))  # worked out on the first pull, kept for later
                return (dy * memo[0],)
            return np.sin(x), back
        return np.sin, rule

    return [
        StructuralCase("sin: cache keyed by shape", "reentrancy", cache_by_shape, (x,), False),
        StructuralCase("sin: pullback accumulates into a saved buffer", "reentrancy",
                       accumulates, (x,), False),
        StructuralCase("sin: pullback reads the latest call's input", "reentrancy",
                       global_input, (x,), False),
        StructuralCase("sin: returns a scratch buffer it reuses", "reentrancy",
                       reused_buffer, (x,), False),
        StructuralCase("sin: memo keyed by the input's bytes", "reentrancy",
                       cache_by_bytes, (x,), True),
        StructuralCase("sin: scratch buffer, copy returned", "reentrancy", buffer_copied,
                       (x,), True),
        StructuralCase("sin: counts its calls (statistics)", "reentrancy", counter, (x,),
                       True),
        StructuralCase("sin: fresh arrays every call", "reentrancy", fresh, (x,), True),
        StructuralCase("sin: cos(x) worked out on the first pull", "reentrancy", lazy, (x,),
                       True),
    ]


# -- mutation: writing into the cotangent or the saved values --------------------------------


def _centre(x):
    return x - np.mean(x)


def _mutation_cases(rng: np.random.Generator) -> list[StructuralCase]:
    x = rng.uniform(-1.5, 1.5, 4)

    def in_place(x):
        def back(dy):
            dy *= np.cos(x)  # writes into the caller's cotangent
            return (dy,)
        return np.sin(x), back

    def centre_in_place(x):
        def back(dy):
            dy -= np.mean(dy)  # the right value, but the caller's Δ is changed
            return (dy,)
        return _centre(x), back

    def saved_in_place(x):
        saved = x.copy()

        def back(dy):
            return (dy * np.cos(saved, out=saved),)  # overwrites what it saved
        return np.sin(x), back

    def own_copy(x):
        def back(dy):
            g = dy.copy()
            g *= np.cos(x)
            return (g,)
        return np.sin(x), back

    def centre_fresh(x):
        return _centre(x), lambda dy: (dy - np.mean(dy),)

    def out_fresh(x):
        def back(dy):
            out = np.empty_like(x)
            np.multiply(dy, np.cos(x), out=out)
            return (out,)
        return np.sin(x), back

    def to_square(x):
        return x.reshape(2, 2)

    def to_square_rule(x):  # the cotangent returned is a view of Δ: aliasing is allowed
        return to_square(x), lambda dy: (dy.reshape(x.shape),)

    def add_rule(x, y):  # one Δ returned for both inputs
        return x + y, lambda dy: (dy, dy)

    y = x[::-1] * 0.5 + 0.1
    stateless = [("sin: dy *= cos(x) (writes into Δ)", np.sin, in_place, (x,), False),
                 ("x - mean: Δ centred in place", _centre, centre_in_place, (x,), False),
                 ("sin: in place on its own copy of Δ", np.sin, own_copy, (x,), True),
                 ("x - mean: Δ centred into a new array", _centre, centre_fresh, (x,), True),
                 ("sin: out= a fresh array", np.sin, out_fresh, (x,), True),
                 ("reshape: returns a view of Δ", to_square, to_square_rule, (x,), True),
                 ("add: the same Δ for both inputs", np.add, add_rule, (x, y), True)]
    cases = [StructuralCase(name, "mutation", _stateless(fn, rule), args, ok, na=IMMUTABLE_JAX)
             for name, fn, rule, args, ok in stateless]
    # the values a pullback saved are the rule's own NumPy arrays, in JAX's host code too
    return cases[:2] + [StructuralCase("sin: cos computed into the saved x", "mutation",
                                       _stateless(np.sin, saved_in_place), (x,), False)] + cases[2:]


# -- layouts: strided, Fortran-order, negative-stride, broadcast cotangents ------------------


def _layout_cases(rng: np.random.Generator) -> list[StructuralCase]:
    a = rng.uniform(-1.5, 1.5, (3, 4))
    u, w = rng.standard_normal(3), rng.standard_normal(4)

    def memory_order(x):
        def back(dy):  # Δ's elements as they lie in memory (a C kernel handed its buffer)
            return (np.ravel(dy, order="K").reshape(x.shape) * np.cos(x),)
        return np.sin(x), back

    def frombuffer(x):
        def back(dy):  # Δ's buffer handed on as is: raises unless it is C-contiguous
            return (np.frombuffer(dy, dtype=dy.dtype).reshape(x.shape) * np.cos(x),)
        return np.sin(x), back

    def contiguous_first(x):
        def back(dy):
            dy = np.ascontiguousarray(dy)
            return (np.frombuffer(dy, dtype=dy.dtype).reshape(x.shape) * np.cos(x),)
        return np.sin(x), back

    def c_order(x):
        return np.sin(x), lambda dy: (np.ravel(dy).reshape(x.shape) * np.cos(x),)

    def outer_rule(u, w):  # sums of Δ: another layout may sum in another order
        return np.outer(u, w), lambda dy: (dy @ w, u @ dy)

    def total_rule(x):  # a read-only, stride-0 cotangent returned: allowed
        return np.sum(x), lambda dy: (np.broadcast_to(dy, x.shape),)

    cases = [("sin: reads Δ in memory order", np.sin, memory_order, (a,), False),
             ("sin: np.frombuffer(Δ)", np.sin, frombuffer, (a,), False),
             ("sin: ascontiguousarray, then frombuffer", np.sin, contiguous_first, (a,), True),
             ("sin: ravel(Δ) in C order", np.sin, c_order, (a,), True),
             ("outer(u, w): Δ summed by matmul", np.outer, outer_rule, (u, w), True),
             ("sum: returns a broadcast view", np.sum, total_rule, (a,), True)]
    return [StructuralCase(name, "layout", _stateless(fn, rule), args, ok, na=IMMUTABLE_JAX)
            for name, fn, rule, args, ok in cases]


# -- nondeterminism ---------------------------------------------------------------------------


def _scaled_by_sum(x):
    return x * np.sum(x)


# The nondeterministic rules draw from a seeded generator: the draws differ from call to call
# (as a thread schedule would), the benchmark's verdicts do not differ from run to run.
NOISE_SEED = 1234


def _nondeterminism_cases(rng: np.random.Generator) -> list[StructuralCase]:
    x = rng.uniform(-1.5, 1.5, 4)
    positive = rng.uniform(0.5, 2.0, 32) * 10.0 ** rng.uniform(0.0, 3.0, 32)
    mixed = rng.standard_normal(24) * 10.0 ** rng.uniform(0.0, 3.0, 24)

    def shuffled_sum():
        noise = np.random.default_rng(NOISE_SEED)  # another order on every call

        def rule(x):
            def back(dy):  # a parallel reduction: Σx in whatever order the threads finish
                s = np.sum(x[noise.permutation(x.size)])
                return (dy * s + np.dot(dy, x),)
            return _scaled_by_sum(x), back
        return _scaled_by_sum, rule

    def noisy(relative):
        def make():
            noise = np.random.default_rng(NOISE_SEED)

            def rule(x):
                def back(dy):
                    return (dy * np.cos(x) * (1 + relative * noise.standard_normal(x.shape)),)
                return np.sin(x), back
            return np.sin, rule
        return make

    def dropout():
        noise = np.random.default_rng(NOISE_SEED)

        def rule(x):
            def back(dy):  # an unbiased estimate, not the derivative
                keep = noise.random(x.shape) < 0.5
                return (2 * keep * dy * np.cos(x),)
            return np.sin(x), back
        return np.sin, rule

    return [
        StructuralCase("sin: pullback noise 1e-6 (relative)", "nondeterminism", noisy(1e-6),
                       (x,), False),
        StructuralCase("sin: random half of Δ, doubled", "nondeterminism", dropout, (x,),
                       False),
        StructuralCase("x·Σx: Σx in a random order", "nondeterminism", shuffled_sum,
                       (positive,), True),
        StructuralCase("x·Σx: random order, cancelling terms", "nondeterminism",
                       shuffled_sum, (mixed,), True),
    ]


# -- a caller's reference Jacobian (adcheck's reference=) ------------------------------------


def _reference_cases(rng: np.random.Generator) -> list[StructuralCase]:
    t = rng.uniform(-1.5, 1.5, 3)
    edge = np.array([1 - 1e-15])
    far = np.array([1e15 + 0.25])
    c = rng.standard_normal(4)

    def arcsin_rule(wrong):
        def rule(x):
            slope = 1 / np.sqrt(1 - x) if wrong else 1 / np.sqrt((1 - x) * (1 + x))
            return np.arcsin(x), lambda dy: (dy * slope,)
        return rule

    def sin_rule(error):
        return lambda x: (np.sin(x), lambda dy: (dy * np.cos(x) * (1 + error),))

    def cumsum_rule(x):
        return np.cumsum(x), lambda dy: (np.cumsum(dy[::-1])[::-1],)

    tanh_rule = (lambda x: (np.tanh(x), lambda dy: (dy * (1 - np.tanh(x) ** 2),)))
    arcsin_jac = (lambda x: np.diag(1 / np.sqrt((1 - x) * (1 + x))))
    cases = [
        ("tanh: reference agrees", np.tanh, tanh_rule, (t,), True,
         lambda x: np.diag(1 - np.tanh(x) ** 2)),
        ("arcsin at 1 - 1e-15: reference decides", np.arcsin, arcsin_rule(False), (edge,),
         True, arcsin_jac),
        ("arcsin at 1 - 1e-15: 1/sqrt(1 - x)", np.arcsin, arcsin_rule(True), (edge,), False,
         arcsin_jac),
        ("sin at 1e15: reference decides", np.sin, sin_rule(0.0), (far,), True,
         lambda x: np.diag(np.cos(x))),
        ("sin at 1e15: 1e-6 off", np.sin, sin_rule(1e-6), (far,), False,
         lambda x: np.diag(np.cos(x))),
        ("cumsum right, reference transposed", np.cumsum, cumsum_rule, (c,), False,
         lambda x: np.triu(np.ones((x.size, x.size)))),
    ]
    return [StructuralCase(name, "reference", _stateless(fn, rule), args, ok, reference=ref,
                           na=NO_REFERENCE)
            for name, fn, rule, args, ok, ref in cases]


def structural_cases(seed: int = 0) -> list[StructuralCase]:
    """Every case, kind by kind (wrong rules and correct-but-tricky controls for each).

    >>> cases = structural_cases()
    >>> len(cases), sum(c.correct for c in cases), sorted({c.kind for c in cases})[:3]
    (40, 23, ['layout', 'mutation', 'nondeterminism'])
    """
    rng = np.random.default_rng(seed)
    return (_undefined_cases(rng) + _reentrancy_cases(rng) + _mutation_cases(rng)
            + _layout_cases(rng) + _nondeterminism_cases(rng) + _reference_cases(rng))


# -- the tools ----------------------------------------------------------------------------------

# The kinds adcheck reported, by case name.
ADCHECK_KINDS: dict[str, list[str]] = {}
ADCHECK_MESSAGES: dict[str, str] = {}


def run_adcheck(case: StructuralCase) -> bool:
    """True when ``check_adjoint`` passes the case's rule (the kinds it found are kept)."""
    fn, rule = case.make()
    with ad.scoped_rules():
        def body(*args):
            return fn(*args)

        body.__name__ = "case"
        prim = ad.primitive(body)
        ad.adjoint(prim)(rule)
        options = {"reference": case.reference} if case.reference is not None else {}
        result = ad.check_adjoint(prim, *case.args, seed=0, raise_exception=False, **options)
    ADCHECK_KINDS[case.name] = sorted({f.kind for f in result.failures})
    ADCHECK_MESSAGES[case.name] = result.failures[0].message if result.failures else ""
    return result.passed


def _outputs(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def run_autograd(case: StructuralCase) -> bool:
    """True when autograd's ``check_grads`` passes the case's rule as a ``primitive``."""
    from autograd.extend import defvjp_argnums, primitive
    from autograd.test_util import check_grads

    fn, rule = case.make()

    @primitive
    def f(*args):
        return fn(*args)

    def vjp_maker(argnums, ans, args, kwargs):
        _, back = rule(*args)

        def vjp(g):
            out = back(g)  # autograd has no None cotangent: None is zeros
            return tuple(np.zeros_like(args[i]) if out[i] is None else out[i] for i in argnums)
        return vjp

    defvjp_argnums(f, vjp_maker)
    try:
        check_grads(f, modes=["rev"], order=1, argnum=tuple(range(len(case.args))))(*case.args)
    except AssertionError:
        return False
    return True


def run_torch(case: StructuralCase, **options) -> bool:
    """True when ``torch.autograd.gradcheck`` (with ``options``) passes the case's rule."""
    import torch

    fn, rule = case.make()

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *args):
            if case.takes_none:
                ctx.set_materialize_grads(False)
            value, ctx.back = rule(*[a.detach().numpy().copy() for a in args])
            ctx.several = isinstance(value, tuple)
            outs = tuple(torch.from_numpy(np.array(v, dtype=np.float64))
                         for v in _outputs(value))
            return outs if ctx.several else outs[0]

        @staticmethod
        def backward(ctx, *grads):
            dy = [None if g is None else g.detach().numpy() for g in grads]
            out = ctx.back(tuple(dy) if ctx.several else dy[0])
            with warnings.catch_warnings():  # a read-only cotangent (a broadcast view) is fine
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                return tuple(None if d is None else torch.from_numpy(np.asarray(d, np.float64))
                             for d in out)  # the very array the pullback returned

    inputs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in case.args)
    return bool(torch.autograd.gradcheck(F.apply, inputs, raise_exception=False, **options))


def run_jax(case: StructuralCase) -> bool:
    """True when JAX's ``check_grads`` passes the case's rule as a ``custom_vjp``."""
    import jax
    import jax.numpy as jnp
    from jax.custom_derivatives import SymbolicZero
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
    fn, rule = case.make()
    value = fn(*case.args)
    several = isinstance(value, tuple)
    out_shapes = tuple(jax.ShapeDtypeStruct(np.shape(v), jnp.float64) for v in _outputs(value))
    in_shapes = tuple(jax.ShapeDtypeStruct(np.shape(a), jnp.float64) for a in case.args)
    backs: dict[int, Callable] = {}  # each forward call's pullback, by a token jax carries

    def host_f(*a):
        return tuple(np.asarray(v, np.float64) for v in _outputs(fn(*[np.array(v) for v in a])))

    def host_fwd(*a):
        v, back = rule(*[np.array(u) for u in a])
        backs[len(backs)] = back
        return (*(np.asarray(u, np.float64) for u in _outputs(v)), np.int32(len(backs) - 1))

    @jax.custom_vjp
    def f(*args):
        outs = jax.pure_callback(host_f, out_shapes, *args)
        return tuple(outs) if several else outs[0]

    def fwd(*args):
        args = tuple(getattr(a, "value", a) for a in args)  # CustomVJPPrimal with symbolic zeros
        *outs, token = jax.pure_callback(
            host_fwd, (*out_shapes, jax.ShapeDtypeStruct((), jnp.int32)), *args)
        return (tuple(outs) if several else outs[0]), token

    def bwd(token, g):
        present = [not isinstance(u, SymbolicZero) for u in _outputs(g)]
        given = [u for u, p in zip(_outputs(g), present) if p]

        def host_bwd(t, *gs):
            it = iter(gs)
            dy = tuple(np.array(next(it)) if p else None for p in present)
            out = backs[int(t)](dy if several else dy[0])
            return tuple(np.zeros(s.shape) if d is None else np.asarray(d, np.float64)
                         for d, s in zip(out, in_shapes))

        return tuple(jax.pure_callback(host_bwd, in_shapes, token, *given))

    f.defvjp(fwd, bwd, symbolic_zeros=case.takes_none)
    try:
        check_grads(f, tuple(jnp.asarray(a) for a in case.args), order=1, modes=["rev"])
    except AssertionError:
        return False
    return True


def checkers(quick: bool = False) -> dict[str, tuple[str, Callable[[StructuralCase], bool]]]:
    """Column name -> (tool family, run): adcheck and every installed peer."""
    found: dict[str, tuple[str, Callable[[StructuralCase], bool]]] = {
        "adcheck": ("adcheck", run_adcheck)}
    for name, module in (("autograd", "autograd"), ("torch", "torch"), ("jax", "jax")):
        try:
            __import__(module)
        except ImportError:
            print(f"{name} not installed: column skipped")
            continue
        if name == "autograd":
            found["autograd"] = ("autograd", run_autograd)
        elif name == "torch":
            found["torch"] = ("torch", run_torch)
            if not quick:
                found["torch fast"] = ("torch", lambda c: run_torch(c, fast_mode=True))
                found["torch tol"] = ("torch", lambda c: run_torch(c, nondet_tol=1e-10))
        else:
            found["jax"] = ("jax", run_jax)
    return found


def verdict(run: Callable[[StructuralCase], bool], case: StructuralCase) -> bool:
    """A checker's verdict; one that raises (the rule's own error, surfaced) failed."""
    try:
        return run(case)
    except Exception:  # noqa: BLE001  (a checker that crashes counts as a failed check)
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one torch column (defaults) instead of three")
    args = parser.parse_args(argv)
    print(header("Structural checks: false alarms and misses beside the peers"))
    found = checkers(args.quick)
    cases = structural_cases()
    width = max(len(c.name) for c in cases) + 2
    cell = 13
    print(f"{'case':{width}s}{'kind':16s}{'rule':9s}" + "".join(f"{n:>{cell}s}" for n in found)
          + "   adcheck reported")
    alarms = dict.fromkeys(found, 0)
    misses = dict.fromkeys(found, 0)
    counted = {n: [0, 0] for n in found}
    seconds = dict.fromkeys(found, 0.0)
    start = time.perf_counter()
    for case in cases:
        row = f"{case.name:{width}s}{case.kind:16s}{'correct' if case.correct else 'wrong':9s}"
        for name, (family, run) in found.items():
            if family in case.na:
                row += f"{'n/a':>{cell}s}"
                continue
            begin = time.perf_counter()
            passed = verdict(run, case)
            seconds[name] += time.perf_counter() - begin
            counted[name][0 if case.correct else 1] += 1
            text, alarm, miss = score(case.correct, passed)
            alarms[name] += alarm
            misses[name] += miss
            row += f"{text:>{cell}s}"
        print(row + "   " + (", ".join(ADCHECK_KINDS.get(case.name, [])) or "-"), flush=True)
    print()
    label = width + 25
    print(f"{'false alarms':{label}s}" + "".join(f"{alarms[n]:>{cell}d}" for n in found))
    print(f"{'misses':{label}s}" + "".join(f"{misses[n]:>{cell}d}" for n in found))
    print(f"{'cases counted (correct/wrong)':{label}s}"
          + "".join(f"{f'{c}/{w}':>{cell}s}" for c, w in counted.values()))
    print(f"{'seconds':{label}s}" + "".join(f"{seconds[n]:>{cell}.1f}" for n in found))
    print(f"({len(cases)} cases, {time.perf_counter() - start:.1f} s; n/a cells are not "
          "counted: see the module docstring)")


if __name__ == "__main__":
    main()
