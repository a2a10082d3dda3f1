"""Pytrees: flatten / unflatten round trips, and user-registered containers in gradients."""

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pytest

import adcheck as ad
from adcheck.tree import flatten, map_leaves, register_pytree, unflatten

NT = namedtuple("NT", "a b")


@dataclass(frozen=True)
class Frozen:
    w: float
    v: tuple


def test_round_trip_of_nested_containers():
    tree = {"x": [1.0, (2.0, NT(3.0, None))], "y": Frozen(4.0, (5.0,))}
    leaves, spec = flatten(tree)
    assert leaves == [1.0, 2.0, 3.0, None, 4.0, 5.0]
    rebuilt = unflatten(spec, [10 * v if v is not None else None for v in leaves])
    assert rebuilt == {"x": [10.0, (20.0, NT(30.0, None))], "y": Frozen(40.0, (50.0,))}


def test_unflatten_checks_the_leaf_count():
    _, spec = flatten((1.0, 2.0))
    with pytest.raises(ValueError, match="expected 2 leaves"):
        unflatten(spec, [1.0])


def test_map_leaves_refuses_different_structures():
    assert map_leaves(lambda a, b: a * b, [1.0, 2.0], [3.0, 4.0]) == [3.0, 8.0]
    with pytest.raises(ValueError, match="structures differ"):
        map_leaves(lambda a, b: a, [1.0, 2.0], (1.0, 2.0))


class Layer:
    def __init__(self, W, b):
        self.W, self.b = W, b


register_pytree(Layer, lambda layer: ([layer.W, layer.b], None), lambda aux, c: Layer(*c))


def test_registered_type_as_gradient_input():
    layer = Layer(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
    x = np.array([1.0, -1.0])
    (g,) = ad.gradient(lambda lay: ((lay.W @ x + lay.b) ** 2).sum(), layer)
    assert isinstance(g, Layer)
    r = layer.W @ x + layer.b  # [-0.5, -1.5]
    np.testing.assert_allclose(g.W, np.outer(2 * r, x))
    np.testing.assert_allclose(g.b, 2 * r)
