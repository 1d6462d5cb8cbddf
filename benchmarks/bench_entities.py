"""GET /projects/{projectId}/sheets?limit=100 on a project of 10,000 sheets: the mock against a
bare aiohttp handler returning the same JSON.

The mock is `plangrep-mock serve --polling off --port 0` in its own process. The benchmark makes
the project through the public API: 20 jobs of one 500-page plan set each (an inline scenario
fixes the pages per file, under the documented 500-page job limit), the balance set through the
control API, the clock advanced until every job completed. The first read generates the
content (timed apart: `entity_list_first_ms`); the measured requests read the first page. The
bare baseline (`benchmarks/targets.py bare-list`) does the same bearer and project check, then
answers that page's JSON with `web.json_response` (as the poll benchmark's baseline does); a
stricter one answers bytes serialized once (`entity_list_ratio_vs_bare_encoded`, an extra).
Same load generator, 32 connections, targets back to back per round, the ratio the median of
the per-round ratios (as the poll benchmark).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bench_server import MOCK_BANNER, PORT_LINE, PollFigures, _cpus, mock_command, serving
from .loadgen import LoadResult, available_tool, run_load

__all__ = ["EntityFigures", "measure_entity_list", "prepare_project"]

API_KEY = "pgk_bench_key"
CONNECTIONS = 32
JOBS = 20
PAGES_PER_JOB = 500  # the documented jobPageLimit
BULK = {"name": "bulk", "pages_per_file": PAGES_PER_JOB, "pages_per_second": 10_000.0}


async def _prepare(root: str, jobs: int) -> tuple[str, float]:
    """A project of `jobs` x 500 sheets; (the sheets URL, ms of the first read)."""
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
        await call("PUT", f"{root}/_mock/accounts/{API_KEY}/credits", json={"balance": 10**9})
        for i in range(jobs):
            await call("POST", root + "/_mock/scenarios/next", json={"scenario": BULK})
            job = (await call("POST", f"{api}/projects/{project['id']}/jobs", json={}))["job"]
            form = aiohttp.FormData()
            meta = {"files": [{"partName": "file0", "fileName": f"set-{i}.pdf",
                               "classification": "plans"}]}  # fmt: skip
            form.add_field("metadata", json.dumps(meta))
            form.add_field("file0", b"%PDF-1.7\n", filename=f"set-{i}.pdf",
                           content_type="application/pdf")  # fmt: skip
            await call("POST", f"{api}/jobs/{job['id']}/files", data=form)
            await call("POST", f"{api}/jobs/{job['id']}/uploads/complete", json={})
        await call("POST", root + "/_mock/clock/advance", json={"seconds": 120})
        url = f"{api}/projects/{project['id']}/sheets?limit=100"
        t0 = time.perf_counter()
        first = await call("GET", url)
        first_ms = (time.perf_counter() - t0) * 1000
        if first["total"] != jobs * PAGES_PER_JOB:
            raise RuntimeError(f"expected {jobs * PAGES_PER_JOB} sheets, got {first['total']}")
        return url, first_ms


def prepare_project(port: int, jobs: int = JOBS) -> tuple[str, float]:
    return asyncio.run(_prepare(f"http://127.0.0.1:{port}", jobs))


@dataclass
class EntityFigures:
    tool: str
    rounds: int
    sheets: int = 0
    first_ms: float = 0.0
    mock: list[LoadResult] = field(default_factory=list)
    bare: list[LoadResult] = field(default_factory=list)
    bare_encoded: list[LoadResult] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return PollFigures.median_ratio(self.mock, self.bare)

    @property
    def ratio_encoded(self) -> float | None:
        """Against the stricter baseline, whose JSON is serialized once."""
        return PollFigures.median_ratio(self.mock, self.bare_encoded)


def measure_entity_list(
    *,
    seconds: float = 4.0,
    warmup: float = 1.0,
    rounds: int = 3,
    jobs: int = JOBS,
    tool: str = "auto",
    log: Any = None,
) -> EntityFigures:
    import urllib.request

    tool = available_tool(tool)
    server_cpu, load_cpu = _cpus()
    figures = EntityFigures(tool=tool, rounds=rounds, sheets=jobs * PAGES_PER_JOB)
    headers = {"Authorization": f"Bearer {API_KEY}"}

    def hit(url: str) -> LoadResult:
        r = run_load(url, headers=headers, connections=CONNECTIONS, seconds=seconds,
                     warmup=warmup, tool=tool, cpu=load_cpu)  # fmt: skip
        if r.bad:
            raise RuntimeError(f"{r.bad} failed requests against {url} ({r})")
        return r

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        port = stack.enter_context(
            serving(mock_command(), MOCK_BANNER, "plangrep-mock serve", server_cpu)
        )
        url, figures.first_ms = prepare_project(port, jobs)
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request) as resp:
            body = resp.read()
        body_file = Path(tmp) / "sheets.json"
        body_file.write_bytes(body)
        project_id = url.split("/projects/", 1)[1].split("/", 1)[0]
        path = url.split(f":{port}", 1)[1]
        cmd = [sys.executable, "-m", "benchmarks.targets", "bare-list", str(body_file), API_KEY,
               project_id]  # fmt: skip
        bport = stack.enter_context(serving(cmd, PORT_LINE, "bare aiohttp list", server_cpu))
        eport = stack.enter_context(
            serving([*cmd, "encoded"], PORT_LINE, "bare aiohttp list, encoded", server_cpu)
        )
        targets = [("mock", url, figures.mock),
                   ("bare aiohttp", f"http://127.0.0.1:{bport}{path}", figures.bare),
                   ("bare aiohttp, bytes encoded once", f"http://127.0.0.1:{eport}{path}",
                    figures.bare_encoded)]  # fmt: skip
        for i in range(rounds):
            for name, target, out in targets:
                r = hit(target)
                out.append(r)
                if log:
                    rate = f"{r.rps:,.0f} req/s, p99 {r.p99_ms:.2f} ms"
                    log(f"round {i + 1}/{rounds} {name}: {rate}")
    return figures


if __name__ == "__main__":
    f = measure_entity_list(seconds=3, warmup=1, rounds=2, log=print)
    print(json.dumps({"sheets": f.sheets, "first_ms": f.first_ms, "mock/bare": f.ratio,
                      "mock/bare_encoded": f.ratio_encoded,
                      "mock_rps": PollFigures.median_rps(f.mock),
                      "bare_rps": PollFigures.median_rps(f.bare)}))  # fmt: skip
