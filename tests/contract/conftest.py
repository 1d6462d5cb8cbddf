"""Shared fixtures of the contract-kit tests: a scripted fake Plangrep for the reference client."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from mock_server.testing import MockServerThread


@dataclass
class Seen:
    at: float  # the fake's virtual time when the request arrived
    method: str
    path: str


@dataclass
class ScriptedPlangrep:
    """Answers requests in order from `script`; time moves only through `sleep`.

    A script entry is a job status (answered 200 `{"job": ...}`), or `(status, body, headers)`.
    When the script runs out, the last entry repeats.
    """

    url: str = ""
    now: float = 0.0
    script: list[Any] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.url + "/api/open/v1"

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.now += seconds

    def gaps(self, method: str = "GET") -> list[float]:
        times = [s.at for s in self.seen if s.method == method]
        return [b - a for a, b in itertools.pairwise(times)]

    def methods(self) -> list[str]:
        return [f"{s.method} {s.path.removeprefix('/api/open/v1')}" for s in self.seen]

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(self.now, request.method, request.path))
        entry = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(entry, str):
            entry = (200, {"job": job(entry)}, {})
        status, body, headers = entry
        return web.Response(
            status=status,
            text=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )


def job(status: str, job_id: str = "job_" + "a" * 26) -> dict[str, Any]:
    return {"id": job_id, "status": status, "error": None}


def error(status: int, code: str, **headers: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return (status, {"error": {"code": code, "message": f"scripted {code}"}}, headers)


def pytest_configure(config: pytest.Config) -> None:
    # the plugin tests use `pytester`; pytest_plugins is only honoured in the root conftest
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def scripted() -> Iterator[ScriptedPlangrep]:
    fake = ScriptedPlangrep()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    with MockServerThread(app=app) as server:
        fake.url = server.url
        yield fake
