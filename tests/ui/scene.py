"""A mock server with jobs in telling states, for the dashboard's tests and screenshots.

`Scene(server, receiver)` drives a running server over HTTP only (the public API and the control
API), as an integrator's code and test would: projects, jobs in most statuses, webhooks to a
receiver (one of them signed with a wrong secret by an injected fault), a poll that came too fast.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from mock_server.testing import MockServerThread
from mock_server.webhooks import WebhookReceiver

__all__ = ["KEY", "Scene"]

API = "/api/open/v1"
KEY = "pgk_live_demo"
PLANS = b"%PDF-1.7\n" + b"0" * 250_000  # 3 estimated pages
SPECS = b"%PDF-1.7\n" + b"1" * 120_000  # 2 estimated pages


class Scene:
    def __init__(self, server: MockServerThread, receiver: WebhookReceiver | None = None) -> None:
        self.server = server
        self.receiver = receiver
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {KEY}"
        self.jobs: dict[str, str] = {}  # label -> job id
        self.projects: dict[str, str] = {}

    # ------------------------------------------------------------------ HTTP

    def call(
        self, method: str, path: str, want: int | tuple[int, ...] = (200, 201, 202), **kw: Any
    ) -> Any:
        r = self.http.request(method, self.server.url + path, timeout=10, **kw)
        wanted = (want,) if isinstance(want, int) else want
        assert r.status_code in wanted, f"{method} {path} -> {r.status_code} {r.text}"
        return r.json()

    def control(self, method: str, path: str, **kw: Any) -> Any:
        return self.call(method, "/_mock" + path, headers={"Authorization": ""}, **kw)

    def advance(self, seconds: float) -> Any:
        return self.control("POST", "/clock/advance", json={"seconds": seconds})

    def project(self, name: str) -> str:
        body = self.call("POST", f"{API}/projects", json={"name": name})
        pid: str = body["project"]["id"]
        if body["project"]["status"] != "ready":
            self.control("POST", f"/projects/{pid}/events", json={"event": "provision"})
        self.projects[name] = pid
        return pid

    def job(
        self,
        label: str,
        project: str,
        *,
        scenario: str = "happy",
        webhook: bool = False,
        upload: bool = True,
        complete: bool = True,
        files: int = 2,
    ) -> str:
        body: dict[str, Any] = {"externalId": label}
        if webhook and self.receiver is not None:
            body["webhookUrl"] = self.receiver.url
        created = self.call(
            "POST",
            f"{API}/projects/{self.projects[project]}/jobs",
            json=body,
            headers={"X-Mock-Scenario": scenario},
        )
        job_id: str = created["job"]["id"]
        if webhook and self.receiver is not None:
            self.receiver.register(job_id, created["webhookSigningSecret"])
        self.jobs[label] = job_id
        if upload:
            self.upload(job_id, files)
        if upload and complete:
            self.call("POST", f"{API}/jobs/{job_id}/uploads/complete", json={})
        return job_id

    def upload(self, job_id: str, files: int = 2) -> None:
        chosen = [
            ("A-101 plans.pdf", PLANS, "plans"),
            ("specs.pdf", SPECS, "specifications"),
        ][:files]
        meta = {
            "files": [
                {"partName": f"file{i}", "fileName": name, "classification": cls}
                for i, (name, _, cls) in enumerate(chosen)
            ]
        }
        parts: list[tuple[str, Any]] = [("metadata", (None, json.dumps(meta)))]
        parts += [
            (f"file{i}", (name, data, "application/pdf"))
            for i, (name, data, _) in enumerate(chosen)
        ]
        self.call("POST", f"{API}/jobs/{job_id}/files", files=parts)

    def poll(self, job_id: str, want: int | tuple[int, ...] = (200, 429)) -> Any:
        return self.call("GET", f"{API}/jobs/{job_id}", want=want)

    # ------------------------------------------------------------------ the whole scene

    def build(self) -> Scene:
        """Two projects and jobs in eight statuses; about a dozen requests per job."""
        self.project("Riverside tower")
        self.project("Depot annex")
        self.job("tower-plans", "Riverside tower", webhook=True)
        self.job("tower-slow", "Riverside tower", scenario="slow", webhook=True)
        self.job("annex-expensive", "Depot annex", scenario="expensive", files=1)
        self.job("annex-errors", "Depot annex", scenario="with_errors", webhook=True)
        self.job("annex-fails", "Depot annex", scenario="processing_fails")
        self.job("tower-cancel", "Riverside tower", complete=False)
        self.job("tower-waiting", "Riverside tower", upload=False)
        plans = self.jobs["tower-plans"]
        # the plans job's next event is signed with a wrong secret: the receiver rejects it
        self.control(
            "POST", "/faults", json={"target": "webhooks", "mode": "wrong_secret", "jobId": plans}
        )
        self.control(
            "POST",
            "/faults",
            json={"target": "webhooks", "mode": "drop", "count": 3,
                  "jobId": self.jobs["annex-errors"]},
        )  # fmt: skip
        self.call("POST", f"{API}/jobs/{self.jobs['tower-cancel']}/cancel")
        self.poll(plans)
        self.advance(4)
        self.poll(plans)  # 4 s after the last answered poll: too fast
        self.advance(60)
        self.poll(plans)
        self.poll(self.jobs["tower-slow"])
        return self

    def redeliver_rejected(self, job_id: str) -> None:
        """Send again the job's deliveries its receiver rejected (a fault's second chance)."""
        for d in self.control("GET", f"/webhooks/deliveries?jobId={job_id}")["deliveries"]:
            if d["state"] == "failed":
                self.control("POST", f"/webhooks/deliveries/{d['id']}/redeliver")
