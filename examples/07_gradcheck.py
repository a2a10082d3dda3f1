"""Is my adjoint right? Finite differences by hand, then adcheck's checkers.

    python examples/07_gradcheck.py

The notebook checks an adjoint with FiniteDifferences.jl: a high-order central method, the
numerical Jacobian, and ``Δᵀ J`` against the pullback. adcheck does the same by hand, then
automatically: ``check_adjoint`` (one rule at given inputs, with a tolerance from the finite
difference's own error estimate) and ``verify`` (property-based: hypothesis draws inputs in
the rule's domain and shrinks a failure to the smallest input).
"""

import numpy as np

import adcheck as ad

method = ad.central_fdm(4, 1)
print(method)
assert list(method.grid) == [-2, -1, 1, 2]
assert np.allclose(method.coefs, [1 / 12, -2 / 3, 2 / 3, -1 / 12], rtol=1e-14)


@ad.primitive
def f(x):
    return np.stack([x[0] + x[1], x[0] * x[1]])


def pairs(draw):
    """The domain of f: one vector of two floats (f reads x[0] and x[1] only)."""
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    return (draw(arrays(np.float64, 2, elements=st.floats(-10, 10))),), {}


@ad.adjoint(f, domain=ad.domains.custom(pairs, "a vector of two floats"))
def _(x):
    return f(x), lambda d: (d @ np.array([[1.0, 1.0], [x[1], x[0]]]),)


x_val = np.array([1.0, 2.0])
delta = np.array([0.16439920092321825, 0.6419096254557639])  # the notebook's rand(2)
Jf = ad.fd.jacobian(method, f, x_val)[0]
f_val, f_back = ad.pullback(f, x_val)
print("Jf =\n", Jf)
print("Δᵀ Jf      =", delta @ Jf)
print("f_back(Δ)  =", f_back(delta)[0])
print("isapprox(atol=1e-3):", np.allclose(delta @ Jf, f_back(delta)[0], atol=1e-3))
assert np.allclose(delta @ Jf, [1.44822, 0.806309], atol=5e-6)
assert np.allclose(delta @ Jf, f_back(delta)[0], atol=1e-12)

# The same, automatically: the rule against finite differences at x_val ...
print(ad.check_adjoint(f, x_val).report().splitlines()[0])
# ... and over many inputs drawn from its domain.
print(ad.verify(f, max_examples=30, seed=0).report().splitlines()[0])


# A deliberately wrong adjoint: the second row of the Jacobian has x[0] and x[1] swapped.
@ad.primitive
def f_wrong(x):
    return np.stack([x[0] + x[1], x[0] * x[1]])


@ad.adjoint(f_wrong, domain=ad.domains.custom(pairs, "a vector of two floats"))
def _(x):
    return f_wrong(x), lambda d: (d @ np.array([[1.0, 1.0], [x[0], x[1]]]),)


result = ad.check_adjoint(f_wrong, x_val, raise_exception=False)
print("\ncheck_adjoint of the wrong rule:\n" + result.report())
assert not result.passed
result = ad.verify(f_wrong, max_examples=30, seed=0, raise_exception=False)
print("\nverify of the wrong rule:\n" + result.report())
assert not result.passed
