"""The reports of a real check_receiver run: a JUnit file that a JUnit parser reads (a case per
rule, a failure per broken rule) and a JSON report valid against its published schema."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema_rs
import pytest
from junitparser import Failure, JUnitXml, Skipped

from mock_server.contract import ReceiverViolation, check_receiver, run_receiver_check
from mock_server.contract.reports import (
    JSON_SCHEMA,
    WRITERS,
    CheckResult,
    Finding,
    RuleResult,
    json_report,
    text_report,
    write_json,
    write_junit,
    write_report,
)
from mock_server.contract.rules import rule, rules

from . import receivers

BROKEN_BY_VERIFICATION_OFF = {"forged_accepted", "stale_accepted", "future_accepted"}


@pytest.fixture(scope="module")
def failed() -> CheckResult:
    from mock_server.webhooks.signing import new_secret

    secret = new_secret()
    app, _ = receivers.verification_off(secret)
    with pytest.raises(ReceiverViolation) as info:
        check_receiver(app, secret=secret, max_examples=2, seed=7)
    return info.value.result


def test_junit_has_a_case_per_rule_and_a_failure_per_broken_rule(
    failed: CheckResult, tmp_path: Path
) -> None:
    path = tmp_path / "reports" / "receiver.xml"
    write_junit(failed, path)
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    cases = list(suites[0])
    assert {c.name for c in cases} == {r.id for r in rules("receiver")}
    failing = {}
    for case in cases:
        for outcome in case.result:
            if isinstance(outcome, Failure):
                failing[case.name] = outcome
    assert set(failing) == BROKEN_BY_VERIFICATION_OFF
    for rule_id, failure in failing.items():
        assert failure.type == rule_id
        assert failure.message.startswith(f"[{rule_id}]")
        assert "request:" in (failure.text or "")
    skipped = [c.name for c in cases if any(isinstance(o, Skipped) for o in c.result)]
    assert skipped == ["state_regressed"]
    assert suites[0].failures == 3 and suites[0].tests == len(cases)
    # the plain structure, as CI servers read it
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "3"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "7"


def test_the_json_report_matches_its_schema(failed: CheckResult, tmp_path: Path) -> None:
    path = tmp_path / "receiver.json"
    write_json(failed, path)
    report = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema_rs.validator_for(JSON_SCHEMA)
    validator.validate(report)
    assert report["schemaVersion"] == 1
    assert report["passed"] is False
    assert report["seed"] == 7
    by_id = {r["id"]: r for r in report["rules"]}
    assert {i for i, r in by_id.items() if r["status"] == "failed"} == BROKEN_BY_VERIFICATION_OFF
    finding = by_id["forged_accepted"]["findings"][0]
    assert finding["details"]["request"]["bodyBase64"]
    assert finding["details"]["answer"]["status"] == 200
    # the schema is not a formality: a report that breaks it is refused
    bad = dict(report, rules=[dict(report["rules"][0], status="maybe")])
    assert not validator.is_valid(bad)
    assert not validator.is_valid({k: v for k, v in report.items() if k != "seed"})


def test_a_passing_run_reports_passed(tmp_path: Path) -> None:
    from mock_server.webhooks.signing import new_secret

    secret = new_secret()
    app, store = receivers.conforming(secret)
    result = run_receiver_check(
        app, secret=secret, max_examples=1, seed=3, state_probe=store.get, state_settle=0
    )
    report = json_report(result)
    jsonschema_rs.validator_for(JSON_SCHEMA).validate(report)
    assert report["passed"] is True
    assert all(r["status"] == "passed" for r in report["rules"])
    out = io.StringIO()
    write_report("junit", result, out)
    (suite,) = list(JUnitXml.fromstring(out.getvalue()))
    assert suite.failures == 0 and suite.skipped == 0
    assert "PASSED" in text_report(result)


def test_control_characters_stay_valid_xml() -> None:
    finding = Finding("bad \x00 byte \x1b[31m", "text with \x07 and \ud800", {"x": 1})
    result = CheckResult(
        "receiver",
        "http://127.0.0.1/\x01",
        [RuleResult(rule("forged_accepted"), checks=1, violations=1, findings=[finding])],
    )
    out = io.StringIO()
    write_junit(result, out)
    (suite,) = list(JUnitXml.fromstring(out.getvalue()))
    (case,) = list(suite)
    assert "\\x00" in case.result[0].message


def test_report_kinds() -> None:
    assert set(WRITERS) == {"json", "junit", "github"}
    with pytest.raises(ValueError, match="known: json, junit, github"):
        write_report("html", CheckResult("receiver", "x", []), io.StringIO())
