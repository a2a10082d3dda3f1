"""Threads: each thread's gradient is its own (issue 9, case 9).

The engine keeps no state shared between differentiations except the rule registry: tapes
belong to one differentiation, and the parameters being recorded are per thread. Switching
threads every few microseconds makes the interleavings that used to lose gradients likely.
"""

import sys
import threading

import numpy as np
import pytest

import adcheck as ad
from tests.finite import central

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
V = np.array([1.0, -2.0, 0.5])


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(work, n_threads=4):
    errors, results = [], {}

    def run(k):
        try:
            results[k] = work(k)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_threads_taking_gradients_over_the_same_parameter_each_get_theirs(fast_switching):
    W = ad.param(X.copy())

    def loss(scale):
        return np.sum(np.tanh(W @ V) * scale) + np.sum(W * W) * scale

    def work(k):
        scale = float(k + 1)
        return [ad.gradient(lambda: loss(scale), ad.Params([W]))[W] for _ in range(30)]

    results = run_threads(work)
    for k, grads in results.items():
        s = k + 1.0
        expected = central(lambda w, s=s: np.sum(np.tanh(w @ V) * s) + np.sum(w * w) * s, X)
        for g in grads:
            np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)


def test_a_thread_using_a_parameter_as_a_constant_while_another_differentiates_it(
        fast_switching):
    W = ad.param(X.copy())
    expected_w = central(lambda w: np.sum(np.sin(w) * 2.0), X)
    expected_v = central(lambda v: np.sum((X @ v) ** 2), V)

    def work(k):
        out = []
        for _ in range(30):
            if k % 2:
                out.append(ad.gradient(lambda: np.sum(np.sin(W) * 2.0), ad.Params([W]))[W])
            else:  # W is a constant here: only v is differentiated
                out.append(ad.gradient(lambda v: np.sum((W @ v) ** 2), V)[0])
        return out

    for k, grads in run_threads(work).items():
        for g in grads:
            np.testing.assert_allclose(g, expected_w if k % 2 else expected_v, rtol=1e-6,
                                       atol=1e-8)


def test_threads_with_pullbacks_and_in_place_updates(fast_switching):
    def f(x):
        h = x * 1.0
        h *= h  # unseen by anyone else: works as h = h * h
        return np.sum(np.exp(h) * V)

    def work(k):
        x = X[k % 2] + 0.1 * k
        y, back = ad.pullback(f, x)
        return x, [back(1.0)[0] for _ in range(20)]

    for x, grads in run_threads(work).values():
        for g in grads:
            np.testing.assert_allclose(g, central(f, x), rtol=1e-6, atol=1e-8)
