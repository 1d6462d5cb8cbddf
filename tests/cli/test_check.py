"""`plangrep-mock check -- CMD`: real programs (Node 20 with global fetch, bash + curl + jq,
Python under libfaketime) judged with the contract rules. A right client exits 0; each broken
one exits 1 naming the rule it broke; a program that cannot run exits 2 with a clear message.

The runs are kept short: a few canonical paths (`--paths`), no drawn examples (`--examples 0`)
unless a test needs them. Clients that must be caught polling fast run at a low time scale (x5,
x10), so that their own per-request overhead on a busy machine (tens to hundreds of wall
milliseconds when the suite runs on every core: seconds of virtual time at x200) does not hide
how often they poll.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from junitparser import Failure, JUnitXml

from mock_server.cli import main
from mock_server.contract.program import generate_plans
from mock_server.contract.reports import JSON_SCHEMA
from mock_server.contract.workflow_strategies import WorkflowPlan

CLIENTS = Path(__file__).parent / "clients"


def _require(tool: str, hint: str) -> str:
    """The tool's path; in CI (CI set) a missing tool fails, elsewhere the test is skipped."""
    found = shutil.which(tool)
    if found is None:
        message = f"this test runs a real program and needs {tool} on PATH ({hint})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def node() -> str:
    path = _require("node", "Node.js 18 or later: global fetch")
    major = subprocess.run([path, "-p", "process.versions.node.split('.')[0]"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    if int(major) < 18:
        pytest.skip(f"Node.js {major.strip()} has no global fetch; the clients need 18+")
    return path


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "-q", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def client(name: str) -> str:
    return str(CLIENTS / name)


# --------------------------------------------------------------------------- right clients


def test_a_node_client_that_waits_properly_passes_with_a_junit_case_per_example(
    node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junit, report = tmp_path / "check.xml", tmp_path / "check.json"
    code, out, err = check(
        capsys,
        "--examples", "1", "--seed", "4", "--faults",
        "--paths", "completed,blocked_mid_processing,cancel_deferred",
        "--junit", str(junit), "--json", str(report),
        "--", node, client("wait_for_job.mjs"),
    )  # fmt: skip
    assert code == 0, out + err
    assert "PASSED" in out and "--seed 4" in out
    assert "judged as 4.60 s" in out  # the timing tolerance is stated
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    cases = list(suite)
    # three canonical paths, the canonical plan with every fault kind, one drawn example
    assert len(cases) == 5 == suite.tests
    assert [c.name.split(":")[0] for c in cases] == [f"example {i}" for i in range(1, 6)]
    assert suite.failures == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    jsonschema_rs.validator_for(JSON_SCHEMA).validate(data)
    assert data["schemaVersion"] == 1 and data["check"] == "client" and data["passed"]
    assert len(data["examples"]) == 5
    assert all(e["status"] == "passed" for e in data["examples"])
    assert data["stats"]["toleranceSeconds"] == 0.4
    assert data["stats"]["timeScale"] == 200
    first = data["examples"][0]["details"]
    assert first["requests"][0]["at"] < 1.0  # the clock waited for the program's first request
    assert first["jobStatus"] == "completed"


def test_a_bash_and_curl_client_passes(capsys: pytest.CaptureFixture[str]) -> None:
    for tool in ("bash", "curl", "jq"):
        _require(tool, "apt-get install curl jq; .ci/run installs them")
    code, out, err = check(
        capsys,
        "--examples", "0", "--faults", "--paths", "completed,cancel_immediate",
        "--", client("wait_for_job.sh"),
    )  # fmt: skip
    assert code == 0, out + err
    assert "examples: 3 passed, 0 failed" in out


# --------------------------------------------------------------------------- broken clients


def _failed(report: Path) -> list[dict[str, Any]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    jsonschema_rs.validator_for(JSON_SCHEMA).validate(data)
    assert data["passed"] is False
    return [e for e in data["examples"] if e["status"] == "failed"]


def test_a_node_client_polling_every_second_breaks_polling_too_fast(
    node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junit = tmp_path / "check.xml"
    code, out, _ = check(
        capsys,
        "--examples", "0", "--paths", "completed", "--time-scale", "5",
        "--junit", str(junit),
        "--", node, client("polls_every_second.mjs"),
    )  # fmt: skip
    assert code == 1
    assert "[polling_too_fast]" in out and "Plangrep asks for at least 5 s" in out
    assert "the program's requests" in out and "GET /api/open/v1/jobs/" in out
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    ((_case, failure),) = [(c, r) for c in suite for r in c.result if isinstance(r, Failure)]
    assert failure.type == "polling_too_fast"
    assert failure.message.startswith("[polling_too_fast]")
    assert "replay: plangrep-mock check" in (failure.text or "")


def test_a_node_client_that_stops_when_blocked_breaks_wrong_result(
    node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "check.json"
    code, _out, _ = check(
        capsys,
        "--examples", "0", "--paths", "completed,blocked_at_preflight", "--json", str(report),
        "--", node, client("stops_when_blocked.mjs"),
    )  # fmt: skip
    assert code == 1
    (failed,) = _failed(report)
    assert failed["rule"] == "wrong_result"
    assert failed["name"] == "example 2: blocked_at_preflight"
    assert "blocked_insufficient_credits (not terminal)" in failed["message"]
    assert failed["details"]["jobStatus"] == "blocked_insufficient_credits"


def test_a_node_client_ignoring_retry_after_breaks_polling_too_fast(
    node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "check.json"
    code, _out, _ = check(
        capsys,
        "--examples", "0", "--faults", "--paths", "completed", "--time-scale", "10",
        "--json", str(report),
        "--", node, client("ignores_retry_after.mjs"),
    )  # fmt: skip
    assert code == 1
    (failed,) = _failed(report)  # the plan without faults passes; the one with them does not
    assert failed["rule"] == "polling_too_fast"
    assert "the previous answer asked it to wait (Retry-After: 20 s)" in failed["message"]
    assert "[injected: 503 Retry-After 20]" in failed["text"]
    assert "HTTP 503, trying again in 5 s" in failed["stderr"]  # its standard error, in full
    assert failed["details"]["exitStatus"] == -9  # stopped at the violation


def test_a_node_client_that_never_gives_up_breaks_unbounded(
    node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "check.json"
    code, _, _ = check(
        capsys,
        "--examples", "0", "--paths", "completed", "--max-wait", "120", "--patience", "60",
        "--json", str(report),
        "--", node, client("sleeps_forever.mjs"),
    )  # fmt: skip
    assert code == 1
    (failed,) = _failed(report)
    assert failed["rule"] == "unbounded"
    assert "still running after 120 virtual s" in failed["message"]


# --------------------------------------------------------------------------- cannot run: 2


def test_a_program_that_crashes_at_start_exits_2_with_its_error(
    node: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys, "--examples", "0", "--", node, client("crashes_at_start.mjs"))
    assert code == 2
    assert out == ""
    assert "exited with status 1 before making a single request" in err
    assert "PLANGREP_CLIENT_CONFIG is not set" in err  # its standard error is shown


def test_a_program_that_does_not_exist_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, "--", "no-such-plangrep-client", "--flag")
    assert code == 2
    assert "'no-such-plangrep-client' is not an executable on PATH" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "no program to run; put it after `--`"),
        (("--time-scale", "0", "--", "true"), "the time scale must be a number > 0"),
        (("--paths", "sideways", "--", "true"), "unknown path(s) sideways"),
        (("--patience", "10", "--max-wait", "5", "--", "true"), "need 0 <= patience"),
        (("--examples", "0", "--only-example", "99", "--", "true"), "there is no example 99"),
    ],
)
def test_wrong_options_exit_2(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check(capsys, *argv)
    assert code == 2
    assert message in err


def test_everything_after_the_double_dash_belongs_to_the_program(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # exit 3 (before any request: exit 2 here) unless it got exactly these arguments; else it
    # prints no job (exit 1: wrong_result)
    program = "import sys; sys.exit(3) if sys.argv[1:] != ['--examples', '9', '--'] else print(1)"
    code, out, err = check(
        capsys, "--examples", "0", "--paths", "completed",
        "--", sys.executable, "-c", program, "--examples", "9", "--",
    )  # fmt: skip
    assert code == 1, err
    assert "its standard output is not JSON" not in out and "it must print the job" in out


def test_a_program_still_running_at_the_wall_timeout_breaks_unbounded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys, "--examples", "0", "--paths", "completed", "--timeout", "0.5",
        "--", sys.executable, "-c", "import time; time.sleep(60)",
    )  # fmt: skip
    assert code == 1
    assert "[unbounded]" in out and "still running after 0.5 wall s (--timeout)" in out


# --------------------------------------------------------------------------- GitHub Actions


def test_github_actions_output_annotates_and_summarizes(
    node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = check(
        capsys,
        "--examples", "0", "--paths", "completed,blocked_at_preflight",
        "--", node, client("stops_when_blocked.mjs"),
    )  # fmt: skip
    assert code == 1
    (annotation,) = [line for line in out.splitlines() if line.startswith("::error ")]
    assert annotation.startswith(
        "::error title=plangrep-mock check-client%3A example 2%3A blocked_at_preflight broke "
        "wrong_result::[wrong_result] "
    )
    assert "\n" not in annotation and "%0A" in annotation  # one line: newlines escaped
    markdown = summary.read_text(encoding="utf-8")
    assert "## \u274c plangrep-mock check-client: FAILED" in markdown
    assert "| `wrong_result` | failed | 2 | 1 |" in markdown
    assert "| example 2: blocked_at_preflight | `wrong_result` |" in markdown
    assert "judged as 4.60 s" in markdown


# --------------------------------------------------------------------------- workflow mode

# the canonical plans of workflow mode with --faults: one per path named, then one per kind of
# trouble (canonical_workflow_plans): 2 a lost create answer, 3 a lost complete answer, 4 a lost
# upload answer, 5 Retry-After on every kind of call, 6 a burst of 500s, 7 an outage, 8 the
# terminal webhook dropped, 9 duplicated / reordered / delayed webhooks, 10 a forged completed,
# 11 a forged blocked (with --paths completed)
WORKFLOW_RULES_JUDGED = (
    "duplicate_job",
    "upload_incomplete",
    "complete_repeated",
    "retry_after_ignored",
    "retry_storm",
    "no_polling_fallback",
    "forged_webhook_trusted",
    "result_not_available",
    "wrong_result",
    "unbounded",
    "polling_too_fast",
    "poll_after_terminal",
)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_node_workflow_client_passes_with_api_and_webhook_faults(
    seed: int, node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report, junit = tmp_path / "check.json", tmp_path / "check.xml"
    paths = "completed,processing_fails,cancel_while_uploading,expires_while_awaiting_uploads"
    code, out, err = check(
        capsys,
        "--mode", "workflow", "--faults", "--seed", str(seed), "--examples", "3",
        "--paths", paths, "--json", str(report), "--junit", str(junit),
        "--", node, client("workflow.mjs"),
    )  # fmt: skip
    assert code == 0, out + err
    assert "check workflow" in out and "examples: 17 passed, 0 failed" in out
    assert "not judged" not in out  # webhook handling is judged now
    data = json.loads(report.read_text(encoding="utf-8"))
    jsonschema_rs.validator_for(JSON_SCHEMA).validate(data)
    assert data["check"] == "workflow" and data["passed"]
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    assert suite.tests == 17 and suite.failures == 0
    judged = {r["id"]: r for r in data["rules"]}
    for rule_id in WORKFLOW_RULES_JUDGED:  # each was put to the test, and held
        assert judged[rule_id]["status"] == "passed", rule_id
        assert judged[rule_id]["checks"] > 0, rule_id
    webhooks = data["stats"]["webhooks"]
    assert webhooks["examplesWithWebhookUrl"] == 17  # it registers PLANGREP_WEBHOOK_URL
    assert webhooks["forged"]["accepted (2xx)"] >= 2  # it answers 204, and verifies later
    assert webhooks["deliveryAttempts"]["dropped"] >= 1  # the terminal webhook dropped
    faults = data["stats"]["faultsInjected"]
    assert {"lost_response", "error", "rate_limited", "latency"} <= set(faults)
    forged = next(e for e in data["examples"] if e["details"]["forged"])
    log = forged["details"]["webhooks"]
    assert any("FORGED (signed with another key)" in line for line in log)
    assert "printed the result" in forged["output"]


BROKEN_WORKFLOWS = [
    # (the program's arguments, rule, options, in the message)
    (("workflow_broken.mjs", "result-of-any-job"), "result_not_available",
     ("--paths", "processing_fails"), "asked for the result of job_"),
    # Retry-After 15 s on the first create; the client waits 2 s (at x20: its overhead on a busy
    # machine cannot make up the difference)
    (("workflow_broken.mjs", "ignores-retry-after"), "retry_after_ignored",
     ("--faults", "--paths", "completed", "--only-example", "5", "--time-scale", "20"),
     "that asked it to wait 15 s (Retry-After)"),
    # a forged `completed` at +1 s while the job preflights for 10 s and processes for 40 s (at
    # x20, a busy machine cannot slow the client down until the job really completed)
    (("workflow_broken.mjs", "trusts-any-webhook"), "forged_webhook_trusted",
     ("--faults", "--paths", "completed", "--only-example", "10", "--time-scale", "20"),
     "fetched the result of job_"),
    # the terminal webhook dropped (docs/ci.md shows this one)
    (("webhooks_only.mjs",), "no_polling_fallback",
     ("--faults", "--paths", "completed", "--only-example", "8"),
     "the webhook announcing it is dropped"),
    (("workflow_broken.mjs", "uploads-one-file"), "upload_incomplete", ("--paths", "completed"),
     "never stored: 02-specifications.pdf (40000 B)"),
    (("workflow_broken.mjs", "complete-without-key"), "complete_repeated",
     ("--faults", "--paths", "completed", "--only-example", "3"),
     "completed job_"),
    (("workflow_broken.mjs", "polls-every-second"), "polling_too_fast",
     ("--paths", "completed", "--time-scale", "5"),
     "Plangrep asks for at least 5 s between polls"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("program", "rule", "options", "message"),
    BROKEN_WORKFLOWS,
    ids=[b[0][-1] for b in BROKEN_WORKFLOWS],
)
def test_a_broken_node_workflow_client_is_caught_by_its_rule(
    program: tuple[str, ...],
    rule: str,
    options: tuple[str, ...],
    message: str,
    node: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    report = tmp_path / "check.json"
    code, out, _ = check(
        capsys,
        "--mode", "workflow", "--examples", "0", *options, "--json", str(report),
        "--", node, client(program[0]), *program[1:],
    )  # fmt: skip
    assert code == 1, out
    (failed,) = _failed(report)
    assert failed["rule"] == rule, failed["text"]
    assert message in failed["message"]
    assert f"[{rule}]" in out
    assert failed["details"]["exitStatus"] == -9  # stopped at the violation
    if "--faults" in options:  # the fault that exposed it is named
        assert failed["details"]["exposedBy"] in failed["text"]


def test_the_forged_delivery_a_client_trusted_is_in_its_report(
    node: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junit = tmp_path / "check.xml"
    code, _, _ = check(
        capsys,
        "--mode", "workflow", "--examples", "0", "--faults", "--paths", "completed",
        "--only-example", "10", "--time-scale", "20", "--junit", str(junit),
        "--", node, client("workflow_broken.mjs"), "trusts-any-webhook",
    )  # fmt: skip
    assert code == 1
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    ((failure,),) = [[r for r in c.result if isinstance(r, Failure)] for c in suite]
    assert failure.type == "forged_webhook_trusted"
    text = failure.text or ""
    assert "exposed by: at +1 s a forged delivery (bad signature) claims completed" in text
    forged = next(line for line in text.splitlines() if "FORGED" in line)
    assert forged.endswith("-> completed: the program answered 204")
    requests = text.split("the program's requests")[1].split("the webhooks")[0]
    assert "/result -> 409" in requests  # the result it asked for did not exist


def test_a_bash_workflow_client_letting_curl_retry_its_create_breaks_duplicate_job(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for tool in ("bash", "curl", "jq"):
        _require(tool, "apt-get install curl jq; .ci/run installs them")
    report = tmp_path / "check.json"
    code, _, _ = check(
        capsys,
        "--mode", "workflow", "--examples", "0", "--faults", "--paths", "completed",
        "--only-example", "2", "--json", str(report),
        "--", client("workflow_curl_retries_create.sh"),
    )  # fmt: skip
    assert code == 1
    (failed,) = _failed(report)
    assert failed["rule"] == "duplicate_job"
    assert "its create repeats one whose answer was lost" in failed["message"]
    assert failed["details"]["exposedBy"] == (
        "create #0: lost_response (committed, then the connection closed)"
    )
    assert "(the server answered 202)" in failed["text"]  # the lost answer, in the request log
    assert "Empty reply from server" in failed["stderr"]  # curl's error, before its retry


def test_a_workflow_program_that_creates_no_job_breaks_wrong_result(
    node: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # it prints something and exits without submitting anything
    code, out, _ = check(
        capsys,
        "--mode", "workflow", "--examples", "0", "--paths", "completed",
        "--", sys.executable, "-c", "print('{}')",
    )  # fmt: skip
    assert code == 1
    assert "without creating a job in project" in out


# --------------------------------------------------------------------------- libfaketime


def test_a_python_client_that_cannot_divide_its_sleeps_passes_under_faketime(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _require("faketime", "apt-get install faketime; .ci/run installs it")
    code, out, err = check(
        capsys,
        "--examples", "0", "--faketime", "--paths", "completed,cancel_deferred",
        "--", sys.executable, client("wait_for_job_plain.py"),
    )  # fmt: skip
    assert code == 0, out + err
    assert "under libfaketime" in out


# --------------------------------------------------------------------------- plans


def test_the_same_seed_gives_the_same_examples() -> None:
    first = generate_plans(5, 42, faults=True)
    assert first == generate_plans(5, 42, faults=True)
    assert first != generate_plans(5, 43, faults=True)
    assert len(first) == 21 + 1 + 5  # a canonical plan per path, one with faults, 5 drawn


def test_workflow_mode_runs_check_workflow_s_plans() -> None:
    plans = generate_plans(3, 42, faults=True, mode="workflow", paths=("completed",))
    assert plans == generate_plans(3, 42, faults=True, mode="workflow", paths=("completed",))
    assert all(isinstance(p, WorkflowPlan) for p in plans)
    # a plan per path, one per kind of trouble (lost answers, Retry-After, bursts, an outage,
    # webhook faults, forged deliveries), then the drawn ones
    assert len(plans) == 1 + 10 + 3
    assert plans[1].api_faults[0].mode == "lost_response"
    assert plans[7].webhook_faults[0].mode == "drop"
    assert plans[9].forged is not None and plans[9].forged.claims == "completed"
    assert not any(p.forged or p.webhook_faults for p in generate_plans(3, 42, mode="workflow"))
