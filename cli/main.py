"""The ``adcheck`` command: a click group with one small command per module.

    adcheck verify TARGET...     check every adjoint rule a module registers
    adcheck list TARGET...       show those rules and their domains, without checking
    adcheck trace MOD:FN ARGS    print the Wengert list and the gradient of a function
    adcheck schema               print the JSON Schema of ``verify --format json``

Exit codes: 0 all good, 1 a rule is wrong, 2 a usage or import error.

>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["--version"]).output.startswith("adcheck, version")
True
"""

from __future__ import annotations

import json

import click

from .list import list_command
from .trace import trace_command
from .verify import verify_command

__all__ = ["cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adcheck", prog_name="adcheck")
def cli() -> None:
    """Reverse-mode AD for NumPy code, and a checker that proves adjoint rules right."""


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema that ``adcheck verify --format json`` follows.

    \b
    Example:
        adcheck schema > adcheck-verify.schema.json
    """
    from .output import JSON_SCHEMA

    click.echo(json.dumps(JSON_SCHEMA, indent=2))


cli.add_command(verify_command)
cli.add_command(list_command)
cli.add_command(trace_command)
cli.add_command(schema_command)


if __name__ == "__main__":  # pragma: no cover
    cli()
