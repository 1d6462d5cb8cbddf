"""GET /jobs/{jobId} p99 during a storm of webhooks to hostile receivers, against without one.

Six hostile receivers run in this process (`HostileReceivers`): a refused port, a black hole
(accepts, reads, never answers), a slow drip (answers one header byte at a time, forever), a
10 MB answer, a redirect to itself, and 410 Gone. `plangrep-mock serve` (its own process, pinned
to one CPU when there are two) gets the same workload twice: jobs created, uploaded to and
completed while the clock moves, by a driver at a fixed pace, and meanwhile the load generator
measures GET /jobs/{jobId} at `connections` connections. In the quiet round the jobs have no
webhook URL; in the storm round they are spread over the six receivers. Same requests, same
pace: the only difference is the deliveries.

`measure_storm_p99()` -> {"p99_ms_quiet", "p99_ms_storm", "ratio"} (goal: ratio <= 2), plus the
rounds under "detail" (medians over 3 alternating rounds of each, as one p99 over a few seconds
on 2 cores is noisy). `python -m benchmarks.bench_storm` prints it as JSON (about 45 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .loadgen import run_load

__all__ = ["HOSTILE_KINDS", "HostileReceivers", "measure_storm_p99", "rss_mb"]

REPO = Path(__file__).resolve().parent.parent
API_KEY = "pgk_bench_storm"
HOSTILE_KINDS = ("refused", "black_hole", "slow_drip", "ten_mb", "redirect_loop", "gone")
TEN_MB = 10 * 1024 * 1024
# Each handler ends quietly when cancelled at stop(): asyncio's stream server logs a handler task
# that ends with CancelledError as an error.
_QUIET = (Exception, asyncio.CancelledError)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def _read_request(reader: asyncio.StreamReader) -> bool:
    """Read one HTTP request (head and Content-Length body); False at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return False
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    if length:
        try:
            await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
    return True


class HostileReceivers:
    """The six hostile webhook receivers on 127.0.0.1, served from a thread of their own.

    `urls[kind]` for each of HOSTILE_KINDS; `hits[kind]` counts the requests each got.
    """

    def __init__(self, drip_interval: float = 0.2) -> None:
        self.drip_interval = drip_interval
        self.urls: dict[str, str] = {}
        self.hits: dict[str, int] = dict.fromkeys(HOSTILE_KINDS, 0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._big = b"x" * (1 << 20)

    # -- handlers -----------------------------------------------------------------------------

    def _track(self, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)

    async def _black_hole(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._track(writer)
        self.hits["black_hole"] += 1
        with contextlib.suppress(*_QUIET):
            while await reader.read(65536):
                pass

    async def _slow_drip(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track(writer)
        with contextlib.suppress(*_QUIET):
            if not await _read_request(reader):
                return
            self.hits["slow_drip"] += 1
            writer.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            while True:
                await writer.drain()
                await asyncio.sleep(self.drip_interval)
                writer.write(b"a")

    async def _ten_mb(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track(writer)
        with contextlib.suppress(*_QUIET):
            while await _read_request(reader):
                self.hits["ten_mb"] += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    b"Content-Length: %d\r\n\r\n" % TEN_MB
                )
                for _ in range(TEN_MB // len(self._big)):
                    writer.write(self._big)
                    await writer.drain()
        writer.close()

    def _fixed(self, kind: str, head: bytes) -> Any:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._track(writer)
            with contextlib.suppress(*_QUIET):
                while await _read_request(reader):
                    self.hits[kind] += 1
                    writer.write(head)
                    await writer.drain()
            writer.close()

        return handle

    # -- lifecycle ------------------------------------------------------------------------------

    async def _start(self) -> None:
        async def serve(handler: Any) -> int:
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        with socket.socket() as s:  # a port where nothing listens
            s.bind(("127.0.0.1", 0))
            self.urls["refused"] = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
        self.urls["black_hole"] = f"http://127.0.0.1:{await serve(self._black_hole)}/hook"
        self.urls["slow_drip"] = f"http://127.0.0.1:{await serve(self._slow_drip)}/hook"
        self.urls["ten_mb"] = f"http://127.0.0.1:{await serve(self._ten_mb)}/hook"
        # the redirect names its own URL, so the port must be known before the answer is built
        loop_sock = socket.socket()
        loop_sock.bind(("127.0.0.1", 0))
        loop_url = f"http://127.0.0.1:{loop_sock.getsockname()[1]}/hook"
        redirect = (
            f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {loop_url}\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        server = await asyncio.start_server(self._fixed("redirect_loop", redirect), sock=loop_sock)
        self._servers.append(server)
        self.urls["redirect_loop"] = loop_url
        gone = b"HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n"
        self.urls["gone"] = f"http://127.0.0.1:{await serve(self._fixed('gone', gone))}/hook"

    async def _cleanup(self) -> None:
        for w in list(self._writers):
            w.close()
        for s in self._servers:
            s.close()
        me = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not me]
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        loop.run_until_complete(self._start())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._cleanup())
        loop.close()

    def start(self) -> HostileReceivers:
        self._thread = threading.Thread(target=self._run, name="hostile-receivers", daemon=True)
        self._thread.start()
        self._ready.wait()
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> HostileReceivers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- the benchmark


def _call(root: str, method: str, path: str, body: Any = None, **headers: str) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(root + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {API_KEY}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in headers.items():
        req.add_header(k.replace("_", "-"), v)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _upload(root: str, job_id: str) -> None:
    boundary = "benchstormboundary"
    meta = json.dumps({"files": [{"partName": "file0", "fileName": "plans.pdf"}]})
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{meta}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file0"; filename="plans.pdf"'
        f"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 storm\r\n--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        f"{root}/api/open/v1/jobs/{job_id}/files", data=body, method="POST"
    )
    req.add_header("Authorization", f"Bearer {API_KEY}")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


@contextlib.contextmanager
def _serve(cpu: int | None) -> Iterator[tuple[str, int]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--clock", "manual",
         "--polling", "off", "--api-key", API_KEY, "--credits", "100000000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(proc.pid, {cpu})
        assert proc.stdout is not None
        root = ""
        for line in proc.stdout:
            if "Plangrep API at " in line:
                root = line.split("Plangrep API at ", 1)[1].strip().removesuffix("/api/open/v1")
                break
        if not root:
            raise RuntimeError("plangrep-mock serve did not start")
        yield root, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cpus() -> tuple[int | None, int | None]:
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)


def _round(
    urls: list[str | None], *, seconds: float, connections: int, tool: str
) -> dict[str, Any]:
    """One round: jobs with these webhook URLs (None: no webhook), driven while GETs are
    measured."""
    server_cpu, load_cpu = _cpus()
    with _serve(server_cpu) as (root, pid):
        api = "/api/open/v1"
        project = _call(root, "POST", api + "/projects", {"name": "storm"})["project"]["id"]
        _call(root, "POST", f"/_mock/projects/{project}/events", {"event": "provision"})
        probe = _call(root, "POST", f"{api}/projects/{project}/jobs", {}, X_Mock_Scenario="slow")
        probe_id = probe["job"]["id"]
        _upload(root, probe_id)
        _call(root, "POST", f"{api}/jobs/{probe_id}/uploads/complete", {})
        jobs = []
        for url in urls:
            body = {"webhookUrl": url} if url else {}
            job = _call(root, "POST", f"{api}/projects/{project}/jobs", body)["job"]["id"]
            _upload(root, job)
            jobs.append(job)
        rss_before = rss_mb(pid)
        stop = threading.Event()
        driven = {"completed": 0, "advances": 0}

        def drive() -> None:
            # the same pace in both rounds: complete two jobs and move the clock, 20 times a s
            i = 0
            while not stop.is_set():
                for _ in range(2):
                    if i < len(jobs):
                        _call(root, "POST", f"{api}/jobs/{jobs[i]}/uploads/complete", {})
                        driven["completed"] += 1
                        i += 1
                _call(root, "POST", "/_mock/clock/advance", {"seconds": 2})
                driven["advances"] += 1
                stop.wait(0.05)

        driver = threading.Thread(target=drive, name="storm-driver", daemon=True)
        driver.start()
        try:
            result = run_load(
                f"{root}{api}/jobs/{probe_id}",
                headers={"Authorization": f"Bearer {API_KEY}"},
                connections=connections,
                seconds=seconds,
                warmup=0.5,
                tool=tool,
                cpu=load_cpu,
            )
        finally:
            stop.set()
            driver.join(30)
        deliveries = _call(root, "GET", "/_mock/webhooks/deliveries")["deliveries"]
        return {
            "p99_ms": result.p99_ms,
            "p50_ms": result.p50_ms,
            "rps": result.rps,
            "bad": result.bad,
            "jobs_completed": driven["completed"],
            "clock_advances": driven["advances"],
            "deliveries": len(deliveries),
            "attempts": sum(len(d["attempts"]) for d in deliveries),
            "rss_mb_before": round(rss_before, 1),
            "rss_mb_after": round(rss_mb(pid), 1),
        }


def measure_storm_p99(
    *,
    seconds: float = 5.0,
    connections: int = 8,
    jobs_per_receiver: int = 40,
    rounds: int = 3,
    tool: str = "auto",
) -> dict[str, Any]:
    """GET p99 (ms) on `serve` without and with a hostile-receiver storm, and their ratio.

    Quiet and storm rounds alternate, `rounds` of each (a fresh server each time); each p99 is
    the median over its rounds (one p99 over a few seconds on 2 cores is noisy)."""
    quiet: list[dict[str, Any]] = []
    storm: list[dict[str, Any]] = []
    _, load_cpu = _cpus()
    pinned = load_cpu is not None and hasattr(os, "sched_setaffinity")
    mine = os.sched_getaffinity(0) if pinned else set()
    if load_cpu is not None and pinned:
        # the receivers and the driver share the load generator's CPU: what the storm costs
        # the server's CPU is then the server's own work, not the receivers'
        os.sched_setaffinity(0, {load_cpu})
    try:
        with HostileReceivers() as hostile:
            storm_urls: list[str | None] = [
                hostile.urls[kind] for _ in range(jobs_per_receiver) for kind in HOSTILE_KINDS
            ]
            kw: dict[str, Any] = {"seconds": seconds, "connections": connections, "tool": tool}
            for _ in range(rounds):
                quiet.append(_round([None] * len(storm_urls), **kw))
                storm.append(_round(storm_urls, **kw))
            hits = dict(hostile.hits)
    finally:
        if pinned:
            os.sched_setaffinity(0, mine)
    p99_quiet = statistics.median(r["p99_ms"] for r in quiet)
    p99_storm = statistics.median(r["p99_ms"] for r in storm)
    return {
        "p99_ms_quiet": round(p99_quiet, 3),
        "p99_ms_storm": round(p99_storm, 3),
        "ratio": round(p99_storm / p99_quiet, 3) if p99_quiet else None,
        "detail": {"quiet": quiet, "storm": storm, "receiver_hits": hits},
    }


if __name__ == "__main__":
    print(json.dumps(measure_storm_p99(), indent=2))
