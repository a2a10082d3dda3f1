"""The examples in the docstrings of the example rule modules run (the package's own modules
are covered by tests/test_docstrings.py)."""

import doctest
import importlib
import importlib.util
import inspect
from pathlib import Path

import pytest

from adcheck import scoped_rules

ROOT = Path(__file__).resolve().parents[2]


def run_examples(module, objects) -> doctest.TestResults:
    """Run the examples of each object's docstring (unwrapped, so primitives count too)."""
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for obj in objects:
        name = getattr(obj, "__qualname__", module.__name__)
        for test in finder.find(obj, name, module=module, globs=dict(vars(module))):
            runner.run(test)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("file, examples", [("rules_ok.py", 6), ("rules_wrong.py", 2)])
def test_example_docstrings(file, examples):
    spec = importlib.util.spec_from_file_location(f"doctest_{file[:-3]}", ROOT / "examples" / file)
    module = importlib.util.module_from_spec(spec)
    with scoped_rules():  # importing registers the module's rules: keep them out of other tests
        spec.loader.exec_module(module)
        functions = [inspect.unwrap(v) for v in vars(module).values()
                     if inspect.isfunction(inspect.unwrap(v)) and v.__module__ == module.__name__]
        result = run_examples(module, functions)
    assert result.failed == 0 and result.attempted >= examples
