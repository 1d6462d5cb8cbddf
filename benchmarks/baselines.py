"""Other mock servers as baselines for GET /jobs/{jobId}: WireMock and Prism (issue 19).

    python -m benchmarks.baselines [--quick]      # just these figures, as JSON

Both are installed by the benchmark itself from the npm registry into a cache folder
(`$PLANGREP_MOCK_BENCH_CACHE`, else `$XDG_CACHE_HOME/plangrep-mock-bench`, else
`~/.cache/plangrep-mock-bench`) at pinned versions: the `wiremock` package ships WireMock's
standalone jar, run on the machine's Java; `@stoplight/prism-cli` is Prism, run on Node.js. A
baseline that cannot run (no Java, no npm, the install failed, offline) is skipped: its figures
are null with a "not measured because ..." note, and the rest of the run goes on.

What each serves:

- WireMock: one stub mapping, GET of the job's URL path with a header matcher
  `Authorization: equalTo "Bearer <key>"`, answering the mock's own response bytes (fetched from
  the mock) with the mock's Content-Type; a second stub of lower priority answers the same path
  without that header with a 401 JSON error, as the mock does. Request logging to its notifier
  off (`--disable-request-logging`, "useful when performance testing" says its help). Measured in
  two configurations: journal off (`--no-request-journal`, the issue's measurement and the
  stricter baseline) and journal on, bounded to the mock's own journal size
  (`--max-request-journal-entries 10000`): the like-for-like comparison, since the mock keeps a
  journal of every public request.
- Prism: mock mode (`prism mock`) on a small OpenAPI document with the job JSON as the 200
  example, the job id as the only allowed path value and an HTTP bearer security scheme. Prism
  checks that a bearer token is present, not which one (it has no notion of valid keys), and it
  serializes the example itself (the same JSON document, its own bytes and headers). Logging at
  `warn` (its default `info` writes a line per request).

WireMock runs on the JVM, whose JIT compiles the hot path only after many requests: a figure
measured in the first seconds of load is "cold" (the issue's 5.6k req/s) and one measured after
about a minute of load is "warm" (21-22k). Both are reported: the cold one is the first
`cold_seconds` of load after start; the warm ones come after `warm_seconds` more of load, in
rounds back to back with the mock (a ratio is the median of per-round ratios). In `--quick` the
warm-up is a few seconds, so WireMock is not warm there.

Every server runs pinned to the first CPU (started under `taskset`, so the JVM sizes itself for
one CPU from the start), the load generator on the second, as in benchmarks/bench_server.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .bench_server import (
    API_KEY,
    CONNECTIONS,
    MOCK_BANNER,
    _cpus,
    mock_command,
    prepare_job,
    serving,
)
from .loadgen import LoadResult, available_tool, run_load

__all__ = [
    "PRISM_VERSION",
    "WIREMOCK_JOURNAL_ENTRIES",
    "WIREMOCK_VERSION",
    "BaselineSettings",
    "NotMeasured",
    "cache_dir",
    "find_java",
    "install_npm_package",
    "measure_baselines",
    "prism_document",
    "wiremock_mappings",
]

WIREMOCK_VERSION = "3.13.2"
PRISM_VERSION = "5.16.0"
# the mock's journal keeps the last 10,000 public requests (MockConfig.journal_size)
WIREMOCK_JOURNAL_ENTRIES = 10_000
MIN_JAVA = 11  # WireMock 3 needs Java 11 or later


class NotMeasured(RuntimeError):
    """A baseline that cannot be measured on this machine; the message says why."""


# -- installing ----------------------------------------------------------------------------------


def cache_dir() -> Path:
    explicit = os.environ.get("PLANGREP_MOCK_BENCH_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "plangrep-mock-bench"


def _installed_version(cache: Path, package: str) -> str | None:
    try:
        data = json.loads((cache / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def install_npm_package(
    package: str, version: str, cache: Path | None = None, log: Callable[[str], None] = print
) -> Path:
    """The folder of `package@version` in the cache, installed with npm first if it is not there.

    Install scripts are not run (`--ignore-scripts`): neither package needs one, and one of
    Prism's dependencies has a telemetry postinstall."""
    cache = cache or cache_dir()
    folder = cache / "node_modules" / package
    if _installed_version(cache, package) == version:
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise NotMeasured(f"npm is not on PATH, so {package} cannot be installed (install npm)")
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--ignore-scripts"]
    log(f"npm install {package}@{version} into {cache}")
    try:
        done = subprocess.run(
            [*cmd, f"{package}@{version}"], capture_output=True, text=True, timeout=600
        )
    except subprocess.TimeoutExpired:
        raise NotMeasured(f"npm install {package}@{version} took over 10 minutes") from None
    if done.returncode != 0 or _installed_version(cache, package) != version:
        lines = [x for x in (done.stderr + done.stdout).splitlines() if x.strip()]
        offline = any(
            s in done.stderr for s in ("ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED")
        )
        why = "the npm registry cannot be reached (offline?)" if offline else "it failed"
        tail = lines[-1] if lines else f"exit {done.returncode}"
        raise NotMeasured(f"npm install {package}@{version}: {why}: {tail[:200]}")
    return folder


def find_java() -> str:
    """The java executable (JAVA_HOME first, then PATH), checked to be Java 11 or later."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else None
    if java is None or not os.access(java, os.X_OK):
        java = shutil.which("java")
    if java is None:
        raise NotMeasured(
            f"Java is not installed (WireMock's standalone jar needs Java {MIN_JAVA}+: "
            "apt-get install default-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if m is None:
        raise NotMeasured(f"cannot read the version of {java}: {out.stderr.strip()[:200]}")
    major = int(m.group(1)) if m.group(1) != "1" else int(m.group(2) or 0)  # "1.8" is Java 8
    if major < MIN_JAVA:
        raise NotMeasured(f"{java} is Java {major}; WireMock 3 needs Java {MIN_JAVA}+")
    return java


def npm_bin(folder: Path, name: str) -> Path:
    """The script an npm package declares as its command `name` (its package.json "bin")."""
    data = json.loads((folder / "package.json").read_text())
    bins = data.get("bin")
    rel = bins.get(name) if isinstance(bins, dict) else bins
    if not isinstance(rel, str) or not (folder / rel).is_file():
        raise NotMeasured(f"{folder.name} declares no command {name!r} in its package.json")
    return folder / rel


def wiremock_jar(folder: Path) -> Path:
    jars = sorted((folder / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        raise NotMeasured(f"the wiremock npm package in {folder} holds no standalone jar")
    return jars[-1]


# -- what they serve ---------------------------------------------------------------------------


def wiremock_mappings(path: str, body: bytes, content_type: str, api_key: str) -> dict[str, Any]:
    """Stub mappings: the job bytes for the right bearer key, else a 401 like the mock's."""
    unauthorized = {"error": {"code": "unauthorized", "message": "this API key is not valid"}}
    return {
        "mappings": [
            {
                "priority": 1,
                "request": {
                    "method": "GET",
                    "urlPath": path,
                    "headers": {"Authorization": {"equalTo": f"Bearer {api_key}"}},
                },
                "response": {
                    "status": 200,
                    "headers": {"Content-Type": content_type},
                    "body": body.decode("utf-8"),
                },
            },
            {
                "priority": 10,
                "request": {"method": "GET", "urlPath": path},
                "response": {
                    "status": 401,
                    "headers": {"Content-Type": "application/json", "WWW-Authenticate": "Bearer"},
                    "jsonBody": unauthorized,
                },
            },
        ]
    }


def prism_document(path: str, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 document for Prism's mock mode: one GET, the job JSON as its example."""
    error = {"error": {"code": "unauthorized", "message": "send Authorization: Bearer <API key>"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "plangrep-mock benchmark baseline", "version": "1.0.0"},
        "paths": {
            path.replace(job_id, "{jobId}"): {
                "get": {
                    "operationId": "getJob",
                    "parameters": [
                        {
                            "name": "jobId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": [job_id]},
                        }
                    ],
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": {
                            "description": "the job",
                            "content": {"application/json": {"example": body}},
                        },
                        "401": {
                            "description": "no bearer token",
                            "content": {"application/json": {"example": error}},
                        },
                    },
                }
            }
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


# -- running them --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pinned(cmd: Sequence[str], cpu: int | None) -> list[str]:
    if cpu is None or shutil.which("taskset") is None:
        return list(cmd)
    return ["taskset", "-c", str(cpu), *cmd]


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", "")


@contextmanager
def running(
    cmd: Sequence[str],
    *,
    url: str,
    headers: dict[str, str],
    cpu: int | None,
    log_file: Path,
    what: str,
    timeout: float = 120.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server pinned to `cpu` until `url` answers 200 with `headers`; stop it after."""
    with log_file.open("wb") as out:
        proc = subprocess.Popen(_pinned(cmd, cpu), stdout=out, stderr=subprocess.STDOUT)
    try:
        if (
            cpu is not None
            and shutil.which("taskset") is None
            and hasattr(os, "sched_setaffinity")
        ):
            os.sched_setaffinity(proc.pid, {cpu})
        deadline = time.monotonic() + timeout
        status = 0
        while True:
            if proc.poll() is not None:
                tail = log_file.read_text(errors="replace")[-800:]
                raise NotMeasured(f"{what} exited with {proc.returncode} on start: {tail}")
            try:
                status = _get(url, headers)[0]
            except (OSError, urllib.error.URLError):
                status = 0
            if status == 200:
                break
            if time.monotonic() > deadline:
                raise NotMeasured(f"{what} did not answer 200 within {timeout:.0f} s ({status})")
            time.sleep(0.2)
        yield proc
    finally:
        proc.send_signal(signal.SIGCONT)  # in case it was paused
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def paused(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """Freeze a baseline (SIGSTOP) while the mock is measured on the same CPU.

    An idle JVM is not idle: its JIT keeps compiling what the last load made hot, and in a
    first try that halved the mock's figure measured right after WireMock's warm-up."""
    proc.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGCONT)


# -- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaselineSettings:
    seconds: float  # measured per hit
    warmup: float  # per hit, before the measured part (as bench_server does)
    rounds: int
    cold_seconds: float  # WireMock's first seconds of load after start
    warm_seconds: float  # load before WireMock counts as warm
    prism_warmup: float
    journal_on: bool  # measure WireMock with its journal on too

    @classmethod
    def for_run(cls, quick: bool) -> BaselineSettings:
        if quick:
            return cls(2, 0.5, 1, 2, 4, 1, journal_on=False)
        return cls(4, 1, 5, 5, 60, 5, journal_on=True)


@dataclass
class WireMockRun:
    journal: bool
    cold: Sample
    mock_before_cold: Sample
    warmup_curve: list[float] = field(default_factory=list)  # req/s of each warm-up chunk
    mock: list[Sample] = field(default_factory=list)
    warm: list[Sample] = field(default_factory=list)


def _median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _ratios(a: list[Sample], b: list[Sample], attr: str = "rps") -> list[float]:
    return [
        getattr(x, attr) / getattr(y, attr) for x, y in zip(a, b, strict=True) if getattr(y, attr)
    ]


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured load run and the CPU time the server spent in it (all its threads)."""

    load: LoadResult
    cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.load.rps

    @property
    def p99_ms(self) -> float:
        return self.load.p99_ms

    @property
    def per_cpu_s(self) -> float:
        """Requests answered per CPU-second of the server: what other work on the machine
        moves much less than requests/s, since it counts only the time the server ran."""
        return self.load.requests / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _pid_listening(port: int) -> int | None:
    """The process (a child of ours) that listens on `port`."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            conns = child.net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in conns):
            return int(child.pid)
    return None


class _Bench:
    """What the measuring steps share: the load generator, the CPUs, the mock's URL."""

    def __init__(self, s: BaselineSettings, tool: str, log: Callable[[str], None]) -> None:
        self.s = s
        self.tool = tool
        self.log = log
        self.server_cpu, self.load_cpu = _cpus()
        self.headers = {"Authorization": f"Bearer {API_KEY}"}
        self.mock_url = ""
        self.mock_pid: int | None = None

    def hit(self, url: str, seconds: float, warmup: float, pid: int | None) -> Sample:
        """Load `url` for `warmup` s, then measure `seconds` s of load and the CPU time `pid`
        spent meanwhile."""

        def load(duration: float) -> LoadResult:
            r = run_load(
                url,
                headers=self.headers,
                connections=CONNECTIONS,
                seconds=duration,
                warmup=0,
                tool=self.tool,
                cpu=self.load_cpu,
            )
            if r.bad:
                raise RuntimeError(f"{r.bad} failed requests against {url} ({r})")
            return r

        if warmup > 0:
            load(warmup)
        before = _cpu_seconds(pid)
        r = load(seconds)
        return Sample(r, _cpu_seconds(pid) - before)

    def hit_mock(self) -> Sample:
        return self.hit(self.mock_url, self.s.seconds, self.s.warmup, self.mock_pid)

    def say(self, name: str, r: Sample) -> None:
        cpu = f", {r.per_cpu_s:,.0f} per CPU-second" if r.cpu_seconds else ""
        self.log(f"{name}: {r.rps:,.0f} req/s, p99 {r.p99_ms:.2f} ms{cpu}")

    def rounds(
        self, proc: subprocess.Popen[bytes], url: str, name: str
    ) -> tuple[list[Sample], list[Sample]]:
        """The mock (the baseline paused) then the baseline, `rounds` times."""
        mock: list[Sample] = []
        other: list[Sample] = []
        for i in range(self.s.rounds):
            with paused(proc):
                m = self.hit_mock()
            o = self.hit(url, self.s.seconds, self.s.warmup, proc.pid)
            mock.append(m)
            other.append(o)
            self.say(f"round {i + 1}/{self.s.rounds} mock", m)
            self.say(f"round {i + 1}/{self.s.rounds} {name}", o)
        return mock, other


def _wiremock(
    b: _Bench, java: str, jar: Path, tmp: Path, path: str, raw: bytes, ctype: str, journal: bool
) -> WireMockRun:
    s = b.s
    name = "WireMock, journal " + ("on" if journal else "off")
    root = tmp / ("wiremock-journal" if journal else "wiremock")
    (root / "mappings").mkdir(parents=True)
    (root / "mappings" / "job.json").write_text(
        json.dumps(wiremock_mappings(path, raw, ctype, API_KEY))
    )
    port = free_port()
    journal_args = (
        ["--max-request-journal-entries", str(WIREMOCK_JOURNAL_ENTRIES)]
        if journal
        else ["--no-request-journal"]
    )
    cmd = [java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
           "--root-dir", str(root), "--disable-banner", "--disable-request-logging",
           *journal_args]  # fmt: skip
    url = f"http://127.0.0.1:{port}{path}"
    before = b.hit_mock()  # right before the cold start
    b.say("mock", before)
    log_file = tmp / f"{root.name}.log"
    with running(
        cmd, url=url, headers=b.headers, cpu=b.server_cpu, log_file=log_file, what=name
    ) as proc:
        cold = b.hit(url, s.cold_seconds, 0, proc.pid)
        b.say(f"{name}, cold (first {s.cold_seconds:g} s)", cold)
        run = WireMockRun(journal=journal, cold=cold, mock_before_cold=before)
        left = s.warm_seconds
        while left > 0:  # in chunks, to show the JIT warming up
            chunk = min(10.0, left)
            run.warmup_curve.append(b.hit(url, chunk, 0, None).rps)
            left -= chunk
        b.log(f"{name}, warm-up: " + ", ".join(f"{x:,.0f}" for x in run.warmup_curve))
        run.mock, run.warm = b.rounds(proc, url, name)
    return run


def _prism(b: _Bench, tmp: Path, path: str, body: dict[str, Any]) -> dict[str, Any]:
    if shutil.which("node") is None:
        raise NotMeasured("Node.js is not on PATH (Prism runs on node)")
    folder = install_npm_package("@stoplight/prism-cli", PRISM_VERSION, log=b.log)
    spec = tmp / "prism.json"
    spec.write_text(json.dumps(prism_document(path, body["job"]["id"], body)))
    port = free_port()
    cmd = ["node", str(npm_bin(folder, "prism")), "mock", str(spec), "--port", str(port),
           "--host", "127.0.0.1", "--verboseLevel", "warn"]  # fmt: skip
    url = f"http://127.0.0.1:{port}{path}"
    log_file = tmp / "prism.log"
    with running(
        cmd, url=url, headers=b.headers, cpu=b.server_cpu, log_file=log_file, what="Prism"
    ) as proc:
        b.hit(url, b.s.prism_warmup, 0, None)
        mock, prism = b.rounds(proc, url, "Prism")
    return {
        "prism_rps": _median([r.rps for r in prism]),
        "prism_p99_ms": _median([r.p99_ms for r in prism]),
        "poll_ratio_vs_prism": _median(_ratios(mock, prism)),
        "poll_cpu_ratio_vs_prism": _median(_ratios(mock, prism, "per_cpu_s")),
    }


def _wiremock_figures(run: WireMockRun, prefix: str) -> dict[str, Any]:
    ratio = "poll_ratio_vs_" + prefix
    fig = {
        f"{prefix}_cold_rps": run.cold.rps,
        f"{prefix}_warm_rps": _median([r.rps for r in run.warm]),
        f"{prefix}_warm_p99_ms": _median([r.p99_ms for r in run.warm]),
        f"{ratio}_cold": run.mock_before_cold.rps / run.cold.rps,
        f"{ratio}_warm": _median(_ratios(run.mock, run.warm)),
    }
    if not run.journal:
        fig["poll_p99_ratio_vs_wiremock_warm"] = _median(_ratios(run.mock, run.warm, "p99_ms"))
        fig["poll_cpu_ratio_vs_wiremock_warm"] = _median(_ratios(run.mock, run.warm, "per_cpu_s"))
    return fig


WIREMOCK_KEYS: dict[bool, tuple[str, ...]] = {
    journal: (f"{p}_cold_rps", f"{p}_warm_rps", f"{p}_warm_p99_ms",
              f"poll_ratio_vs_{p}_cold", f"poll_ratio_vs_{p}_warm")
    for journal, p in ((False, "wiremock"), (True, "wiremock_journal"))
}  # fmt: skip
WIREMOCK_KEYS[False] += ("poll_p99_ratio_vs_wiremock_warm", "poll_cpu_ratio_vs_wiremock_warm")
PRISM_KEYS = ("prism_rps", "prism_p99_ms", "poll_ratio_vs_prism", "poll_cpu_ratio_vs_prism")


def measure_baselines(
    *,
    quick: bool = False,
    tool: str = "auto",
    settings: BaselineSettings | None = None,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """(figures, why each null figure is null, details) for WireMock and Prism vs the mock.

    A baseline that cannot run here (`NotMeasured`) leaves its figures null with the reason;
    anything else (failed requests, a crash) is an error of the benchmark and propagates."""
    s = settings or BaselineSettings.for_run(quick)
    b = _Bench(s, available_tool(tool), log)
    fig: dict[str, Any] = {}
    notes: dict[str, str] = {}
    details: dict[str, Any] = {"settings": asdict(s), "loadgen": b.tool}

    def skip(keys: Sequence[str], reason: str) -> None:
        log(f"not measured because {reason}")
        for k in keys:
            fig[k] = None
            notes[k] = reason

    with tempfile.TemporaryDirectory(prefix="plangrep-bench-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        port = stack.enter_context(
            serving(mock_command(), MOCK_BANNER, "plangrep-mock serve", b.server_cpu)
        )
        b.mock_url, body = prepare_job(port)
        b.mock_pid = _pid_listening(port)
        status, raw, content_type = _get(b.mock_url, b.headers)
        if status != 200:
            raise RuntimeError(f"GET {b.mock_url} -> {status}")
        path = b.mock_url.split(f":{port}", 1)[1]
        details["body_bytes"] = len(raw)

        try:
            java = find_java()
            jar = wiremock_jar(install_npm_package("wiremock", WIREMOCK_VERSION, log=log))
        except NotMeasured as exc:
            skip(WIREMOCK_KEYS[False] + WIREMOCK_KEYS[True], str(exc))
        else:
            for journal in (False, True):
                if journal and not s.journal_on:
                    skip(WIREMOCK_KEYS[True], "--quick skips it (run the full benchmark)")
                    continue
                try:
                    run = _wiremock(b, java, jar, tmp, path, raw, content_type, journal)
                except NotMeasured as exc:
                    skip(WIREMOCK_KEYS[journal], str(exc))
                    continue
                prefix = "wiremock_journal" if journal else "wiremock"
                fig.update(_wiremock_figures(run, prefix))
                details[f"{prefix}_warmup_curve_rps"] = run.warmup_curve
                details[f"{prefix}_mock_rps"] = _median([r.rps for r in run.mock])
                details[f"{prefix}_mock_p99_ms"] = _median([r.p99_ms for r in run.mock])
                details[f"{prefix}_mock_per_cpu_s"] = _median([r.per_cpu_s for r in run.mock])
                details[f"{prefix}_warm_per_cpu_s"] = _median([r.per_cpu_s for r in run.warm])

        try:
            fig.update(_prism(b, tmp, path, body))
        except NotMeasured as exc:
            skip(PRISM_KEYS, str(exc))
    return fig, notes, details


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m benchmarks.baselines")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--loadgen", choices=["auto", "wrk", "aiohttp"], default="auto")
    args = ap.parse_args(argv)
    fig, notes, details = measure_baselines(
        quick=args.quick, tool=args.loadgen, log=lambda m: print(m, file=sys.stderr, flush=True)
    )
    print(json.dumps({"figures": fig, "notes": notes, "details": details}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
