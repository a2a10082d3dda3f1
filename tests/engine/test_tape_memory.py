"""What a tape keeps alive: gradient and pullback free an intermediate array once no pullback
needs it, and a long tape's records are untracked by the cyclic garbage collector."""

import gc
import weakref

import numpy as np

import adcheck as ad
from adcheck.engine.api import _pullback
from adcheck.engine.tape import Tape
from adcheck.engine.tracer import strip


@ad.primitive
def double(x):
    return 2.0 * x


@ad.adjoint(double)
def _double(x):
    return double(x), lambda dy: (2.0 * dy,)


@ad.primitive
def total(x):
    return np.sum(x)


seen = {}


@ad.adjoint(total)
def _total(x):
    shape = np.shape(x)  # the pullback needs only the shape, not x

    def back(dy):
        seen["alive during the sweep"] = seen["ref"]() is not None
        return (np.full(shape, dy),)

    return total(x), back


def f(x):
    y = double(x)
    seen["ref"] = weakref.ref(strip(y))
    return total(y)


def test_gradient_frees_an_intermediate_no_pullback_needs():
    x = np.arange(3.0)
    assert ad.gradient(f, x)[0].tolist() == [2.0, 2.0, 2.0]
    assert seen["alive during the sweep"] is False


def test_pullback_frees_it_too_and_can_be_called_again():
    x = np.arange(3.0)
    y, back = ad.pullback(f, x)
    assert float(y) == 6.0
    assert back(1.0)[0].tolist() == [2.0, 2.0, 2.0]
    assert seen["alive during the sweep"] is False
    assert back(2.0)[0].tolist() == [4.0, 4.0, 4.0]


def test_a_tape_that_keeps_arguments_keeps_it_for_the_checker():
    tape = Tape()
    _, _, sweep = _pullback(f, (np.arange(3.0),), False, tape)
    sweep(np.float64(1.0))
    assert seen["alive during the sweep"] is True
    assert [e.args[0].tolist() for e in tape.entries] == [[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]]
    assert str(tape) == "y1 = double(x)\ny2 = total(y1)"


def test_a_tape_without_arguments_prints_dots_for_constants():
    tape = Tape(keep_args=False)
    _pullback(lambda x: np.stack([x, np.sin(x)]).sum() * 2.0, (np.ones(2),), False, tape)
    assert str(tape).splitlines() == [
        "y1 = sin(x)", "y2 = stack([x, y1])", "y3 = sum(y2)", "y4 = multiply(y3, ...)"]


def test_records_of_ufunc_calls_are_untracked_by_the_collector_after_two_passes():
    tape = Tape(keep_args=False)
    _pullback(lambda x: np.sin(x * 1.5) + x, (np.ones(2),), False, tape)
    assert len(tape.records) == 3
    gc.collect()
    gc.collect()
    assert [gc.is_tracked(r) for r in tape.records] == [False, False, False]


@ad.primitive
def spread(x):
    return np.sum(x)


@ad.adjoint(spread)
def _spread(x):
    shape = np.shape(x)
    return spread(x), lambda dy: (np.broadcast_to(dy, shape),)  # a read-only view, no copy


def test_a_read_only_cotangent_reaches_the_caller_as_a_writable_array_of_its_own():
    x = np.arange(3.0)
    (g,) = ad.gradient(lambda x: spread(x) * 3.0, x)
    assert g.tolist() == [3.0, 3.0, 3.0] and g.flags.writeable and g.base is None
    y, back = ad.pullback(spread, np.ones((2, 2)))
    (g,) = back(np.float64(2.0))
    assert g.tolist() == [[2.0, 2.0], [2.0, 2.0]] and g.flags.writeable
    g[0, 0] = 5.0  # the caller may write into it
    assert back(np.float64(2.0))[0].tolist() == [[2.0, 2.0], [2.0, 2.0]]
