"""The WireMock and Prism baselines' own logic (no servers, no timing): each reason for not
measuring is named, the stubs check the bearer key, Prism's document carries the job JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks import baselines
from benchmarks.baselines import (
    NotMeasured,
    find_java,
    install_npm_package,
    prism_document,
    wiremock_mappings,
)


def fake_command(folder: Path, name: str, script: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_no_npm_means_not_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NotMeasured, match="npm is not on PATH"):
        install_npm_package("wiremock", "3.13.2", cache=tmp_path / "cache", log=lambda _: None)


def test_an_offline_install_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_command(
        tmp_path / "bin",
        "npm",
        'echo "npm error code ENOTFOUND" >&2\necho "npm error network request failed" >&2\n'
        "exit 1\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(NotMeasured, match=r"registry cannot be reached \(offline\?\)"):
        install_npm_package("wiremock", "3.13.2", cache=tmp_path / "cache", log=lambda _: None)


def test_a_failed_install_says_what_npm_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_command(tmp_path / "bin", "npm", 'echo "npm error 404 Not Found" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(NotMeasured, match="it failed: npm error 404 Not Found"):
        install_npm_package("wiremock", "9.9.9", cache=tmp_path / "cache", log=lambda _: None)


def test_a_cached_package_is_not_installed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache" / "node_modules" / "wiremock"
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": "wiremock", "version": "3.13.2"}))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # npm would not be found
    got = install_npm_package("wiremock", "3.13.2", cache=tmp_path / "cache", log=lambda _: None)
    assert got == folder
    with pytest.raises(NotMeasured, match="npm is not on PATH"):  # another version: install
        install_npm_package("wiremock", "3.12.0", cache=tmp_path / "cache", log=lambda _: None)


def test_no_java_or_an_old_java_means_not_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NotMeasured, match="Java is not installed"):
        find_java()
    fake_command(tmp_path / "bin", "java", "echo 'openjdk version \"1.8.0_292\"' >&2\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(NotMeasured, match="is Java 8; WireMock 3 needs Java 11"):
        find_java()
    fake_command(tmp_path / "bin", "java", "echo 'openjdk version \"17.0.15\" 2025-04-15' >&2\n")
    assert find_java() == str(tmp_path / "bin" / "java")


def test_the_cache_folder_can_be_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANGREP_MOCK_BENCH_CACHE", str(tmp_path / "here"))
    assert baselines.cache_dir() == tmp_path / "here"
    monkeypatch.delenv("PLANGREP_MOCK_BENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert baselines.cache_dir() == tmp_path / "xdg" / "plangrep-mock-bench"


def test_wiremock_stub_checks_the_bearer_key_and_serves_the_bytes() -> None:
    body = b'{"job":{"id":"job_1","status":"processing"}}'
    m = wiremock_mappings("/api/open/v1/jobs/job_1", body, "application/json", "k1")["mappings"]
    ok = next(x for x in m if x["response"]["status"] == 200)
    assert ok["request"]["headers"] == {"Authorization": {"equalTo": "Bearer k1"}}
    assert ok["request"]["urlPath"] == "/api/open/v1/jobs/job_1"
    assert ok["response"]["body"].encode() == body
    no = next(x for x in m if x["response"]["status"] == 401)
    assert no["priority"] > ok["priority"]  # tried after the one with the key
    assert "headers" not in no["request"]


def test_prism_document_serves_the_job_behind_a_bearer_scheme() -> None:
    body = {"job": {"id": "job_1", "status": "processing"}}
    doc = prism_document("/api/open/v1/jobs/job_1", "job_1", body)
    op = doc["paths"]["/api/open/v1/jobs/{jobId}"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["example"] == body
    assert op["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert op["parameters"][0]["schema"]["enum"] == ["job_1"]


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc (Linux)")
def test_paused_freezes_and_resumes_a_process() -> None:
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with baselines.paused(proc):
            time.sleep(0.1)
            state = Path(f"/proc/{proc.pid}/stat").read_text().split(")")[1].split()[0]
            assert state == "T"  # stopped
        time.sleep(0.1)
        state = Path(f"/proc/{proc.pid}/stat").read_text().split(")")[1].split()[0]
        assert state in ("S", "R")
    finally:
        proc.kill()
        proc.wait()


def test_a_baseline_that_dies_on_start_is_not_measured(tmp_path: Path) -> None:
    import sys

    cmd = [sys.executable, "-c", "print('no such option'); raise SystemExit(3)"]
    with (
        pytest.raises(NotMeasured, match="X exited with 3 on start: no such option"),
        baselines.running(
            cmd, url="http://127.0.0.1:9/", headers={}, cpu=None, log_file=tmp_path / "x.log",
            what="X",
        ),
    ):  # fmt: skip
        pass


def test_requests_per_cpu_second_counts_only_the_server_time() -> None:
    from benchmarks.loadgen import LoadResult

    load = LoadResult("wrk", 32, 4.0, 40_000, 10_000.0, 1.0, 3.0, 0)
    assert baselines.Sample(load, cpu_seconds=2.0).per_cpu_s == 20_000  # half the CPU: 2x rate
    assert baselines.Sample(load, cpu_seconds=0.0).per_cpu_s == 0.0  # unknown, not infinite


def test_the_listening_child_is_found_by_its_port(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    code = (
        "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        "print(s.getsockname()[1], flush=True); time.sleep(30)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        time.sleep(0.1)
        assert baselines._pid_listening(port) == proc.pid
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            assert baselines._pid_listening(other.getsockname()[1]) is None  # not a child
    finally:
        proc.kill()
        proc.wait()
