"""Artifacts (API.md part A, "Artifacts"): the job and project artifact routes (scope
artifacts:read, only handed-out paths, no cross-project access, real bytes) and single-use
download tokens (`POST /_mock/artifact-downloads`, `GET|HEAD /artifact-downloads/{token}`)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image

from mock_server.config import parse_key_spec

from .harness import Server

FILES = [
    ("plans.pdf", b"p" * 600_000, "plans"),
    ("specs.pdf", b"s" * 300_000, "specifications"),
    ("rfis.pdf", b"d" * 300_000, "documents"),
]


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    """A fixed clock origin as well as a seed: the same content on every run."""
    return make_server(polling="off", clock_origin=1_767_225_600.0)


def _finished(server: Server, pid: str, key: str = "pgk_test_a") -> str:
    job_id: str = server.new_job(pid, key=key)["job"]["id"]
    assert server.upload(job_id, key=key, files=FILES).status_code == 200
    assert server.complete(job_id, key=key).status_code == 202
    server.advance(3600)
    return job_id


@pytest.fixture
def done(server: Server) -> tuple[str, str, dict[str, Any]]:
    pid = server.ready_project()
    job_id = _finished(server, pid)
    result = server.api("GET", f"/jobs/{job_id}/result").json()
    return pid, job_id, result


def _path(url: str) -> str:
    return parse_qs(urlsplit(url).query)["path"][0]


def _urls(entity: dict[str, Any]) -> dict[str, str]:
    return {a["type"]: a["url"] for a in entity["artifacts"]}


def _err(r: requests.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def _bytes(server: Server, url: str, **kw: Any) -> requests.Response:
    r = server.request("GET", url, **kw)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="')
    return r


def test_a_sheet_thumbnail_from_the_result_is_a_png_showing_the_sheet(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    _, job_id, result = done
    sheet = result["documents"][0]["sheets"][0]
    url = _urls(sheet)["thumbnail"]
    assert f"/api/open/v1/jobs/{job_id}/artifact?path=" in url
    r = _bytes(server, url)
    assert r.headers["X-Artifact-Type"] == "image/png"
    assert r.headers["Content-Disposition"].endswith('.png"')
    image = Image.open(io.BytesIO(r.content))
    image.verify()  # a real decoder accepts it
    image = Image.open(io.BytesIO(r.content))
    assert image.format == "PNG" and image.size == (240, 160)
    # dark pixels where the large sheet number is drawn (see tests/content for the glyphs)
    assert image.getextrema() == (0, 255)


def test_extracted_json_and_vector_crop_are_what_they_say(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    pid, _, result = done
    sheet = result["documents"][0]["sheets"][1]
    body = json.loads(_bytes(server, _urls(sheet)["extracted_json"]).content)
    assert body["sheetId"] == sheet["sheetId"] and body["regions"]
    svg = _bytes(server, _urls(sheet)["vector_crop"])
    assert svg.headers["X-Artifact-Type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # a region's crop comes from the project's entities (the result lists no regions)
    region = server.api("GET", f"/projects/{pid}/regions?limit=1").json()["regions"][0]
    crop = _bytes(server, _urls(region)["vector_crop"])
    assert f"/projects/{pid}/artifact?path=" in _urls(region)["vector_crop"]
    assert ET.fromstring(crop.content).get("viewBox")
    doc = result["documents"][2]["docs"][0]
    body = json.loads(_bytes(server, _urls(doc)["extracted_json"]).content)
    assert body["docId"] == doc["docId"] and body["text"]


def test_every_handed_out_url_answers(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    pid, _, result = done
    urls = [a["url"] for d in result["documents"] for a in d["artifacts"]]
    for d in result["documents"]:
        for e in d["sheets"] + (d["specifications"] or []) + (d["docs"] or []):
            urls += [a["url"] for a in e["artifacts"]]
    for name in ("files", "sheets", "regions", "specifications", "docs"):
        for e in server.api("GET", f"/projects/{pid}/{name}?limit=500").json()[name]:
            urls += [a["url"] for a in e["artifacts"]]
    assert len(urls) > 50
    for url in urls:
        r = server.request("GET", url)
        assert r.status_code == 200 and r.content, url
    # HEAD shows the headers without the bytes, as the docs' curl -I does
    h = server.request("HEAD", urls[0])
    assert h.status_code == 200 and h.content == b""
    assert int(h.headers["Content-Length"]) > 0


def test_only_handed_out_paths_and_no_cross_project_access(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    pid, job_id, result = done
    other_pid = server.ready_project(name="other")
    other_job = _finished(server, other_pid)
    theirs = server.api("GET", f"/projects/{other_pid}/sheets").json()["sheets"][0]
    their_path = _path(_urls(theirs)["thumbnail"])
    base = "/api/open/v1"
    for url in (
        f"{base}/projects/{pid}/artifact?path={their_path}",
        f"{base}/jobs/{job_id}/artifact?path={their_path}",
        f"{base}/projects/{pid}/artifact?path=sheets/sheet_x/thumbnail.png",
        f"{base}/projects/{pid}/artifact?path=../../etc/passwd",
    ):
        r = server.request("GET", url)
        assert _err(r) == (404, "artifact_not_found"), url
        assert "handed out" in r.json()["error"]["message"]
    assert server.request("GET", f"{base}/jobs/{other_job}/artifact?path={their_path}").ok
    # a region's path is the project's, not in the job's result
    region = server.api("GET", f"/projects/{pid}/regions?limit=1").json()["regions"][0]
    crop = _path(_urls(region)["vector_crop"])
    r = server.request("GET", f"{base}/jobs/{job_id}/artifact?path={crop}")
    assert _err(r) == (404, "artifact_not_found")
    r = server.request("GET", f"{base}/jobs/{job_id}/artifact")
    assert _err(r) == (422, "validation_error")
    assert r.json()["error"]["details"][0]["field"] == "path"
    assert result["job"]["id"] == job_id


def test_artifacts_of_a_job_without_result_are_409(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    r = server.api("GET", f"/jobs/{job_id}/artifact?path=files/x/thumbnail.png")
    assert _err(r) == (409, "result_not_available")


def test_artifacts_need_artifacts_read_and_the_callers_organisation(
    make_server: Callable[..., Server],
) -> None:
    keys = ("pgk_all@acme", "pgk_reader:jobs:read@acme", "pgk_art:artifacts:read@acme", "pgk_x")
    server = make_server(polling="off", api_keys=tuple(parse_key_spec(k) for k in keys))
    pid = server.ready_project(key="pgk_all")
    job_id = _finished(server, pid, key="pgk_all")
    result = server.api("GET", f"/jobs/{job_id}/result", key="pgk_all").json()
    url = _urls(result["documents"][0]["sheets"][0])["thumbnail"]
    project_url = url.replace(f"/jobs/{job_id}/", f"/projects/{pid}/")
    for u in (url, project_url):
        assert _bytes(server, u, key="pgk_art").content
        r = server.request("GET", u, key="pgk_reader")
        assert _err(r) == (403, "insufficient_scope")
        assert r.json()["error"]["requiredScope"] == "artifacts:read"
        assert server.request("GET", u, key=None).status_code == 401
    assert _err(server.request("GET", url, key="pgk_x")) == (404, "job_not_found")
    assert _err(server.request("GET", project_url, key="pgk_x")) == (404, "project_not_found")


def test_artifacts_of_an_expired_job_are_404_job_expired(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    pid, job_id, result = done
    url = _urls(result["documents"][0]["sheets"][0])["thumbnail"]
    token = server.control(
        "POST", "/artifact-downloads", json={"jobId": job_id, "path": _path(url)}
    ).json()
    server.advance(7 * 24 * 3600)
    assert _err(server.request("GET", url)) == (404, "job_expired")
    r = server.control("POST", "/artifact-downloads", json={"jobId": job_id, "path": _path(url)})
    assert _err(r) == (404, "job_expired")
    assert server.http.get(token["url"]).status_code == 410  # the token expired first
    # the project keeps what the job extracted
    assert server.request("GET", url.replace(f"/jobs/{job_id}/", f"/projects/{pid}/")).ok


# --------------------------------------------------------------------------- download tokens


def _token(server: Server, **body: str) -> dict[str, Any]:
    r = server.control("POST", "/artifact-downloads", json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_a_token_downloads_once_and_head_does_not_spend_it(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    _, job_id, result = done
    url = _urls(result["documents"][0]["sheets"][0])["thumbnail"]
    direct = _bytes(server, url).content
    issued = _token(server, jobId=job_id, path=_path(url))
    assert set(issued) == {"token", "url", "expiresAt"}
    assert issued["url"].endswith("/api/open/v1/artifact-downloads/" + issued["token"])
    for _ in range(2):
        h = server.http.head(issued["url"])
        assert h.status_code == 200 and h.content == b""
        assert h.headers["Content-Type"] == "image/png"  # the docs' HEAD: the artifact's type
        assert h.headers["Content-Length"] == str(len(direct))
        assert h.headers["Content-Disposition"].startswith("attachment; filename=")
    got = server.http.get(issued["url"])  # no key
    assert got.status_code == 200 and got.content == direct
    assert got.headers["Content-Type"] == "application/octet-stream"
    again = server.http.get(issued["url"])
    assert _err(again) == (410, "download_token_used")
    assert server.http.head(issued["url"]).status_code == 410


def test_a_token_expires_after_five_virtual_minutes(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    pid, _, _ = done
    region = server.api("GET", f"/projects/{pid}/regions?limit=1").json()["regions"][0]
    issued = _token(server, projectId=pid, path=_path(_urls(region)["vector_crop"]))
    server.advance(300)
    assert server.http.head(issued["url"]).status_code == 200
    server.advance(0.5)
    r = server.http.get(issued["url"])
    assert _err(r) == (410, "download_token_expired")
    assert server.http.head(issued["url"]).status_code == 410


def test_unknown_tokens_and_bad_requests_for_one(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    pid, job_id, result = done
    r = server.http.get(server.url + "/api/open/v1/artifact-downloads/adt_nope")
    assert _err(r) == (404, "download_token_not_found")
    assert (
        server.http.head(server.url + "/api/open/v1/artifact-downloads/adt_nope").status_code
        == 404
    )
    path = _path(_urls(result["documents"][0]["sheets"][0])["thumbnail"])
    for body, status, code in (
        ({"path": path}, 422, "validation_error"),
        ({"jobId": job_id, "projectId": pid, "path": path}, 422, "validation_error"),
        ({"jobId": job_id, "path": ""}, 422, "validation_error"),
        ({"jobId": "job_nope", "path": path}, 404, "job_not_found"),
        ({"projectId": "proj_nope", "path": path}, 404, "project_not_found"),
        ({"jobId": job_id, "path": "sheets/x/thumbnail.png"}, 404, "artifact_not_found"),
    ):
        r = server.control("POST", "/artifact-downloads", json=body)
        assert _err(r) == (status, code), body


def test_tokens_are_forgotten_at_reset(
    server: Server, done: tuple[str, str, dict[str, Any]]
) -> None:
    _, job_id, result = done
    path = _path(_urls(result["documents"][0]["sheets"][0])["thumbnail"])
    issued = _token(server, jobId=job_id, path=path)
    assert server.control("POST", "/reset").status_code == 200
    assert _err(server.http.get(issued["url"])) == (404, "download_token_not_found")
