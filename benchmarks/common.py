"""What every benchmark shares: timing as users meet it, a realistic heap, peers, a header.

Timing: :func:`median_time` is the median of ordinary back-to-back calls with the cyclic
garbage collector running as usual (``timeit`` switches it off and a best-of-N hides what
the collector costs a tape of many small objects). The functions being compared are timed
in interleaved rounds, so a burst of load on this 2-core machine slows all of them alike,
each round in a new order, so that no function always follows the same other one.

Heap: :func:`realistic_heap` imports the peers (torch, jax) when they are installed and
allocates about 250,000 GC-tracked objects, as a real application's process holds, so that
full collections cost what they cost there.

>>> t = median_time({"noop": lambda: None}, rounds=3, min_seconds=1e-4)
>>> t["noop"] < 1e-3
True
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

_BALLAST: list = []


def realistic_heap(objects: int = 250_000) -> int:
    """Import the installed peers and keep ``objects`` small GC-tracked objects alive.

    Returns the number of objects the collector tracks afterwards.

    >>> realistic_heap(0) > 0
    True
    """
    import gc

    for name in ("torch", "jax"):
        peer(name)
    _BALLAST.extend([i, str(i)] for i in range(objects))
    return len(gc.get_objects())


def peer(name: str) -> Any:
    """The peer module ``name`` (torch, jax, autograd, ...), or None when it is not installed.

    >>> peer("no_such_module_here") is None
    True
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def median_time(fns: dict[str, Callable[[], Any]], rounds: int = 15,
                min_seconds: float = 0.02) -> dict[str, float]:
    """Median wall time of one call of each function, with the garbage collector on.

    Each round calls each function back to back enough times to fill ``min_seconds``; the
    rounds interleave the functions, in a new (seeded) order each round.

    >>> t = median_time({"sum": lambda: sum(range(100))}, rounds=3, min_seconds=1e-3)
    >>> 0 < t["sum"] < 1e-2
    True
    """
    calls = {}
    for name, fn in fns.items():
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < min_seconds / 4 or n == 0:
            fn()
            n += 1
        per_call = (time.perf_counter() - start) / n
        calls[name] = max(1, int(min_seconds / max(per_call, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    order = random.Random(0)  # a fixed seed: the same orders in every run
    for _ in range(rounds):
        # a new order each round, so that no function always runs in the same place (right
        # after another one, whose garbage and caches it would inherit)
        order.shuffle(names)
        for name in names:
            fn, n = fns[name], calls[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(s) for name, s in samples.items()}


def score(correct: bool, passed: bool) -> tuple[str, bool, bool]:
    """A checker's cell for one case: its text, whether it is a false alarm, and a miss.

    >>> score(True, False), score(False, True)
    (('FALSE ALARM', True, False), ('MISSED', False, True))
    """
    if correct:
        return ("ok" if passed else "FALSE ALARM"), not passed, False
    return ("caught" if not passed else "MISSED"), False, passed


def header(title: str) -> str:
    """The first lines of a benchmark's output: what, where, with which versions, when.

    >>> "numpy" in header("x")
    True
    """
    versions = [f"numpy {np.__version__}"]
    for name in ("autograd", "torch", "jax"):
        module = peer(name) if name != "autograd" else _autograd_version()
        if isinstance(module, str):
            versions.append(f"{name} {module}")
        elif module is not None:
            versions.append(f"{name} {getattr(module, '__version__', '?')}")
        else:
            versions.append(f"{name} missing")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return f"# {title}\n# {machine}; {', '.join(versions)}; {now}"


def _autograd_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("autograd") if peer("autograd") is not None else None
    except Exception:
        return None
