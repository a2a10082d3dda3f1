"""Writing your own adjoints: Zygote's ``@adjoint``, in Python.

    python examples/06_custom_adjoints.py

``@ad.primitive`` makes a function opaque to the tracer: calls with traced inputs go through
its registered rule instead of its body. ``@ad.adjoint(fn)`` registers that rule: it takes
``fn``'s arguments and returns ``(value, pullback)``; the pullback takes the output's
cotangent and returns a tuple with one cotangent per positional argument (``None`` for an
argument that has none).
"""

import numpy as np

import adcheck as ad


@ad.primitive
def add(a, b):
    return a + b


with ad.scoped_rules():  # a rule registered here is removed when the block ends
    @ad.adjoint(add)
    def _(a, b):
        return add(a, b), lambda d: (d, d)

    add_val, add_back = ad.pullback(add, 2, 3)
    print("add_back(2) =", add_back(2))
    assert add_back(2) == (2, 2)


# The rule may run different code than the function: here it prints, then computes.
@ad.adjoint(add)
def _(a, b):
    print("I'll be back!?")
    return add(a, b), lambda d: (d, d)


add_val, add_back = ad.pullback(add, 2, 3)
print("add_back(1) =", add_back(1))
print("add(2, 3) =", add(2, 3), "(the function itself is untouched: nothing printed)")
assert add_back(1) == (1, 1) and add(2, 3) == 5


# A rule built from a hand-written Jacobian: the pullback is Δᵀ · J.
def df(x):
    return np.array([[1.0, 1.0], [x[1], x[0]]])


@ad.primitive
def f(x):
    return np.stack([x[0] + x[1], x[0] * x[1]])


@ad.adjoint(f)
def _(x):
    return f(x), lambda d: (d @ df(x),)


x_val = np.array([1.0, 2.0])
f_val, f_back = ad.pullback(f, x_val)
print("f_back([0, 1]) =", f_back(np.array([0.0, 1.0])))
assert np.array_equal(f_back(np.array([0.0, 1.0]))[0], [2.0, 1.0])

# Prove the rule right against finite differences (see 07_gradcheck.py for more).
print(ad.check_adjoint(f, x_val).report().splitlines()[0])
