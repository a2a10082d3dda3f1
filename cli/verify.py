"""``adcheck verify``: import targets, check each adjoint rule they register, report, exit.

    adcheck verify examples/rules_ok.py            # exit 0: every rule is right
    adcheck verify examples/rules_wrong.py         # exit 1: a report names the wrong rule
    adcheck verify mypkg.rules -k 'soft*' --seed 3 --format junit -o adcheck.xml
    adcheck verify --builtin --jobs 4              # adcheck's own rules, over 4 processes
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from .collect import BUILTIN, Collection, collect, expand_targets, matches
from .output import (
    dumps_json,
    exit_code,
    json_document,
    junit_xml,
    print_import_errors,
    print_text,
)
from .run import RuleOutcome, VerifyOptions, run_checks

__all__ = ["verify_command", "console_for"]

#: Width of text written to a pipe or a file, where no terminal says how wide it is.
PLAIN_WIDTH = 120


def console_for(file: object | None = None, stderr: bool = False) -> Console:
    """A rich console: colours and the terminal's width on a terminal, plain text elsewhere.

    >>> console_for(stderr=True).stderr
    True
    """
    console = Console(file=file, stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(file=file, stderr=stderr, highlight=False, width=PLAIN_WIDTH)
    return console


class SeedType(click.ParamType):
    """``--seed``: an integer, or ``random`` for a fresh seed per rule.

    >>> SeedType().convert("12", None, None), SeedType().convert("random", None, None)
    (12, 'random')
    """

    name = "seed"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int | str:
        if isinstance(value, int) or value == "random":
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is neither an integer nor 'random'", param, ctx)


def _collect_all(targets: tuple[str, ...], builtin: bool) -> list[Collection]:
    names = expand_targets(list(targets)) + ([BUILTIN] if builtin else [])
    names = list(dict.fromkeys(names))  # each target once
    return [collect(name) for name in names]


def _check_with_progress(
    entries: list, options: VerifyOptions, jobs: int, verbosity: int
) -> list[RuleOutcome]:
    """Run the checks; a progress bar on a terminal, a line per rule with ``-v`` elsewhere."""
    err = console_for(stderr=True)
    if err.is_terminal and verbosity >= 0 and len(entries) > 1:
        columns = (
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
        )
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("", total=len(entries))

            def advance(outcome: RuleOutcome) -> None:
                progress.update(task, advance=1, description=outcome.name)

            return run_checks(entries, options, jobs, advance)

    def announce(outcome: RuleOutcome) -> None:
        if verbosity >= 1:
            err.print(Text(f"{outcome.status:8} {outcome.id} ({outcome.duration:.2f} s)"))

    return run_checks(entries, options, jobs, announce)


@click.command("verify")
@click.argument("targets", nargs=-1, metavar="TARGET...")
@click.option("--builtin", is_flag=True, help="Also verify adcheck's own rules (all of rules/).")
@click.option("--max-examples", type=click.IntRange(min=1), default=100, show_default=True,
              help="Inputs hypothesis draws per rule.")
@click.option("--seed", type=SeedType(), default=None, metavar="INT|random",
              help="Seed for the input draws. Default: one derived from each rule's name, the "
                   "same in every run (CI cannot pass by luck); 'random': a fresh seed per "
                   "rule, to explore. A failure's report prints the seed that replays it.")
@click.option("--mode", type=click.Choice(["auto", "full", "fast"]), default="auto",
              show_default=True,
              help="full: whole Jacobian by finite differences; fast: dot-product probes.")
@click.option("--fdm-order", type=click.IntRange(min=2), default=None,
              help="Order of the central finite-difference method (default: the checker's).")
@click.option("--atol", type=click.FloatRange(min=0), default=None,
              help="Absolute tolerance added to the finite-difference error estimate.")
@click.option("--rtol", type=click.FloatRange(min=0), default=None,
              help="Relative tolerance added to the finite-difference error estimate.")
@click.option("--inconclusive", type=click.Choice(["fail", "warn"]), default="fail",
              show_default=True,
              help="A rule the finite differences could not decide: fail, or pass with a "
                   "warning (its verdict still reads INCONCLUSIVE).")
@click.option("--order", type=click.IntRange(min=1, max=2), default=1, show_default=True,
              help="2: also check second derivatives through each rule (its pullback's own "
                   "pullback against finite differences of the pullback); slower.")
@click.option("-k", "select", multiple=True, metavar="PATTERN",
              help="Only rules whose name contains PATTERN (or matches a glob such as "
                   "'soft*'; 'not PATTERN' excludes). Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True, help="Report format (json: see `adcheck schema`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=None,
              help="Write the report in --format to FILE; a text summary still goes to stdout.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Check rules in N processes.")
@click.option("--timeout", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds per rule before it is reported as a timeout (0: no limit).")
@click.option("-q", "--quiet", count=True, help="Only failures and the summary.")
@click.option("-v", "--verbose", count=True, help="Every rule's report and notes.")
@click.pass_context
def verify_command(
    ctx: click.Context,
    targets: tuple[str, ...],
    builtin: bool,
    max_examples: int,
    seed: int | str | None,
    mode: str,
    fdm_order: int | None,
    atol: float | None,
    rtol: float | None,
    inconclusive: str,
    order: int,
    select: tuple[str, ...],
    fmt: str,
    output: Path | None,
    jobs: int,
    timeout: float,
    quiet: int,
    verbose: int,
) -> None:
    """Check every adjoint rule that TARGET registers against finite differences.

    TARGET is a dotted module name (mypkg.rules), a .py file, or a folder of .py files.
    Each rule's inputs are drawn by hypothesis inside its declared domain (default inputs:
    real floats, small shapes and scalars, when it declares none); a failure is shrunk to
    the smallest failing input.

    Exit status: 0 when every rule passes, 1 when a rule fails (wrong, inconclusive unless
    --inconclusive warn, raises, times out, or a primitive has no rule), 2 on a usage error
    or when a target fails to import.

    \b
    Examples:
        adcheck verify examples/rules_ok.py
        adcheck verify mypkg.rules -k 'soft*' --seed 3 --format junit -o adcheck.xml
        adcheck verify --builtin --jobs 4
        adcheck verify --builtin --order 2 --jobs 2   # second derivatives too
    """
    if not targets and not builtin:
        raise click.UsageError("give at least one TARGET (module, .py file or folder), "
                               "or --builtin")
    verbosity = verbose - quiet
    options = VerifyOptions(
        max_examples=max_examples, seed=seed, mode=mode, fdm_order=fdm_order,
        atol=atol, rtol=rtol, timeout=timeout or None, inconclusive=inconclusive,
        order=order,
    )
    out = console_for()
    err = console_for(stderr=True)
    start = time.perf_counter()

    collections = _collect_all(targets, builtin)
    entries = [e for c in collections for e in c.rules if matches(e, select)]
    if not entries and not any(c.error for c in collections):
        what = f"no rule matches -k {' '.join(select)!r}" if select else "no adjoint rules found"
        where = ", ".join(c.target for c in collections) or ", ".join(targets)
        err.print(Text(f"error: {what} in {where}", style="bold red"))
        ctx.exit(2)

    outcomes = _check_with_progress(entries, options, jobs, verbosity)
    duration = time.perf_counter() - start
    code = exit_code(collections, outcomes)

    if fmt == "text":
        if output is None:
            print_text(out, collections, outcomes, duration, verbosity, options)
        else:
            with output.open("w", encoding="utf-8") as f:
                print_text(console_for(f), collections, outcomes, duration, verbosity, options)
            print_text(out, collections, outcomes, duration, min(verbosity, -1), options)
        ctx.exit(code)

    if fmt == "json":
        document = json_document(collections, outcomes, options, jobs, select, duration)
        text = dumps_json(document) + "\n"
    else:
        text = junit_xml(collections, outcomes, duration, options)
    if output is None:
        click.echo(text, nl=False)
        print_import_errors(err, collections)
    else:
        output.write_text(text, encoding="utf-8")
        print_text(out, collections, outcomes, duration, verbosity, options)
        err.print(Text(f"wrote {fmt} report to {output}", style="dim"))
    ctx.exit(code)

