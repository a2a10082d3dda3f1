"""Gradients of a linear layer n(x) = W x + b, with respect to the input and to parameters.

    python examples/02_linear_layer.py

``ad.param`` marks an array as a parameter and ``ad.Params`` collects parameters, as
Zygote's ``Params``: ``ad.gradient(loss, params)`` differentiates a function of no arguments
with respect to every parameter it reads and returns ``ad.Grads``, indexed by the parameter.
"""

import numpy as np

import adcheck as ad

# The notebook's random W and b, copied from its output so that the numbers match.
W = ad.param([[0.12079695301991178, 0.6115448541502737, 0.09264696995665744],
              [0.8365067171503635, 0.4627129686376006, 0.8736777085385143]])
b = ad.param([0.24506599042207244, 0.4655635777856233])


def net(x):
    return W @ x + b


def agg(n):
    return np.sum(n)  # a simple aggregation to a scalar loss


print("agg(net([1, 3, 2]))        =", agg(net(np.array([1, 3, 2]))))
dx = ad.gradient(lambda x: agg(net(x)), np.array([1.0, 2.0, 3.0]))
print("gradient w.r.t. x          =", dx)
print("sum(W, axis=0) (the same)  =", W.sum(axis=0))

p = ad.Params([W, b])
grads = ad.gradient(lambda: agg(net(np.array([1.0, 2.0, 3.0]))), p)
print("grads[W] =\n", grads[W])
print("grads[b] =", grads[b])
print("vec(grads[W]) (column-major, as Julia's vec) =", grads[W].ravel(order="F"))

alpha = 0.01
W -= alpha * grads[W]  # one step of gradient descent, in place
print("W after W .-= 0.01 .* grads[W] =\n", np.asarray(W))

# The notebook's printed gradient, to the last digit.
assert np.allclose(dx[0], [0.9573036701702753, 1.0742578227878743, 0.9663246784951718],
                   rtol=1e-15, atol=0)
assert np.array_equal(grads[W], [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
assert np.array_equal(grads[b], [1.0, 1.0])
assert np.allclose(np.asarray(W), [[0.110797, 0.591545, 0.062647],
                                   [0.826507, 0.442713, 0.843678]], atol=5e-7)
