"""The dashboard's figures (issue 18), in headless Chromium against `plangrep-mock serve`.

    python -m benchmarks.bench_dashboard [--jobs 10000] [--reps 10] [--poll] [--before DIR]
                                         [--rounds 5] [--no-render]

- first render: from navigation to the jobs table showing its rows (the page's own
  `performance.mark("jobs-rendered")`, relative to navigation start), with `--jobs` jobs on the
  server (20 projects; a fifth of the jobs cancelled, a fifth uploading); median of a few fresh
  pages, and the first (cold) one apart;
- update delay: from just before `POST /_mock/clock/advance` (or a forced event) to the changed
  row (or timeline entry) in the open page, read by a MutationObserver in the page (`Date.now()`,
  the same clock as this process's `time.time()`); median over `--reps`;
- poll path (`--poll`): `GET /jobs/{jobId}` requests/s as `benchmarks/bench_server.py` measures
  `poll_rps` (serve --polling off, a processing job, 32 connections), for serve with no page
  open, with one page on the jobs view, and with one page on the polled job's own page; and,
  with `--before DIR` (a checkout of the code before the dashboard), that code's serve. The
  targets run back to back in each round; a ratio is the median of per-round ratios. Beside
  requests/s, the server process's CPU time per request (user + system, from psutil): on a
  machine shared with other work, requests/s swings with what else runs, CPU per request much
  less.

Servers run on CPU 0, the load generator and Chromium on CPU 1 (when the machine has two).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .bench_server import API_KEY, MOCK_BANNER, _cpus, _read_port, prepare_job
from .loadgen import LoadResult, available_tool, run_load

__all__ = ["measure_first_render", "measure_poll_cost", "measure_update_delay"]

REPO = Path(__file__).resolve().parent.parent
API = "/api/open/v1"


@contextmanager
def serving(repo: Path, args: Sequence[str], cpu: int | None) -> Iterator[tuple[int, int]]:
    """`python -m mock_server serve --port 0 ARGS` from `repo`'s code; yields (port, pid)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=repo,
    )
    try:
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(proc.pid, {cpu})
        assert proc.stdout is not None
        yield _read_port(proc.stdout, MOCK_BANNER, proc, f"serve from {repo}"), proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def browser(cpu: int | None) -> Iterator[Any]:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})  # Chromium's processes inherit it
    try:
        sys.path.insert(0, str(REPO))
        from tests.ui.browser import chromium

        with chromium() as b:
            yield b
    finally:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


# --------------------------------------------------------------------------- a server full of jobs


async def _populate(root: str, jobs: int, projects: int = 20) -> None:
    import aiohttp

    auth = {"Authorization": f"Bearer {API_KEY}"}
    sem = asyncio.Semaphore(32)
    async with aiohttp.ClientSession(headers=auth) as s:

        async def call(method: str, url: str, **kw: Any) -> Any:
            async with sem, s.request(method, url, **kw) as r:
                body = await r.json()
                if r.status >= 300:
                    raise RuntimeError(f"{method} {url} -> {r.status} {body}")
                return body

        pids = [
            (await call("POST", f"{root}{API}/projects", json={"name": f"p{i}"}))["project"]["id"]
            for i in range(projects)
        ]
        await call("POST", f"{root}/_mock/clock/advance", json={"seconds": 10})
        created = await asyncio.gather(
            *(
                call("POST", f"{root}{API}/projects/{pids[i % projects]}/jobs",
                     json={"externalId": f"ext-{i}"})
                for i in range(jobs)
            )
        )  # fmt: skip
        ids = [c["job"]["id"] for c in created]
        events = [(i, "cancel") for i in ids[0::5]] + [(i, "start_upload") for i in ids[1::5]]
        await asyncio.gather(
            *(
                call("POST", f"{root}/_mock/jobs/{job_id}/events", json={"event": event})
                for job_id, event in events
            )
        )


def _fresh_job(root: str, *, upload: bool) -> str:
    """A new job (uploaded and completed when `upload`: preflighting, happy) on project p0."""
    import requests

    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {API_KEY}"
    pid = s.get(f"{root}{API}/projects", timeout=10).json()["projects"][0]["id"]
    job_id: str = s.post(
        f"{root}{API}/projects/{pid}/jobs",
        json={"externalId": "watched"},
        headers={"X-Mock-Scenario": "happy"},
        timeout=10,
    ).json()["job"]["id"]
    if upload:
        meta = {"files": [{"partName": "file0", "fileName": "a.pdf"}]}
        s.post(
            f"{root}{API}/jobs/{job_id}/files",
            files=[("metadata", (None, json.dumps(meta))), ("file0", ("a.pdf", b"%PDF" * 10))],
            timeout=10,
        ).raise_for_status()
        s.post(f"{root}{API}/jobs/{job_id}/uploads/complete", json={}, timeout=10)
    return job_id


# --------------------------------------------------------------------------- the figures


def measure_first_render(b: Any, root: str, repeats: int = 5) -> dict[str, float]:
    times = []
    for _ in range(repeats + 1):
        page = b.new_page(viewport={"width": 1366, "height": 860})
        page.goto(root + "/_mock/ui/#/jobs", wait_until="commit")
        page.wait_for_function("performance.getEntriesByName('jobs-rendered').length > 0")
        times.append(page.evaluate("performance.getEntriesByName('jobs-rendered')[0].startTime"))
        rows = page.locator("#jobs-body tr[data-job]").count()
        if rows != 100:
            raise RuntimeError(f"expected the first 100 rows, the page shows {rows}")
        page.close()
    return {
        "dashboard_first_render_ms": statistics.median(times[1:]),
        "dashboard_first_render_cold_ms": times[0],
    }


_WATCH_ROW = """([id, status]) => {
  window.__seen = null;
  const done = () => {
    const tr = document.querySelector(`#jobs-body tr[data-job="${id}"]`);
    if (tr && tr.dataset.status === status && window.__seen === null) window.__seen = Date.now();
  };
  new MutationObserver(done).observe(document.getElementById("jobs-body"),
    {subtree: true, childList: true, attributes: true});
}"""

_WATCH_TIMELINE = """(n) => {
  window.__seen = null;
  const body = document.getElementById("timeline-body");
  new MutationObserver(() => {
    if (body.querySelectorAll("tr").length >= n && window.__seen === null)
      window.__seen = Date.now();
  }).observe(body, {childList: true});
}"""


def measure_update_delay(b: Any, root: str, reps: int = 10) -> dict[str, float]:
    import requests

    control = requests.Session()
    table = b.new_page(viewport={"width": 1366, "height": 860})
    table.goto(root + "/_mock/ui/#/jobs")
    table.wait_for_selector('#live[data-state="live"]')
    row_delays = []
    for _ in range(reps):
        job_id = _fresh_job(root, upload=True)  # preflighting; pass_preflight due in 3 s
        table.wait_for_selector(f'#jobs-body tr[data-job="{job_id}"][data-status="preflighting"]')
        table.evaluate(_WATCH_ROW, [job_id, "processing"])
        t0 = time.time() * 1000
        control.post(f"{root}/_mock/clock/advance", json={"seconds": 3.5}, timeout=10)
        table.wait_for_function("window.__seen !== null")
        row_delays.append(table.evaluate("window.__seen") - t0)
        control.post(f"{root}/_mock/clock/advance", json={"seconds": 30}, timeout=10)
    table.close()
    page_delays = []
    for _ in range(reps):
        job_id = _fresh_job(root, upload=False)  # awaiting_uploads: one transition so far
        page = b.new_page(viewport={"width": 1366, "height": 860})
        page.goto(f"{root}/_mock/ui/#/jobs/{job_id}")
        page.wait_for_selector('#live[data-state="live"]')
        page.wait_for_selector("#timeline-body tr >> nth=0")
        page.wait_for_timeout(300)  # the page's first loads are over
        page.evaluate(_WATCH_TIMELINE, 2)
        t0 = time.time() * 1000
        control.post(
            f"{root}/_mock/jobs/{job_id}/events", json={"event": "start_upload"}, timeout=10
        )
        page.wait_for_function("window.__seen !== null")
        page_delays.append(page.evaluate("window.__seen") - t0)
        page.close()
    return {
        "dashboard_update_delay_ms": statistics.median(row_delays),
        "dashboard_update_delay_max_ms": max(row_delays),
        "dashboard_job_page_delay_ms": statistics.median(page_delays),
        "dashboard_job_page_delay_max_ms": max(page_delays),
    }


def measure_poll_cost(
    *,
    before: Path | None = None,
    seconds: float = 4.0,
    warmup: float = 1.0,
    rounds: int = 5,
    tool: str = "auto",
    log: Any = print,
) -> dict[str, Any]:
    """Poll requests/s of serve with no page, a jobs page, the polled job's page (and before)."""
    tool = available_tool(tool)
    server_cpu, other_cpu = _cpus()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    args = ["--polling", "off"]
    import psutil

    results: dict[str, list[LoadResult]] = {}
    cpu_us: dict[str, list[float]] = {}  # server CPU time per answered request
    with ExitStack() as stack:
        targets: dict[str, str] = {}
        ports = {}
        pids = {}
        names = (["before"] if before is not None else []) + ["no_page", "jobs_page", "job_page"]
        for name in names:
            repo = before if name == "before" and before is not None else REPO
            ports[name], pids[name] = stack.enter_context(serving(repo, args, server_cpu))
        for name, port in ports.items():
            targets[name], _ = prepare_job(port)
        b = stack.enter_context(browser(other_cpu))
        jobs_page = b.new_page()
        jobs_page.goto(f"http://127.0.0.1:{ports['jobs_page']}/_mock/ui/#/jobs")
        job_page = b.new_page()
        polled = targets["job_page"].rsplit("/", 1)[1]
        job_page.goto(f"http://127.0.0.1:{ports['job_page']}/_mock/ui/#/jobs/{polled}")
        for page in (jobs_page, job_page):
            page.wait_for_selector('#live[data-state="live"]')
        for i in range(rounds):
            for name, url in targets.items():
                proc = psutil.Process(pids[name])
                cpu0 = sum(proc.cpu_times()[:2])
                r = run_load(
                    url,
                    headers=headers,
                    connections=32,
                    seconds=seconds,
                    warmup=warmup,
                    tool=tool,
                    cpu=other_cpu,
                )
                used = sum(proc.cpu_times()[:2]) - cpu0  # warm-up included, like its requests
                if r.bad:
                    raise RuntimeError(f"{r.bad} failed requests against {name} ({r})")
                results.setdefault(name, []).append(r)
                per = used / (r.rps * (seconds + warmup)) * 1e6
                cpu_us.setdefault(name, []).append(per)
                log(
                    f"round {i + 1}/{rounds} {name}: {r.rps:,.0f} req/s, p99 {r.p99_ms:.2f} ms, "
                    f"{per:.1f} us server CPU per request"
                )
        for page in (jobs_page, job_page):
            page.close()

    def ratio(a: str, b: str) -> float | None:
        if a not in results or b not in results:
            return None
        pairs = zip(results[a], results[b], strict=True)
        return statistics.median(x.rps / y.rps for x, y in pairs)

    out: dict[str, Any] = {"loadgen": tool, "rounds": rounds}
    for name, rs in results.items():
        out[f"poll_rps_{name}"] = statistics.median(r.rps for r in rs)
        out[f"poll_p99_ms_{name}"] = statistics.median(r.p99_ms for r in rs)
    for name, us in cpu_us.items():
        out[f"server_cpu_us_per_request_{name}"] = statistics.median(us)
    out["ratio_no_page_vs_before"] = ratio("no_page", "before")
    out["ratio_jobs_page_vs_no_page"] = ratio("jobs_page", "no_page")
    out["ratio_job_page_vs_no_page"] = ratio("job_page", "no_page")
    return out


def measure_dashboard(jobs: int = 10_000, reps: int = 10) -> dict[str, float]:
    """First render at `jobs` jobs and the update delays (a manual-clock serve of its own)."""
    server_cpu, other_cpu = _cpus()
    with serving(REPO, ["--clock", "manual", "--polling", "off"], server_cpu) as (port, _):
        root = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        asyncio.run(_populate(root, jobs))
        populated = time.perf_counter() - started
        import requests

        t0 = time.perf_counter()
        body = requests.get(f"{root}/_mock/jobs?limit=100", timeout=30).json()
        list_ms = (time.perf_counter() - t0) * 1000
        if body["totalJobs"] != jobs:
            raise RuntimeError(f"expected {jobs} jobs, the server has {body['totalJobs']}")
        with browser(other_cpu) as b:
            fig = measure_first_render(b, root)
            fig.update(measure_update_delay(b, root, reps))
        fig["dashboard_jobs"] = jobs
        fig["dashboard_job_list_ms"] = list_ms
        fig["dashboard_populate_s"] = populated
        return fig


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_dashboard")
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--poll", action="store_true", help="also measure the poll path's cost")
    ap.add_argument("--before", type=Path, help="a checkout of the code before the dashboard")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-render", action="store_true", help="skip first render and delays")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {}
    if not args.no_render:
        out.update(measure_dashboard(args.jobs, args.reps))
        print(json.dumps(out), flush=True)
    if args.poll:
        out.update(measure_poll_cost(before=args.before, rounds=args.rounds))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
