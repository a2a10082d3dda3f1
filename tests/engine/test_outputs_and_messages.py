"""Primitive outputs of every pytree kind, deeply nested traced values, and the exact advice
the engine gives when it refuses something."""

import dataclasses

import numpy as np
import pytest

import adcheck as ad
from adcheck import NotDifferentiable
from adcheck.tree import register_pytree
from tests.finite import central

X = np.array([1.0, 2.0])


# -- primitives returning pytrees: traced leaf by leaf, never a silent constant -------------


@dataclasses.dataclass
class Kelvin:
    value: object


@ad.primitive
def kelvin(t):
    return Kelvin(t)


@ad.primitive
def fields(t):
    return {"sq": t ** 2, "rest": (np.sin(t), "label", 3)}


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


register_pytree(Pair, lambda p: ([p.a, p.b], None), lambda aux, c: Pair(*c))


@ad.primitive
def pair(t):
    return Pair(2.0 * t, np.exp(t))


class Opaque:
    def __init__(self, v):
        self.v = v


@ad.primitive
def opaque(t):
    return Opaque(t)


def _register_rules():
    @ad.adjoint(kelvin)
    def _(t):
        return kelvin(t), lambda d: (d.value,)

    @ad.adjoint(fields)
    def _(t):
        def back(d):
            # the cotangent has the output's structure; unused float leaves are zeros
            assert set(d) == {"sq", "rest"} and len(d["rest"]) == 3
            return (2 * t * d["sq"] + np.cos(t) * d["rest"][0],)

        return fields(t), back

    @ad.adjoint(pair)
    def _(t):
        return pair(t), lambda d: (2.0 * d.a + np.exp(t) * d.b,)

    @ad.adjoint(opaque)
    def _(t):
        return opaque(t), lambda d: (d.v,)


@pytest.mark.parametrize("f, plain", [
    (lambda t: np.sum(kelvin(t).value ** 2), lambda t: np.sum(t ** 2)),
    (lambda t: np.sum(fields(t)["rest"][0] * fields(t)["sq"]),
     lambda t: np.sum(np.sin(t) * t ** 2)),
    (lambda t: np.sum(fields(t)["sq"]), lambda t: np.sum(t ** 2)),
    (lambda t: np.sum(pair(t).a * pair(t).b), lambda t: np.sum(2.0 * t * np.exp(t))),
    (lambda t: np.sum(pair(t).b), lambda t: np.sum(np.exp(t))),
])
def test_primitive_returning_a_pytree_is_traced_leaf_by_leaf(f, plain):
    with ad.scoped_rules():
        _register_rules()
        (g,) = ad.gradient(f, X)
    np.testing.assert_allclose(g, central(plain, X), rtol=1e-7)


def test_primitive_returning_an_unknown_object_with_floats_raises():
    with ad.scoped_rules():
        _register_rules()
        with pytest.raises(NotDifferentiable) as info:
            ad.gradient(lambda t: np.sum(opaque(t).v), X)
    assert str(info.value) == (
        "opaque returned an object of type Opaque, which adcheck does not know how to "
        "trace: it holds float arrays whose derivative would be silently dropped. Make it "
        "a pytree (a dataclass, or register it with adcheck.tree.register_pytree), or "
        "return its arrays in a tuple or dict."
    )


# -- traced values nested deeper than the engine looks: raise, never recurse -----------------

NESTED = (
    "got a traced value nested in a list inside a list (or deeper), where adcheck does not "
    "look for traced values, so its derivative would be lost. "
)


def test_np_block_with_traced_values_names_the_tracing_helper():
    with pytest.raises(NotDifferentiable) as info:
        ad.gradient(lambda x: np.block([[x, x]]).sum(), X)
    assert str(info.value) == (
        "np.block " + NESTED + "Use adcheck.numpy.block instead, which traces them."
    )
    # and the helper it names gives the right gradient
    (g,) = ad.gradient(lambda x: (ad.numpy.block([[x, x ** 2]]) ** 2).sum(), X)
    np.testing.assert_allclose(g, central(lambda x: np.sum(x ** 2 + x ** 4), X), rtol=1e-7)


def test_traced_value_two_lists_deep_next_to_a_traced_argument_raises():
    with pytest.raises(NotDifferentiable) as info:
        ad.gradient(lambda x: np.stack([x, [x[0], x[1]]]).sum(), X)
    assert str(info.value).startswith("np.stack " + NESTED + "Pass the traced values")
