"""Gradient of a 3-layer MLP's loss, against a tight hand-written NumPy forward+backward.

Batch 256, layers 512-512-512-10, tanh, mean squared error, one BLAS thread. The data ``X``
is a constant: only the six weight and bias arrays are differentiated. Measured side by side
in one process with a realistic heap (peers imported, ~250k objects) and the GC on:

- hand-written NumPy (the limit), adcheck, autograd, torch eager, jax.jit (when installed);
- peak memory of one gradient (tracemalloc; NumPy reports its buffers to it) for adcheck
  and the hand-written version.

Target (issue 11): adcheck ≤ 1.10× the hand-written time; peak memory ≤ 1.05×.

Run: ``python benchmarks/mlp.py [--quick]`` or ``python -m benchmarks.mlp [--quick]``
"""

from __future__ import annotations

import argparse
import os
import tracemalloc

# One BLAS thread for every method (set before NumPy, torch or jax load their BLAS).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

try:  # run as python -m benchmarks.mlp (a package module) or as a script
    from .common import header, median_time, peer, realistic_heap  # noqa: E402
except ImportError:
    from common import header, median_time, peer, realistic_heap  # noqa: E402

import adcheck as ad  # noqa: E402


def make_problem(batch: int, sizes: tuple[int, ...], seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0]))
    Y = rng.standard_normal((batch, sizes[-1]))
    params = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        params += [rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), np.zeros(n_out)]
    return X, Y, tuple(params)


def loss(params, X, Y):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    d = h2 @ W3 + b3 - Y
    return np.mean(d * d)


def by_hand(params, X, Y):
    """The limit: forward saving activations, then the chain rule written out."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    d = h2 @ W3 + b3 - Y
    g3 = d * (2.0 / d.size)
    g2 = (g3 @ W3.T) * (1 - h2 * h2)
    g1 = (g2 @ W2.T) * (1 - h1 * h1)
    return (X.T @ g1, g1.sum(0), h1.T @ g2, g2.sum(0), h2.T @ g3, g3.sum(0))


def peers(params, X, Y) -> dict:
    fns = {}
    autograd = peer("autograd")
    if autograd is not None:
        import autograd.numpy as anp

        def loss_ag(p):
            W1, b1, W2, b2, W3, b3 = p
            h1 = anp.tanh(anp.dot(X, W1) + b1)
            h2 = anp.tanh(anp.dot(h1, W2) + b2)
            d = anp.dot(h2, W3) + b3 - Y
            return anp.mean(d * d)

        grad = autograd.grad(loss_ag)
        fns["autograd"] = lambda: grad(list(params))
    torch = peer("torch")
    if torch is not None:
        torch.set_num_threads(1)
        tp = [torch.tensor(p, requires_grad=True) for p in params]
        tX, tY = torch.tensor(X), torch.tensor(Y)

        def torch_grad():
            W1, b1, W2, b2, W3, b3 = tp
            h1 = torch.tanh(tX @ W1 + b1)
            h2 = torch.tanh(h1 @ W2 + b2)
            d = h2 @ W3 + b3 - tY
            return torch.autograd.grad(torch.mean(d * d), tp)

        fns["torch eager"] = torch_grad
    jax = peer("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def loss_jax(p, X, Y):
            W1, b1, W2, b2, W3, b3 = p
            h1 = jnp.tanh(X @ W1 + b1)
            h2 = jnp.tanh(h1 @ W2 + b2)
            d = h2 @ W3 + b3 - Y
            return jnp.mean(d * d)

        grad_jit = jax.jit(jax.grad(loss_jax))
        jp, jX, jY = [jnp.asarray(p) for p in params], jnp.asarray(X), jnp.asarray(Y)
        fns["jax.jit"] = lambda: [g.block_until_ready() for g in grad_jit(jp, jX, jY)]
    return fns


def peak_bytes(fn) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    args = parser.parse_args()
    realistic_heap(25_000 if args.quick else 250_000)
    batch, sizes = (16, (32, 32, 32, 10)) if args.quick else (256, (512, 512, 512, 10))
    X, Y, params = make_problem(batch, sizes)
    f = lambda p: loss(p, X, Y)

    (g_ad,) = ad.gradient(f, params)
    for a, b in zip(g_ad, by_hand(params, X, Y)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    fns = {"numpy by hand": lambda: by_hand(params, X, Y),
           "adcheck": lambda: ad.gradient(f, params)}
    fns.update(peers(params, X, Y))
    rounds, seconds = (3, 0.01) if args.quick else (15, 0.3)
    times = median_time(fns, rounds=rounds, min_seconds=seconds)

    print(header(f"MLP gradient, batch {batch}, layers {'-'.join(map(str, sizes))}, tanh, MSE"))
    limit = times["numpy by hand"]
    print(f"{'method':<16}{'ms':>10}{'x by hand':>11}")
    for name, t in times.items():
        print(f"{name:<16}{t * 1e3:>10.2f}{t / limit:>11.2f}")
    mem_ad = peak_bytes(lambda: ad.gradient(f, params))
    mem_hand = peak_bytes(lambda: by_hand(params, X, Y))
    print(f"peak memory: adcheck {mem_ad / 1e6:.1f} MB, by hand {mem_hand / 1e6:.1f} MB, "
          f"ratio {mem_ad / mem_hand:.2f} (target <= 1.05)")
    print(f"adcheck / by hand: {times['adcheck'] / limit:.2f} (target <= 1.10)")


if __name__ == "__main__":
    main()
