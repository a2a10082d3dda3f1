"""Finding the adjoint rules a target registers: import it, then see what it added.

A *target* is a dotted module name (``mypkg.rules``), a path to a ``.py`` file, or a folder of
them (each file is its own target). Importing a target runs its ``@ad.adjoint`` decorators;
the rules it registers are the ones that were not in the registry before the import, plus,
for a module imported earlier, the rules whose function or rule was defined in it. Functions
the target made ``@ad.primitive`` without registering an adjoint are collected too, so they
can be reported: nothing can differentiate them.

>>> from adcheck.cli.collect import collect
>>> found = collect("adcheck.rules")
>>> found.error is None and any(r.name == "sin" for r in found.rules)
True

Importing has side effects (rules enter the global registry), so each target is imported and
collected once per process; asking again returns the same :class:`Collection`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from adcheck import domains, registry
from adcheck.registry import display_path

__all__ = [
    "BUILTIN",
    "CollectedRule",
    "Collection",
    "ImportFailure",
    "collect",
    "expand_targets",
    "import_target",
    "matches",
    "display_path",
]

#: The target that stands for all of adcheck's own rules (``adcheck verify --builtin``).
BUILTIN = "adcheck.rules"

_PRIMITIVE_ATTR = "__adcheck_primitive__"


@dataclass
class CollectedRule:
    """One thing to check: a registered rule, or a primitive that has none.

    ``kind`` is ``"adjoint"`` for a registered rule and ``"primitive"`` for an
    ``@ad.primitive`` without an adjoint. ``rule`` is the live :class:`adcheck.registry.Rule`
    (``None`` for a bare primitive); it does not cross process boundaries, a worker collects
    the target again and picks the rule by ``index``.
    """

    target: str
    index: int
    name: str
    location: str | None
    domain: str
    declared_domain: bool
    kind: str
    fn: Any = field(repr=False, default=None)
    rule: registry.Rule | None = field(repr=False, default=None)

    @property
    def id(self) -> str:
        """``target::name``, unique within a run (the JUnit / pytest test id)."""
        return f"{self.target}::{self.name}"


@dataclass
class ImportFailure:
    """A target that could not be imported: a short message and the readable traceback."""

    target: str
    message: str
    traceback: str


@dataclass
class Collection:
    """The rules found in one target, or the reason there are none."""

    target: str
    rules: list[CollectedRule]
    error: ImportFailure | None = None


_cache: dict[str, Collection] = {}


def expand_targets(targets: list[str]) -> list[str]:
    """Replace each folder by the ``.py`` files in it (sorted); keep everything else.

    >>> expand_targets(["mypkg.rules"])
    ['mypkg.rules']
    """
    out: list[str] = []
    for target in targets:
        path = Path(target)
        if path.is_dir():
            out += [str(p) for p in sorted(path.glob("*.py")) if p.name != "__init__.py"]
        else:
            out.append(target)
    return out


def _is_path(target: str) -> bool:
    return target.endswith(".py") or os.sep in target or "/" in target


def _module_name_for(path: Path) -> str:
    """A stable, unique module name for a file, the same in every worker process."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"adcheck_target_{stem}_{digest}"


def import_target(target: str) -> ModuleType:
    """Import a dotted module name or a ``.py`` file and return the module.

    A file gets a unique module name (so two ``rules.py`` in different folders do not collide)
    and its folder goes on ``sys.path`` so that it can import its neighbours; the current
    directory is on ``sys.path`` too, as with ``python -m``.

    >>> import_target("adcheck.domains").__name__
    'adcheck.domains'
    """
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if not _is_path(target):
        return importlib.import_module(target)
    path = Path(target).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {target}")
    name = _module_name_for(path)
    if name in sys.modules:
        return sys.modules[name]
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {target}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _readable_traceback(exc: BaseException) -> str:
    """The traceback of a failed import without the import machinery's own frames."""
    machinery = os.path.dirname(importlib.__file__)
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(("<frozen", machinery)) and f.filename != __file__
    ]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _defined_in(obj: Any, module_names: set[str]) -> bool:
    return getattr(inspect.unwrap(obj), "__module__", None) in module_names


def _modules_of(module: ModuleType) -> list[ModuleType]:
    """The module, and for a package its submodules that importing it loaded."""
    mods = [module]
    if hasattr(module, "__path__"):
        prefix = module.__name__ + "."
        mods += [m for n, m in sorted(sys.modules.items()) if n.startswith(prefix) and m]
    return mods


def source_location(obj: Any) -> str | None:
    """``file:line`` where ``obj`` is defined, the file relative to the current directory.

    >>> source_location(expand_targets).endswith("collect.py:" + str(
    ...     expand_targets.__code__.co_firstlineno))
    True
    """
    location = registry.source_location(obj)
    return display_path(location) if location else None


def _entry(target: str, index: int, rule: registry.Rule) -> CollectedRule:
    domain = rule.domain
    if registry.is_declaration(rule):
        from adcheck.check.piecewise import builtin_domain

        # a declaration's rule is made by nondifferentiable(): its source is the caller's
        location = registry.display_path(rule.source)
        domain = domain if domain is not None or not rule.builtin else builtin_domain(rule.fn)
    else:
        location = source_location(rule.rule)
    return CollectedRule(
        target=target,
        index=index,
        name=rule.name,
        location=location,
        domain=domains.describe(domain),
        declared_domain=domain is not None,
        kind="adjoint",
        fn=rule.fn,
        rule=rule,
    )


def _unique_names(entries: list[CollectedRule]) -> None:
    seen: dict[str, int] = {}
    for e in entries:
        n = seen.get(e.name, 0) + 1
        seen[e.name] = n
        if n > 1:
            e.name = f"{e.name}[{n}]"


def _collect_builtin() -> Collection:
    found = [_entry(BUILTIN, i, r) for i, r in enumerate(registry.builtin_rules())]
    _unique_names(found)
    return Collection(BUILTIN, found)


def _collect_module(target: str) -> Collection:
    before = {id(r) for r in registry.rules()}
    try:
        module = import_target(target)
    except BaseException as exc:  # noqa: BLE001  (a target may raise anything, even SystemExit)
        if isinstance(exc, KeyboardInterrupt):
            raise
        message = f"{type(exc).__name__}: {exc}"
        return Collection(target, [], ImportFailure(target, message, _readable_traceback(exc)))

    modules = _modules_of(module)
    names = {m.__name__ for m in modules}
    found: list[registry.Rule] = [
        r
        for r in registry.rules()
        if id(r) not in before or _defined_in(r.rule, names) or _defined_in(r.fn, names)
    ]
    entries = [_entry(target, i, r) for i, r in enumerate(found)]

    # primitives defined here that nothing can differentiate
    for mod in modules:
        for obj in list(vars(mod).values()):
            if not getattr(obj, _PRIMITIVE_ATTR, False) or obj.__module__ != mod.__name__:
                continue
            if registry.lookup(obj) is not None or registry.is_nondifferentiable(obj):
                continue
            if any(e.fn is obj for e in entries):
                continue
            entries.append(
                CollectedRule(
                    target=target,
                    index=len(entries),
                    name=registry.function_name(obj),
                    location=source_location(obj),
                    domain="-",
                    declared_domain=False,
                    kind="primitive",
                    fn=obj,
                )
            )
    _unique_names(entries)
    return Collection(target, entries)


def collect(target: str) -> Collection:
    """Import ``target`` (once per process) and return the rules it registers.

    ``target`` is a dotted module name, a ``.py`` path, or :data:`BUILTIN` (``adcheck.rules``)
    for all of adcheck's built-in rules. An import that fails is returned as
    ``Collection.error``, never raised.

    >>> collect("no.such.module").error.message
    "ModuleNotFoundError: No module named 'no'"
    """
    if target == BUILTIN:
        key = target
    elif _is_path(target):
        # one name per file however it was spelled: relative to the current directory
        key = str(Path(target).resolve())
        target = display_path(key)
    else:
        key = target
    if key not in _cache:
        _cache[key] = _collect_builtin() if target == BUILTIN else _collect_module(target)
    return _cache[key]


def matches(entry: CollectedRule, patterns: tuple[str, ...] | list[str]) -> bool:
    """True when ``entry`` is selected by any of ``patterns`` (all are selected when empty).

    A pattern is a case-insensitive substring of the rule's name, or a glob (``soft*``)
    matched against the whole name; ``not PATTERN`` excludes.

    >>> e = CollectedRule("m", 0, "softplus", None, "-", False, "adjoint")
    >>> matches(e, ["soft"]), matches(e, ["log*"]), matches(e, ["not soft"]), matches(e, [])
    (True, False, False, True)
    """
    from fnmatch import fnmatchcase

    if not patterns:
        return True
    include = [p for p in patterns if not p.lower().startswith("not ")]
    exclude = [p[4:].strip() for p in patterns if p.lower().startswith("not ")]

    def hit(p: str) -> bool:
        p, name = p.lower(), entry.name.lower()
        if any(c in p for c in "*?["):
            return fnmatchcase(name, p)
        return p in name

    if any(hit(p) for p in exclude):
        return False
    return not include or any(hit(p) for p in include)
