"""Helpers for the robustness tests: a requests-based client for a `MockServerThread`, the job's
valid paths through the machine, and small hostile HTTP endpoints."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import requests
from aiohttp import web

from mock_server.testing import MockServerThread

__all__ = [
    "API",
    "EDGES",
    "PDF",
    "TERMINAL",
    "Api",
    "Receiver",
    "ServeProcess",
    "assert_valid_history",
    "form_upload",
]

API = "/api/open/v1"
PDF = b"%PDF-1.4\n% robustness test file\n%%EOF\n"

TERMINAL = frozenset({"completed", "completed_with_errors", "failed", "cancelled", "expired"})
_NON_TERMINAL = (
    "provisioning",
    "awaiting_uploads",
    "uploading",
    "preflighting",
    "blocked_insufficient_credits",
    "processing",
)
# API.md part B's event table, written out here independently of statemachine's copy:
# (src, event) -> dst
EDGES: dict[tuple[str, str], str] = {
    ("provisioning", "provision"): "awaiting_uploads",
    ("awaiting_uploads", "start_upload"): "uploading",
    ("uploading", "complete_uploads"): "preflighting",
    ("preflighting", "pass_preflight"): "processing",
    ("preflighting", "block"): "blocked_insufficient_credits",
    ("processing", "block"): "blocked_insufficient_credits",
    ("blocked_insufficient_credits", "resume"): "preflighting",
    ("processing", "complete"): "completed",
    ("processing", "complete_with_errors"): "completed_with_errors",
    ("preflighting", "fail"): "failed",
    ("processing", "fail"): "failed",
    **{(s, "cancel"): "cancelled" for s in _NON_TERMINAL},
    **{(s, "expire"): "expired" for s in _NON_TERMINAL},
}


class Served(Protocol):
    @property
    def url(self) -> str: ...


class Api:
    """Requests against one server; a session per thread (requests.Session is not thread-safe)."""

    def __init__(self, server: Served, key: str | None = "pgk_robust_a") -> None:
        self.server = server
        self.key = key
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        s: requests.Session | None = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def with_key(self, key: str | None) -> Api:
        return Api(self.server, key)

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | bool | None = True,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30,
        **kw: Any,
    ) -> requests.Response:
        hdrs = dict(headers or {})
        token = self.key if key is True else (None if key is False else key)
        if token is not None and "Authorization" not in hdrs:
            hdrs["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("http") else self.server.url + path
        return self.http.request(method, url, headers=hdrs, timeout=timeout, **kw)

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.request(method, API + path, **kw)

    def control(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("key", False)
        return self.request(method, "/_mock" + path, **kw)

    # ------------------------------------------------------------------ workflows

    def ok(self, r: requests.Response, *statuses: int) -> dict[str, Any]:
        assert r.status_code in (statuses or (200,)), f"{r.request.method} {r.url}: {r.text}"
        body: dict[str, Any] = r.json()
        return body

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.ok(self.control("POST", "/clock/advance", json={"seconds": seconds}))

    def ready_project(self, name: str = "robust") -> str:
        body = self.ok(self.api("POST", "/projects", json={"name": name}), 202)
        pid: str = body["project"]["id"]
        if body["project"]["status"] != "ready":
            self.ok(self.control("POST", f"/projects/{pid}/events", json={"event": "provision"}))
        return pid

    def create_job(self, project_id: str, **body: Any) -> dict[str, Any]:
        headers = body.pop("headers", None)
        return self.ok(
            self.api("POST", f"/projects/{project_id}/jobs", json=body, headers=headers), 202
        )

    def upload(self, job_id: str, name: str = "plans.pdf", data: bytes = PDF) -> dict[str, Any]:
        files, meta = form_upload([(name, data)])
        return self.ok(self.api("POST", f"/jobs/{job_id}/files", files=files, data=meta))

    def complete(self, job_id: str) -> dict[str, Any]:
        return self.ok(self.api("POST", f"/jobs/{job_id}/uploads/complete", json={}), 202)

    def mock_job(self, job_id: str) -> dict[str, Any]:
        return self.ok(self.control("GET", f"/jobs/{job_id}"))


def form_upload(
    files: Iterable[tuple[str, bytes]], *, metadata: Any = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """(files=, data=) for requests: parts file0..N and a metadata part naming them."""
    parts: dict[str, Any] = {}
    entries = []
    for i, (name, data) in enumerate(files):
        parts[f"file{i}"] = (name, data, "application/pdf")
        entries.append(
            {"partName": f"file{i}", "fileName": name, "contentType": "application/pdf"}
        )
    meta = metadata if metadata is not None else json.dumps({"files": entries})
    return parts, ({"metadata": meta} if meta is not False else {})


def assert_valid_history(job_id: str, history: list[Mapping[str, Any]]) -> None:
    """Every step follows the machine's table from the previous step's status, the sequence is
    1, 2, 3, ..., and at most one step reaches a terminal status (and it is the last)."""
    status = "provisioning"
    terminal_steps = 0
    for i, step in enumerate(history):
        assert step["from"] == status, f"{job_id} step {i}: from {step['from']}, was {status}"
        dst = EDGES.get((step["from"], step["event"]))
        assert dst == step["to"], f"{job_id} step {i}: {step} is not an edge of the machine"
        if step.get("sequence") is not None:
            assert step["sequence"] == i + 1, f"{job_id} step {i}: sequence {step['sequence']}"
        status = step["to"]
        if status in TERMINAL:
            terminal_steps += 1
            assert i == len(history) - 1, f"{job_id}: a step after terminal {status}: {history}"
    assert terminal_steps <= 1


class ServeProcess:
    """`plangrep-mock serve --port 0 ...` in a subprocess; stderr goes to a file (a pipe nobody
    reads would fill up and block the server)."""

    def __init__(self, *args: str, stderr_path: str) -> None:
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "w+b")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("PLANGREP_MOCK_")},
        )
        self.banner: list[str] = []
        base = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.banner.append(line.rstrip("\n"))
            if "Plangrep API at " in line:
                base = line.split("Plangrep API at ", 1)[1].strip()
            if "Ctrl-C" in line:
                break
        if not base:
            self.close()
            raise RuntimeError(f"serve did not start: {self.banner!r} {self.stderr()}")
        self.url = base.removesuffix(API)

    def stderr(self) -> str:
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST (`webhook-id`, job id, sequence,
    statuses) and lets a test wait, on a condition, until `n` have arrived. With `hold`, each
    answer waits until `release()` (deliveries stay in flight)."""

    def __init__(self, *, hold: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.hold = hold
        self._release: asyncio.Event | None = None
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self.server = MockServerThread(app=app)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        data = body.get("data", {})
        event = {
            "webhookId": request.headers.get("webhook-id"),
            "jobId": data.get("job", {}).get("id"),
            "status": data.get("job", {}).get("status"),
            "previousStatus": data.get("previousStatus"),
            "sequence": data.get("sequence"),
        }
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()
        if self.hold:
            if self._release is None:
                self._release = asyncio.Event()
            await self._release.wait()
        return web.Response(status=204)

    def release(self) -> None:
        def go() -> None:
            if self._release is None:
                self._release = asyncio.Event()
            self._release.set()

        self.server.call(go)

    @property
    def url(self) -> str:
        return self.server.url + "/hook"

    def wait_for(self, n: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.events) >= n, timeout)

    def __enter__(self) -> Receiver:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
