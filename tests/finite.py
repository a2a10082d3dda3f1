"""Independent central differences for the tests: the ground truth that does not use adcheck.fd.

Tests compare adcheck's gradients with these, so a bug in adcheck's own finite differences
cannot hide a bug in a rule.
"""

import numpy as np

import adcheck as ad


def central_vjp(f, x, w, h=1e-6):
    """The gradient of ``sum(w * f(x))`` by central differences, one entry at a time."""
    x = np.array(x, dtype=np.float64)
    g = np.empty_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (np.sum(w * f(x + e)) - np.sum(w * f(x - e))) / (2 * h)
    return g


def central(f, x, h=1e-6):
    """The gradient of a scalar function ``f`` by central differences."""
    return central_vjp(f, x, 1.0, h)


def check_vjp(f, x):
    """adcheck's vector-Jacobian product of ``f`` at ``x`` against central differences, with a
    weight that tells every output entry apart (so a permuted cotangent is caught)."""
    y = f(x)
    w = np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))
    (g,) = ad.pullback(f, x)[1](w)
    assert np.shape(g) == np.shape(x)
    np.testing.assert_allclose(g, central_vjp(f, x, w), rtol=1e-6, atol=2e-7)
    return g
