"""A mock server in a background thread, driven over real HTTP with `requests`."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Self, TypeVar

import requests
from aiohttp import web

from mock_server import STATE_KEY, MockConfig, MockState, create_app

__all__ = ["API", "ServeProcess", "Server", "ThreadedServer", "form_parts"]

API = "/api/open/v1"
T = TypeVar("T")


def form_parts(files: list[tuple[str, bytes, str | None]]) -> list[tuple[str, Any]]:
    """A form upload's parts for `requests` (`files=`): the `metadata` part (a JSON string) and
    parts `file0`, `file1`, ...; files as (fileName, bytes, classification)."""
    meta = {
        "files": [
            {"partName": f"file{i}", "fileName": name, "contentType": "application/pdf"}
            | ({"classification": cls} if cls else {})
            for i, (name, _, cls) in enumerate(files)
        ]
    }
    parts: list[tuple[str, Any]] = [("metadata", (None, json.dumps(meta)))]
    parts += [
        (f"file{i}", (name, data, "application/pdf")) for i, (name, data, _) in enumerate(files)
    ]
    return parts


class ThreadedServer:
    """Runs `app` (default `create_app(config)`) on 127.0.0.1:0 in its own thread and event loop,
    with the HTTP helpers every server test needs."""

    def __init__(self, config: MockConfig, app: web.Application | None = None) -> None:
        self.config = config
        self.app = app if app is not None else create_app(config)
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self.http = requests.Session()

    @property
    def state(self) -> MockState:
        return self.app[STATE_KEY]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return self.url + API

    def start(self) -> Self:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()
        self.http.close()

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (the engine is only touched from that thread)."""
        fut: Future[T] = Future()

        def go() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(go)
        return fut.result(10)

    # ------------------------------------------------------------------ HTTP helpers

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "pgk_test_a",
        timeout: float = 10,
        **kw: Any,
    ) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if key is not None:
            headers.setdefault("Authorization", f"Bearer {key}")
        url = path if path.startswith("http") else self.url + path
        return self.http.request(method, url, headers=headers, timeout=timeout, **kw)

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.request(method, API + path, **kw)

    def control(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("key", None)
        return self.request(method, "/_mock" + path, **kw)

    def advance(self, seconds: float) -> dict[str, Any]:
        r = self.control("POST", "/clock/advance", json={"seconds": seconds})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    # ------------------------------------------------------------------ workflows

    def ready_project(self, key: str = "pgk_test_a", name: str = "p") -> str:
        r = self.api("POST", "/projects", key=key, json={"name": name})
        assert r.status_code == 202, r.text
        pid: str = r.json()["project"]["id"]
        if r.json()["project"]["status"] != "ready":
            self.advance(10)
        return pid

    def new_job(
        self,
        project_id: str,
        *,
        key: str = "pgk_test_a",
        scenario: str | None = None,
        **body: Any,
    ) -> dict[str, Any]:
        headers = {"X-Mock-Scenario": scenario} if scenario else {}
        r = self.api("POST", f"/projects/{project_id}/jobs", key=key, json=body, headers=headers)
        assert r.status_code == 202, r.text
        out: dict[str, Any] = r.json()
        return out


class Server(ThreadedServer):
    """`create_app(config)` in a background thread, with the job workflows the server tests use."""

    def upload(
        self,
        job_id: str,
        *,
        key: str = "pgk_test_a",
        files: list[tuple[str, bytes, str | None]] | None = None,
    ) -> requests.Response:
        """Form upload; files as (fileName, bytes, classification)."""
        files = files or [("a.pdf", b"%PDF-1.4 " + b"x" * 1000, "plans")]
        return self.api("POST", f"/jobs/{job_id}/files", key=key, files=form_parts(files))

    def complete(self, job_id: str, *, key: str = "pgk_test_a", **kw: Any) -> requests.Response:
        kw.setdefault("json", {})
        return self.api("POST", f"/jobs/{job_id}/uploads/complete", key=key, **kw)

    def started_job(
        self, project_id: str, *, key: str = "pgk_test_a", scenario: str | None = None
    ) -> str:
        """A job created, with one file uploaded and uploads completed (now preflighting)."""
        job_id: str = self.new_job(project_id, key=key, scenario=scenario)["job"]["id"]
        assert self.upload(job_id, key=key).status_code == 200
        assert self.complete(job_id, key=key).status_code == 202
        return job_id

    def job(self, job_id: str) -> dict[str, Any]:
        """The job through the control API (no polling rule)."""
        r = self.control("GET", f"/jobs/{job_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


class ServeProcess:
    """`plangrep-mock serve --port 0 ...` as a subprocess; parses the printed base URL."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        import os
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.banner: list[str] = []
        self.base = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.banner.append(line.rstrip("\n"))
            if "Plangrep API at " in line:
                self.base = line.split("Plangrep API at ", 1)[1].strip()
            if "Ctrl-C" in line:
                break
        if not self.base:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.kill()
            raise RuntimeError(f"serve did not start: {self.banner!r} {err}")
        self.url = self.base.removesuffix(API)

    def stop(self, sig: int | None = None) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(sig if sig is not None else signal.SIGTERM)
        rc = self.proc.wait(10)
        return rc

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
