"""Pushing the limits: unit-carrying temperature types through a dense model.

    python examples/09_custom_types.py

The notebook's last part differentiates through its own ``Kelvin`` and ``Celsius`` types.
Here they are dataclasses holding a float array (dataclasses are pytrees out of the box, so
gradients with respect to them come back as ``Kelvin`` objects too). The constructor gets a
custom adjoint, as the notebook's ``@adjoint Kelvin(t) = Kelvin(t), Δ -> (Δ.value,)``; a
two-layer dense model then predicts the temperature at one place from ten places around the
city, and a few steps of gradient descent lower its loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import adcheck as ad


@dataclass
class Kelvin:
    """A temperature in kelvin; ``value`` is a float array."""

    value: Any

    def __sub__(self, other: Kelvin | Celsius) -> Kelvin:
        return kelvin(self.value - as_kelvin(other).value)

    def __mul__(self, other: Kelvin) -> Kelvin:
        return kelvin(self.value * other.value)


@dataclass
class Celsius:
    """A temperature in degrees Celsius."""

    value: Any


def as_kelvin(t: Kelvin | Celsius) -> Kelvin:
    return t if isinstance(t, Kelvin) else kelvin(t.value + 273.15)


@ad.primitive
def kelvin(t):
    """Make a Kelvin from a float array (a primitive, so that its adjoint below is used)."""
    return Kelvin(t)


@ad.adjoint(kelvin)
def _kelvin_adjoint(t):
    # The cotangent of a Kelvin is a Kelvin: its value field is the cotangent of t.
    return kelvin(t), lambda d: (d.value,)


@dataclass
class Dense:
    W: Any
    b: Kelvin

    def __call__(self, x: Kelvin) -> Kelvin:
        return kelvin(self.W @ x.value + self.b.value[:, None])


rng = np.random.default_rng(0)
city_temps = Kelvin(273.15 + 20 * rng.random((10, 100)))   # 10 places, 100 measurements
target_temps = Celsius(20 * rng.random(100))               # the place of interest

W1, b1 = ad.param(rng.random((5, 10)) / 10), Kelvin(10 * rng.random(5))
W2, b2 = ad.param(rng.random((1, 5)) / 5), Kelvin(10 * rng.random(1))
model = [Dense(W1, b1), Dense(W2, b2)]


def predict(x: Kelvin) -> Kelvin:
    for layer in model:
        x = layer(x)
    return x


def loss() -> Any:
    d = predict(city_temps) - target_temps
    return np.sum((d * d).value) / target_temps.value.size


print("model(city_temps)[:3] =", [f"{t:.2f}K" for t in predict(city_temps).value[0, :3]])
print(f"loss = {float(loss()):.6g}K²")

# The custom adjoint of the constructor is proven like any rule.
print(ad.check_adjoint(kelvin, np.array([1.0, 2.0])).report().splitlines()[0])

p = ad.Params([W1, W2])
grads = ad.gradient(loss, p)
print("grads[W1] has shape", grads[W1].shape, "; grads[W2] =", grads[W2].round(1))

# The gradient agrees with central differences of the loss in W2's entries.
for j in range(5):
    h = 1e-4
    W2[0, j] += h
    up = float(loss())
    W2[0, j] -= 2 * h
    down = float(loss())
    W2[0, j] += h
    assert np.isclose(grads[W2][0, j], (up - down) / (2 * h), rtol=1e-6)

losses = [float(loss())]
for step in range(5):
    grads = ad.gradient(loss, p)
    for w in p:
        w -= 1e-6 * grads[w]
    losses.append(float(loss()))
    print(f"step {step + 1}: loss {losses[-1]:.6g}K²")
assert losses[-1] < losses[0] and all(b < a for a, b in zip(losses, losses[1:]))
