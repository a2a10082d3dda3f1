"""Derivatives of scalar functions: the notebook's first cells.

    python examples/01_derivatives.py

``ad.derivative(f)`` is Zygote's ``f'`` (a scalar function of one scalar); ``ad.gradient``
returns one derivative per positional argument, as a tuple.
"""

import adcheck as ad


def f(x):
    return 5 * x + 3


def df(x):
    return 5  # the exact derivative, by hand


def g(x, y):
    return 2 * x + 3 * y


print("f(10), df(10)       =", (f(10), df(10)))
print("f(10), f'(10)       =", (f(10), ad.derivative(f)(10)))
print("gradient(g, 1, 1)   =", ad.gradient(g, 1, 1))
print("gradient(f, 10)     =", ad.gradient(f, 10))

# Integer inputs are promoted to float: the derivative of 5x + 3 is 5.0 everywhere.
assert (f(10), ad.derivative(f)(10)) == (53, 5.0)
assert ad.gradient(g, 1, 1) == (2.0, 3.0)
assert ad.gradient(f, 10) == (5.0,)
