"""Closures and callable objects: gradients with respect to what a function holds.

    python examples/08_closures_and_structs.py

With ``include_fn=True`` the pullback returns ``(df, *dargs)``: ``df`` is the gradient with
respect to what the function closes over (a dict by variable name, as Zygote's named
tuple), or, for a callable object such as a neural-network layer, an object of the same
type whose fields hold their gradients.
"""

from dataclasses import dataclass

import numpy as np

import adcheck as ad

addg = (lambda b: (lambda a: a + b))(3)  # Julia: addg = let b = 3; a -> a + b end
addg_val, addg_back = ad.pullback(addg, 4, include_fn=True)
print("addg(4) =", addg_val, "  addg_back(1) =", addg_back(1))
assert addg_val == 7 and addg_back(1) == ({"b": 1.0}, 1.0)


@dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return self.W @ x + self.b[:, None]


@dataclass
class Embedding:
    W: np.ndarray

    def __call__(self, x):
        W = self.W
        return W @ x


rng = np.random.default_rng(0)
lin = Linear(rng.random((6, 10)), rng.random(6))
x = rng.random((10, 5))
delta = rng.random((6, 5))
l_val, l_back = ad.pullback(lin, x, include_fn=True)
d_lin, dx = l_back(delta)
print("l_back(Δ)[0] is a", type(d_lin).__name__, "with W of shape", d_lin.W.shape,
      "and b =", d_lin.b.round(4))
assert np.allclose(d_lin.W, delta @ x.T, rtol=1e-14)   # ∂/∂W of <Δ, W x + b> is Δ xᵀ
assert np.allclose(d_lin.b, delta.sum(axis=1), rtol=1e-14)
assert np.allclose(dx, lin.W.T @ delta, rtol=1e-14)

emb = Embedding(rng.random((4, 10)))
onehot = np.eye(10)[:, [2, 7, 7]]  # three tokens: 2, 7 and 7 again
e_val, e_back = ad.pullback(emb, onehot, include_fn=True)
d_emb, _ = e_back(np.ones((4, 3)))
print("Embedding: the gradient of W counts each token's uses per column:",
      d_emb.W[0].astype(int))
assert np.array_equal(d_emb.W, np.ones((4, 3)) @ onehot.T)
assert d_emb.W[0, 7] == 2.0 and d_emb.W[0, 2] == 1.0 and d_emb.W[0, 0] == 0.0
