"""Rules whose domains yield nothing to check (for the CLI tests)."""

import numpy as np
from hypothesis import strategies as st

import adcheck as ad


@ad.primitive
def never_drawn(x):
    return np.sqrt(x)


def _impossible(draw):
    # a filter that rejects every draw: hypothesis cannot generate an input
    return (draw(st.floats(0, 1).filter(lambda v: v > 2)),), {}


@ad.adjoint(never_drawn, domain=ad.domains.custom(_impossible, "impossible"))
def _never_drawn(x):
    return np.sqrt(x), lambda dy: (dy / (2 * np.sqrt(x)),)


@ad.primitive
def log_of_negatives(x):
    return np.log(x)


@ad.adjoint(log_of_negatives, domain=ad.domains.interval(-5, -1))
def _log_of_negatives(x):
    return np.log(x), lambda dy: (dy / x,)
