"""GET /projects/{projectId}/summary: what the project's finished jobs extracted."""

from __future__ import annotations

from .harness import Server


def test_a_new_project_summarises_nothing(server: Server) -> None:
    pid = server.ready_project(name="Harbor Tower")
    r = server.api("GET", f"/projects/{pid}/summary")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["project"]["id"] == pid
    s = body["projectSummary"]
    assert (s["projectId"], s["projectName"]) == (pid, "Harbor Tower")
    assert s["keyFiles"] == [] and s["detectedDisciplines"] == []
    assert s["sheetCount"] == s["fileCount"] == 0
    assert s["aliases"] == ["HT"]


def test_the_summary_follows_the_finished_jobs(server: Server) -> None:
    pid = server.ready_project(name="Harbor Tower")
    job_id = server.started_job(pid)
    running = server.api("GET", f"/projects/{pid}/summary").json()["projectSummary"]
    assert running["sheetCount"] == 0  # nothing until the job finishes
    server.advance(600)
    assert server.job(job_id)["job"]["status"] == "completed"
    s = server.api("GET", f"/projects/{pid}/summary").json()["projectSummary"]
    result = server.api("GET", f"/jobs/{job_id}/result").json()
    sheets = [sh for d in result["documents"] for sh in d["sheets"]]
    assert s["sheetCount"] == len(sheets) == result["usage"]["successfulDrawingPageCount"] > 0
    assert s["fileCount"] == 1
    assert [f["fileName"] for f in s["keyFiles"]] == ["a.pdf"]
    assert s["detectedDisciplines"]


def test_another_organisations_project_is_404(server: Server) -> None:
    pid = server.ready_project(name="mine")
    r = server.api("GET", f"/projects/{pid}/summary", key="pgk_other_org")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "project_not_found")
