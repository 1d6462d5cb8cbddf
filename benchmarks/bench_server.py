"""GET /jobs/{jobId} requests/s: the mock against a bare aiohttp app and pytest-httpserver.

The mock is `plangrep-mock serve --polling off --port 0` in its own process (realtime clock, as
users run it). The benchmark creates a project, a job (scenario `slow`, so it stays in processing
and every GET computes its pages and billing), uploads a file through the form upload and completes
it, all through the public API, then moves the clock to processing through the control API. The
two baselines serve that same GET body: the bare aiohttp app after the same bearer check, and
pytest-httpserver (`benchmarks/targets.py`). The same load generator hits all three (and serve
on uvloop, if asked), at 32 connections, back to back, for a few rounds; a requests/s figure is the
median over rounds, a ratio the median of the per-round ratios.
Servers run on CPU 0, the load generator on CPU 1 (when the machine has two).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .loadgen import LoadResult, available_tool, run_load

__all__ = ["API_KEY", "PollFigures", "measure_polling", "prepare_job", "serving"]

REPO = Path(__file__).resolve().parent.parent
API_KEY = "pgk_bench_key"
CONNECTIONS = 32


def _cpus() -> tuple[int | None, int | None]:
    """(server CPU, load generator CPU), or Nones on a single CPU."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[0], cpus[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _read_port(stdout: IO[str], pattern: str, proc: subprocess.Popen[str], what: str) -> int:
    deadline = time.monotonic() + 30
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
    err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
    raise RuntimeError(f"{what} did not start: {''.join(seen)}{err}")


@contextmanager
def serving(cmd: Sequence[str], pattern: str, what: str, cpu: int | None) -> Iterator[int]:
    """Run a server process (pinned to `cpu`), yield its port, SIGTERM it afterwards."""
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=REPO,
    )
    try:
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(proc.pid, {cpu})
        assert proc.stdout is not None
        yield _read_port(proc.stdout, pattern, proc, what)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


MOCK_BANNER = r"Plangrep API at http://127\.0\.0\.1:(\d+)/api/open/v1"
PORT_LINE = r"^port (\d+)$"


def mock_command(*, loop: str = "auto") -> list[str]:
    """`plangrep-mock serve --polling off` on its default event loop (uvloop where installed),
    or on `loop` (uvloop, asyncio)."""
    return [sys.executable, "-m", "mock_server", "serve", "--polling", "off", "--port", "0",
            "--loop", loop]  # fmt: skip


async def _prepare(root: str) -> tuple[str, dict[str, Any]]:
    """Create a processing job through the API; return its URL and the GET body."""
    import aiohttp

    api = root + "/api/open/v1"
    auth = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession(headers=auth) as s:

        async def call(method: str, url: str, **kw: Any) -> dict[str, Any]:
            async with s.request(method, url, **kw) as r:
                body: dict[str, Any] = await r.json()
                if r.status >= 300:
                    raise RuntimeError(f"{method} {url} -> {r.status} {body}")
                return body

        project = (await call("POST", api + "/projects", json={"name": "bench"}))["project"]
        await call("POST", root + "/_mock/clock/advance", json={"seconds": 10})
        job = (
            await call(
                "POST",
                f"{api}/projects/{project['id']}/jobs",
                json={"externalId": "bench-1"},
                headers={"X-Mock-Scenario": "slow"},
            )
        )["job"]
        form = aiohttp.FormData()
        form.add_field(
            "metadata",
            json.dumps({"files": [{"partName": "file0", "fileName": "plans.pdf"}]}),
        )
        form.add_field(
            "file0",
            b"%PDF-1.7\n" + b"0" * 300_000,
            filename="plans.pdf",
            content_type="application/pdf",
        )
        await call("POST", f"{api}/jobs/{job['id']}/files", data=form)
        await call("POST", f"{api}/jobs/{job['id']}/uploads/complete", json={})
        await call("POST", root + "/_mock/clock/advance", json={"seconds": 70})
        url = f"{api}/jobs/{job['id']}"
        body = await call("GET", url)
        if body["job"]["status"] != "processing":
            raise RuntimeError(f"expected a processing job, got {body['job']['status']}")
        return url, body


def prepare_job(port: int) -> tuple[str, dict[str, Any]]:
    return asyncio.run(_prepare(f"http://127.0.0.1:{port}"))


@dataclass
class PollFigures:
    """Per target, one LoadResult per round. Within a round the targets run back to back, so
    a ratio is taken per round and the figure is the median of those ratios: a burst of other
    load on the machine then spoils one round's ratio, not the result."""

    tool: str
    rounds: int
    mock: list[LoadResult] = field(default_factory=list)
    bare: list[LoadResult] = field(default_factory=list)
    httpserver: list[LoadResult] = field(default_factory=list)
    mock_uvloop: list[LoadResult] = field(default_factory=list)  # serve --loop asyncio
    # aiohttp's floor on uvloop (benchmarks/targets.py's minimal app): the most any aiohttp
    # server on this loop answers, whatever it does per request
    floor_uvloop: list[LoadResult] = field(default_factory=list)

    @staticmethod
    def median_rps(results: list[LoadResult]) -> float | None:
        return statistics.median(r.rps for r in results) if results else None

    @staticmethod
    def median_p99(results: list[LoadResult]) -> float | None:
        return statistics.median(r.p99_ms for r in results) if results else None

    @staticmethod
    def median_ratio(a: list[LoadResult], b: list[LoadResult]) -> float | None:
        """Median over rounds of a.rps / b.rps."""
        pairs = [x.rps / y.rps for x, y in zip(a, b, strict=False) if y.rps]
        return statistics.median(pairs) if pairs else None


def measure_polling(
    *,
    seconds: float = 5.0,
    warmup: float = 1.0,
    rounds: int = 3,
    tool: str = "auto",
    uvloop: bool = False,
    log: Any = None,
) -> PollFigures:
    tool = available_tool(tool)
    server_cpu, load_cpu = _cpus()
    figures = PollFigures(tool=tool, rounds=rounds)
    headers = {"Authorization": f"Bearer {API_KEY}"}

    def hit(url: str) -> LoadResult:
        r = run_load(
            url,
            headers=headers,
            connections=CONNECTIONS,
            seconds=seconds,
            warmup=warmup,
            tool=tool,
            cpu=load_cpu,
        )
        if r.bad:
            raise RuntimeError(f"{r.bad} failed requests against {url} ({r})")
        return r

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        body_file = Path(tmp) / "job.json"
        port = stack.enter_context(
            serving(mock_command(), MOCK_BANNER, "plangrep-mock serve", server_cpu)
        )
        url, body = prepare_job(port)
        body_file.write_text(json.dumps(body), encoding="utf-8")
        path = url.split(f":{port}", 1)[1]
        bare_cmd = [sys.executable, "-m", "benchmarks.targets", "bare", str(body_file), API_KEY]
        hs_cmd = [sys.executable, "-m", "benchmarks.targets", "httpserver", str(body_file)]
        bport = stack.enter_context(serving(bare_cmd, PORT_LINE, "bare aiohttp", server_cpu))
        hport = stack.enter_context(
            serving([*hs_cmd, API_KEY], PORT_LINE, "pytest-httpserver", server_cpu)
        )
        targets = [
            ("mock", url, figures.mock),
            ("bare aiohttp", f"http://127.0.0.1:{bport}{path}", figures.bare),
            ("pytest-httpserver", f"http://127.0.0.1:{hport}{path}", figures.httpserver),
        ]
        if uvloop:
            uport = stack.enter_context(
                serving(mock_command(loop="asyncio"), MOCK_BANNER, "serve on asyncio", server_cpu)
            )
            uurl, _ = prepare_job(uport)
            targets.insert(1, ("mock on asyncio's loop", uurl, figures.mock_uvloop))
            floor_cmd = [sys.executable, "-m", "benchmarks.targets", "minimal", str(body_file)]
            fport = stack.enter_context(
                serving([*floor_cmd, API_KEY, "--uvloop"], PORT_LINE, "aiohttp floor", server_cpu)
            )
            floor_url = f"http://127.0.0.1:{fport}{path}"
            targets.insert(3, ("aiohttp's floor on uvloop", floor_url, figures.floor_uvloop))
        for i in range(rounds):
            for name, target, out in targets:
                r = hit(target)
                out.append(r)
                if log:
                    log(
                        f"round {i + 1}/{rounds} {name}: {r.rps:,.0f} req/s, p99 {r.p99_ms:.2f} ms"
                    )
    return figures


if __name__ == "__main__":
    f = measure_polling(seconds=3, warmup=1, rounds=2, uvloop="--uvloop" in sys.argv, log=print)
    print(
        json.dumps(
            {
                "mock/bare": PollFigures.median_ratio(f.mock, f.bare),
                "mock/httpserver": PollFigures.median_ratio(f.mock, f.httpserver),
                "uvloop/mock": PollFigures.median_ratio(f.mock_uvloop, f.mock),
            }
        )
    )
