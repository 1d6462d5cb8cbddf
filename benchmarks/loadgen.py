"""One HTTP load generator for every requests/s figure of a run.

`wrk` (Debian package `wrk`) when it is on PATH, else a load generator built on aiohttp that runs
in its own process (`python -m benchmarks.loadgen URL ...`). Either way: N keep-alive connections
hammer one URL with the given headers for a warm-up, then for the measured duration; the result
is requests/s and latency percentiles of the measured part. The generator is pinned to a CPU of
its own when the caller asks (the server under test gets the other one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from benchmarks.child import run_child

__all__ = ["LoadResult", "available_tool", "run_load"]


@dataclass(frozen=True, slots=True)
class LoadResult:
    tool: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int  # non-2xx answers plus socket errors

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def available_tool(prefer: str = "auto") -> str:
    """`wrk` if asked for or found on PATH (with prefer="auto"), else `aiohttp`."""
    if prefer == "wrk" and shutil.which("wrk") is None:
        raise RuntimeError("--loadgen wrk: wrk is not on PATH (apt-get install wrk)")
    if prefer in ("wrk", "aiohttp"):
        return prefer
    return "wrk" if shutil.which("wrk") else "aiohttp"


def _pin(cpu: int | None) -> list[str]:
    if cpu is None or not hasattr(os, "sched_setaffinity") or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


def run_load(
    url: str,
    *,
    headers: Mapping[str, str],
    connections: int = 32,
    seconds: float = 5.0,
    warmup: float = 1.0,
    tool: str = "auto",
    cpu: int | None = None,
) -> LoadResult:
    tool = available_tool(tool)
    if tool == "wrk":
        if warmup > 0:
            _wrk(url, headers, connections, warmup, cpu)
        return _wrk(url, headers, connections, seconds, cpu)
    return _aiohttp(url, headers, connections, seconds, warmup, cpu)


# -- wrk --------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if m is None:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out: str, connections: int, seconds: float) -> LoadResult:
    """Read wrk's report (run with --latency)."""
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    total = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", out, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if total is None or rps is None or "99" not in pct:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    if sock:
        # werkzeug closes each connection after its answer (HTTP/1.0); wrk counts those closes
        # as read errors, so only connect/write errors and timeouts count as failures here
        bad += int(sock.group(1)) + int(sock.group(3)) + int(sock.group(4))
    return LoadResult(
        tool="wrk",
        connections=connections,
        seconds=seconds,
        requests=int(total.group(1)),
        rps=float(rps.group(1)),
        p50_ms=_ms(pct["50"]),
        p99_ms=_ms(pct["99"]),
        bad=bad,
    )


def _wrk(
    url: str, headers: Mapping[str, str], connections: int, seconds: float, cpu: int | None
) -> LoadResult:
    cmd = [*_pin(cpu), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    cmd += ["--latency", "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    return parse_wrk(out, connections, seconds)


# -- aiohttp, in its own process ----------------------------------------------------------------


def _aiohttp(
    url: str,
    headers: Mapping[str, str],
    connections: int,
    seconds: float,
    warmup: float,
    cpu: int | None,
) -> LoadResult:
    cmd = [*_pin(cpu), sys.executable, "-m", "benchmarks.loadgen", url]
    cmd += ["--connections", str(connections), "--seconds", str(seconds)]
    cmd += ["--warmup", str(warmup)]
    for k, v in headers.items():
        cmd += ["--header", f"{k}: {v}"]
    data = run_child(cmd)
    return LoadResult(**data)


async def _hammer(
    url: str, headers: Mapping[str, str], connections: int, seconds: float, warmup: float
) -> LoadResult:
    import aiohttp

    latencies: list[float] = []
    bad = 0
    measuring = False
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_end = t_measure + seconds
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=dict(headers)
    ) as session:

        async def worker() -> None:
            nonlocal bad, measuring
            while True:
                t0 = time.perf_counter()
                if t0 >= t_end:
                    return
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        ok = 200 <= resp.status < 400
                except (TimeoutError, aiohttp.ClientError):
                    ok = False
                t1 = time.perf_counter()
                if t0 >= t_measure and t1 <= t_end:
                    latencies.append(t1 - t0)
                    if not ok:
                        bad += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()
    n = len(latencies)

    def pct(q: float) -> float:
        return latencies[min(n - 1, int(q * n))] * 1000 if n else 0.0

    return LoadResult(
        tool="aiohttp",
        connections=connections,
        seconds=seconds,
        requests=n,
        rps=n / seconds,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        bad=bad,
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.loadgen")
    p.add_argument("url")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    args = p.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    result = asyncio.run(_hammer(args.url, headers, args.connections, args.seconds, args.warmup))
    print(json.dumps(result.as_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
