"""The systematic phase of verify: bugs in one corner of the discrete choices are found by
every seed, failures found there are shrunk and replayable, and every built-in domain can be
enumerated."""

from __future__ import annotations

import numpy as np
import pytest
from adcheck.rules.shape import normalize_axes
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adcheck as ad
from adcheck import registry
from adcheck.check.enumeration import curated_shapes, replay, systematic_examples
from adcheck.check.strategies import args_strategy


def _sum_wrong_for_axis0_on_non_square(x, *rest, axis=None, keepdims=False):
    """np.sum's rule, but the cotangent is doubled for axis=0 on a non-square matrix."""
    if rest:
        axis = rest[0]
    y = np.sum(x, axis=axis, keepdims=keepdims)
    shape = np.shape(x)
    axes = normalize_axes(axis, len(shape))
    kept = tuple(1 if i in axes else s for i, s in enumerate(shape))
    wrong = axes == (0,) and len(shape) == 2 and shape[0] != shape[1]
    scale = 2.0 if wrong else 1.0

    def back(dy):
        return (scale * np.broadcast_to(np.reshape(dy, kept), shape),) + (None,) * len(rest)

    return y, back


def _with_wrong_sum():
    domain = registry.lookup(np.sum).domain  # the built-in domain, drawn with draw(...)
    scope = ad.scoped_rules()
    scope.__enter__()
    ad.adjoint(np.sum, domain=domain)(_sum_wrong_for_axis0_on_non_square)
    return scope


@pytest.mark.parametrize("max_examples", [50, 100])
def test_a_bug_only_for_axis0_on_non_square_input_is_found_by_every_seed(max_examples):
    scope = _with_wrong_sum()
    try:
        for seed in range(20):
            r = ad.verify(np.sum, max_examples=max_examples, seed=seed, raise_exception=False)
            assert not r.passed, f"seed {seed} missed it"
            args = eval(r.smallest_input.split("), ")[0] + ")",
                        {"array": np.array, "float32": np.float32})
            x = np.asarray(args[0])
            assert x.ndim == 2 and x.shape[0] != x.shape[1], r.smallest_input
            assert any(f.kind == "value" and f.got == 2 * f.expected for f in r.failures
                       if f.expected), r.report()
    finally:
        scope.__exit__(None, None, None)


def test_a_failure_of_the_systematic_phase_says_so_and_replays():
    scope = _with_wrong_sum()
    try:
        first = ad.verify(np.sum, max_examples=50, seed=3, raise_exception=False)
        again = ad.verify(np.sum, max_examples=50, seed=3, raise_exception=False)
    finally:
        scope.__exit__(None, None, None)
    report = first.report()
    assert "found by the systematic phase" in report
    assert "replay: adcheck.verify(np.sum, max_examples=50, seed=3)" in report
    assert again.smallest_input == first.smallest_input
    # shrunk: the continuous entries were simplified to small integers
    x = np.asarray(eval(first.smallest_input.split("), ")[0] + ")", {"array": np.array})[0])
    assert np.all(x == np.round(x)) and np.all(np.abs(x) <= 10)


def test_the_same_rule_right_passes_the_systematic_phase():
    # the built-in sum rule, on the same domain: no false alarm from the planned examples
    r = ad.verify(np.sum, max_examples=50, seed=3, raise_exception=False)
    assert r.passed, r.report()
    assert r.examples >= 40


def _reduction_examples(seed, budget):
    rule = registry.lookup(np.sum)
    strategy, _ = args_strategy(rule.fn, rule.domain)
    out = []
    for example in systematic_examples(strategy, seed, budget):
        out.append(example)
        if len(out) == budget:
            break
    return out


def test_planned_examples_take_every_axis_keepdims_and_shape_kind():
    examples = _reduction_examples(seed=0, budget=50)
    seen_axes, seen_keepdims, ranks = set(), set(), set()
    non_square_axis0 = False
    for e in examples:
        args, kw = e.value
        x = args[0]
        axis = args[1] if len(args) > 1 else kw.get("axis")
        seen_axes.add(axis if not isinstance(axis, tuple) else "tuple")
        seen_keepdims.add(kw["keepdims"])
        ranks.add(np.ndim(x))
        if np.ndim(x) == 2 and x.shape[0] != x.shape[1] and axis in (0, -2):
            non_square_axis0 = True
    assert {None, 0, 1, 2, -1, -2, -3, "tuple"} <= seen_axes
    assert seen_keepdims == {False, True}
    assert ranks == {0, 1, 2, 3}
    assert non_square_axis0


def test_discrete_choices_do_not_depend_on_the_seed_and_values_do():
    a = _reduction_examples(seed=1, budget=20)
    b = _reduction_examples(seed=2, budget=20)
    assert [e.indices for e in a] == [e.indices for e in b]
    assert [np.shape(e.value[0][0]) for e in a] == [np.shape(e.value[0][0]) for e in b]
    assert any(not np.array_equal(x.value[0][0], y.value[0][0]) for x, y in zip(a, b))


def test_replay_draws_the_same_example_again():
    (example,) = _reduction_examples(seed=5, budget=8)[7:8]
    rule = registry.lookup(np.sum)
    strategy, _ = args_strategy(rule.fn, rule.domain)
    again = replay(strategy, example.indices, example.rng_seed)
    assert repr(again.value) == repr(example.value)


def test_curated_shapes_respect_the_bounds_and_start_simple():
    shapes = curated_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
    assert shapes[:4] == [(), (1,), (2, 3), (2, 3, 4)]
    assert (3, 2) in shapes and (1, 1) in shapes
    assert all(len(s) <= 3 and all(1 <= side <= 4 for side in s) for s in shapes)
    assert all(min(s) >= 2 for s in curated_shapes(min_dims=1, max_dims=2, min_side=2,
                                                     max_side=3))


def test_strategies_of_every_kind_are_planned_or_drawn():
    @st.composite
    def mixed(draw):
        n = draw(st.integers(1, 3))
        flag = draw(st.booleans())
        pick = draw(st.sampled_from(["a", "b"]).map(str.upper))
        maybe = draw(st.one_of(st.none(), st.integers(-1, 0)))
        perm = draw(st.permutations(range(n)))
        axes = draw(st.lists(st.integers(0, 2), unique=True, max_size=2))
        wide = draw(st.integers(0, 10**6))
        x = draw(hnp.arrays(np.float32, (n,), elements=st.floats(-1, 1, width=32)))
        pair = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2))
        y = draw(st.floats(0.5, 2.0).filter(lambda v: abs(v - 1) > 0.1))
        return n, flag, pick, maybe, perm, axes, wide, x, pair, y

    values = [e.value for e in systematic_examples(mixed(), seed=0, budget=30)]
    assert {v[0] for v in values} == {1, 2, 3}
    assert {v[1] for v in values} == {False, True}
    assert {v[2] for v in values} == {"A", "B"}
    assert {v[3] for v in values} == {None, 0, -1}
    for n, _, _, _, perm, axes, wide, x, pair, y in values:
        assert sorted(perm) == list(range(n))
        assert len(set(axes)) == len(axes) and all(0 <= a <= 2 for a in axes)
        assert 0 <= wide <= 10**6
        assert x.dtype == np.float32 and x.shape == (n,) and np.all(np.abs(x) <= 1)
        assert np.broadcast_shapes(*pair.input_shapes) == pair.result_shape
        assert 0.5 <= y <= 2.0 and abs(y - 1) > 0.1


@pytest.mark.parametrize("rule", registry.builtin_rules(), ids=lambda r: r.name)
def test_every_builtin_domain_can_be_planned(rule):
    strategy, _ = args_strategy(rule.fn, rule.domain)
    examples = []
    for example in systematic_examples(strategy, seed=0, budget=12):
        examples.append(example)
        if len(examples) == 12:
            break
    assert len(examples) >= 4, f"only {len(examples)} systematic examples of {rule.name}"
