"""Plain functions for `adcheck trace`."""

import numpy as np


def s(x):
    return np.sin(x**2) * 5


def weighted(w, x):
    return np.tanh(w * x).sum()
