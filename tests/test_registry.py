"""The registry: user rules override built-ins, scoped overrides restore them."""

import numpy as np

import adcheck as ad
from adcheck import registry


def test_user_rule_overrides_builtin_and_scope_restores_it():
    x = np.array([0.1, 0.2])
    builtin = ad.gradient(lambda x: np.sin(x).sum(), x)[0]
    with ad.scoped_rules():

        @ad.adjoint(np.sin)
        def _(x):
            return np.sin(x), lambda dy: (dy * 10.0,)

        assert not registry.lookup(np.sin).builtin
        np.testing.assert_array_equal(ad.gradient(lambda x: np.sin(x).sum(), x)[0], [10.0, 10.0])
    assert registry.lookup(np.sin).builtin
    np.testing.assert_array_equal(ad.gradient(lambda x: np.sin(x).sum(), x)[0], builtin)
    np.testing.assert_allclose(builtin, np.cos(x))


def test_rules_listing_and_metadata():
    @ad.primitive
    def twice(x):
        return 2 * x

    before = registry.rules(include_builtin=False)
    with ad.scoped_rules():

        @ad.adjoint(twice, domain=ad.domains.positive())
        def twice_rule(x):
            return twice(x), lambda dy: (2 * dy,)

        user = [r for r in registry.rules(include_builtin=False) if r not in before]
        assert [r.name for r in user] == ["twice"]
        assert user[0].domain == ad.domains.positive()
        assert user[0].source.endswith(f"test_registry.py:{twice_rule.__code__.co_firstlineno}")
        assert ad.gradient(twice, 3.0) == (2.0,)
    assert registry.rules(include_builtin=False) == before


def test_every_builtin_rule_declares_a_domain():
    missing = [r.name for r in registry.rules() if r.builtin and r.domain is None]
    assert missing == []


def test_lazy_cotangents_are_computed_only_for_differentiated_arguments():
    calls = []

    @ad.primitive
    def scale(x, k):
        return x * k

    def lazy(name, value):
        def thunk():
            calls.append(name)
            return value

        return thunk

    with ad.scoped_rules():

        @ad.adjoint(scale)
        def _(x, k):
            return scale(x, k), lambda dy: (lazy("x", dy * k), lazy("k", (dy * x).sum()))

        (g,) = ad.gradient(lambda x: scale(x, 3.0).sum(), np.ones(2))
        np.testing.assert_array_equal(g, [3.0, 3.0])
        assert calls == ["x"]
        gx, gk = ad.gradient(lambda x, k: scale(x, k).sum(), np.array([1.0, 2.0]), 3.0)
        assert gk == 3.0 and calls == ["x", "x", "k"]
