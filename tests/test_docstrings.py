"""Every docstring example in the package runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

from adcheck import scoped_rules


def _modules():
    # adcheck.rules and adcheck.cli live in their own folders (package-dir mapping), so each
    # package is walked on its own path.
    names = []
    for package in ("adcheck", "adcheck.rules", "adcheck.cli"):
        module = importlib.import_module(package)
        names.append(package)
        names += [info.name for info in pkgutil.walk_packages(module.__path__, package + ".")]
    return sorted(set(names))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with scoped_rules():  # examples that register rules must not leak them into other tests
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
