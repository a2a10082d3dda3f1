"""gradcheck: composite functions over pytrees, and localisation of the first wrong rule."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import adcheck as ad

RNG = np.random.default_rng(7)


def test_composite_function_passes_in_both_modes():
    def f(x, y):
        return np.sum(np.tanh(x @ y) ** 2) + np.mean(np.exp(-x))

    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    for mode in ("full", "fast"):
        result = ad.gradcheck(f, x, y, mode=mode, seed=1)
        assert result.passed and result.mode == mode
        assert result.kind == "gradcheck"
        assert result.max_error <= result.tolerance
        assert result.evaluations > 0 and result.pullbacks > 0


def test_pytree_arguments_and_outputs():
    @dataclasses.dataclass
    class Layer:
        w: np.ndarray
        b: np.ndarray

    def f(params, x):
        h = np.tanh(params["layer"].w @ x + params["layer"].b)
        return {"out": h * params["scale"], "norm": np.sum(h * h)}

    params = {"layer": Layer(RNG.standard_normal((2, 3)), RNG.standard_normal(2)),
              "scale": 1.5}
    assert ad.gradcheck(f, params, RNG.standard_normal(3), seed=0).passed


def test_integer_arguments_are_differentiated_like_the_engine_does():
    result = ad.gradcheck(lambda x, y: 2 * x + 3 * y * x, 1, 2, seed=0)
    assert result.passed


def test_localisation_names_the_first_wrong_rule_and_the_users_line(scoped):
    # Only rules of this test's own primitives are on the tape, one of them wrong.
    exp2x = scoped(lambda x: np.exp(2 * x), lambda dy, y, x: (2 * y * dy,), "exp2x")
    sine = scoped(np.sin, lambda dy, y, x: (dy * np.cos(x) * (1 + 1e-4),), "sine")
    total = scoped(np.sum, lambda dy, y, x: (np.full(x.shape, dy),), "total")

    def model(x):
        h = exp2x(x)
        return total(sine(h))  # the line the report must name

    result = ad.gradcheck(model, RNG.uniform(-1, 1, 4), seed=0, raise_exception=False)
    assert not result.passed
    loc = result.localisation
    assert loc is not None
    assert loc.rule == "sine"
    assert loc.line == 2
    assert loc.wengert.startswith("y2 = sine(")
    assert loc.call_site is not None and loc.call_site.endswith("in model")
    assert __file__ in loc.call_site
    assert "total(sine(h))" in loc.call_text
    assert result.location == loc.rule_source
    assert "conftest.py" in loc.rule_source
    text = result.report()
    print(text)
    assert "localised to line 2 of the Wengert list" in text
    assert "that rule on its own" in text
    d = json.loads(json.dumps(result.to_dict()))
    assert d["localisation"]["rule"] == "sine"


def test_localisation_of_a_rule_wrong_in_its_second_argument():
    with ad.scoped_rules():
        @ad.adjoint(np.multiply)
        def _(a, b):
            return np.multiply(a, b), lambda dy: (dy * b, dy * b)

        result = ad.gradcheck(lambda x, w: np.sum(np.sin(x) * w), RNG.standard_normal(3),
                              RNG.standard_normal(3), seed=0, raise_exception=False)
    assert not result.passed
    assert result.localisation.rule == "multiply"
    inner = result.localisation.rule_report
    assert "y[" in inner or "y:" in inner


def test_wrong_shape_inside_a_composite_is_localised():
    with ad.scoped_rules():
        @ad.adjoint(np.add)
        def _(a, b):
            return np.add(a, b), lambda dy: (dy, dy)  # forgets to unbroadcast b

        result = ad.gradcheck(lambda x, b: np.sum(np.tanh(x + b)), RNG.standard_normal((2, 3)),
                              RNG.standard_normal(3), seed=0, raise_exception=False)
    assert result.passed  # the engine forgives the broadcast shape ...
    with ad.scoped_rules():
        @ad.adjoint(np.add)
        def _(a, b):
            return np.add(a, b), lambda dy: (dy, dy)

        single = ad.check_adjoint(np.add, RNG.standard_normal((2, 3)), RNG.standard_normal(3),
                                  seed=0, raise_exception=False)
    # ... but the rule itself is reported
    assert [f.kind for f in single.failures] == ["shape"]
    assert single.failures[0].argument == 1


def test_failure_raises_gradient_mismatch_with_the_report():
    with ad.scoped_rules():
        @ad.adjoint(np.exp)
        def _(x):
            return np.exp(x), lambda dy: (-dy * np.exp(x),)

        with pytest.raises(ad.GradientMismatch) as info:
            ad.gradcheck(lambda x: np.sum(np.exp(x)), np.ones(2), seed=0)
    assert "FAILED gradcheck(<lambda>)" in str(info.value)
    assert info.value.result.localisation.rule == "exp"


def test_function_that_cannot_be_differentiated_is_reported():
    result = ad.gradcheck(lambda x: float(x[0]) * np.ones(1), np.ones(2),
                          raise_exception=False, seed=0)
    assert not result.passed
    assert result.failures[0].kind == "error"


def test_fast_mode_cost_is_flat_in_the_input_size():
    counts = []
    for n in (10, 1000, 100_000):
        r = ad.gradcheck(lambda x: np.sum(np.sin(x) * x), RNG.standard_normal(n), mode="fast",
                         seed=3)
        assert r.passed
        counts.append(r.evaluations)
    assert max(counts) <= 1.25 * min(counts), counts
