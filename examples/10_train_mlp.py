"""Train a two-layer tanh network by gradient descent on a toy regression problem.

    python examples/10_train_mlp.py [--plot loss.png]

The model's weights are ``ad.param`` arrays collected in ``ad.Params``; each step takes
``ad.gradient`` of the mean squared error with respect to all of them and updates them in
place. The loss curve is saved as a PNG when matplotlib is installed (``--plot FILE``).
"""

import sys

import numpy as np

import adcheck as ad

rng = np.random.default_rng(0)
X = np.linspace(-2, 2, 64)[None, :]           # 1 feature, 64 samples
Y = np.sin(1.5 * X) + 0.05 * rng.standard_normal(X.shape)

hidden = 16
W1 = ad.param(rng.standard_normal((hidden, 1)))
b1 = ad.param(np.zeros((hidden, 1)))
W2 = ad.param(rng.standard_normal((1, hidden)) / np.sqrt(hidden))
b2 = ad.param(np.zeros((1, 1)))
params = ad.Params([W1, b1, W2, b2])


def model(x):
    return W2 @ np.tanh(W1 @ x + b1) + b2


def loss():
    return np.mean((model(X) - Y) ** 2)


# The engine's gradient of the loss agrees with finite differences before training starts.
ad.gradcheck(lambda w1: np.mean((W2 @ np.tanh(w1 @ X + b1) + b2 - Y) ** 2), np.asarray(W1))

losses = []
rate = 0.05
for step in range(301):
    grads = ad.gradient(loss, params)
    losses.append(float(loss()))
    for p in params:
        p -= rate * grads[p]
    if step % 50 == 0:
        print(f"step {step:3d}  loss {losses[-1]:.5f}")

assert losses[-1] < 0.1 * losses[0], (losses[0], losses[-1])
assert all(b <= a * 1.05 for a, b in zip(losses, losses[1:])), "the loss went up"
print(f"loss fell from {losses[0]:.4f} to {losses[-1]:.4f}")

if "--plot" in sys.argv:
    path = sys.argv[sys.argv.index("--plot") + 1]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
    else:
        plt.semilogy(losses)
        plt.xlabel("step")
        plt.ylabel("mean squared error")
        plt.savefig(path, dpi=80)
        print("loss curve saved to", path)
