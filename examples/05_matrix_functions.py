"""Matrix functions: the pullback of a linear layer on a batch, n(X) = W X + b.

    python examples/05_matrix_functions.py

``X`` holds a batch of samples as columns. The cotangent ``Δ`` has the output's shape
(2×10), and the pullback gives a cotangent of ``X``'s shape (3×10). Vectorised, the
Jacobian of ``n`` is a Kronecker product, but the pullback never builds it: it is one
matrix product, ``Wᵀ Δ``.
"""

import numpy as np

import adcheck as ad

rng = np.random.default_rng(0)
W, b = rng.random((2, 3)), rng.random(2)


def n(X):
    return W @ X + b[:, None]


X_val = rng.random((3, 10))
n_val, n_back = ad.pullback(n, X_val)
delta = rng.random(n_val.shape)
(dX,) = n_back(delta)
print("n(X) has shape", n_val.shape, "; the cotangent Δ too:", delta.shape)
print("n_back(Δ)[0] has X's shape", dX.shape, "and equals Wᵀ Δ:", np.allclose(dX, W.T @ delta))

# The vectorised Jacobian (row-major vec): ∂ vec(n) / ∂ vec(X) = W ⊗ I₁₀.
J = ad.jacobian(n, X_val)[0].reshape(20, 30)
print("the full Jacobian is 20×30 and equals kron(W, I):", np.allclose(J, np.kron(W, np.eye(10))))

assert np.allclose(dX, W.T @ delta, rtol=1e-14)
assert np.allclose(J, np.kron(W, np.eye(10)), rtol=0, atol=0)
assert np.allclose(delta.ravel() @ J, dX.ravel(), rtol=1e-14)
