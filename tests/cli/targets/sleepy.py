"""A rule that hangs (sleeps far past any --timeout), next to a quick correct one."""

import time

import adcheck as ad


@ad.primitive
def slow(x):
    return 3 * x


@ad.adjoint(slow)
def _slow(x):
    time.sleep(60)
    return slow(x), lambda dy: (3 * dy,)


@ad.primitive
def quick(x):
    return 3 * x


@ad.adjoint(quick)
def _quick(x):
    return quick(x), lambda dy: (3 * dy,)
