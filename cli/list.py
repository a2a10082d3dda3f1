"""``adcheck list``: the rules a target registers and their domains, without checking them.

    adcheck list examples/rules_ok.py
    adcheck list --builtin --format json
"""

from __future__ import annotations

import json

import click
from rich.text import Text

from adcheck import registry

from .collect import BUILTIN, collect, expand_targets, matches
from .output import print_import_errors, rules_table

__all__ = ["list_command"]


@click.command("list")
@click.argument("targets", nargs=-1, metavar="TARGET...")
@click.option("--builtin", is_flag=True, help="Also list adcheck's own rules.")
@click.option("-k", "select", multiple=True, metavar="PATTERN",
              help="Only rules whose name matches (as in `adcheck verify -k`).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def list_command(
    ctx: click.Context, targets: tuple[str, ...], builtin: bool, select: tuple[str, ...],
    fmt: str,
) -> None:
    """List the adjoint rules that TARGET registers, where they are defined, their domains.

    An @ad.primitive that TARGET defines without registering an adjoint is listed as
    "primitive, no rule". Exit status: 0, or 2 when a target fails to import.

    \b
    Example:
        adcheck list examples/rules_ok.py
    """
    from .verify import console_for

    if not targets and not builtin:
        raise click.UsageError("give at least one TARGET, or --builtin")
    names = expand_targets(list(targets)) + ([BUILTIN] if builtin else [])
    names = list(dict.fromkeys(names))  # each target once
    collections = [collect(name) for name in names]
    entries = [e for c in collections for e in c.rules if matches(e, select)]
    code = 2 if any(c.error for c in collections) else 0

    if fmt == "json":
        rows = [
            {"id": e.id, "target": e.target, "name": e.name, "location": e.location,
             "domain": e.domain, "declared_domain": e.declared_domain, "kind": e.kind}
            for e in entries
        ]
        errors = [
            {"target": c.target, "message": c.error.message, "traceback": c.error.traceback}
            for c in collections if c.error
        ]
        click.echo(json.dumps({"rules": rows, "import_errors": errors}, indent=2))
        ctx.exit(code)

    out = console_for()
    print_import_errors(console_for(stderr=True), collections)
    for c in collections:
        mine = [e for e in entries if e.target == c.target]
        if not mine:
            continue
        table = rules_table(["Rule", "Defined at", "Domain", "Kind"],
                            title=c.target if len(collections) > 1 else None)
        for e in mine:
            kind = "adjoint" if e.kind == "adjoint" else "primitive, no rule"
            if e.rule is not None and registry.is_declaration(e.rule):
                kind = "non-differentiable"
            table.add_row(Text(e.name), Text(e.location or "?"), Text(e.domain), Text(kind))
        out.print(table)
        out.print()
    n = len(entries)
    out.print(f"{n} rule{'s' if n != 1 else ''}")
    ctx.exit(code)
