"""Writers for ``adcheck verify``: a rich table for people, JSON and JUnit XML for machines.

All three read the same things: the :class:`~adcheck.cli.collect.Collection` of each target
(for import errors) and the :class:`~adcheck.cli.run.RuleOutcome` of each rule.

The JSON document (``--format json``) follows :data:`JSON_SCHEMA` (``adcheck schema`` prints
it). Its shape, version 1::

    {
      "schema_version": 1,
      "tool": {"name": "adcheck", "version": "0.1.0"},
      "options": {"max_examples": 100, "seed": null, "mode": "auto", "fdm_order": null,
                  "atol": null, "rtol": null, "timeout": 60.0, "jobs": 1, "select": []},
      "summary": {"rules": 3, "passed": 2, "failed": 1, "error": 0, "timeout": 0,
                  "no-rule": 0, "import_errors": 0, "duration": 1.9, "per_rule": 0.6,
                  "exit_code": 1},
      "targets": [{"target": "examples/rules_wrong.py", "rules": 3, "error": null}],
      "rules": [{"id": "examples/rules_wrong.py::sigmoid", "target": "...", "name": "sigmoid",
                 "location": "examples/rules_wrong.py:31", "domain": "...",
                 "declared_domain": true, "status": "failed", "examples": 12,
                 "max_error": 0.2, "tolerance": 1e-06, "seed": 1234,
                 "smallest_input": "x = -1.0", "report": "...", "notes": [],
                 "duration": 0.4, "check": {...CheckResult.to_dict()...}}]
    }

Fields are only ever added within a schema version; a change to an existing field bumps it.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .collect import Collection
from .run import STATUSES, RuleOutcome, VerifyOptions

__all__ = [
    "JSON_SCHEMA",
    "SCHEMA_VERSION",
    "exit_code",
    "json_document",
    "junit_xml",
    "print_text",
    "replay_command",
]

SCHEMA_VERSION = 1

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_STRING_OR_NULL = {"type": ["string", "null"]}

#: JSON Schema (draft 2020-12) of ``adcheck verify --format json``.
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://adcheck.invalid/schemas/verify-1.json",
    "title": "adcheck verify report",
    "type": "object",
    "required": ["schema_version", "tool", "options", "summary", "targets", "rules"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "adcheck"}, "version": {"type": "string"}},
        },
        "options": {
            "type": "object",
            "required": ["max_examples", "seed", "mode", "fdm_order", "atol", "rtol",
                         "timeout", "jobs", "select"],
            "properties": {
                "max_examples": _INT_OR_NULL,
                "seed": {"type": ["integer", "string", "null"]},  # "random": --seed random
                "mode": {"enum": ["auto", "full", "fast"]},
                "fdm_order": _INT_OR_NULL,
                "atol": _NUMBER_OR_NULL,
                "rtol": _NUMBER_OR_NULL,
                "timeout": _NUMBER_OR_NULL,
                "inconclusive": {"enum": ["fail", "warn"]},
                "order": {"enum": [1, 2]},
                "jobs": {"type": "integer", "minimum": 1},
                "select": {"type": "array", "items": {"type": "string"}},
            },
        },
        "summary": {
            "type": "object",
            "required": ["rules", *STATUSES, "import_errors", "duration", "exit_code"],
            "properties": {
                "rules": {"type": "integer", "minimum": 0},
                **{s: {"type": "integer", "minimum": 0} for s in STATUSES},
                "import_errors": {"type": "integer", "minimum": 0},
                "duration": {"type": "number", "minimum": 0},
                "per_rule": {"type": "number", "minimum": 0},
                "exit_code": {"enum": [0, 1, 2]},
            },
        },
        "targets": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["target", "rules", "error"],
                "properties": {
                    "target": {"type": "string"},
                    "rules": {"type": "integer", "minimum": 0},
                    "error": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "required": ["message", "traceback"],
                                "properties": {
                                    "message": {"type": "string"},
                                    "traceback": {"type": "string"},
                                },
                            },
                        ]
                    },
                },
            },
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "target", "name", "location", "domain", "declared_domain",
                             "status", "examples", "max_error", "tolerance", "seed",
                             "smallest_input", "report", "notes", "duration", "check"],
                "properties": {
                    "id": {"type": "string"},
                    "target": {"type": "string"},
                    "name": {"type": "string"},
                    "location": _STRING_OR_NULL,
                    "domain": {"type": "string"},
                    "declared_domain": {"type": "boolean"},
                    "status": {"enum": list(STATUSES)},
                    "examples": _INT_OR_NULL,
                    "max_error": _NUMBER_OR_NULL,
                    "tolerance": _NUMBER_OR_NULL,
                    "seed": _INT_OR_NULL,
                    "smallest_input": _STRING_OR_NULL,
                    "report": {"type": "string"},
                    "notes": {"type": "array", "items": {"type": "string"}},
                    "duration": {"type": "number", "minimum": 0},
                    "check": {"type": ["object", "null"]},
                },
            },
        },
    },
}


def exit_code(collections: list[Collection], outcomes: list[RuleOutcome]) -> int:
    """2 when a target failed to import, else 1 when a rule did not pass, else 0.

    >>> exit_code([], [])
    0
    """
    if any(c.error is not None for c in collections):
        return 2
    return 0 if all(o.passed for o in outcomes) else 1


def replay_command(outcome: RuleOutcome, options: VerifyOptions | None = None) -> str:
    """The command that checks just this rule again, with the same seed and options.

    >>> o = RuleOutcome("examples/rules_wrong.py", "sigmoid", None, "-", True, "failed", seed=7)
    >>> replay_command(o, VerifyOptions(max_examples=10))
    'adcheck verify examples/rules_wrong.py -k sigmoid --seed 7 --max-examples 10'
    """
    words = ["adcheck", "verify", outcome.target, "-k", outcome.name]
    if outcome.seed is not None:
        words += ["--seed", str(outcome.seed)]
    if options is not None:
        words += options.cli_flags()
    return " ".join(shlex.quote(w) for w in words)


def error_ratio(o: RuleOutcome) -> float | None:
    """The worst error divided by its tolerance over the rule's examples (below 1 passes),
    or None when nothing was compared.

    >>> error_ratio(RuleOutcome("m", "sq", None, "-", False, "passed", examples=3,
    ...                         max_error=2e-9, tolerance=1e-8))
    0.2
    """
    ratio = (o.check or {}).get("worst_ratio")
    if isinstance(ratio, (int, float)) and ratio >= 0:
        return float(ratio)
    if o.max_error is None or o.tolerance is None or not o.examples:
        return None
    if o.tolerance > 0:
        return o.max_error / o.tolerance
    return 0.0 if o.max_error == 0 else float("inf")


def _error_vs_tolerance(o: RuleOutcome) -> str:
    """The closest call, as error / tolerance (a ratio, so it reads across rules: below 1
    passes); for a rule that failed on something other than a wrong value, what it failed
    on (a passing example's small ratio would read as a pass).

    >>> o = RuleOutcome("m", "sq", None, "-", False, "failed", examples=3, max_error=0.0,
    ...                 tolerance=1e-19, check={"failures": [{"kind": "mutation"}]})
    >>> _error_vs_tolerance(o)
    'mutation'
    >>> _error_vs_tolerance(RuleOutcome("m", "sq", None, "-", False, "passed", examples=3,
    ...                                 max_error=3e-10, tolerance=1e-8))
    '0.03'
    """
    kinds = [f.get("kind") for f in (o.check or {}).get("failures", [])]
    if o.status == "failed" and kinds and "value" not in kinds:
        return ", ".join(dict.fromkeys(k for k in kinds if k != "kink"))
    ratio = error_ratio(o)
    if ratio is None:
        return "-"
    return f"{ratio:.2g}"


_VERDICT = {
    "passed": ("pass", "green"),
    "inconclusive": ("INCONCLUSIVE", "bold yellow"),
    "failed": ("FAIL", "bold red"),
    "error": ("ERROR", "bold red"),
    "timeout": ("TIMEOUT", "bold yellow"),
    "no-rule": ("NO RULE", "bold red"),
}


def _warned(o: RuleOutcome) -> bool:
    """A pass with inconclusive comparisons (``--inconclusive warn``)."""
    return o.passed and (o.check or {}).get("verdict") == "inconclusive"


def verdict_cell(o: RuleOutcome) -> tuple[str, str]:
    """The verdict word and its style: pass, FAIL, INCONCLUSIVE, ...; a pass that was only
    inconclusive (``--inconclusive warn``) reads ``INCONCLUSIVE (warn)``.

    >>> verdict_cell(RuleOutcome("m", "f", None, "-", True, "inconclusive"))
    ('INCONCLUSIVE', 'bold yellow')
    >>> verdict_cell(RuleOutcome("m", "f", None, "-", True, "passed",
    ...                          check={"verdict": "inconclusive"}))
    ('INCONCLUSIVE (warn)', 'yellow')
    """
    if _warned(o):
        return "INCONCLUSIVE (warn)", "yellow"
    return _VERDICT[o.status]


def rules_table(columns: list[str], title: str | None = None) -> Table:
    """An empty table in the style of ``adcheck verify`` and ``adcheck list``.

    >>> rules_table(["Rule", "Verdict"]).columns[0].header
    'Rule'
    """
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold",
                  header_style="bold", show_edge=False)
    for column in columns:
        numeric = column in ("Examples", "Error / tol")
        # only the domain, free text, may wrap: names and file:line stay whole for copying
        table.add_column(column, justify="right" if numeric else "left",
                         no_wrap=column != "Domain", overflow="fold")
    return table


def detail_lines(o: RuleOutcome, replay: str | None = None) -> list[str]:
    """The checker's report, then what it does not already say: notes, the smallest failing
    input, and the command that replays this rule alone (``replay``, by default
    :func:`replay_command` without options).

    >>> o = RuleOutcome("m.py", "f", None, "-", True, "failed", seed=3, report="FAILED f")
    >>> detail_lines(o)
    ['FAILED f', 'replay: adcheck verify m.py -k f --seed 3']
    """
    lines = o.report.splitlines() if o.report else []
    lines += [f"note: {n}" for n in o.notes if n not in o.report]
    if o.smallest_input and o.smallest_input not in o.report:
        lines.append(f"smallest failing input: {o.smallest_input}")
    if o.status in ("failed", "inconclusive", "error", "timeout"):
        lines.append(f"replay: {replay or replay_command(o)}")
    return lines


def summary_line(
    collections: list[Collection], outcomes: list[RuleOutcome], duration: float
) -> str:
    """One line: how many rules, how many of each verdict, how long.

    >>> summary_line([], [], 0.25)
    'no rules checked (0.2 s)'
    >>> o = RuleOutcome("m.py", "f", None, "-", True, "passed", duration=0.25)
    >>> summary_line([], [o, o], 0.6)
    '2 rules: 2 passed (0.6 s, 0.25 s per rule)'
    >>> from adcheck.cli.collect import collect
    >>> summary_line([collect("no_such_module_here")], [], 0.0)
    'no rules checked; 1 target failed to import (0.0 s)'
    """
    counts = Counter(o.status for o in outcomes)
    parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
    broken = sum(c.error is not None for c in collections)
    if broken:
        parts.append(f"{broken} target{'s' if broken > 1 else ''} failed to import")
    n = len(outcomes)
    head = f"{n} rule{'s' if n != 1 else ''}" if n else "no rules checked"
    sep = ": " if n else "; "
    cost = f", {sum(o.duration for o in outcomes) / n:.2f} s per rule" if n > 1 else ""
    return f"{head}{sep if parts else ''}{', '.join(parts)} ({duration:.1f} s{cost})"


def print_import_errors(console: Console, collections: list[Collection]) -> None:
    """Each target that failed to import, with its traceback (shared with ``adcheck list``).

    >>> from io import StringIO
    >>> from adcheck.cli.collect import collect
    >>> console = Console(file=StringIO(), width=80)
    >>> print_import_errors(console, [collect("no_such_module_here")])
    >>> "No module named 'no_such_module_here'" in console.file.getvalue()
    True
    """
    for c in collections:
        if c.error is None:
            continue
        console.rule(Text(f"cannot import {c.target}", style="bold red"), align="left")
        console.print(Text(c.error.traceback))
        console.print()


def print_text(
    console: Console,
    collections: list[Collection],
    outcomes: list[RuleOutcome],
    duration: float,
    verbosity: int = 0,
    options: VerifyOptions | None = None,
) -> None:
    """The human report: import errors, the table, details of each failure, a summary.

    ``verbosity`` -1 (``-q``) drops the table, 1 (``-v``) adds every rule's notes and report;
    ``options`` go into the replay commands.

    >>> from io import StringIO
    >>> console = Console(file=StringIO(), width=100)
    >>> o = RuleOutcome("m.py", "cube", "m.py:3", "default (real floats)", False, "passed")
    >>> print_text(console, [], [o], 0.5)
    >>> console.file.getvalue().splitlines()[-1]
    '1 rule: 1 passed (0.5 s)'
    """
    print_import_errors(console, collections)
    if outcomes and verbosity >= 0:
        targets = list(dict.fromkeys(o.target for o in outcomes))
        for target in targets:
            table = rules_table(
                ["Rule", "Defined at", "Domain", "Examples", "Error / tol", "Verdict"],
                title=target if len(targets) > 1 else None,
            )
            for o in outcomes:
                if o.target != target:
                    continue
                word, style = verdict_cell(o)
                table.add_row(
                    Text(o.name),
                    Text(o.location or "?"),
                    Text(o.domain),
                    "-" if o.examples is None else str(o.examples),
                    _error_vs_tolerance(o),
                    Text(word, style=style),
                )
            console.print(table)
            if len(targets) > 1:
                console.print()

    for o in outcomes:
        if o.passed and verbosity < 1 and not _warned(o):
            continue
        word, style = verdict_cell(o)
        where = f" ({o.location})" if o.location else ""
        console.print()
        console.rule(Text(f"{word} {o.name}{where}", style=style), align="left")
        # soft_wrap: long lines stay whole, for copy and paste
        for line in detail_lines(o, replay_command(o, options)):
            style = "dim" if line.startswith("note:") else ""
            console.print(Text(line, style=style), soft_wrap=True)

    if verbosity >= 0 or not all(o.passed for o in outcomes):
        console.print()
    ok = exit_code(collections, outcomes) == 0
    console.print(
        f"[{'green' if ok else 'bold red'}]{escape(summary_line(collections, outcomes, duration))}"
    )


def json_document(
    collections: list[Collection],
    outcomes: list[RuleOutcome],
    options: VerifyOptions,
    jobs: int,
    select: tuple[str, ...] | list[str],
    duration: float,
) -> dict[str, Any]:
    """The ``--format json`` document (see :data:`JSON_SCHEMA`).

    >>> doc = json_document([], [], VerifyOptions(), 1, [], 0.1)
    >>> doc["schema_version"], doc["summary"]["exit_code"]
    (1, 0)
    """
    from adcheck import __version__

    counts = Counter(o.status for o in outcomes)
    per_target = Counter(o.target for o in outcomes)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "adcheck", "version": __version__},
        "options": {
            "max_examples": options.max_examples,
            "seed": options.seed,
            "mode": options.mode,
            "fdm_order": options.fdm_order,
            "atol": options.atol,
            "rtol": options.rtol,
            "timeout": options.timeout,
            "inconclusive": options.inconclusive,
            "order": options.order,
            "jobs": jobs,
            "select": list(select),
        },
        "summary": {
            "rules": len(outcomes),
            **{s: counts[s] for s in STATUSES},
            "import_errors": sum(c.error is not None for c in collections),
            "duration": round(duration, 3),
            # the mean of the rules' own durations (the check, not the imports)
            "per_rule": round(sum(o.duration for o in outcomes) / max(len(outcomes), 1), 4),
            "exit_code": exit_code(collections, outcomes),
        },
        "targets": [
            {
                "target": c.target,
                "rules": per_target[c.target],
                "error": None
                if c.error is None
                else {"message": c.error.message, "traceback": c.error.traceback},
            }
            for c in collections
        ],
        "rules": [_jsonable(o.to_dict()) for o in outcomes],
    }


def _jsonable(value: Any) -> Any:
    """Round-trip through json so that numpy scalars and NaN become plain JSON values."""

    def default(obj: Any) -> Any:
        if hasattr(obj, "item"):
            return obj.item()
        if hasattr(obj, "tolist"):
            return obj.tolist()
        return str(obj)

    text = json.dumps(value, default=default)
    return json.loads(text, parse_constant=lambda c: None)


def dumps_json(document: dict[str, Any]) -> str:
    """The document as strict JSON text (NaN and infinities are already ``null``).

    >>> dumps_json({"a": 1}).splitlines()
    ['{', '  "a": 1', '}']
    """
    return json.dumps(document, indent=2, allow_nan=False)


# -- JUnit XML -------------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("?", text)


def _classname(target: str) -> str:
    name = target[:-3] if target.endswith(".py") else target
    return re.sub(r"[\\/]+", ".", name).strip(".")


_JUNIT_KIND = {
    "failed": ("failure", "GradientMismatch"),
    "inconclusive": ("failure", "Inconclusive"),
    "no-rule": ("failure", "NoAdjoint"),
    "error": ("error", "RuleError"),
    "timeout": ("error", "Timeout"),
}


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def junit_xml(
    collections: list[Collection],
    outcomes: list[RuleOutcome],
    duration: float,
    options: VerifyOptions | None = None,
) -> str:
    """JUnit XML: one ``<testsuite>`` per target, one ``<testcase>`` per rule.

    A failed rule is a ``<failure>`` (its report as text), a rule that raised or timed out an
    ``<error>``, and a target that failed to import one ``<error>`` test case named
    ``import``. CI systems (GitHub, GitLab, Jenkins) display this format.

    >>> o = RuleOutcome("m.py", "cube", "m.py:3", "-", False, "failed", report="FAILED cube")
    >>> from adcheck.cli.collect import Collection
    >>> root = ET.fromstring(junit_xml([Collection("m.py", [])], [o], 0.5))
    >>> root.get("failures"), root.find("testsuite/testcase/failure").get("message")
    ('1', 'FAILED cube')
    """
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    root = ET.Element("testsuites", name="adcheck verify", time=f"{duration:.3f}")
    totals = Counter()
    for c in collections:
        mine = [o for o in outcomes if o.target == c.target]
        suite = ET.SubElement(
            root, "testsuite", name=c.target, timestamp=stamp,
            hostname=socket.gethostname(),
        )
        counts = Counter()
        if c.error is not None:
            case = ET.SubElement(suite, "testcase", classname=_classname(c.target), name="import")
            err = ET.SubElement(case, "error", message=_clean(c.error.message), type="ImportError")
            err.text = _clean(c.error.traceback)
            counts["errors"] += 1
            counts["tests"] += 1
        for o in mine:
            counts["tests"] += 1
            attrs = {"classname": _classname(c.target), "name": o.name, "time": f"{o.duration:.3f}"}
            if o.location and ":" in o.location:
                file, _, line = o.location.rpartition(":")
                attrs.update(file=file, line=line)
            case = ET.SubElement(suite, "testcase", attrs)
            if o.status in _JUNIT_KIND:
                tag, kind = _JUNIT_KIND[o.status]
                counts["failures" if tag == "failure" else "errors"] += 1
                body = "\n".join(detail_lines(o, replay_command(o, options)))
                message = _first_line(o.report) or o.status
                node = ET.SubElement(case, tag, message=_clean(message), type=kind)
                node.text = _clean(body)
            if o.notes:
                ET.SubElement(case, "system-out").text = _clean("\n".join(o.notes))
        suite.set("tests", str(counts["tests"]))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", str(counts["errors"]))
        suite.set("skipped", "0")
        suite.set("time", f"{sum(o.duration for o in mine):.3f}")
        totals.update(counts)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(totals[key]))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
