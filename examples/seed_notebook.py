"""The notebook adcheck grew from ("Automatic differentiation with Zygote"), in Python.

Each section prints what the Julia notebook printed, with the same numbers. Run it:

    python examples/seed_notebook.py
"""

from dataclasses import dataclass

import numpy as np

import adcheck as ad


def section(title: str) -> None:
    print(f"\n## {title}")


section("Simple example")
f = lambda x: 5 * x + 3
print("f(10), f'(10) =", (f(10), ad.derivative(f)(10)))
g = lambda x, y: 2 * x + 3 * y
print("gradient(g, 1, 1) =", ad.gradient(g, 1, 1))
print("gradient(f, 10) =", ad.gradient(f, 10))

section("A single neural layer")
# The notebook's random W and b, copied from its output so that the numbers match.
W = ad.param([[0.12079695301991178, 0.6115448541502737, 0.09264696995665744],
              [0.8365067171503635, 0.4627129686376006, 0.8736777085385143]])
b = ad.param([0.24506599042207244, 0.4655635777856233])
net = lambda x: W @ x + b
agg = lambda n: np.sum(n)
print("agg(net([1, 3, 2])) =", agg(net(np.array([1, 3, 2]))))
print("gradient w.r.t. x   =", ad.gradient(lambda x: agg(net(x)), np.array([1, 2, 3])))
print("sum(W, dims=1)      =", W.sum(axis=0))
p = ad.Params([W, b])
grads = ad.gradient(lambda: agg(net(np.array([1.0, 2.0, 3.0]))), p)
print("grads[W] =\n", grads[W])
print("vec(grads[W]) =", grads[W].ravel(order="F"), " vec(grads[b]) =", grads[b])
alpha = 0.01
W -= alpha * grads[W]
print("after W .-= α .* grads[W]:\n", W)

section("Under the hood: s(x) = 5 sin(x^2)")


def w1(x):
    return x**2


def w2(x):
    return np.sin(x)


def w3(x):
    return x * 5.0


def s(x):
    y1 = w1(x)
    y2 = w2(y1)
    return w3(y2)


print("s(4.0), gradient(s, 4.0)[0] =", (s(4.0), ad.gradient(s, 4.0)[0]))
print("Wengert list of s:")
print(ad.trace(s, 4.0))
y1_val, y1_back = ad.pullback(w1, 4.0)
y2_val, y2_back = ad.pullback(w2, y1_val)
y3_val, y3_back = ad.pullback(w3, y2_val)
print("y3_back(1.0) =", y3_back(1.0))
print("y2_back(y3_back(1.0)[0]) =", y2_back(y3_back(1.0)[0]))
print("y1_back(y2_back(y3_back(1.0)[0])[0])[0] =", y1_back(y2_back(y3_back(1.0)[0])[0])[0])

section("Vector functions: h(x) = g(f(x))")


def fv(x):
    return np.stack([x[0] + x[1], x[0] * x[1]])


def df(x):
    return np.array([[1.0, 1.0], [x[1], x[0]]])


def gv(y):
    return np.stack([np.exp(y[0] + y[1]), np.log(y[0]) + np.log(y[1])])


def h(x):
    return gv(fv(x))


x_val = np.array([1.0, 2.0])
f_val, f_back = ad.pullback(fv, x_val)
print("f(x) =", f_val, " f_back([1, 0]) =", f_back([1.0, 0.0]), " f_back([0, 1]) =",
      f_back([0.0, 1.0]))
h_val, h_back = ad.pullback(h, x_val)
print("h(x) =", h_val, " h_back([0, 1]) =", h_back([0.0, 1.0]))
y1_val, y1_back = ad.pullback(fv, x_val)
y2_val, y2_back = ad.pullback(gv, y1_val)
print("y1_back(y2_back([0, 1])[0]) =", y1_back(y2_back([0.0, 1.0])[0]))

section("Custom adjoints")


@ad.primitive
def add(a, b):
    return a + b


@ad.adjoint(add)
def _(a, b):
    print("I'll be back!?")
    return add(a, b), lambda d: (d, d)


add_val, add_back = ad.pullback(add, 2, 3)
print("add_back(1) =", add_back(1), " add(2, 3) =", add(2, 3))

f_prim = ad.primitive(fv)


@ad.adjoint(f_prim)
def _(x):
    return f_prim(x), lambda d: (d @ df(x),)


f_val, f_back = ad.pullback(f_prim, x_val)
print("f_back([0, 1]) =", f_back(np.array([0.0, 1.0])))

section("Gradcheck by hand with finite differences")
method = ad.central_fdm(4, 1)
print(method)
delta = np.array([0.16439920092321825, 0.6419096254557639])
Jf = ad.fd.jacobian(method, fv, x_val)[0]
print("Jf =\n", Jf)
print("Δ'Jf =", delta @ Jf, " f_back(Δ) =", f_back(delta)[0])
print("isapprox:", np.allclose(delta @ Jf, f_back(delta)[0], atol=1e-3))

section("Closures and callable objects")
addg = (lambda b: (lambda a: a + b))(3)
addg_val, addg_back = ad.pullback(addg, 4, include_fn=True)
print("addg_back(1) =", addg_back(1))


@dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return self.W @ x + self.b[:, None]


rng = np.random.default_rng(0)
lin = Linear(rng.random((6, 10)), rng.random(6))
l_val, l_back = ad.pullback(lin, rng.random((10, 5)), include_fn=True)
d_lin, dx = l_back(rng.random((6, 5)))
print("l_back(Δ)[0] is a Linear with W of shape", d_lin.W.shape, "and b =", d_lin.b.round(4))
