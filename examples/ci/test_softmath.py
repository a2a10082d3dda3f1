"""The tests a user writes for ``softmath.py``, with adcheck's pytest fixtures.

    cd examples/ci && pytest                                # these tests
    cd examples/ci && pytest --adcheck-verify=softmath.py   # plus one item per rule
"""

import numpy as np
import softmath

import adcheck as ad


def test_softplus_rule_at_chosen_inputs(check_adjoint):
    # Values a user cares about: far in both tails and at 0.
    check_adjoint(softmath.softplus, np.array([-40.0, -1.0, 0.0, 1.0, 40.0]))


def test_huber_rule_over_its_domain(verify):
    verify(softmath.huber, max_examples=50, seed=0)


def test_a_model_using_both(gradcheck):
    w = np.array([0.3, -1.2, 2.5])
    gradcheck(lambda w: np.sum(softmath.huber(softmath.softplus(w) - 1.0, delta=0.5)), w)


def test_a_wrong_rule_is_caught(adjoint_registry):
    # The registry fixture removes this rule again after the test.
    @ad.adjoint(softmath.softplus)
    def _(x):
        return softmath.softplus(x), lambda dy: (dy / (1 + np.exp(x)),)  # sign of x flipped

    result = ad.check_adjoint(softmath.softplus, np.array([1.0]), raise_exception=False)
    assert not result.passed
