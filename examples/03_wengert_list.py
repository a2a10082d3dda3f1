"""Under the hood: the Wengert list of s(x) = 5 sin(x²), and its pullbacks composed by hand.

    python examples/03_wengert_list.py

adcheck records every primitive call on a tape; ``ad.trace`` shows it as the list of
assignments the notebook calls a Wengert list. Reverse mode walks that list backwards: each
pullback turns the derivative with respect to its output (a *sensitivity*) into the
derivative with respect to its input. Forward mode would walk it forwards, carrying
``dy_i/dx`` (a *perturbation*); reverse mode needs one sweep for all inputs of a scalar
function, which is why adcheck (as Zygote) differentiates in reverse.
"""

import numpy as np

import adcheck as ad


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


value, (grad,) = s(4.0), ad.gradient(s, 4.0)
print("s(4.0), gradient(s, 4.0)[0] =", (float(value), grad))
print("the Wengert list of s:")
print(ad.trace(s, 4.0))

s_val, s_back = ad.pullback(s, 4.0)
y1_val, y1_back = ad.pullback(w1, 4.0)
y2_val, y2_back = ad.pullback(w2, y1_val)
y3_val, y3_back = ad.pullback(w3, y2_val)
print("y3_val == s_val:", y3_val == s_val)
print("y3_back(1.0)                        =", tuple(map(float, y3_back(1.0))))
print("y2_back(y3_back(1.0)[0])            =", tuple(map(float, y2_back(y3_back(1.0)[0]))))
composed = y1_back(y2_back(y3_back(1.0)[0])[0])[0]
print("y1_back(y2_back(y3_back(1.0)[0])[0])[0] =", composed)

# The chain rule by hand: ds/dx = 5 cos(x²) · 2x.
assert value == -1.4395165833253265
assert grad == -38.30637921293538 == composed
assert np.isclose(grad, 5 * np.cos(16.0) * 8.0, rtol=1e-15)
assert y3_back(1.0) == (5.0,)
assert np.isclose(y2_back(y3_back(1.0)[0])[0], -4.788297401616923, rtol=1e-15)
