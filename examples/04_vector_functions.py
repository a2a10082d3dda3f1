"""Vector functions: Jacobians, pullbacks on unit cotangents, and h = g ∘ f.

    python examples/04_vector_functions.py

For a vector function the pullback takes a cotangent ``Δ`` with the output's shape and
returns ``Δᵀ J`` (one row of the Jacobian when ``Δ`` is a unit vector). ``ad.jacobian``
builds the whole Jacobian from one reverse sweep per output entry.
"""

import numpy as np

import adcheck as ad


def f(x):
    return np.stack([x[0] + x[1], x[0] * x[1]])


def df(x):  # f's Jacobian, by hand
    return np.array([[1.0, 1.0], [x[1], x[0]]])


def g(y):
    return np.stack([np.exp(y[0] + y[1]), np.log(y[0]) + np.log(y[1])])


def dg(y):  # g's Jacobian, by hand
    e = np.exp(y[0] + y[1])
    return np.array([[e, e], [1 / y[0], 1 / y[1]]])


def h(x):
    return g(f(x))


def dh(x):  # the chain rule: h'(x) = g'(f(x)) f'(x)
    return dg(f(x)) @ df(x)


x_val = np.array([1.0, 2.0])
f_val, f_back = ad.pullback(f, x_val)
print("f(x)            =", f_val)
print("df(x)           =\n", df(x_val))
print("f_back([1, 0])  =", f_back([1.0, 0.0]), "  (the first row of df)")
print("f_back([0, 1])  =", f_back([0.0, 1.0]), "  (the second row)")

h_val, h_back = ad.pullback(h, x_val)
y1_val, y1_back = ad.pullback(f, x_val)
y2_val, y2_back = ad.pullback(g, y1_val)
print("h(x)                        =", h_val)
print("h_back([0, 1])              =", h_back([0.0, 1.0]))
print("y1_back(y2_back([0, 1])[0]) =", y1_back(y2_back([0.0, 1.0])[0]))
print("dh(x)[1, :]                 =", dh(x_val)[1, :])
print("ad.jacobian(h, x)[0]        =\n", ad.jacobian(h, x_val)[0])

assert np.array_equal(f_back([1.0, 0.0])[0], [1.0, 1.0])
assert np.array_equal(f_back([0.0, 1.0])[0], [2.0, 1.0])
assert np.allclose(h_val, [148.4131591025766, 1.791759469228055], rtol=1e-15)
expected = [1.3333333333333333, 0.8333333333333333]  # the notebook's three equal answers
assert np.allclose(h_back([0.0, 1.0])[0], expected, rtol=1e-15)
assert np.allclose(y1_back(y2_back([0.0, 1.0])[0])[0], expected, rtol=1e-15)
assert np.allclose(dh(x_val)[1, :], expected, rtol=1e-15)
assert np.allclose(ad.jacobian(f, x_val)[0], df(x_val), rtol=1e-15)
assert np.allclose(ad.jacobian(h, x_val)[0], dh(x_val), rtol=1e-14)
