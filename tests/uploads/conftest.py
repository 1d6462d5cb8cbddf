"""A mock server with uploads installed, in a background thread, driven over HTTP with requests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from mock_server import STATE_KEY, MockConfig, create_app
from mock_server.storage import StorageSettings

from ..mock_server.harness import ThreadedServer, form_parts

KEY = "pgk_test_uploads"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class UploadServer(ThreadedServer):
    """`create_app(config)` on
    127.0.0.1:0 in its own thread and loop; the clock is manual unless the config says else."""

    def __init__(self, config: MockConfig, settings: StorageSettings | None = None) -> None:
        app = create_app(config)
        if settings is not None:
            app[STATE_KEY].storage.settings = settings
        super().__init__(config, app)
        self._names = itertools.count(1)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until the server holds no open connection (a condition, not a fixed sleep)."""

        async def idle() -> None:
            assert self._runner is not None and self._runner.server is not None
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while self._runner.server.connections:
                if loop.time() > deadline:
                    raise AssertionError("the server still holds a connection")
                await asyncio.sleep(0.005)

        asyncio.run_coroutine_threadsafe(idle(), self.loop).result(timeout + 1)

    def raw_abort(
        self, method: str, path: str, headers: dict[str, str], body: bytes, length: int
    ) -> None:
        """Send a request that announces `length` bytes, send `body`, then close the socket."""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.http.close()  # drop pooled keep-alive connections, so idle means "done"
        self.http = requests.Session()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(head.encode() + body)
        self.wait_idle()

    # ------------------------------------------------------------------ HTTP

    def request(
        self, method: str, path: str, *, key: str | None = KEY, timeout: float = 30, **kw: Any
    ) -> requests.Response:
        return super().request(method, path, key=key, timeout=timeout, **kw)

    def put(
        self, url: str, data: bytes, headers: dict[str, str] | None = None
    ) -> requests.Response:
        return self.http.put(url, data=data, headers=headers or {}, timeout=30)

    def balance(self, key: str = KEY) -> int:
        r = self.request("GET", f"/_mock/accounts/{key}/credits", key=None)
        assert r.status_code == 200, r.text
        value: int = r.json()["balance"]
        return value

    def set_balance(self, balance: int, key: str = KEY) -> None:
        r = self.request(
            "PUT", f"/_mock/accounts/{key}/credits", key=None, json={"balance": balance}
        )
        assert r.status_code == 200, r.text

    # ------------------------------------------------------------------ workflows

    def project(self, key: str = KEY) -> str:
        return self.ready_project(key, f"project-{next(self._names)}")

    def job(self, key: str = KEY, scenario: str | None = None, project: str | None = None) -> str:
        pid = project or self.project(key)
        jid: str = self.new_job(pid, key=key, scenario=scenario)["job"]["id"]
        return jid

    def get_job(self, job_id: str, key: str = KEY) -> dict[str, Any]:
        r = self.api("GET", f"/jobs/{job_id}", key=key)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()["job"]
        return out

    def register(
        self, job_id: str, files: list[dict[str, Any]], key: str = KEY
    ) -> requests.Response:
        return self.api("POST", f"/jobs/{job_id}/uploads", key=key, json={"files": files})

    def register_ok(
        self, job_id: str, files: list[tuple[str, bytes, str | None]], key: str = KEY
    ) -> list[dict[str, Any]]:
        r = self.register(job_id, [spec(n, d, c) for n, d, c in files], key=key)
        assert r.status_code == 200, r.text
        uploads: list[dict[str, Any]] = r.json()["uploads"]
        return uploads

    def form_upload(
        self, job_id: str, files: list[tuple[str, bytes, str | None]], key: str = KEY
    ) -> requests.Response:
        return self.api("POST", f"/jobs/{job_id}/files", key=key, files=form_parts(files))

    def complete(
        self, job_id: str, body: dict[str, Any] | None = None, key: str = KEY
    ) -> requests.Response:
        return self.api("POST", f"/jobs/{job_id}/uploads/complete", key=key, json=body or {})

    def finish(self, job_id: str, key: str = KEY) -> dict[str, Any]:
        """Advance until the job is terminal (virtual time; a few big steps)."""
        for _ in range(50):
            job = self.get_job(job_id, key)
            if job["status"] in TERMINAL:
                return job
            self.advance(3600)
        raise AssertionError(f"{job_id} did not finish: {job['status']}")

    def result(self, job_id: str, key: str = KEY) -> requests.Response:
        return self.api("GET", f"/jobs/{job_id}/result", key=key)


PLAN_BYTES = b"%PDF-1.7 plan " + bytes(range(256)) * 3  # 782 bytes: 1 estimated page
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}


def spec(
    name: str, data: bytes, classification: str | None = "plans", **over: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fileName": name,
        "contentType": "application/pdf",
        "fileSize": len(data),
        "sha256": sha(data),
    }
    if classification:
        out["classification"] = classification
    out.update(over)
    return out


def direct_put(srv: UploadServer, instruction: dict[str, Any], data: bytes) -> requests.Response:
    assert instruction["uploadMode"] == "direct_put"
    return srv.put(instruction["uploadUrl"], data, instruction["headers"])


def put_parts(
    srv: UploadServer, instruction: dict[str, Any], data: bytes, order: list[int] | None = None
) -> list[dict[str, Any]]:
    """PUT every part (in `order` of part numbers if given); returns [{partNumber, etag}]."""
    assert instruction["uploadMode"] == "multipart"
    size = instruction["partSize"]
    parts = {p["partNumber"]: p for p in instruction["parts"]}
    out = []
    for n in order or sorted(parts):
        chunk = data[(n - 1) * size : n * size]
        r = srv.put(parts[n]["url"], chunk)
        assert r.status_code == 200, r.text
        out.append({"partNumber": n, "etag": r.headers["ETag"]})
    return sorted(out, key=lambda p: p["partNumber"])


ServerFactory = Callable[..., UploadServer]

# small multipart settings so a multipart upload needs kilobytes, not gigabytes
SMALL = StorageSettings(multipart_threshold=1000, part_size=400, upload_url_ttl=3600)


@pytest.fixture
def make_server() -> Iterator[ServerFactory]:
    started: list[UploadServer] = []

    def make(settings: StorageSettings | None = SMALL, **config: Any) -> UploadServer:
        config.setdefault("clock", "manual")
        config.setdefault("polling", "off")
        config.setdefault("port", 0)
        srv = UploadServer(MockConfig(**config), settings).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def srv(make_server: ServerFactory) -> UploadServer:
    return make_server()
