"""verify: property-based checking, shrinking, replayable seeds, inputs and settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adcheck as ad


def _wrong_below_zero(dy, y, x):
    return (dy * np.where(x < 0, -np.cos(x), np.cos(x)),)


def test_failure_is_shrunk_to_a_small_input_and_replayable(scoped):
    f = scoped(np.sin, _wrong_below_zero, "sin_wrong_below_0", domain=ad.domains.real())
    first = ad.verify(f, max_examples=60, seed=11, raise_exception=False)
    assert not first.passed
    assert first.seed == 11
    assert first.smallest_input is not None
    # shrunk: a single small negative entry is enough
    args = eval(first.smallest_input, {"array": np.array, "float32": np.float32})
    x = np.asarray(args[0])
    assert x.size == 1 and float(x.ravel()[0]) < 0
    assert any(f.kind == "value" for f in first.failures)
    # the replay line is valid Python, with the budget it needs
    assert "replay: adcheck.verify(sin_wrong_below_0, max_examples=60, seed=11)" in first.report()
    again = ad.verify(f, max_examples=60, seed=11, raise_exception=False)
    assert again.smallest_input == first.smallest_input
    assert again.examples == first.examples
    print(first.report())


def test_without_seed_the_seed_comes_from_the_rule_name_and_is_reported(scoped):
    import zlib

    f = scoped(np.cos, lambda dy, y, x: (-dy * np.sin(x),), "cos_ok")
    result = ad.verify(f, max_examples=5)
    assert result.passed and result.seed == zlib.crc32(b"cos_ok")
    again = ad.verify(f, max_examples=5)  # the same run, without being told a seed
    assert again.seed == result.seed and again.max_error == result.max_error
    replayed = ad.verify(f, max_examples=5, seed=result.seed)
    assert replayed.examples == result.examples
    assert replayed.max_error == result.max_error


def test_seed_random_explores_and_reports_the_seed_it_drew(scoped):
    f = scoped(np.cos, lambda dy, y, x: (-dy * np.sin(x),), "cos_ok")
    seeds = {ad.verify(f, max_examples=3, seed="random").seed for _ in range(3)}
    assert len(seeds) == 3 and all(0 <= s < 2**32 for s in seeds)
    with pytest.raises(ValueError, match="seed must be an integer, None or 'random'"):
        ad.verify(f, max_examples=3, seed="often")


def test_domain_none_is_checked_on_default_inputs_and_says_so(scoped):
    f = scoped(np.sin, lambda dy, y, x: (dy * np.cos(x),), "sin_no_domain")
    result = ad.verify(f, max_examples=10, seed=0)
    assert result.passed
    assert any("default inputs" in n for n in result.notes)


def test_declared_domain_is_respected(scoped):
    seen = []

    def back(dy, y, x):
        seen.append(np.min(x))
        return (dy / x,)

    f = scoped(np.log, back, "log_pos", domain=ad.domains.positive())
    assert ad.verify(f, max_examples=15, seed=2).passed
    assert min(seen) > 0


def test_draws_cover_0d_size1_broadcasting_and_both_dtypes(scoped):
    shapes, dtypes = set(), set()

    def back(dy, y, a, b):
        shapes.add((np.shape(a), np.shape(b)))
        dtypes.add(np.result_type(a).name)
        ga = np.sum(dy * b, axis=tuple(range(np.ndim(dy) - np.ndim(a))))
        ga = np.sum(ga, axis=tuple(i for i, s in enumerate(np.shape(a)) if s == 1),
                    keepdims=True) if np.ndim(a) else ga
        gb = np.sum(dy * a, axis=tuple(range(np.ndim(dy) - np.ndim(b))))
        gb = np.sum(gb, axis=tuple(i for i, s in enumerate(np.shape(b)) if s == 1),
                    keepdims=True) if np.ndim(b) else gb
        return (np.reshape(ga, np.shape(a)).astype(np.result_type(a)),
                np.reshape(gb, np.shape(b)).astype(np.result_type(b)))

    f = scoped(np.multiply, back, "mul_ok", domain=ad.domains.real())
    result = ad.verify(f, max_examples=80, seed=5)
    assert result.passed, result.report()
    assert ((), ()) in shapes or any(a == () or b == () for a, b in shapes)
    assert any(a != b for a, b in shapes)  # broadcasting pairs
    assert any(1 in a or 1 in b for a, b in shapes)  # size-one axes
    assert dtypes >= {"float64", "float32"}


def test_forgotten_unbroadcast_is_found_by_verify(scoped):
    f = scoped(np.add, lambda dy, y, a, b: (dy, dy), "add_no_sum", domain=ad.domains.real())
    result = ad.verify(f, max_examples=50, seed=0, raise_exception=False)
    assert not result.passed
    assert [x.kind for x in result.failures] == ["shape"]


def test_inputs_as_strategy_or_tuple_of_strategies(scoped):
    f = scoped(lambda a, b: a * np.exp(b), lambda dy, y, a, b: (dy * np.exp(b), dy * y),
               "a_exp_b")
    vec = hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2))
    assert ad.verify(f, inputs=(vec, vec), max_examples=10, seed=0).passed
    assert ad.verify(f, inputs=st.tuples(vec, vec), max_examples=10, seed=0).passed


def test_kwargs_are_passed_to_every_call():
    x = hnp.arrays(np.float64, (2, 3), elements=st.floats(-2, 2))
    result = ad.verify(np.sum, inputs=x, kwargs={"axis": 1, "keepdims": True},
                       max_examples=10, seed=0)
    assert result.passed


def test_settings_are_passed_through(scoped):
    f = scoped(np.sin, lambda dy, y, x: (dy * np.cos(x),), "sin_ok")
    result = ad.verify(f, settings=hsettings(max_examples=7, database=None), seed=0)
    assert result.passed and result.examples == 7


def test_raises_gradient_mismatch_with_the_report(scoped):
    f = scoped(np.sin, _wrong_below_zero, "sin_wrong_again", domain=ad.domains.real())
    with pytest.raises(ad.GradientMismatch) as info:
        ad.verify(f, max_examples=40, seed=1)
    assert "smallest failing input" in str(info.value)
    d = json.loads(json.dumps(info.value.result.to_dict()))
    assert d["kind"] == "verify" and d["seed"] == 1 and d["smallest_input"]


def test_function_outside_its_domain_everywhere_is_an_error(scoped):
    f = scoped(lambda x: np.log(-np.abs(x) - 1), lambda dy, y, x: (dy,), "never_finite")
    result = ad.verify(f, max_examples=10, seed=0, raise_exception=False)
    assert not result.passed
    assert result.failures[0].kind == "error"


def test_no_rule_registered_is_a_type_error():
    with pytest.raises(TypeError, match="no adjoint is registered"):
        ad.verify(np.fft.fft)
