"""The examples in the docstrings of the CLI, the plugin and the example rule modules run."""

import doctest
import importlib
import importlib.util
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WITH_EXAMPLES = ["collect", "run", "output", "verify", "trace", "main"]


def run_examples(module, objects) -> doctest.TestResults:
    """Run the examples of each object's docstring (unwrapped, so primitives count too)."""
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for obj in objects:
        name = getattr(obj, "__qualname__", module.__name__)
        for test in finder.find(obj, name, module=module, globs=dict(vars(module))):
            runner.run(test)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("name", [f"adcheck.cli.{m}" for m in WITH_EXAMPLES])
def test_cli_docstrings(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("file, examples", [("rules_ok.py", 6), ("rules_wrong.py", 2)])
def test_example_docstrings(file, examples):
    spec = importlib.util.spec_from_file_location(f"doctest_{file[:-3]}", ROOT / "examples" / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    functions = [inspect.unwrap(v) for v in vars(module).values()
                 if inspect.isfunction(inspect.unwrap(v)) and v.__module__ == module.__name__]
    result = run_examples(module, functions)
    assert result.failed == 0 and result.attempted >= examples
