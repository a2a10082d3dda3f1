"""The pytest plugin, run on throwaway test files by pytester.

Runs are in-process (fast: adcheck and its finite differences are loaded already) inside
``scoped_rules()``, so the rules the throwaway modules register do not outlive the run; the
pytest-xdist run, which also sets a global hypothesis seed, is a subprocess.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from adcheck import registry


def run_inprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    with registry.scoped_rules():
        return pytester.runpytest_inprocess(*args)

RULES = '''
"""A correct rule (cube) and a wrong one (bad_square: its adjoint forgets the factor 2)."""
import adcheck as ad


@ad.primitive
def cube(x):
    return x ** 3


@ad.adjoint(cube)
def _cube(x):
    return cube(x), lambda dy: (3 * x ** 2 * dy,)


@ad.primitive
def bad_square(x):
    return x ** 2


@ad.adjoint(bad_square)
def _bad_square(x):
    return bad_square(x), lambda dy: (x * dy,)
'''

FAST = ("--adcheck-max-examples=10", "--adcheck-seed=1", "-p", "no:cacheprovider")


@pytest.fixture
def rules_module(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(myrules=RULES)
    return pytester


def test_fixtures_pass_a_correct_rule_and_fail_a_wrong_one_with_the_report(rules_module):
    rules_module.makepyfile(
        test_fixtures='''
        import numpy as np
        from myrules import bad_square, cube

        def test_gradcheck_ok(gradcheck):
            assert gradcheck(lambda x: cube(x).sum(), np.array([1.0, -2.0]))

        def test_gradcheck_wrong(gradcheck):
            gradcheck(lambda x: bad_square(x).sum(), np.array([1.0, -2.0]))

        def test_check_adjoint_ok(check_adjoint):
            check_adjoint(cube, np.array([0.5, 3.0]))

        def test_check_adjoint_wrong(check_adjoint):
            check_adjoint(bad_square, np.array([0.5, 3.0]))

        def test_verify_uses_the_plugin_options(verify):
            result = verify(cube)
            assert result.seed == 1 and result.examples <= 10
        '''
    )
    result = run_inprocess(rules_module, *FAST)
    result.assert_outcomes(passed=3, failed=2)
    out = result.stdout.str()
    assert "bad_square" in out
    # the report is the failure text; no Python traceback of the check's internals
    failure = out[out.index("_ test_check_adjoint_wrong _"):]
    assert "check_adjoint(bad_square)" in failure
    assert "def run(" not in out and "raise_exception" not in out


def test_adjoint_registry_removes_rules_registered_in_a_test(pytester):
    pytester.makepyfile(
        test_isolation='''
        import numpy as np
        import adcheck as ad

        @ad.primitive
        def twice(x):
            return 2 * x

        def test_registers(adjoint_registry):
            @ad.adjoint(twice)
            def _(x):
                return twice(x), lambda dy: (2 * dy,)
            @ad.adjoint(np.sin)
            def _(x):
                return np.sin(x), lambda dy: (-dy,)
            assert adjoint_registry.lookup(twice) is not None
            assert not adjoint_registry.lookup(np.sin).builtin

        def test_sees_none_of_them(adjoint_registry):
            assert adjoint_registry.lookup(twice) is None
            assert adjoint_registry.lookup(np.sin).builtin
        '''
    )
    result = run_inprocess(pytester, "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_adcheck_verify_makes_one_item_per_rule(rules_module, tmp_path):
    junit = tmp_path / "junit.xml"
    result = run_inprocess(
        rules_module, "--adcheck-verify=myrules.py", *FAST, "-v", f"--junitxml={junit}"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*myrules.py::cube PASSED*",
        "*myrules.py::bad_square FAILED*",
    ])
    out = result.stdout.str()
    assert "adjoint rule bad_square (myrules.py:" in out
    assert "smallest failing input:" in out
    assert ("replay: pytest --adcheck-verify=myrules.py -k 'bad_square' --adcheck-seed=1 "
            "--adcheck-max-examples=10") in out
    seeds = {p.get("value") for p in ET.parse(junit).getroot().iter("property")
             if p.get("name") == "seed"}
    assert seeds == {"1"}


def test_k_and_the_adcheck_marker_select_rule_items(rules_module):
    rules_module.makepyfile(test_other="def test_unrelated():\n    pass\n")
    result = run_inprocess(rules_module, "--adcheck-verify=myrules", "-m", "adcheck",
                           "-k", "cube", *FAST)
    result.assert_outcomes(passed=1, deselected=2)


def test_a_target_that_fails_to_import_is_a_collection_error(pytester):
    pytester.makepyfile(broken="import numpy\nraise RuntimeError('no config file')\n")
    result = run_inprocess(pytester, "--adcheck-verify=broken.py", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # as for a test module that cannot import
    result.stdout.fnmatch_lines([
        "*ERROR collecting broken.py*",
        "cannot import broken.py",
        '*broken.py", line 2, in <module>',
        "RuntimeError: no config file",
    ])


def test_xdist_spreads_rule_items_over_workers_seeded_by_hypothesis(rules_module):
    pytest.importorskip("xdist")
    rules_module.makepyfile(extra=RULES.replace("cube", "cube2").replace("bad_square", "bad2"))
    rules_module.makepyfile(
        test_seed='''
        from myrules import cube

        def test_verify_fixture_takes_the_hypothesis_seed(verify):
            assert verify(cube, max_examples=5).seed == 11
        '''
    )
    result = rules_module.runpytest_subprocess(
        "-n", "2", "--adcheck-verify=myrules.py,extra.py", "--adcheck-max-examples=10",
        "--hypothesis-seed=11", "-p", "no:cacheprovider",
    )
    result.assert_outcomes(passed=3, failed=2)
    out = result.stdout.str()
    assert "2 workers [5 items]" in out
    # without --adcheck-seed, the rule items take --hypothesis-seed too
    replay = ("replay: pytest --adcheck-verify={} -k {!r} --adcheck-seed=11 "
              "--adcheck-max-examples=10")
    assert replay.format("myrules.py", "bad_square") in out
    assert replay.format("extra.py", "bad2") in out


def test_without_a_seed_option_every_seed_is_deterministic(rules_module, tmp_path):
    import zlib

    rules_module.makepyfile(
        test_seeds='''
        import numpy as np
        from myrules import cube

        def test_verify_fixture_seed_comes_from_the_rule_name(verify):
            assert verify(cube, max_examples=5).seed == CUBE_SEED

        def test_check_adjoint_fixture_seed_comes_from_the_test_id(check_adjoint, request):
            import zlib
            result = check_adjoint(cube, np.array([0.5, 3.0]))
            assert result.seed == zlib.crc32(request.node.nodeid.encode())
        '''.replace("CUBE_SEED", str(zlib.crc32(b"cube")))
    )
    seeds = []
    for run in range(2):
        junit = tmp_path / f"junit{run}.xml"
        result = run_inprocess(rules_module, "--adcheck-verify=myrules.py",
                               "--adcheck-max-examples=10", "-p", "no:cacheprovider",
                               "-p", "no:randomly", f"--junitxml={junit}")
        result.assert_outcomes(passed=3, failed=1)
        seeds.append({p.get("value") for p in ET.parse(junit).getroot().iter("property")
                      if p.get("name") == "seed"})
        assert (f"replay: pytest --adcheck-verify=myrules.py -k 'bad_square' "
                f"--adcheck-seed={zlib.crc32(b'bad_square')}") in result.stdout.str()
    assert seeds[0] == seeds[1] == {str(zlib.crc32(b"cube")), str(zlib.crc32(b"bad_square"))}


def test_adcheck_seed_random_explores_and_reports_the_seed(rules_module, tmp_path):
    seeds = []
    for run in range(2):
        junit = tmp_path / f"junit{run}.xml"
        result = run_inprocess(rules_module, "--adcheck-verify=myrules.py", "-k", "cube",
                               "--adcheck-max-examples=5", "--adcheck-seed=random",
                               "-p", "no:cacheprovider", f"--junitxml={junit}")
        result.assert_outcomes(passed=1)
        seeds += [p.get("value") for p in ET.parse(junit).getroot().iter("property")
                  if p.get("name") == "seed"]
    assert len(seeds) == 2 and seeds[0] != seeds[1]
    assert all(s.isdigit() for s in seeds)
