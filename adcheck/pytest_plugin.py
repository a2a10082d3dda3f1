"""pytest plugin for adcheck (entry point ``pytest11``): fixtures, options, one test per rule.

Fixtures, available in every test once adcheck is installed:

- ``gradcheck(f, *args, **kw)``: :func:`adcheck.gradcheck` that fails the test with the
  checker's readable report instead of a traceback; returns the ``CheckResult``.
- ``check_adjoint(fn, *args, **kw)``: the same for :func:`adcheck.check_adjoint`.
- ``verify(fn, **kw)``: the same for :func:`adcheck.verify` (property-based).
- ``adjoint_registry``: rules registered while the test runs are removed after it (and
  overridden ones restored), so tests do not leak rules into each other; the value is the
  :mod:`adcheck.registry` module.

::

    def test_cube(gradcheck, adjoint_registry):
        @ad.primitive
        def cube(x):
            return x ** 3

        @ad.adjoint(cube)
        def _(x):
            return cube(x), lambda dy: (3 * x ** 2 * dy,)

        gradcheck(lambda x: cube(x).sum(), np.array([1.0, 2.0]))

One test item per rule: ``pytest --adcheck-verify=mypkg.rules`` (a module, a ``.py`` file or
a folder; repeatable, or listed under ``adcheck_verify`` in the ini file) adds an item
``mypkg.rules::softplus`` for each adjoint rule the target registers, marked ``adcheck``.
``pytest -n auto`` (pytest-xdist) spreads them over cores, ``-m adcheck`` runs only them.
A target that fails to import is a collection error, as a test module that fails would be.

Options: ``--adcheck-max-examples``, ``--adcheck-inconclusive=fail|warn`` (what a check the
finite differences cannot decide does to the test), ``--adcheck-order=2`` (rule items and
the fixtures check second derivatives too) and ``--adcheck-seed``. Seeds are
deterministic by default, so a suite cannot pass by luck: a rule item and the ``verify``
fixture use a seed derived from the rule's name, the ``gradcheck`` and ``check_adjoint``
fixtures one derived from the test's id (the same in every run and process).
``--adcheck-seed=N`` fixes one seed for all, ``--adcheck-seed=random`` explores with fresh
seeds (each failure reports the seed that replays it), and ``--hypothesis-seed`` is used
when ``--adcheck-seed`` is not given. Everything else about drawing inputs is hypothesis'
own business: profiles (``--hypothesis-profile``) and the example database apply as usual.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from adcheck.cli.collect import CollectedRule
    from adcheck.cli.run import RuleOutcome, VerifyOptions

__all__ = [
    "adjoint_registry",
    "check_adjoint",
    "gradcheck",
    "verify",
    "RuleItem",
    "TargetCollector",
]


# -- options ---------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("adcheck", "adcheck: verify adjoint rules")
    group.addoption(
        "--adcheck-verify", action="append", default=[], metavar="TARGET",
        help="add one test item per adjoint rule that TARGET registers (a module, a .py file "
             "or a folder; repeatable, or comma-separated)",
    )
    group.addoption(
        "--adcheck-max-examples", type=int, default=None, metavar="N",
        help="examples per rule for adcheck's property-based checks (default: the checker's)",
    )
    group.addoption(
        "--adcheck-seed", type=_seed_option, default=None, metavar="SEED|random",
        help="seed for adcheck's checks: an integer, or 'random' to explore (default: "
             "--hypothesis-seed, else one derived from each rule's name or test's id)",
    )
    group.addoption(
        "--adcheck-order", type=int, choices=[1, 2], default=1, metavar="1|2",
        help="2: adcheck's checks (rule items and the fixtures) also check second derivatives "
             "through each rule (default: 1)",
    )
    group.addoption(
        "--adcheck-inconclusive", choices=["fail", "warn"], default="fail",
        help="a check the finite differences cannot decide: fail the test (default), or pass "
             "with a warning in its report",
    )
    parser.addini(
        "adcheck_verify", type="linelist", default=[],
        help="targets whose adjoint rules become test items (as --adcheck-verify)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "adcheck: a test item that verifies one adjoint rule (--adcheck-verify)"
    )


def _seed_option(text: str) -> int | str:
    if text == "random":
        return text
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(
            f"--adcheck-seed must be an integer or 'random', got {text!r}") from None


def _seed(config: pytest.Config) -> int | str | None:
    """The seed option in force: an int, "random", or None (derived per rule or test)."""
    seed = config.getoption("adcheck_seed", None)
    if seed is not None:
        return seed
    hypothesis_seed = config.getoption("hypothesis_seed", None)
    try:
        return None if hypothesis_seed is None else int(hypothesis_seed)
    except ValueError:
        return None


def _test_seed(request: pytest.FixtureRequest) -> int | None:
    """The probe seed of the ``gradcheck``/``check_adjoint`` fixtures: the option's, else one
    derived from the test's id (None, i.e. fresh random probes, for ``random``)."""
    from adcheck.check.verify import seed_for

    seed = _seed(request.config)
    if seed is None:
        return seed_for(request.node.nodeid)
    return None if seed == "random" else seed


def _hypothesis_settings(config: pytest.Config) -> Any:
    """The active hypothesis profile (``--hypothesis-profile``: its example count, database,
    phases), with ``--adcheck-max-examples`` on top.

    Four things are set whatever the profile says, because a rule's check is not a test
    function: no deadline (finite differences take their time), no health checks (inputs
    outside the rule's domain are skipped by design), no "explain" phase (it re-runs the
    failing example hundreds of times to annotate source lines the checker owns), and
    quiet output unless the profile asks for more than normal.
    """
    import hypothesis
    from hypothesis import HealthCheck, Phase, Verbosity

    profile = hypothesis.settings()
    max_examples = config.getoption("adcheck_max_examples", None)
    extra = {} if max_examples is None else {"max_examples": max_examples}
    return hypothesis.settings(
        profile,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[p for p in profile.phases if p is not Phase.explain],
        verbosity=profile.verbosity if profile.verbosity > Verbosity.normal else Verbosity.quiet,
        **extra,
    )


def _options(config: pytest.Config) -> VerifyOptions:
    from adcheck.cli.run import VerifyOptions

    return VerifyOptions(seed=_seed(config), settings=_hypothesis_settings(config),
                         inconclusive=_inconclusive(config), order=_order(config))


def _inconclusive(config: pytest.Config) -> str:
    return config.getoption("adcheck_inconclusive", None) or "fail"


def _order(config: pytest.Config) -> int:
    return config.getoption("adcheck_order", None) or 1


def _order_default(config: pytest.Config) -> int | None:
    """``order`` for the fixtures: 2 with ``--adcheck-order=2``, else left to the check."""
    order = _order(config)
    return order if order != 1 else None


# -- fixtures --------------------------------------------------------------------------------


def _accepts(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _failing_with_report(config: pytest.Config, check: Callable, **defaults: Any) -> Callable:
    """Wrap a check so that a failure fails the test with the report as its only text."""
    defaults = {k: v for k, v in defaults.items() if v is not None and _accepts(check, k)}

    def run(*args: Any, **kwargs: Any) -> Any:
        kwargs = {**defaults, **kwargs, "raise_exception": False}
        result = check(*args, **kwargs)
        if not result:
            pytest.fail(result.report(), pytrace=False)
        return result

    run.__name__ = run.__qualname__ = getattr(check, "__name__", "check")
    run.__doc__ = check.__doc__
    return run


@pytest.fixture
def gradcheck(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> Callable:
    """:func:`adcheck.gradcheck` that fails the test with its readable report.

    ::

        def test_model(gradcheck):
            gradcheck(lambda w: np.tanh(X @ w).sum(), np.ones(3))
    """
    from adcheck import check

    return _failing_with_report(pytestconfig, check.gradcheck, seed=_test_seed(request),
                                inconclusive=_inconclusive(pytestconfig),
                                order=_order_default(pytestconfig))


@pytest.fixture
def check_adjoint(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> Callable:
    """:func:`adcheck.check_adjoint` that fails the test with its readable report.

    ::

        def test_softplus_rule(check_adjoint):
            check_adjoint(softplus, np.array([-1.0, 0.5]))
    """
    from adcheck import check

    return _failing_with_report(pytestconfig, check.check_adjoint, seed=_test_seed(request),
                                inconclusive=_inconclusive(pytestconfig),
                                order=_order_default(pytestconfig))


@pytest.fixture
def verify(pytestconfig: pytest.Config) -> Callable:
    """:func:`adcheck.verify` (property-based) that fails the test with its readable report.

    Its defaults: ``--adcheck-seed`` (else the rule's own seed, derived from its name), and
    the active hypothesis profile with
    ``--adcheck-max-examples`` on top (pass ``max_examples=`` or ``settings=`` to override).

    ::

        def test_softplus_everywhere(verify):
            verify(softplus)
    """
    from adcheck import check

    options = _options(pytestconfig)
    run = _failing_with_report(pytestconfig, check.verify, seed=options.seed,
                               inconclusive=options.inconclusive,
                               order=_order_default(pytestconfig))

    def verify_with_profile(*args: Any, **kwargs: Any) -> Any:
        if "max_examples" not in kwargs:
            kwargs.setdefault("settings", options.settings)
        return run(*args, **kwargs)

    verify_with_profile.__doc__ = run.__doc__
    return verify_with_profile


@pytest.fixture
def adjoint_registry() -> Iterator[Any]:
    """The :mod:`adcheck.registry`; rules registered during the test are removed after it.

    ::

        def test_override(adjoint_registry):
            @ad.adjoint(np.sin)
            def _(x):
                return np.sin(x), lambda dy: (dy * np.cos(x),)
            assert not adjoint_registry.lookup(np.sin).builtin
        # after the test, np.sin has its built-in rule again
    """
    from adcheck import registry

    with registry.scoped_rules():
        yield registry


# -- one test item per rule --------------------------------------------------------------


def _targets(config: pytest.Config) -> list[str]:
    raw = list(config.getini("adcheck_verify")) + list(config.getoption("adcheck_verify"))
    names = [t.strip() for item in raw for t in item.split(",") if t.strip()]
    return list(dict.fromkeys(names))


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselect items, so they apply to ours too
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    targets = _targets(config)
    if not targets:
        return
    from adcheck.cli.collect import expand_targets

    options = _options(config)
    for target in expand_targets(targets):
        collector = TargetCollector.from_parent(
            session, name=target, nodeid=target, options=options
        )
        # genitems reports the collection as pytest's own does: counted, errors shown
        items.extend(session.genitems(collector))


class RuleFailed(Exception):
    """A rule that did not pass; carries the :class:`~adcheck.cli.run.RuleOutcome`."""

    def __init__(self, outcome: RuleOutcome):
        super().__init__(outcome.report)
        self.outcome = outcome


class TargetCollector(pytest.Collector):
    """The rules of one ``--adcheck-verify`` target."""

    def __init__(self, *, options: VerifyOptions, **kwargs: Any):
        super().__init__(**kwargs)
        self.options = options

    def collect(self) -> list[pytest.Item]:
        from adcheck.cli.collect import collect

        found = collect(self.name)
        if found.error is not None:
            raise self.CollectError(f"cannot import {self.name}\n{found.error.traceback}")
        return [
            RuleItem.from_parent(self, name=entry.name, entry=entry, options=self.options)
            for entry in found.rules
        ]


def _location(location: str | None) -> tuple[Path | None, int | None]:
    if not location or ":" not in location:
        return None, None
    file, _, line = location.rpartition(":")
    return Path(file), int(line) - 1 if line.isdigit() else None


class RuleItem(pytest.Item):
    """Checks one adjoint rule with :func:`adcheck.verify`."""

    def __init__(self, *, entry: CollectedRule, options: VerifyOptions, **kwargs: Any):
        super().__init__(**kwargs)
        self.entry = entry
        self.options = options
        self.add_marker("adcheck")

    def runtest(self) -> None:
        from adcheck.cli.run import check_rule

        outcome = check_rule(self.entry, self.options)
        self.user_properties.append(("seed", outcome.seed))
        if not outcome.passed:
            raise RuleFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, RuleFailed):
            from adcheck.cli.output import detail_lines

            o = excinfo.value.outcome
            replay = f"pytest --adcheck-verify={o.target} -k {o.name!r}"
            if o.seed is not None:
                replay += f" --adcheck-seed={o.seed}"
            max_examples = self.config.getoption("adcheck_max_examples", None)
            if max_examples is not None:
                replay += f" --adcheck-max-examples={max_examples}"
            if self.options.order != 1:
                replay += f" --adcheck-order={self.options.order}"
            header = f"adjoint rule {o.name} ({o.location or '?'}): {o.status}"
            return "\n".join([header, *detail_lines(o, replay)])
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        path, line = _location(self.entry.location)
        return path or self.path, line, f"adcheck rule {self.entry.id}"
