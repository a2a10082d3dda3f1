"""``adcheck trace``: print the Wengert list and the gradient of a function, to learn and debug.

    $ adcheck trace examples/rules_ok.py:softplus 1.5
    $ adcheck trace mypkg.model:loss '[1.0, 2.0]' 3
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import Any

import click
import numpy as np
from rich.text import Text

from adcheck.tree import flatten, is_container, leaf_paths

from .collect import collect, import_target

__all__ = ["trace_command", "parse_argument", "format_value"]


def parse_argument(text: str) -> Any:
    """A command-line argument as a Python literal; lists and tuples become float arrays.

    >>> parse_argument("4.0"), parse_argument("[1, 2]")
    (4.0, array([1., 2.]))
    """
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise click.BadParameter(
            f"{text!r} is not a Python literal: write a number (4.0) or a list ([1.0, 2.0])",
            param_hint="ARGS",
        ) from None
    if isinstance(value, (list, tuple)):
        try:
            return np.asarray(value, dtype=float)
        except (ValueError, TypeError):
            raise click.BadParameter(
                f"{text!r} is not a list of numbers", param_hint="ARGS"
            ) from None
    return value


def format_value(value: Any) -> str:
    """Numbers in full precision (the shortest text that reads back the same float).

    >>> format_value(np.float64(-38.30637921293538)), format_value(np.array([0.5, 2.0]))
    ('-38.30637921293538', '[0.5, 2.0]')
    """
    if value is None:
        return "None (not differentiable)"
    if isinstance(value, (float, int, np.generic)) or np.ndim(value) == 0:
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return repr(value)
    if isinstance(value, np.ndarray):
        return np.array2string(
            value, separator=", ", formatter={"float_kind": lambda v: repr(float(v))}
        )
    return repr(value)


def _resolve(spec: str) -> Callable:
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise click.BadParameter(
            f"{spec!r}: write MODULE:FUNCTION, e.g. mypkg.model:loss or examples/f.py:f",
            param_hint="FUNCTION",
        )
    found = collect(module_name)  # imports it once, and registers its rules
    if found.error is not None:
        raise _ImportFailed(found.error.traceback)
    obj: Any = import_target(module_name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise click.BadParameter(f"{module_name} has no attribute {attr!r}",
                                     param_hint="FUNCTION")
        obj = getattr(obj, part)
    if not callable(obj):
        raise click.BadParameter(f"{spec} is not callable", param_hint="FUNCTION")
    return obj


class _ImportFailed(Exception):
    pass


def _argument_names(f: Callable, n: int) -> list[str]:
    try:
        params = [
            p.name
            for p in inspect.signature(f).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) >= n:
        return params[:n]
    return ["x"] if n == 1 else [f"x{i + 1}" for i in range(n)]


@click.command("trace")
@click.argument("function", metavar="MODULE:FUNCTION")
@click.argument("args", nargs=-1, metavar="ARGS...")
@click.option("--gradient/--no-gradient", default=True, show_default=True,
              help="Also print the gradient (the Jacobian for a non-scalar output).")
@click.pass_context
def trace_command(
    ctx: click.Context, function: str, args: tuple[str, ...], gradient: bool
) -> None:
    """Print the Wengert list of FUNCTION at ARGS, its value and its gradient.

    MODULE is a dotted module name or a .py file; each ARG is a Python literal (4.0,
    [1.0, 2.0]); lists become float arrays. Importing MODULE registers its adjoint rules,
    so its primitives appear as single lines of the list.

    \b
    Example:
        adcheck trace mypkg.model:f 4.0
    """
    import adcheck as ad

    from .verify import console_for

    out, err = console_for(), console_for(stderr=True)
    values = tuple(parse_argument(a) for a in args)
    try:
        f = _resolve(function)
    except _ImportFailed as exc:
        err.print(Text(f"cannot import {function.rpartition(':')[0]}", style="bold red"))
        err.print(Text(str(exc)))
        ctx.exit(2)

    names = _argument_names(f, len(values))
    call = f"{getattr(f, '__name__', 'f')}({', '.join(args)})"
    try:
        recorded = ad.trace(f, *values)
        out.print(Text(f"Wengert list of {call}:", style="bold"))
        for line in str(recorded).splitlines() or ["(no operations were recorded)"]:
            out.print(Text(f"  {line}"))
        out.print()
        leaves, _ = flatten(recorded.value)
        single = len(leaves) == 1 and not is_container(recorded.value)
        paths = ["value"] if single else leaf_paths(recorded.value, "value")
        for path, leaf in zip(paths, leaves):
            out.print(Text(f"{path} = {format_value(leaf)}"))
        if gradient:
            for i, (path, leaf) in enumerate(zip(paths, leaves)):
                # one output at a time, so a tuple or dict of outputs gets one Jacobian each
                def output(*a: Any, _i: int = i) -> Any:
                    return flatten(f(*a))[0][_i]

                if np.ndim(leaf) == 0:
                    grads, word = ad.gradient(output, *values), "gradient"
                else:
                    grads, word = ad.jacobian(output, *values), "jacobian"
                of = "" if single else f" of {path}"
                for name, g in zip(names, grads):
                    out.print(Text(f"{word}{of} with respect to {name} = {format_value(g)}"))
    except Exception as exc:  # noqa: BLE001  (show why it cannot be differentiated; exit 1)
        err.print(Text(f"{type(exc).__name__}: {exc}", style="bold red"))
        ctx.exit(1)
