"""`plangrep-mock check-receiver URL --secret ...`: exit 0 when the receiver conforms, 1 when
it breaks a rule, 2 on a usage error or when nothing listens at URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from junitparser import Failure, JUnitXml

from mock_server.cli import main
from mock_server.testing import MockServerThread

from . import receivers


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[MockServerThread] = []

    def start(app: web.Application) -> str:
        server = MockServerThread(app=app).start()
        servers.append(server)
        return server.url + "/webhooks"

    yield start
    for server in servers:
        server.stop()


def test_a_conforming_receiver_exits_0(
    serve: object, secret: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = receivers.conforming(secret)
    url = serve(app)  # type: ignore[operator]
    junit, report = tmp_path / "r.xml", tmp_path / "r.json"
    code = main(
        ["check-receiver", url, "--secret", secret, "--examples", "2", "--seed", "5",
         "--junit", str(junit), "--json", str(report)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASSED" in out and "--seed 5" in out
    assert json.loads(report.read_text())["passed"] is True
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    assert suite.failures == 0


def test_a_broken_receiver_exits_1_with_a_failing_case_per_rule(
    serve: object, secret: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = receivers.verification_off(secret)
    url = serve(app)  # type: ignore[operator]
    junit = tmp_path / "r.xml"
    code = main(
        ["check-receiver", url, "--secret", secret, "--examples", "1", "--junit", str(junit)]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "[forged_accepted]" in out and "request:" in out
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    failing = {c.name for c in suite for r in c.result if isinstance(r, Failure)}
    assert failing == {"forged_accepted", "stale_accepted", "future_accepted"}


def test_the_secret_can_come_from_the_environment(
    serve: object, secret: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = receivers.conforming(secret)
    url = serve(app)  # type: ignore[operator]
    monkeypatch.setenv("PLANGREP_MOCK_RECEIVER_SECRET", secret)
    assert main(["check-receiver", url, "--examples", "0"]) == 0
    capsys.readouterr()


def test_usage_errors_and_an_unreachable_url_exit_2(
    serve: object, secret: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANGREP_MOCK_RECEIVER_SECRET", raising=False)
    app, _ = receivers.conforming(secret)
    url = serve(app)  # type: ignore[operator]
    server = MockServerThread(app=web.Application()).start()
    gone = server.url + "/webhooks"
    server.stop()
    cases = {
        "unreachable": (["check-receiver", gone, "--secret", secret], "cannot reach"),
        "no secret": (["check-receiver", url], "--secret is required"),
        "bad secret": (["check-receiver", url, "--secret", "hunter2"], "invalid webhook secret"),
        "not http": (["check-receiver", "ftp://x/y", "--secret", secret], "http(s) URL"),
        "bad number": (
            ["check-receiver", url, "--secret", secret, "--examples", "-3"],
            "max_examples",
        ),
        "bad state url": (
            ["check-receiver", url, "--secret", secret, "--state-url", "http://x/state"],
            "{job_id}",
        ),
    }
    for name, (argv, message) in cases.items():
        assert main(argv) == 2, name
        assert message in capsys.readouterr().err, name
    with pytest.raises(SystemExit) as exit_info:  # argparse's own usage errors
        main(["check-receiver", url, "--secret", secret, "--timeout", "soon"])
    assert exit_info.value.code == 2


def test_as_a_subprocess(serve: object, secret: str, tmp_path: Path) -> None:
    good, _ = receivers.conforming(secret)
    bad, _ = receivers.rejects_duplicates(secret)
    env = {**os.environ, "PLANGREP_MOCK_RECEIVER_SECRET": secret}
    cmd = [sys.executable, "-m", "mock_server", "check-receiver"]
    for app, expected in ((good, 0), (bad, 1)):
        url = serve(app)  # type: ignore[operator]
        done = subprocess.run(
            [*cmd, url, "--examples", "1", "--json", str(tmp_path / "r.json")],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == expected, done.stdout + done.stderr
    assert "[duplicate_rejected]" in done.stdout
    done = subprocess.run(
        [*cmd, "http://127.0.0.1:1/webhooks"], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "cannot reach" in done.stderr


def test_github_actions_output_for_a_broken_receiver(
    serve: object,
    secret: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, _ = receivers.verification_off(secret)
    url = serve(app)  # type: ignore[operator]
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = main(["check-receiver", url, "--secret", secret, "--examples", "0", "--github"])
    out = capsys.readouterr().out
    assert code == 1
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert {e.split("%3A ", 1)[1].split(" ", 1)[0] for e in errors} == {
        "forged_accepted",
        "stale_accepted",
        "future_accepted",
    }
    assert "| `forged_accepted` | failed |" in summary.read_text(encoding="utf-8")
