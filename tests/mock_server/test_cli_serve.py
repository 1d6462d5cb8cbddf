"""`plangrep-mock serve`: options and environment variables, the banner, clean shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

from mock_server.cli import build_parser, config_from_args, main
from mock_server.config import ALL_SCOPES, MockConfig

from .harness import ServeProcess


def _config(argv: list[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> MockConfig:
    for k, v in env.items():
        monkeypatch.setenv(f"PLANGREP_MOCK_{k}", v)
    return config_from_args(build_parser().parse_args(["serve", *argv]))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _config([], monkeypatch)
    assert (c.host, c.port, c.clock, c.speed, c.scenario, c.seed) == (
        "127.0.0.1", 8080, "realtime", 1.0, "happy", None,
    )  # fmt: skip
    assert (c.api_keys, c.credits, c.polling, c.max_upload_mb, c.strict_webhook_urls) == (
        (), 10_000, "enforce", 64.0, False,
    )  # fmt: skip


def test_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _config(
        ["--host", "0.0.0.0", "--port", "0", "--clock", "manual", "--speed", "100",
         "--scenario", "slow", "--seed", "7", "--api-key", "a", "--api-key", "b:jobs:read",
         "--credits", "5", "--polling", "off", "--max-upload-mb", "1",
         "--strict-webhook-urls", "--webhook-timeout", "2", "--webhook-retries", "3"],
        monkeypatch,
    )  # fmt: skip
    assert (c.host, c.port, c.clock, c.speed, c.scenario, c.seed) == (
        "0.0.0.0", 0, "manual", 100.0, "slow", 7,
    )  # fmt: skip
    assert [k.key for k in c.api_keys] == ["a", "b"]
    assert c.api_keys[0].scopes == ALL_SCOPES
    assert c.api_keys[1].scopes == frozenset({"jobs:read"})
    assert (c.credits, c.polling, c.max_upload_mb, c.strict_webhook_urls) == (5, "off", 1.0, True)
    assert (c.webhook_timeout, c.webhook_retries) == (2.0, 3)


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _config(
        [],
        monkeypatch,
        HOST="::1", PORT="0", CLOCK="manual", SPEED="2.5", SCENARIO="slow", SEED="3",
        API_KEY="k1 k2:jobs:write", CREDITS="9", POLLING="record", MAX_UPLOAD_MB="2",
        STRICT_WEBHOOK_URLS="true", WEBHOOK_TIMEOUT="1.5", WEBHOOK_RETRIES="1",
    )  # fmt: skip
    assert (c.host, c.port, c.clock, c.speed, c.scenario, c.seed) == (
        "::1", 0, "manual", 2.5, "slow", 3,
    )  # fmt: skip
    assert [k.key for k in c.api_keys] == ["k1", "k2"]
    assert (c.credits, c.polling, c.max_upload_mb, c.strict_webhook_urls) == (
        9, "record", 2.0, True,
    )  # fmt: skip
    # a flag wins over the environment
    assert _config(["--port", "9"], monkeypatch, PORT="0").port == 9


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--port", "x"], "--port must be a int"),
        (["--port", "70000"], "port must be 0..65535"),
        (["--speed", "0"], "speed must be"),
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--api-key", "k:jobs:fly"], "unknown scope"),
        (["--credits", "-1"], "credits must be >= 0"),
    ],
)
def test_bad_options_exit_2_with_a_message(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", *argv]) == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_urls_answers_and_exits_0(sig: int) -> None:
    with ServeProcess("--port", "0", "--clock", "manual") as p:
        assert p.base.startswith("http://127.0.0.1:") and p.base.endswith("/api/open/v1")
        assert not p.base.endswith(":0/api/open/v1")
        assert any(f"{p.url}/_mock" in line for line in p.banner)
        dashboard = next(line for line in p.banner if "dashboard at " in line)
        assert dashboard.endswith(f"{p.url}/_mock/ui/")
        page = requests.get(p.url + "/_mock/ui/", timeout=5)
        assert page.status_code == 200 and "plangrep-mock dashboard" in page.text
        curl = next(line for line in p.banner if "curl " in line)
        assert f"{p.base}/projects" in curl and "Bearer" in curl
        assert requests.get(p.url + "/_mock/health", timeout=5).json()["status"] == "ok"
        r = requests.post(
            p.base + "/projects",
            json={"name": "demo"},
            headers={"Authorization": "Bearer pgk_live_demo"},
            timeout=5,
        )
        assert r.status_code == 202
        assert p.stop(sig) == 0
        assert p.proc.stderr is not None
        assert "Traceback" not in p.proc.stderr.read()


@pytest.mark.parametrize(("argv", "loop"), [((), "uvloop"), (("--loop", "asyncio"), "asyncio")])
def test_serve_runs_on_uvloop_unless_asked_for_asyncio(argv: tuple[str, ...], loop: str) -> None:
    with ServeProcess("--port", "0", "--clock", "manual", *argv) as p:
        assert any(line.endswith(f"event loop {loop}") for line in p.banner), p.banner
        assert requests.get(p.url + "/_mock/health", timeout=5).json()["status"] == "ok"
        assert p.stop() == 0


def test_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with ServeProcess("--port", "0") as p:
        port = p.base.split(":")[2].split("/")[0]
        assert main(["serve", "--port", port]) == 1
        assert "cannot listen" in capsys.readouterr().err
        p.stop()


def test_simulate_and_diagram_still_work() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mock_server", "diagram"], capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert r.returncode == 0 and "stateDiagram-v2" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "mock_server", "simulate", "--jobs", "10", "--json"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert r.returncode == 0 and r.stdout.startswith("{")
