"""The report writers for checks that run examples: a JUnit case per example (a failure carries
its rule), the examples in the versioned JSON report, and GitHub Actions output (workflow
commands escaped as GitHub's toolkit does; a Markdown step summary)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema_rs
import pytest
from junitparser import Failure, JUnitXml

from mock_server.contract.reports import (
    JSON_SCHEMA,
    CaseResult,
    CheckResult,
    RuleResult,
    github_annotations,
    github_summary,
    json_report,
    text_report,
    write_report,
)
from mock_server.contract.rules import rules


def _result(*cases: CaseResult) -> CheckResult:
    client = [RuleResult(r, checks=len(cases)) for r in rules("client")]
    for case in cases:
        if case.rule is not None:
            next(r for r in client if r.rule.id == case.rule).violations += 1
    return CheckResult(
        "client",
        "node client.mjs",
        client,
        seed=9,
        seconds=1.5,
        notes=["timing: polls may come 0.40 s early"],
        replay="plangrep-mock check --seed 9 -- node client.mjs",
        cases=list(cases),
    )


PASSED = CaseResult(1, "example 1: completed", 0.3, output="printed completed after 20.0 s")
FAILED = CaseResult(
    2,
    "example 2: blocked_at_preflight",
    0.4,
    rule="wrong_result",
    message="the program printed job_x with status blocked_insufficient_credits: 100%, a, b",
    # as a checker writes it: the rule and the message, then the readable block
    text="[wrong_result] the program printed job_x with status blocked_insufficient_credits: "
    "100%, a, b\nthe program's requests (2):\n  GET /jobs/job_x -> 200",
    stderr="  job_x: blocked_insufficient_credits",
    details={"jobStatus": "blocked_insufficient_credits"},
)


def test_junit_has_a_case_per_example_and_a_failure_carries_its_rule() -> None:
    out = io.StringIO()
    write_report("junit", _result(PASSED, FAILED), out)
    (suite,) = list(JUnitXml.fromstring(out.getvalue()))
    assert suite.tests == 2 and suite.failures == 1
    first, second = list(suite)
    assert first.name == "example 1: completed" and first.is_passed
    assert first.system_out == "printed completed after 20.0 s"
    (failure,) = [r for r in second.result if isinstance(r, Failure)]
    assert failure.type == "wrong_result"
    assert failure.message.startswith("[wrong_result] the program printed job_x")
    assert "the program's requests (2)" in (failure.text or "")
    assert second.system_err == "  job_x: blocked_insufficient_credits"
    assert float(second.time) == pytest.approx(0.4)


def test_the_json_report_lists_the_examples_and_matches_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_report("json", _result(PASSED, FAILED), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema_rs.validator_for(JSON_SCHEMA)
    validator.validate(data)
    assert data["schemaVersion"] == 1 and data["passed"] is False
    assert [e["status"] for e in data["examples"]] == ["passed", "failed"]
    assert data["examples"][1]["rule"] == "wrong_result"
    assert data["examples"][1]["details"] == {"jobStatus": "blocked_insufficient_credits"}
    bad = dict(data, examples=[dict(data["examples"][0], status="flaky")])
    assert not validator.is_valid(bad)  # the schema holds the examples too
    # a check without examples (check-receiver) still validates: `examples` is empty
    assert json_report(CheckResult("receiver", "x", []))["examples"] == []


def test_a_failed_example_fails_the_check_even_when_no_rule_counted_it() -> None:
    result = CheckResult("client", "x", [], cases=[FAILED])
    assert not result.passed
    assert "examples: 0 passed, 1 failed: 2 (wrong_result)" in text_report(result)


def test_github_annotations_are_one_line_each_with_escaped_data_and_properties() -> None:
    text = github_annotations(_result(PASSED, FAILED))
    (line,) = text.splitlines()
    title, message = line.removeprefix("::error title=").split("::", 1)
    # a title is a property: `:` and `,` escaped besides `%`, CR and LF
    assert title == (
        "plangrep-mock check-client%3A example 2%3A blocked_at_preflight broke wrong_result"
    )
    assert "100%25%2C" not in message and "100%25, a, b" in message  # data keeps `,`
    assert message.count("[wrong_result]") == 1  # the message is not repeated
    assert "%0Athe program's requests (2)%3A" not in message
    assert "%0Athe program's requests (2):%0A" in message
    assert github_annotations(_result(PASSED)) == ""  # a passing check adds no annotation


def test_github_summary_is_markdown_with_a_row_per_rule_and_failed_examples() -> None:
    markdown = github_summary(_result(PASSED, FAILED))
    assert markdown.startswith("## \u274c plangrep-mock check-client: FAILED")
    assert "| `wrong_result` | failed | 2 | 1 |" in markdown
    assert "1 of 2 examples passed." in markdown
    assert "| example 2: blocked_at_preflight | `wrong_result` |" in markdown
    assert "<details><summary>example 2: blocked_at_preflight</summary>" in markdown
    assert "- timing: polls may come 0.40 s early" in markdown
    assert "Replay: `plangrep-mock check --seed 9 -- node client.mjs`" in markdown


def test_the_github_writer_appends_the_summary_where_github_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = io.StringIO()
    write_report("github", _result(PASSED, FAILED), out)
    assert out.getvalue().startswith("::error title=")
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("earlier step\n## ")  # appended, as GitHub expects
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    write_report("github", _result(PASSED), io.StringIO())
    assert summary.read_text(encoding="utf-8") == written  # not set: no summary
