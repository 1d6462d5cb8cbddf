"""A whole job through the public API, and the shapes of the documented objects."""

from __future__ import annotations

import re

from mock_server.public.models import JobCreateResponse, JobResponse, ProjectCreateResponse

from .harness import Server

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_project_create_is_202_with_billing_then_ready(server: Server) -> None:
    r = server.api("POST", "/projects", json={"name": "tower"})
    assert r.status_code == 202
    body = ProjectCreateResponse.model_validate(r.json())
    assert body.project.status == "provisioning"
    assert body.project.runtime.status == "starting"
    assert body.billing.model_dump() == {
        "availableCredits": 10000,
        "creditsCharged": 50,
        "requiredCredits": 50,
    }
    assert re.fullmatch(r"proj_[a-z0-9]{26}", body.project.id)
    assert ISO_MS.match(body.project.createdAt)
    server.advance(5)
    got = server.api("GET", f"/projects/{body.project.id}").json()["project"]
    assert got["status"] == "ready"
    assert got["runtime"] == {"status": "running", "upgradeStatus": "none"}
    listed = server.api("GET", "/projects").json()["projects"]
    assert [p["id"] for p in listed] == [body.project.id]
    credits = server.control("GET", "/accounts/pgk_test_a/credits").json()
    assert credits["balance"] == 9950


def test_whole_job_to_completed(server: Server) -> None:
    pid = server.ready_project()
    created = server.new_job(pid, externalId="order-1")
    body = JobCreateResponse.model_validate(created)
    assert body.job.status == "awaiting_uploads"
    assert body.job.externalId == "order-1"
    assert body.webhookSigningSecret and body.webhookSigningSecret.startswith("wss_")
    assert re.fullmatch(r"job_[a-z0-9]{26}", body.job.id)
    assert body.job.limits.model_dump() == {"maxDeclaredBytes": 10_000_000_000, "maxFiles": 100}
    job_id = body.job.id

    up = server.upload(job_id)
    assert up.status_code == 200, up.text
    assert up.json()["status"] == "uploaded"
    doc = up.json()["uploads"][0]["documentId"]
    assert re.fullmatch(r"doc_[a-z0-9]{26}", doc)
    assert up.json()["job"]["status"] == "uploading"

    done = server.complete(job_id)
    assert done.status_code == 202
    assert done.json()["job"]["status"] == "preflighting"

    server.advance(3)
    job = JobResponse.model_validate(server.api("GET", f"/jobs/{job_id}").json()).job
    assert job.status == "processing"
    server.advance(60)
    job = JobResponse.model_validate(server.api("GET", f"/jobs/{job_id}").json()).job
    assert job.status == "completed"
    assert job.pageCount == 1 and job.successfulPageCount == 1
    assert job.billing.model_dump() == {"creditsReserved": 0, "creditsDebited": 10}
    assert job.completedAt is not None and ISO_MS.match(job.completedAt)
    assert [f.status for f in job.files] == ["completed"]
    assert server.control("GET", "/accounts/pgk_test_a/credits").json()["balance"] == 9940


def test_jobs_listed_newest_first(server: Server) -> None:
    pid = server.ready_project()
    ids = [server.new_job(pid)["job"]["id"] for _ in range(3)]
    server.advance(1)
    listed = server.api("GET", f"/projects/{pid}/jobs").json()["jobs"]
    assert [j["id"] for j in listed] == list(reversed(ids))


def test_polls_show_every_change_even_at_the_same_virtual_time(server: Server) -> None:
    """GET /jobs/{id} reuses the serialized job while nothing changed; any change shows at once."""
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    seen = [server.api("GET", f"/jobs/{job_id}").json()["job"]]
    server.upload(job_id)  # same virtual time: a new file, a new status
    seen.append(server.api("GET", f"/jobs/{job_id}").json()["job"])
    server.upload(job_id, files=[("b.pdf", b"y" * 300_000, None)])
    seen.append(server.api("GET", f"/jobs/{job_id}").json()["job"])
    server.complete(job_id)
    seen.append(server.api("GET", f"/jobs/{job_id}").json()["job"])
    server.advance(3)
    seen.append(server.api("GET", f"/jobs/{job_id}").json()["job"])
    server.advance(1)  # one page processed: only the progress changes
    seen.append(server.api("GET", f"/jobs/{job_id}").json()["job"])
    assert [j["status"] for j in seen] == [
        "awaiting_uploads", "uploading", "uploading", "preflighting", "processing", "processing",
    ]  # fmt: skip
    assert [len(j["files"]) for j in seen] == [0, 1, 2, 2, 2, 2]
    assert seen[4]["successfulPageCount"] == 0 and seen[5]["successfulPageCount"] == 1
    assert seen[5] == server.job(job_id)["job"]
