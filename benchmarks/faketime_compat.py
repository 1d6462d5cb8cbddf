"""Which ways of waiting libfaketime speeds up: the compatibility table of docs/ci.md.

    python benchmarks/faketime_compat.py [--scale 200] [--json]

`plangrep-mock check --faketime` runs a program under `faketime -f "@<start> x<scale>"`, for
programs that cannot divide their sleeps by PLANGREP_TIME_SCALE. Each probe below waits 10
seconds (of its own clock) one way and prints how long it thinks it waited; it runs under
libfaketime at the scale, and the wall time it took is measured from outside. At x200 a probe
that libfaketime speeds up takes 0.05 s of wall time plus its start-up; one it does not speed up
takes the full 10 s; one that hangs is stopped after 15 s. A probe whose language is not
installed here is reported as not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["PROBES", "Probe", "Row", "main", "measure"]

WAIT = 10.0  # seconds each probe waits, on its own (faked) clock
HANG = 15.0  # wall seconds after which a probe counts as hanging


@dataclass(frozen=True, slots=True)
class Probe:
    name: str  # what is measured
    tool: str  # the program it needs on PATH
    file: str  # the probe's source file name
    source: str
    build: tuple[str, ...] = ()  # a command that builds `binary` from `file`, if any
    binary: str = ""


PROBES: tuple[Probe, ...] = (
    Probe(
        "Python time.sleep",
        "python3",
        "sleep.py",
        "import time\nt = time.monotonic()\ntime.sleep(10)\n"
        "print(f'{time.monotonic() - t:.2f}')\n",
    ),
    Probe(
        "Python asyncio.sleep",
        "python3",
        "asleep.py",
        "import asyncio, time\n"
        "async def main():\n"
        "    t = time.monotonic()\n"
        "    await asyncio.sleep(10)\n"
        "    print(f'{time.monotonic() - t:.2f}')\n"
        "asyncio.run(main())\n",
    ),
    Probe(
        "Python threading.Event().wait(timeout)",
        "python3",
        "event.py",
        "import threading, time\nt = time.monotonic()\nthreading.Event().wait(10)\n"
        "print(f'{time.monotonic() - t:.2f}')\n",
    ),
    Probe(
        "Python queue.get(timeout) in a worker thread",
        "python3",
        "queue_get.py",
        "import queue, threading, time\nt = time.monotonic()\n"
        "def wait():\n"
        "    try:\n"
        "        queue.Queue().get(timeout=10)\n"
        "    except queue.Empty:\n"
        "        pass\n"
        "w = threading.Thread(target=wait)\nw.start()\nw.join()\n"
        "print(f'{time.monotonic() - t:.2f}')\n",
    ),
    Probe(
        "Python socket timeout (urllib's timeout=)",
        "python3",
        "socket_timeout.py",
        "import socket, time\n"
        "server = socket.socket()\nserver.bind(('127.0.0.1', 0))\nserver.listen()\n"
        "client = socket.create_connection(server.getsockname())\nclient.settimeout(10)\n"
        "t = time.monotonic()\n"
        "try:\n    client.recv(1)  # no answer ever comes\nexcept TimeoutError:\n    pass\n"
        "print(f'{time.monotonic() - t:.2f}')\n",
    ),
    Probe(
        "Node setTimeout (await new Promise)",
        "node",
        "timeout.mjs",
        "const t = performance.now();\n"
        "await new Promise((r) => setTimeout(r, 10000));\n"
        "console.log(((performance.now() - t) / 1000).toFixed(2));\n",
    ),
    Probe(
        "Node setInterval",
        "node",
        "interval.mjs",
        "const t = performance.now();\nlet n = 0;\n"
        "const id = setInterval(() => { if (++n === 10) { clearInterval(id);\n"
        "  console.log(((performance.now() - t) / 1000).toFixed(2)); } }, 1000);\n",
    ),
    Probe(
        "bash: coreutils sleep",
        "bash",
        "sleep.sh",
        "sleep 10\necho 10.00\n",
    ),
    Probe(
        "Go time.Sleep (static binary)",
        "go",
        "sleep.go",
        'package main\nimport ("fmt"; "time")\n'
        "func main() {\n\tt := time.Now()\n\ttime.Sleep(10 * time.Second)\n"
        '\tfmt.Printf("%.2f\\n", time.Since(t).Seconds())\n}\n',
        build=("go", "build", "-o", "sleep_go", "sleep.go"),
        binary="./sleep_go",
    ),
)


@dataclass(frozen=True, slots=True)
class Row:
    probe: str
    wall: float | None  # wall seconds it took under libfaketime (None: not measured)
    saw: str  # the seconds the probe says it waited, or why it was not measured
    verdict: str  # "sped up" | "not sped up" | "hangs" | "not measured"


def _command(probe: Probe) -> list[str]:
    if probe.binary:
        return [probe.binary]
    runner = {"python3": sys.executable, "node": "node", "bash": "bash"}[probe.tool]
    return [runner, probe.file]


def measure(scale: float = 200.0) -> list[Row]:
    """Run every probe under libfaketime at `scale`; raises when faketime is not installed."""
    if shutil.which("faketime") is None:
        raise RuntimeError(
            "libfaketime is not installed (Debian/Ubuntu: apt-get install faketime)"
        )
    rows = []
    with tempfile.TemporaryDirectory(prefix="faketime-compat-") as tmp:
        env = {**os.environ, "GOCACHE": str(Path(tmp) / "gocache"), "GOFLAGS": "-mod=mod"}
        for probe in PROBES:
            if probe.tool != "python3" and shutil.which(probe.tool) is None:
                rows.append(
                    Row(probe.name, None, f"{probe.tool} is not installed", "not measured")
                )
                continue
            (Path(tmp) / probe.file).write_text(probe.source, encoding="utf-8")
            if probe.build:
                built = subprocess.run(probe.build, cwd=tmp, env=env, capture_output=True)
                if built.returncode != 0:
                    rows.append(Row(probe.name, None, "did not build", "not measured"))
                    continue
            argv = ["faketime", "-f", f"@2024-11-02 09:00:00 x{scale:g}", *_command(probe)]
            started = time.monotonic()
            try:
                done = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, timeout=HANG)
                wall = time.monotonic() - started
                saw = (done.stdout.strip().splitlines() or ["?"])[-1]
                verdict = "sped up" if wall < WAIT / 4 else "not sped up"
                if done.returncode != 0:
                    saw, verdict = f"exit {done.returncode}: {done.stderr.strip()[-120:]}", "fails"
            except subprocess.TimeoutExpired:
                wall, saw, verdict = HANG, "(no answer)", "hangs"
            rows.append(Row(probe.name, round(wall, 2), saw, verdict))
    return rows


def markdown(rows: list[Row], scale: float) -> str:
    lines = [
        f"| waiting {WAIT:g} s with | wall s under `faketime x{scale:g}` | the program's clock "
        "says | verdict |",
        "| --- | ---: | ---: | --- |",
    ]
    for r in rows:
        wall = "-" if r.wall is None else f"{r.wall:.2f}"
        lines.append(f"| {r.probe} | {wall} | {r.saw} | {r.verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=200.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = measure(args.scale)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(markdown(rows, args.scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
