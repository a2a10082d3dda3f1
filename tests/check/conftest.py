"""Helpers for the checker's tests: rules registered on fresh primitives, never leaking."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import adcheck as ad


def make_primitive(fn: Callable, back: Callable, name: str, domain=None) -> Callable:
    """A fresh ``@ad.primitive`` computing ``fn`` whose rule's pullback is ``back(dy, y, *args)``.

    Registered inside the caller's ``ad.scoped_rules()`` block (the fixture below).
    """

    def body(*args, **kwargs):
        return fn(*args, **kwargs)

    body.__name__ = body.__qualname__ = name
    body.__wrapped__ = fn  # so that verify sees fn's arguments (or a ufunc's nin)
    prim = ad.primitive(body)

    def rule(*args, **kwargs):
        y = fn(*args, **kwargs)
        return y, lambda dy: back(dy, y, *args, **kwargs)

    ad.adjoint(prim, domain=domain)(rule)
    return prim


@pytest.fixture
def scoped():
    """Every rule registered during the test is removed afterwards."""
    with ad.scoped_rules():
        yield make_primitive
