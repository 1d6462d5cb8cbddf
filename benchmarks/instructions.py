"""Instructions per GET /jobs/{jobId} under valgrind (callgrind): a figure the machine's load
does not move, for judging changes to the poll path before -> after (issue 19).

    python -m benchmarks.instructions [serve|asyncio|bare|minimal|minimal-uvloop ...] [-n 4000]

Each target runs under `valgrind --tool=callgrind --instr-atstart=no`; after 1,000 warm-up
requests, instrumentation is switched on (`callgrind_control -i on`), exactly N requests go out
over 32 keep-alive connections from a raw-socket client in another process, instrumentation is
switched off and the counts dumped. The figure is the server's instructions over those N
requests divided by N. The callgrind file stays in the output folder for `callgrind_annotate`.

Targets: `serve` is `plangrep-mock serve --polling off` on a processing job (as in
bench_server.py; its default loop, uvloop where installed), `asyncio` the same on asyncio's loop
(`--loop asyncio`), `bare` the bare aiohttp baseline, `minimal` the
floor of aiohttp (benchmarks/targets.py), `minimal-uvloop` that floor on uvloop. Needs valgrind
(`apt-get install valgrind`); takes about 1.5 minutes a target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .bench_server import API_KEY, MOCK_BANNER, REPO, _env, mock_command, prepare_job, serving

__all__ = ["TARGETS", "instructions_per_request", "send_requests"]

TARGETS = ("serve", "asyncio", "bare", "minimal", "minimal-uvloop")
_CONNECTIONS = 32


async def _send(host: str, port: int, path: str, n: int, connections: int) -> int:
    """Exactly `n` GETs over `connections` keep-alive connections; the number not answered 200."""
    req = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {API_KEY}\r\n\r\n"
    ).encode()
    shares = [n // connections + (1 if i < n % connections else 0) for i in range(connections)]
    bad = 0

    async def one(k: int) -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, port)
        for _ in range(k):
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                bad += 1
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if m is None:
                raise RuntimeError(f"no Content-Length in {head!r}")
            await reader.readexactly(int(m.group(1)))
        writer.close()

    await asyncio.gather(*(one(k) for k in shares if k))
    return bad


def send_requests(port: int, path: str, n: int) -> None:
    """Send from another process, so the client's instructions are not the server's."""
    code = (
        "import asyncio, sys; from benchmarks.instructions import _send; "
        f"sys.exit(1 if asyncio.run(_send('127.0.0.1', {port}, {path!r}, {n}, "
        f"{_CONNECTIONS})) else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(), cwd=REPO)


def _job(tmp: Path) -> tuple[str, Path]:
    """A processing job's path and its GET body (in a file), from an ordinary serve."""
    with serving(mock_command(), MOCK_BANNER, "plangrep-mock serve", None) as port:
        url, body = prepare_job(port)
    body_file = tmp / "job.json"
    body_file.write_text(json.dumps(body), encoding="utf-8")
    return url.split(f":{port}", 1)[1], body_file


def instructions_per_request(target: str, n: int = 4000, out_dir: Path | None = None) -> float:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise RuntimeError("valgrind is not installed (apt-get install valgrind)")
    out_dir = out_dir or Path(tempfile.mkdtemp(prefix="plangrep-callgrind-"))
    out = out_dir / f"callgrind.{target}.out"
    py = sys.executable
    path = ""
    if target in ("serve", "asyncio"):
        cmd = mock_command(loop="asyncio" if target == "asyncio" else "auto")
    else:
        path, body_file = _job(out_dir)
        kind = "bare" if target == "bare" else "minimal"
        cmd = [py, "-m", "benchmarks.targets", kind, str(body_file), API_KEY]
        cmd += ["--uvloop"] if target == "minimal-uvloop" else []
    vg = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    proc = subprocess.Popen(
        [*vg, *cmd], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(),
        cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        port = 0
        for line in proc.stdout:
            m = re.search(r"127\.0\.0\.1:(\d+)/api/open/v1", line) or re.match(r"port (\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if not port:
            raise RuntimeError(f"{target} did not start under valgrind")
        if not path:
            url, _ = prepare_job(port)
            path = url.split(f":{port}", 1)[1]
        send_requests(port, path, 1000)  # warm-up, not counted
        control = ["callgrind_control", "-i"]
        subprocess.run([*control, "on", str(proc.pid)], check=True, capture_output=True)
        send_requests(port, path, n)
        subprocess.run([*control, "off", str(proc.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    total = 0
    for dump in out_dir.glob(out.name + "*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
    if not total:
        raise RuntimeError(f"no counts in {out_dir}")
    return total / n


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    ap.add_argument("targets", nargs="*", choices=TARGETS, default=["serve", "minimal"])
    ap.add_argument("-n", type=int, default=4000, help="counted requests (default 4000)")
    args = ap.parse_args(argv)
    result = {}
    for target in args.targets:
        per = instructions_per_request(target, args.n)
        result[target] = round(per)
        print(f"{target}: {per / 1000:.1f} k instructions per request", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
