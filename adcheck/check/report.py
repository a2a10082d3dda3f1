"""The readable report of a :class:`~adcheck.check.result.CheckResult`.

Layout: a header line with the verdict and the name; then what is wrong, grouped by kind
(the argument entry, the adjoint's value against the finite difference, the tolerance);
then, for ``gradcheck``, where the first wrong rule was called (its Wengert-list line, the
rule's source, the user's source line, and that rule's own report); for ``verify``, the
smallest failing input and the command that replays it; then notes.

>>> from adcheck.check.result import CheckResult, Failure
>>> r = CheckResult(passed=False, kind="check_adjoint", name="sin", location="rules.py:3",
...                 failures=[Failure("value", "x[0]: adjoint gives -1, finite differences 1")])
>>> print(render(r))  # doctest: +NORMALIZE_WHITESPACE
FAILED check_adjoint(sin), rule at rules.py:3
  wrong value:
    x[0]: adjoint gives -1, finite differences 1
  max |error| 0 against tolerance 0 (0 probes, 0 evaluations, 0 pullbacks)
"""

from __future__ import annotations

import numpy as np

from ..registry import display_path
from .result import CheckResult

__all__ = ["render", "short_repr", "output_entry"]

_TITLES = {
    "error": "could not check",
    "count": "wrong number of cotangents",
    "shape": "wrong shape",
    "dtype": "wrong dtype",
    "nan": "NaN or infinite cotangent",
    "primal": "wrong primal value",
    "mutation": "mutation",
    "linearity": "not linear in the cotangent",
    "undefined cotangent": "an output's zero or None cotangent mishandled",
    "layout": "depends on the cotangent's memory layout",
    "reentrancy": "calls depend on each other (state kept between calls)",
    "value": "wrong value",
    "reference": "disagrees with the caller's reference",
    "bad reference": "the caller's reference disagrees with finite differences",
    "not constant": "declared non-differentiable, but not piecewise constant",
    "kink": "non-differentiable point (kink; not counted as a failure)",
    "inconclusive": "inconclusive (the finite differences could not decide)",
}
_ORDER = ("error", "count", "shape", "dtype", "nan", "primal", "mutation", "reentrancy",
          "undefined cotangent", "layout", "linearity", "value", "reference", "bad reference",
          "not constant", "inconclusive", "kink")
_MAX_PER_KIND = 8


def _cost(r: CheckResult) -> str:
    parts = []
    if r.mode:
        parts.append(f"{r.mode} mode")
    if r.examples is not None:
        parts.append(f"{r.examples} examples")
    parts.append(f"{r.probes} probes")
    parts.append(f"{r.evaluations} evaluations")
    parts.append(f"{r.pullbacks} pullbacks")
    return ", ".join(parts)


def render(r: CheckResult) -> str:
    """The report text (see the module docstring)."""
    call = f"{r.kind}({r.name})"
    where = f", rule at {display_path(r.location)}" if r.location else ""
    numbers = f"max |error| {r.max_error:.3g}"
    if r.largest_error > r.max_error:
        # max_error/tolerance are the worst error-to-tolerance ratio's; say so when a larger
        # error elsewhere had a larger tolerance.
        numbers = (f"|error| {r.max_error:.3g} (the worst error/tolerance ratio; the largest "
                   f"|error| is {r.largest_error:.3g})")
    tol = f"{r.tolerance:.3g}"
    if r.rounding and r.rounding_dtype:
        tol += f" (incl. {r.rounding_dtype} rounding {r.rounding:.2g})"
    if r.passed:
        verdict = "passed"
        head = f"{verdict} {call}{where}: {numbers} within tolerance {tol} ({_cost(r)})"
        lines = [head]
        if r.kinks:
            lines.append(f"  {len(r.kinks)} non-differentiable point(s) (kinks) found and not "
                         "checked:")
            lines += [f"    {f.message}" for f in r.kinks[:_MAX_PER_KIND]]
        undecided = [f for f in r.failures if f.kind == "inconclusive"]
        if undecided:
            lines.append(f"  warning: {len(undecided)} comparison(s) inconclusive, passed "
                         "because inconclusive='warn':")
            lines += [f"    {f.message}" for f in undecided[:_MAX_PER_KIND]]
    else:
        word = "INCONCLUSIVE" if r.verdict == "inconclusive" else "FAILED"
        lines = [f"{word} {call}{where}"]
        # every kind a failure has, the known ones first: none may go unreported
        kinds = [*_ORDER, *sorted({f.kind for f in r.failures} - set(_ORDER))]
        for kind in kinds:
            group = [f for f in r.failures if f.kind == kind]
            if not group:
                continue
            lines.append(f"  {_TITLES.get(kind, kind)}:")
            lines += [f"    {f.message}" for f in group[:_MAX_PER_KIND]]
            if len(group) > _MAX_PER_KIND:
                lines.append(f"    ... and {len(group) - _MAX_PER_KIND} more")
        lines.append(f"  {numbers} against tolerance {tol} ({_cost(r)})")
    loc = r.localisation
    if loc is not None:
        lines.append(f"  localised to line {loc.line} of the Wengert list:")
        lines.append(f"      {loc.wengert}")
        lines.append(f"    rule {loc.rule}, defined at {loc.rule_source}")
        if loc.call_site:
            text = f": {loc.call_text.strip()}" if loc.call_text else ""
            lines.append(f"    called from {loc.call_site}{text}")
        lines.append("    that rule on its own:")
        lines += ["      | " + line for line in loc.rule_report.splitlines()]
    if r.smallest_input is not None:
        lines.append(f"  smallest failing input: {r.smallest_input}")
    lines += [f"  {d}" for d in r.details]
    lines += [f"  note: {n}" for n in r.notes]
    return "\n".join(lines)


def short_repr(value: object, limit: int = 2000) -> str:
    """A readable, replayable repr of arguments: full precision, dtypes shown.

    >>> short_repr((np.array([1.5, -2.0], dtype=np.float32), 3.0))
    '(array([ 1.5, -2. ], dtype=float32), 3.0)'
    """
    with np.printoptions(precision=17, threshold=200, linewidth=10**6):
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def output_entry(out_leaves: list, i: int, out_name: str = "y") -> str:
    """The name of entry ``i`` of the flat output vector with its real index: ``y[0, 1]``
    for a (2, 3) output, ``y[1][2]`` for the third entry of a tuple's second output, ``y``
    for a 0-d one. ``out_leaves`` are the problem's ``OutLeaf`` records (``path`` such as
    ``"y"`` or ``"y[1]"``, ``shape``, ``offset``, ``size``).

    >>> from types import SimpleNamespace as Leaf
    >>> leaves = [Leaf(path="y[0]", shape=(), offset=0, size=1),
    ...           Leaf(path="y[1]", shape=(2, 3), offset=1, size=6)]
    >>> output_entry(leaves, 0), output_entry(leaves, 6)
    ('y[0]', 'y[1][1, 2]')
    >>> output_entry([Leaf(path="y", shape=(2, 3), offset=0, size=6)], 4, "out")
    'out[1, 1]'
    """
    for leaf in out_leaves:
        if leaf.offset <= i < leaf.offset + leaf.size:
            head = out_name + leaf.path[1:] if leaf.path.startswith("y") else leaf.path
            if not leaf.shape:
                return head
            index = np.unravel_index(i - leaf.offset, leaf.shape)
            return f"{head}[{', '.join(str(int(k)) for k in index)}]"
    return f"{out_name}[{i}]"
