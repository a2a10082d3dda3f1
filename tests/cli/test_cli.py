"""`adcheck verify / list / trace / schema`: exit codes, output formats, selection, isolation.

The CLI runs in-process through click's CliRunner; the example modules in examples/ and the
small targets in tests/cli/targets/ are the inputs.
"""

from __future__ import annotations

import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from adcheck.cli.main import cli
from adcheck.cli.output import JSON_SCHEMA
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[2]
RULES_OK = ROOT / "examples" / "rules_ok.py"
RULES_WRONG = ROOT / "examples" / "rules_wrong.py"
TARGETS = Path(__file__).parent / "targets"
FAST = ["--max-examples", "10", "--seed", "1"]
OK_RULES = ["softplus", "logsumexp", "safe_log", "add", "f"]


def run(*args: object) -> Result:
    # a fixed width: tables are not folded whatever terminal (or xdist worker) runs the tests
    runner = CliRunner(env={"COLUMNS": "200"})
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def verify_json(*args: object) -> tuple[Result, dict]:
    result = run("verify", *args, *FAST, "--format", "json")
    return result, json.loads(result.stdout)


def statuses(document: dict) -> dict[str, str]:
    return {r["name"]: r["status"] for r in document["rules"]}


# -- exit codes ----------------------------------------------------------------------------


def test_correct_rules_exit_0_with_a_table_of_every_rule():
    result = run("verify", RULES_OK, *FAST)
    assert result.exit_code == 0, result.output
    table = result.stdout
    for name in OK_RULES:
        assert f" {name} " in table
    assert "examples/rules_ok.py:" in table  # where each rule is defined
    assert "5 rules: 5 passed" in table
    assert "FAIL" not in table


def test_a_wrong_rule_exits_1_naming_it_with_smallest_input_and_seed():
    result = run("verify", RULES_WRONG, *FAST)
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "FAIL sigmoid (examples/rules_wrong.py:" in out
    assert "FAIL mean (examples/rules_wrong.py:" in out
    assert "smallest failing input:" in out
    assert "replay: adcheck verify" in out and "-k sigmoid --seed 1 --max-examples 10" in out
    assert "2 rules: 2 failed" in out


def test_sigmoid_fails_only_for_negative_inputs():
    _, document = verify_json(RULES_WRONG, "-k", "sigmoid")
    (rule,) = document["rules"]
    assert rule["status"] == "failed"
    assert rule["smallest_input"] is not None and "-" in rule["smallest_input"]
    assert rule["max_error"] > rule["tolerance"]


def _mean_rule(*seed: str) -> dict:
    return json.loads(run("verify", RULES_WRONG, "--max-examples", "10", "--format", "json",
                          "-k", "mean", *seed).stdout)["rules"][0]


def test_the_reported_seed_replays_the_same_smallest_input():
    first = _mean_rule("--seed", "random")  # exploration: a fresh seed, reported
    again = _mean_rule("--seed", str(first["seed"]))
    assert first["status"] == again["status"] == "failed"
    assert again["seed"] == first["seed"]
    assert again["smallest_input"] == first["smallest_input"]
    assert again["max_error"] == first["max_error"]


def test_the_default_seed_is_the_same_in_every_run_and_derived_from_the_rule_name():
    import zlib

    first, second = _mean_rule(), _mean_rule()
    assert first["seed"] == second["seed"] == zlib.crc32(b"mean")
    assert first["smallest_input"] == second["smallest_input"]
    assert first["report"] == second["report"]
    explored = {_mean_rule("--seed", "random")["seed"] for _ in range(2)}
    assert len(explored) == 2 and first["seed"] not in explored


def test_seed_must_be_an_integer_or_random():
    result = run("verify", RULES_OK, "--seed", "often")
    assert result.exit_code == 2
    assert "'often' is neither an integer nor 'random'" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "give at least one TARGET"),
        ((RULES_OK, "--mode", "slow"), "Invalid value for '--mode'"),
        ((RULES_OK, "--max-examples", "0"), "Invalid value for '--max-examples'"),
        ((RULES_OK, "-k", "no_rule_has_this_name"), "no rule matches -k"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = run("verify", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_module_that_fails_to_import_exits_2_with_its_traceback_and_the_run_goes_on():
    result = run("verify", TARGETS / "broken.py", RULES_OK, *FAST)
    assert result.exit_code == 2
    out = result.output
    assert "cannot import" in out and "broken.py" in out
    # the traceback points at the user's code, not at importlib
    assert 'broken.py", line 16, in <module>' in out
    assert "ValueError: table.csv is missing a header row" in out
    assert "importlib" not in out
    # the other target was still checked
    assert "5 passed" in out and "1 target failed to import" in out


def test_an_unknown_module_exits_2():
    result = run("verify", "no_such_package.rules")
    assert result.exit_code == 2
    assert "No module named 'no_such_package'" in result.output


# -- rules that go wrong without a wrong number ----------------------------------------------


def test_nan_raising_and_missing_rules_are_each_reported_and_the_run_goes_on():
    result, document = verify_json(TARGETS / "troubles.py")
    assert result.exit_code == 1
    found = statuses(document)
    assert found["cube"] == "passed"
    assert found["nan_slope"] in ("failed", "error")
    assert found["raises"] in ("failed", "error")
    assert found["lonely"] == "no-rule"
    by_name = {r["name"]: r for r in document["rules"]}
    assert "nan" in by_name["nan_slope"]["report"].lower()
    assert "pullback of raises is not implemented yet" in by_name["raises"]["report"]
    assert "@ad.adjoint(lonely)" in by_name["lonely"]["report"]


def test_a_rule_without_domain_says_it_used_default_inputs():
    _, document = verify_json(TARGETS / "troubles.py", "-k", "cube")
    (rule,) = document["rules"]
    assert rule["declared_domain"] is False
    assert any("default inputs" in note for note in rule["notes"])
    _, document = verify_json(RULES_OK, "-k", "safe_log")
    assert not any("default inputs" in n for n in document["rules"][0]["notes"])


def test_only_when_no_default_input_works_does_it_ask_for_a_domain():
    result = run("verify", TARGETS / "needs_domain.py", *FAST)  # log(x - 20), no domain
    assert result.exit_code == 1
    assert "declare a domain, e.g. @ad.adjoint(log_shifted, domain=" in result.stdout
    _, document = verify_json(TARGETS / "troubles.py", "-k", "cube")
    assert "declare a domain" not in document["rules"][0]["report"]


def test_a_hanging_rule_times_out_and_the_others_still_run():
    start = time.perf_counter()
    result, document = verify_json(TARGETS / "sleepy.py", "--timeout", "5")
    assert time.perf_counter() - start < 20
    assert result.exit_code == 1
    assert statuses(document) == {"slow": "timeout", "quick": "passed"}
    assert document["summary"]["timeout"] == 1


def test_mode_fdm_order_and_tolerances_reach_the_checker():
    twice = TARGETS / "folder" / "first.py"
    low = verify_json(twice, "--fdm-order", "3")[1]["rules"][0]["check"]
    high = verify_json(twice, "--fdm-order", "7")[1]["rules"][0]["check"]
    assert high["evaluations"] > low["evaluations"]  # a 7-point stencil evaluates more
    assert verify_json(twice, "--mode", "fast")[1]["rules"][0]["check"]["mode"] == "fast"
    result, document = verify_json(RULES_WRONG, "-k", "mean", "--atol", "1")
    assert document["rules"][0]["tolerance"] >= 1.0
    assert document["options"]["atol"] == 1.0
    assert run("verify", twice, "--fdm-order", "1").exit_code == 2


# -- selection and targets -------------------------------------------------------------------


def test_k_selects_by_substring_glob_and_not():
    _, document = verify_json(RULES_OK, "-k", "soft")
    assert list(statuses(document)) == ["softplus"]
    _, document = verify_json(RULES_OK, "-k", "*log*")
    assert sorted(statuses(document)) == ["logsumexp", "safe_log"]
    _, document = verify_json(RULES_OK, "-k", "not log")
    assert list(statuses(document)) == ["softplus", "add", "f"]


def test_a_folder_target_checks_each_file_in_it():
    result, document = verify_json(TARGETS / "folder")
    assert result.exit_code == 0
    assert [(Path(r["target"]).name, r["name"]) for r in document["rules"]] == [
        ("first.py", "twice"),
        ("second.py", "thrice"),
    ]


def test_a_dotted_module_imported_before_still_yields_its_rules(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    monkeypatch.delitem(sys.modules, "rules_ok", raising=False)
    __import__("rules_ok")  # registered before adcheck looks: nothing new appears
    result, document = verify_json("rules_ok")
    assert result.exit_code == 0
    assert list(statuses(document)) == OK_RULES


def test_builtin_rules_are_found_and_checked():
    result, document = verify_json("--builtin", "-k", "arcsi[n]")  # a glob: not arcsinh
    assert result.exit_code == 0, result.output
    assert statuses(document) == {"arcsin": "passed"}
    assert document["rules"][0]["target"] == "adcheck.rules"


def test_jobs_2_gives_the_same_verdicts_as_one_process():
    args = (TARGETS / "folder", RULES_WRONG)
    serial, one = verify_json(*args)
    parallel, two = verify_json(*args, "--jobs", "2")
    assert parallel.exit_code == serial.exit_code == 1
    assert [(r["id"], r["status"]) for r in two["rules"]] == [
        (r["id"], r["status"]) for r in one["rules"]
    ], [r["report"] for r in two["rules"]]
    assert two["options"]["jobs"] == 2


# -- output formats --------------------------------------------------------------------------


def test_json_matches_its_schema_and_counts_add_up():
    jsonschema = pytest.importorskip("jsonschema")
    result, document = verify_json(RULES_OK, RULES_WRONG)
    jsonschema.validate(document, JSON_SCHEMA)
    assert result.exit_code == document["summary"]["exit_code"] == 1
    summary = document["summary"]
    assert (summary["rules"], summary["passed"], summary["failed"]) == (7, 5, 2)
    assert [t["rules"] for t in document["targets"]] == [5, 2]
    wrong = {r["name"]: r for r in document["rules"] if r["status"] == "failed"}
    assert set(wrong) == {"sigmoid", "mean"}
    assert wrong["sigmoid"]["location"].startswith("examples/rules_wrong.py:")
    assert wrong["sigmoid"]["check"]["passed"] is False
    # the cost per rule: the mean of the rules' own durations
    mean = sum(r["duration"] for r in document["rules"]) / len(document["rules"])
    assert summary["per_rule"] == pytest.approx(mean, abs=1e-4)
    text = run("verify", RULES_OK, RULES_WRONG, *FAST).stdout
    assert re.search(r"7 rules: 5 passed, 2 failed \([0-9.]+ s, [0-9.]+ s per rule\)", text)


def test_json_reports_an_import_error_per_target():
    jsonschema = pytest.importorskip("jsonschema")
    result, document = verify_json(TARGETS / "broken.py", TARGETS / "folder" / "first.py")
    jsonschema.validate(document, JSON_SCHEMA)
    assert result.exit_code == 2 == document["summary"]["exit_code"]
    broken, good = document["targets"]
    assert "table.csv is missing a header row" in broken["error"]["message"]
    assert good["error"] is None and good["rules"] == 1


def test_junit_xml_parses_with_a_failure_per_wrong_rule(tmp_path):
    report = tmp_path / "adcheck.xml"
    result = run("verify", RULES_OK, RULES_WRONG, *FAST, "--format", "junit", "-o", report)
    assert result.exit_code == 1
    assert "7 rules: 5 passed, 2 failed" in result.stdout  # the summary still shows
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "0")
    suites = root.findall("testsuite")
    assert [s.get("tests") for s in suites] == ["5", "2"]
    failures = {
        case.get("name"): case.find("failure")
        for case in root.iter("testcase")
        if case.find("failure") is not None
    }
    assert set(failures) == {"sigmoid", "mean"}
    assert "smallest failing input" in failures["sigmoid"].text
    case = next(c for c in root.iter("testcase") if c.get("name") == "sigmoid")
    assert case.get("classname") == "examples.rules_wrong"
    assert case.get("file") == "examples/rules_wrong.py" and int(case.get("line")) > 1


def test_junit_marks_errors_timeouts_and_import_failures_as_errors():
    result = run("verify", TARGETS / "broken.py", TARGETS / "sleepy.py", *FAST,
                 "--timeout", "5", "--format", "junit")
    assert result.exit_code == 2
    root = ET.fromstring(result.stdout)
    errors = {c.get("name"): c.find("error").get("type")
              for c in root.iter("testcase") if c.find("error") is not None}
    assert errors == {"import": "ImportError", "slow": "Timeout"}


def test_text_report_to_a_file(tmp_path):
    report = tmp_path / "report.txt"
    result = run("verify", RULES_WRONG, *FAST, "-o", report)
    assert result.exit_code == 1
    text = report.read_text()
    assert "FAIL sigmoid" in text and "Verdict" in text
    assert "2 rules: 2 failed" in result.stdout


def test_quiet_drops_the_table_and_verbose_adds_passing_reports():
    quiet = run("verify", RULES_OK, *FAST, "-q").stdout
    assert "Verdict" not in quiet and "5 rules: 5 passed" in quiet
    verbose = run("verify", RULES_OK, *FAST, "-k", "safe_log", "-v").stdout
    assert "pass safe_log" in verbose  # the passing rule's own section


def test_schema_command_prints_the_schema():
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == JSON_SCHEMA


# -- list and trace --------------------------------------------------------------------------


def test_list_shows_rules_and_domains_without_checking():
    result = run("list", RULES_OK, TARGETS / "troubles.py")
    assert result.exit_code == 0
    out = result.stdout
    assert "positive[0.01, 10]" in out  # safe_log's declared domain
    assert "vectors of length 2" in out  # f's custom domain
    assert "primitive, no rule" in out  # troubles.lonely
    assert "9 rules" in out


def test_list_json_and_import_error():
    result = run("list", RULES_OK, "--format", "json")
    rules = json.loads(result.stdout)["rules"]
    assert [r["name"] for r in rules] == OK_RULES
    assert {r["name"]: r["declared_domain"] for r in rules}["softplus"] is False
    assert run("list", TARGETS / "broken.py").exit_code == 2


def test_trace_prints_the_wengert_list_and_the_gradient():
    result = run("trace", f"{TARGETS / 'funcs.py'}:s", "4.0")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1:4] == ["  y1 = square(x)", "  y2 = sin(y1)", "  y3 = multiply(y2, 5)"]
    assert "value = -1.4395165833253265" in lines
    assert "gradient with respect to x = -38.30637921293538" in lines


def test_trace_with_arrays_and_several_arguments():
    result = run("trace", f"{TARGETS / 'funcs.py'}:weighted", "[0.0, 1.0]", "2")
    assert result.exit_code == 0
    # d/dw_i tanh(w_i x) = x (1 - tanh(w_i x)^2): 2 at w_i = 0, 2 (1 - tanh(2)^2) at w_i = 1
    assert "gradient with respect to w = [2.0, 0.14130164970632886]" in result.stdout
    # d/dx = sum_i w_i (1 - tanh(w_i x)^2) = 1 - tanh(2)^2
    assert "gradient with respect to x = 0.07065082485316443" in result.stdout


def test_trace_of_a_tuple_or_dict_valued_function_gives_each_output_its_gradient(tmp_path):
    import math

    module = tmp_path / "several_outputs.py"
    module.write_text("import numpy as np\n\n"
                      "def pair(x):\n    return np.sin(x), x * 2.0\n\n"
                      "def named(x):\n    return {'a': np.exp(x)}\n")
    result = run("trace", f"{module}:pair", "1.5")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"value[0] = {math.sin(1.5)!r}" in lines and "value[1] = 3.0" in lines
    assert f"gradient of value[0] with respect to x = {math.cos(1.5)!r}" in lines
    assert "gradient of value[1] with respect to x = 2.0" in lines
    result = run("trace", f"{module}:named", "0.0")
    assert result.exit_code == 0, result.output
    assert "gradient of value['a'] with respect to x = 1.0" in result.stdout.splitlines()


@pytest.mark.parametrize(
    "args",
    [("funcs_without_colon",), (f"{TARGETS / 'funcs.py'}:nope", "1"), ("no_such_mod:f", "1"),
     (f"{TARGETS / 'funcs.py'}:s", "not a number")],
)
def test_trace_usage_errors_exit_2(args):
    assert run("trace", *args).exit_code == 2


def test_a_domain_that_cannot_generate_or_misses_the_function_says_which():
    _, document = verify_json(TARGETS / "bad_domains.py")
    by_name = {r["name"]: r for r in document["rules"]}
    assert {n: r["status"] for n, r in by_name.items()} == {
        "never_drawn": "failed", "log_of_negatives": "failed"}
    drawn = by_name["never_drawn"]["report"]
    assert "the domain 'impossible' could not generate any input" in drawn
    assert "declare a domain" not in drawn  # it has one
    missed = by_name["log_of_negatives"]["report"]
    assert "inputs drawn from the domain 'interval[-5, -1]'" in missed
    assert "declare a domain" not in missed


def test_the_summary_of_a_run_with_only_import_failures_reads_as_words():
    result = run("verify", "no_such_package.rules")
    assert "no rules checked; 1 target failed to import" in result.output
