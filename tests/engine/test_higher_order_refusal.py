"""A rule registered with ``higher_order=False`` works at first order, and the engine refuses
to differentiate its pullback (nested gradients, hessian, hvp, jvp) instead of giving a quietly
wrong second derivative; the same rule with the default ``higher_order=True`` nests.

Expected numbers are analytic: for ``cube(x) = x**3``, ``d/dx = 3x²`` and ``d²/dx² = 6x``.
"""

from __future__ import annotations

import numpy as np
import pytest

import adcheck as ad
from adcheck.engine.tracer import strip

X = np.array([0.5, -1.5, 2.0])
V = np.array([1.0, -2.0, 0.25])
REFUSED = (r"the adjoint of cube was registered with higher_order=False .*"
           r"@adcheck\.adjoint\(cube, higher_order=True\)")


@pytest.fixture(params=[True, False], ids=["higher_order=True", "higher_order=False"])
def cube(request):
    """``x**3`` as a primitive with a correct rule, registered with either flag."""
    with ad.scoped_rules():

        @ad.primitive
        def cube(x):
            return x ** 3

        @ad.adjoint(cube, higher_order=request.param)
        def _(x):
            return cube(x), lambda dy: (3 * x ** 2 * dy,)

        yield cube


@pytest.fixture
def nests(request, cube):
    """Whether ``cube``'s rule claims higher order (the fixture's parameter)."""
    return request.node.callspec.params["cube"]


def _total(cube):
    return lambda z: np.sum(cube(z))


def test_first_order_is_the_analytic_derivative(cube):
    np.testing.assert_allclose(ad.gradient(_total(cube), X)[0], 3 * X ** 2, rtol=1e-15)
    (g,) = ad.pullback(cube, X)[1](V)
    np.testing.assert_allclose(g, 3 * X ** 2 * V, rtol=1e-15)
    np.testing.assert_allclose(ad.jacobian(cube, X)[0], np.diag(3 * X ** 2), rtol=1e-15)


NESTED = {
    "nested gradient": lambda cube: ad.gradient(
        lambda x: np.sum(ad.gradient(_total(cube), x)[0] * V), X)[0],
    "hessian": lambda cube: ad.hessian(_total(cube), X) @ V,
    "hvp": lambda cube: ad.hvp(_total(cube), X, V),
    "jacobian of the gradient": lambda cube: ad.jacobian(
        lambda x: ad.gradient(_total(cube), x)[0], X)[0] @ V,
}


@pytest.mark.parametrize("how", NESTED)
def test_second_order_nests_or_is_refused(cube, nests, how):
    if nests:
        np.testing.assert_allclose(NESTED[how](cube), 6 * X * V, rtol=1e-14)
    else:
        with pytest.raises(ad.NotDifferentiable, match=REFUSED):
            NESTED[how](cube)


@pytest.mark.parametrize("mode", ["jvp", "jacobian fwd"])
def test_forward_mode_differentiates_the_pullback_so_it_is_refused(cube, nests, mode):
    def run():
        if mode == "jvp":
            return ad.jvp(cube, X, V)
        return ad.jacobian(cube, X, mode="fwd")[0] @ V

    if nests:
        np.testing.assert_allclose(run(), 3 * X ** 2 * V, rtol=1e-15)
    else:
        with pytest.raises(ad.NotDifferentiable, match=REFUSED):
            run()


def test_a_traced_cotangent_alone_is_refused(cube, nests):
    # d/dy of the inner gradient 3x²·y is 3x²: the outer level differentiates the pullback
    # through its cotangent (y), while the captured x is a plain array.
    def outer(y):
        return np.sum(ad.gradient(lambda x: np.sum(cube(x) * y), X)[0])

    y = np.array([2.0, 1.0, -1.0])
    if nests:
        np.testing.assert_allclose(ad.gradient(outer, y)[0], 3 * X ** 2, rtol=1e-15)
    else:
        with pytest.raises(ad.NotDifferentiable, match=REFUSED):
            ad.gradient(outer, y)


def test_a_gradient_inside_a_gradient_that_does_not_meet_the_rule_still_works(cube):
    # The inner gradient is of a constant point: nothing of the outer level reaches cube.
    def outer(y):
        return np.sum(ad.gradient(_total(cube), X)[0] * y ** 2)

    y = np.array([2.0, 1.0, -1.0])
    np.testing.assert_allclose(ad.gradient(outer, y)[0], 3 * X ** 2 * 2 * y, rtol=1e-15)


def test_a_pullback_that_leaves_the_tape_is_refused_not_quietly_zero():
    with ad.scoped_rules():

        @ad.primitive
        def cube(x):
            return x ** 3

        # strip() reads x's numbers: the second derivative would silently come out 0
        @ad.adjoint(cube, higher_order=False)
        def _(x):
            return cube(x), lambda dy: (3 * strip(x) ** 2 * dy,)

        np.testing.assert_allclose(ad.gradient(_total(cube), X)[0], 3 * X ** 2, rtol=1e-15)
        with pytest.raises(ad.NotDifferentiable, match=REFUSED):
            ad.hvp(_total(cube), X, V)


def test_several_outputs():
    with ad.scoped_rules():

        @ad.primitive
        def powers(x):
            return x ** 2, x ** 3

        @ad.adjoint(powers, higher_order=False)
        def _(x):
            return powers(x), lambda d: (2 * x * d[0] + 3 * x ** 2 * d[1],)

        def f(x):
            a, b = powers(x)
            return np.sum(a - b)

        np.testing.assert_allclose(ad.gradient(f, X)[0], 2 * X - 3 * X ** 2, rtol=1e-15)
        with pytest.raises(ad.NotDifferentiable, match="adjoint of powers was registered"):
            ad.jvp(lambda x: powers(x)[1], X, V)
        with pytest.raises(ad.NotDifferentiable, match="adjoint of powers was registered"):
            ad.hvp(f, X, V)


def test_a_numpy_function_is_named_as_user_code_spells_it():
    with ad.scoped_rules():

        @ad.adjoint(np.tanh, higher_order=False)
        def _(x):
            y = np.tanh(x)
            return y, lambda dy: (dy * (1 - y ** 2),)

        np.testing.assert_allclose(ad.gradient(lambda x: np.sum(np.tanh(x)), X)[0],
                                   1 - np.tanh(X) ** 2, rtol=1e-14)
        with pytest.raises(ad.NotDifferentiable,
                           match=r"adjoint of np\.tanh .*adjoint\(np\.tanh, higher_order=True"):
            ad.hessian(lambda x: np.sum(np.tanh(x)), X)
