"""Reports and early errors: replay lines that run as Python, output entries by their real
index, invalid domains refused at once with the rule's name."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest

import adcheck as ad


@pytest.mark.parametrize("args, message", [
    ((1.0, 0.5), "interval(1.0, 0.5): low must not exceed high (an empty interval); "
                 "write interval(0.5, 1.0)"),
    ((float("nan"), 1.0), "interval(nan, 1.0): low must be a real number, got nan"),
    ((0.0, float("nan")), "interval(0.0, nan): high must be a real number, got nan"),
    ((0.0, 1.0, (0.5,), 0.6), "interval(0.0, 1.0): no value is left: every point lies within "
                              "margin=0.6 of an avoided point (0.5)"),
    ((0.0, 1.0, (0.0, 1.0), 0.51), "interval(0.0, 1.0): no value is left"),
    ((0.0, 1.0, (), -1.0), "interval(0.0, 1.0): margin must be finite and >= 0, got -1.0"),
    ((0.0, float("inf")), "interval(0.0, inf): the bounds must be finite"),
])
def test_an_invalid_interval_fails_at_once_with_a_clear_message(args, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        ad.domains.interval(*args)


def test_an_interval_with_room_between_avoided_points_is_accepted():
    d = ad.domains.interval(0.0, 1.0, (0.0, 1.0), 0.5)  # only 0.5 is left, exactly
    assert d.contains(0.5) and not d.contains(0.49)


def test_verify_of_a_rule_with_a_domain_of_the_wrong_kind_names_the_rule():
    @ad.primitive
    def twice(x):
        return 2 * x

    with ad.scoped_rules():
        ad.adjoint(twice, domain=3.0)(lambda x: (twice(x), lambda dy: (2 * dy,)))
        with pytest.raises(TypeError, match=r"^the domain of twice is 3\.0 \(float\): use an "
                                            r"Interval"):
            ad.verify(twice, max_examples=5)
        ad.adjoint(twice, domain=(ad.domains.real(), "positive"))(
            lambda x: (twice(x), lambda dy: (2 * dy,)))
        with pytest.raises(TypeError, match=r"^the domain of twice is a tuple of Interval, str"):
            ad.verify(twice, max_examples=5)


def test_the_replay_line_is_python_that_replays_the_failure():
    with ad.scoped_rules():
        @ad.adjoint(np.linalg.inv)
        def _(a):
            y = np.linalg.inv(a)
            return y, lambda dy: (-y.T @ dy @ y.T * 1.5,)  # wrong by a factor 1.5

        r = ad.verify(np.linalg.inv, max_examples=10, seed=0, raise_exception=False)
        assert not r.passed
        (replay,) = [d for d in r.details if d.startswith("replay: ")]
        code = replay[len("replay: "):]
        assert code == "adcheck.verify(np.linalg.inv, max_examples=10, seed=0)"
        ast.parse(code)  # valid Python, not "linalg.inv"
        with pytest.raises(ad.GradientMismatch) as again:
            eval(code, {"adcheck": ad, "np": np})
        assert again.value.result.smallest_input == r.smallest_input
