"""Project reads (API.md part A, "Entity lists"): the seven lists and six single reads under
`/projects/{projectId}`, their envelope, every documented filter, cursors, compact, 404s,
tenancy and scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from mock_server import MockConfig
from mock_server.config import parse_key_spec
from mock_server.public.models import (
    DocEntityResponse,
    DocsListResponse,
    FileEntityResponse,
    FilesListResponse,
    RegionEntityResponse,
    RegionsListResponse,
    SectionEntityResponse,
    SectionsListResponse,
    SheetEntityResponse,
    SheetsListResponse,
    SpecificationEntityResponse,
    SpecificationsListResponse,
)

from .harness import Server

# 100 kB a page: plans 9 drawing pages, specifications 8, documents 5, mixed 2 + 2
FILES = [
    ("Tower-A Plans.pdf", b"p" * 900_000, "plans"),
    ("specs.pdf", b"s" * 800_000, "specifications"),
    ("rfis.pdf", b"d" * 500_000, "documents"),
    ("mixed.pdf", b"m" * 400_000, "mixed"),
]
LISTS = {
    "files": FilesListResponse,
    "sheets": SheetsListResponse,
    "regions": RegionsListResponse,
    "specifications": SpecificationsListResponse,
    "docs": DocsListResponse,
}
ENVELOPE = {"total", "limit", "cursor", "nextCursor", "returnedCount", "hasMore", "pageInfo"}
ID = {
    "files": "fileId",
    "sheets": "sheetId",
    "regions": "regionId",
    "specifications": "specificationId",
    "sections": "sectionId",
    "docs": "docId",
}


ORIGIN = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    """The module's server: a fixed clock origin as well as a seed, so the generated content
    (which follows the ids, which follow the virtual time) is the same on every run."""
    return make_server(polling="off", clock_origin=ORIGIN)


def _finished_job(
    server: Server, pid: str, files: list[Any] | None = None, scenario: str | None = None
) -> str:
    job_id: str = server.new_job(pid, scenario=scenario)["job"]["id"]
    assert server.upload(job_id, files=files or FILES).status_code == 200
    assert server.complete(job_id).status_code == 202
    server.advance(3600)
    assert server.job(job_id)["job"]["status"] in ("completed", "completed_with_errors")
    return job_id


@pytest.fixture
def project(server: Server) -> tuple[str, str]:
    pid = server.ready_project()
    return pid, _finished_job(server, pid)


def _get(server: Server, path: str, **kw: Any) -> dict[str, Any]:
    r = server.api("GET", path, **kw)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _all(server: Server, pid: str, name: str, query: str = "") -> list[dict[str, Any]]:
    body = _get(server, f"/projects/{pid}/{name}?limit=500{query}")
    assert not body["hasMore"]
    items: list[dict[str, Any]] = body[name.rsplit("/", 1)[-1]]
    return items


def _err(r: requests.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


# --------------------------------------------------------------------------- lists


def test_entities_appear_when_the_job_completes(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    server.upload(job_id, files=FILES)
    server.complete(job_id)
    for name in LISTS:
        assert _get(server, f"/projects/{pid}/{name}")["total"] == 0
    server.advance(3600)
    assert server.job(job_id)["job"]["status"] == "completed"
    for name in LISTS:
        assert _get(server, f"/projects/{pid}/{name}")["total"] > 0, name


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_list_answers_the_documented_envelope(
    server: Server, project: tuple[str, str], name: str
) -> None:
    pid, _ = project
    body = _get(server, f"/projects/{pid}/{name}?limit=2")
    LISTS[name].model_validate(body)
    assert set(body) == ENVELOPE | {name}
    assert body["limit"] == 2 and body["cursor"] is None
    assert body["returnedCount"] == len(body[name]) == min(2, body["total"])
    assert body["hasMore"] == (body["total"] > 2) == (body["nextCursor"] is not None)
    info = body["pageInfo"]
    assert info["hasPreviousPage"] is False and info["hasNextPage"] == body["hasMore"]
    assert info["endCursor"] is not None
    if body["hasMore"]:
        assert info["endCursor"] == body["nextCursor"]
    assert _get(server, f"/projects/{pid}/{name}")["limit"] == 100  # the default


def test_the_lists_hold_what_the_result_names(server: Server, project: tuple[str, str]) -> None:
    pid, job_id = project
    result = _get(server, f"/jobs/{job_id}/result")
    docs = result["documents"]
    files = _all(server, pid, "files")
    job_files = server.job(job_id)["job"]["files"]
    assert [f["fileId"] for f in files] == [f["id"] for f in job_files]
    assert [f["fileName"] for f in files] == [d["fileName"] for d in docs]
    sheets = _all(server, pid, "sheets")
    assert [s["sheetId"] for s in sheets] == [s["sheetId"] for d in docs for s in d["sheets"]]
    assert len(sheets) == result["usage"]["successfulDrawingPageCount"]
    specs = _all(server, pid, "specifications")
    assert [s["specificationId"] for s in specs] == [
        s["specificationId"] for d in docs for s in d["specifications"] or []
    ]
    assert [d["docId"] for d in _all(server, pid, "docs")] == [
        x["docId"] for d in docs for x in d["docs"] or []
    ]
    regions = _all(server, pid, "regions")
    with_text = [r["regionId"] for r in regions if r["text"]]
    assert with_text == [e["regionId"] for e in result["evidence"]]
    # the same objects: a result sheet's artifacts are the project sheet's paths
    first = docs[0]["sheets"][0]
    listed = next(s for s in sheets if s["sheetId"] == first["sheetId"])
    assert [a["url"].split("path=")[1] for a in first["artifacts"]] == [
        a["url"].split("path=")[1] for a in listed["artifacts"]
    ]
    assert "/projects/" + pid + "/artifact?path=" in listed["artifacts"][0]["url"]


def test_a_failed_job_adds_nothing_and_a_second_job_appends(server: Server) -> None:
    pid = server.ready_project()
    first = _finished_job(server, pid, FILES[:1])
    before = _all(server, pid, "sheets")
    job_id = server.new_job(pid, scenario="processing_fails")["job"]["id"]
    server.upload(job_id, files=FILES[:1])
    server.complete(job_id)
    server.advance(3600)
    assert server.job(job_id)["job"]["status"] == "failed"
    assert _all(server, pid, "sheets") == before
    second = _finished_job(server, pid, [("more.pdf", b"q" * 300_000, "plans")])
    after = _all(server, pid, "sheets")
    assert after[: len(before)] == before  # lists grow at their end
    assert {s["fileName"] for s in after[len(before) :]} == {"more.pdf"}
    assert first != second


# --------------------------------------------------------------------------- cursors


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 100])
def test_a_cursor_walk_returns_every_entity_once(
    server: Server, project: tuple[str, str], limit: int
) -> None:
    pid, _ = project
    everything = [r["regionId"] for r in _all(server, pid, "regions")]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = _get(server, f"/projects/{pid}/regions?{query}")
        assert body["total"] == len(everything) and body["cursor"] == cursor
        assert body["pageInfo"]["hasPreviousPage"] == (pages > 0)
        seen += [r["regionId"] for r in body["regions"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            assert body["hasMore"] is False
            break
    assert seen == everything
    assert pages == max(1, -(-len(everything) // limit))


def test_a_cursor_survives_another_job_finishing(server: Server, project: tuple[str, str]) -> None:
    pid, _ = project
    first = _get(server, f"/projects/{pid}/sheets?limit=4")
    _finished_job(server, pid, [("late.pdf", b"l" * 200_000, "plans")])
    rest = _all(server, pid, "sheets", f"&cursor={first['nextCursor']}")
    assert [s["sheetId"] for s in first["sheets"] + rest] == [
        s["sheetId"] for s in _all(server, pid, "sheets")
    ]


def test_bad_cursors_are_400_invalid_cursor(server: Server, project: tuple[str, str]) -> None:
    pid, _ = project
    other = server.ready_project(name="other")
    _finished_job(server, other, FILES[:1])
    sheets_cursor = _get(server, f"/projects/{pid}/sheets?limit=1")["nextCursor"]
    filtered = _get(server, f"/projects/{pid}/sheets?limit=1&classification=plans")["nextCursor"]
    for path in (
        f"/projects/{pid}/sheets?cursor=abc",
        f"/projects/{pid}/sheets?cursor=c1.!!!",
        f"/projects/{pid}/sheets?cursor=",
        f"/projects/{pid}/regions?cursor={sheets_cursor}",  # another list
        f"/projects/{other}/sheets?cursor={sheets_cursor}",  # another project
        f"/projects/{pid}/sheets?cursor={filtered}",  # other filters
        f"/projects/{pid}/sheets?cursor={sheets_cursor}&pageNumber=1",
    ):
        r = server.api("GET", path)
        assert _err(r) == (400, "invalid_cursor"), (path, r.text)
        assert "nextCursor" in r.json()["error"]["message"]
    # compact does not change the list: its cursor stays valid
    assert server.api("GET", f"/projects/{pid}/sheets?cursor={sheets_cursor}&compact=true").ok


@pytest.mark.parametrize("limit", ["0", "501", "-1", "x", "1.5", ""])
def test_bad_limits_are_422(server: Server, project: tuple[str, str], limit: str) -> None:
    pid, _ = project
    r = server.api("GET", f"/projects/{pid}/sheets?limit={limit}")
    assert _err(r) == (422, "validation_error")
    assert r.json()["error"]["details"][0]["field"] == "limit"


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("pageNumber=0", "pageNumber"),
        ("pageNumber=two", "pageNumber"),
        ("classification=drawings", "classification"),
        ("compact=maybe", "compact"),
        ("sheets=,,", "sheets"),
        ("sheets=sheet%20a;b", "sheets"),
        ("pageStart=-1", "pageStart"),
        ("classification=", "classification"),
        ("pageNumber=", "pageNumber"),
        ("compact=", "compact"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(
    server: Server, project: tuple[str, str], query: str, field: str
) -> None:
    pid, _ = project
    for name in ("sheets", "specifications"):
        r = server.api("GET", f"/projects/{pid}/{name}?{query}")
        assert _err(r) == (400, "invalid_filter")
        assert r.json()["error"]["field"] == field and field in r.json()["error"]["message"]


class Corpus:
    """Every entity of the project, and what the documented filters read beside the entity's
    own fields (the parent file's classification and status, a sheet's discipline)."""

    def __init__(self, server: Server, pid: str, job_id: str) -> None:
        self.lists = {name: _all(server, pid, name) for name in LISTS}
        self.lists["sections"] = [
            s
            for spec in self.lists["specifications"]
            for s in _all(server, pid, f"specifications/{spec['specificationId']}/sections")
        ]
        self.file = {f["fileId"]: f for f in self.lists["files"]}
        result = _get(server, f"/jobs/{job_id}/result")
        self.discipline = {s["sheetId"]: s["discipline"] for d in result["documents"] for s in
                           d["sheets"]}  # fmt: skip
        self.sheet_file = {s["sheetId"]: s["fileId"] for s in self.lists["sheets"]}

    def expect(self, name: str, param: str, value: str) -> list[str]:
        """The ids `name` lists under `param=value`, by the documented rules."""

        def keep(e: dict[str, Any]) -> bool:
            parent = self.file.get(e.get("fileId", ""), {})
            if param == "fileName":
                return value.lower() in e["fileName"].lower()
            if param in ("classification",) or (param == "status" and name != "docs"):
                return bool(parent.get(param) == value)
            if param == "sheets":
                ids = set(value.split(","))
                if name in ("sheets", "regions"):
                    return e["sheetId"] in ids
                return e["fileId"] in {self.sheet_file[s] for s in ids}
            if param == "drawingType":
                return e["drawingType"] == value or self.discipline[e["sheetId"]] == value
            if param == "pageStart":
                return bool(e["pageStart"] >= int(value))
            if param == "pageEnd":
                return bool(e["pageEnd"] <= int(value))
            if param == "pageNumber":
                return bool(e["pageNumber"] == int(value))
            return bool(e[param] == value)

        return [e[ID[name]] for e in self.lists[name] if keep(e)]


def _cases(c: Corpus) -> list[tuple[str, str, str]]:
    sheets, regions, specs = c.lists["sheets"], c.lists["regions"], c.lists["specifications"]
    two = f"{sheets[1]['sheetId']},{sheets[-1]['sheetId']}"
    cases = [
        ("sheets", "pageNumber", "2"),
        ("sheets", "sheetNumber", str(sheets[3]["sheetNumber"])),
        ("sheets", "sheets", two),
        ("regions", "sheets", two),
        ("files", "sheets", two),
        ("specifications", "sheets", two),
        ("docs", "sheets", two),
        ("regions", "sheetId", sheets[2]["sheetId"]),
        ("regions", "pageNumber", "3"),
        ("regions", "regionType", "title_block"),
        ("regions", "regionType", regions[0]["regionType"]),
        ("regions", "layoutType", "viewport"),
        ("regions", "drawingType", regions[1]["drawingType"]),
        ("regions", "drawingType", "architectural"),
        ("specifications", "sectionNumber", specs[1]["sectionNumber"]),
        ("specifications", "pageStart", "3"),
        ("specifications", "pageEnd", "4"),
        ("sections", "sectionNumber", c.lists["sections"][0]["sectionNumber"]),
        ("docs", "docType", c.lists["docs"][0]["docType"]),
        ("docs", "status", "complete"),
        ("docs", "status", "failed"),
    ]
    for name in ("files", "sheets", "regions", "specifications", "docs"):
        cases += [
            (name, "fileId", c.lists["files"][3]["fileId"]),
            (name, "fileName", "TOWER-a"),
            (name, "classification", "mixed"),
            (name, "classification", "other"),
        ]
    cases += [(name, "status", "completed") for name in ("files", "sheets", "specifications")]
    return cases


def test_every_documented_filter_selects_what_the_docs_say(
    server: Server, project: tuple[str, str]
) -> None:
    pid, job_id = project
    corpus = Corpus(server, pid, job_id)
    assert corpus.lists["sections"] and all(corpus.lists.values())
    nonempty = 0
    for name, param, value in _cases(corpus):
        expected = corpus.expect(name, param, value)
        if name == "sections":
            spec = corpus.lists["specifications"][0]["specificationId"]
            path = f"specifications/{spec}/sections"
            expected = [
                s["sectionId"] for s in _all(server, pid, path) if s["sectionNumber"] == value
            ]
        else:
            path = name
        body = _get(server, f"/projects/{pid}/{path}?limit=500&{param}={value}")
        got = [e[ID[name]] for e in body[name]]
        assert got == expected, (name, param, value)
        assert body["total"] == len(expected)
        nonempty += bool(expected)
        if expected and len(expected) < len(corpus.lists[name]):
            # a filtered list pages like any other
            walked = _get(server, f"/projects/{pid}/{path}?limit=1&{param}={value}")
            assert walked["total"] == len(expected)
    assert nonempty >= 25  # the cases select something, not only empty lists


def test_an_empty_string_filter_is_no_filter(server: Server, project: tuple[str, str]) -> None:
    pid, _ = project
    everything = _get(server, f"/projects/{pid}/sheets")
    assert _get(server, f"/projects/{pid}/sheets?fileName=&sheets=&sheetNumber=") == everything


def test_a_filter_a_list_does_not_take_is_ignored(
    server: Server, project: tuple[str, str]
) -> None:
    pid, _ = project
    everything = _get(server, f"/projects/{pid}/files")
    assert _get(server, f"/projects/{pid}/files?regionType=detail&docType=rfi") == everything


# --------------------------------------------------------------------------- compact


def test_compact_leaves_the_artifact_urls_out(server: Server, project: tuple[str, str]) -> None:
    pid, _ = project
    for name in LISTS:
        full = _get(server, f"/projects/{pid}/{name}")[name]
        compact = _get(server, f"/projects/{pid}/{name}?compact=true")[name]
        assert all("artifacts" in e for e in full)
        assert compact == [{k: v for k, v in e.items() if k != "artifacts"} for e in full]
        assert _get(server, f"/projects/{pid}/{name}?compact=false")[name] == full
    sheet = _all(server, pid, "sheets")[0]["sheetId"]
    single = _get(server, f"/projects/{pid}/sheets/{sheet}?compact=1")["sheet"]
    assert "artifacts" not in single


# --------------------------------------------------------------------------- singles

SINGLES = {
    "files": ("file", FileEntityResponse),
    "sheets": ("sheet", SheetEntityResponse),
    "regions": ("region", RegionEntityResponse),
    "specifications": ("specification", SpecificationEntityResponse),
    "docs": ("doc", DocEntityResponse),
}


@pytest.mark.parametrize("name", sorted(SINGLES))
def test_a_single_read_answers_the_listed_entity(
    server: Server, project: tuple[str, str], name: str
) -> None:
    pid, _ = project
    key, model = SINGLES[name]
    for entity in _all(server, pid, name)[:3]:
        body = _get(server, f"/projects/{pid}/{name}/{entity[ID[name]]}")
        model.model_validate(body)
        assert body == {key: entity}
    r = server.api("GET", f"/projects/{pid}/{name}/{key}_{'x' * 26}")
    assert _err(r) == (404, f"{key}_not_found")


def test_a_single_read_with_filters_the_entity_fails_is_404(
    server: Server, project: tuple[str, str]
) -> None:
    pid, _ = project
    sheet = _all(server, pid, "sheets")[2]
    path = f"/projects/{pid}/sheets/{sheet['sheetId']}"
    assert _get(server, f"{path}?pageNumber={sheet['pageNumber']}")["sheet"] == sheet
    r = server.api("GET", f"{path}?pageNumber={sheet['pageNumber'] + 1}")
    assert _err(r) == (404, "sheet_not_found")
    assert "pageNumber" in r.json()["error"]["message"]
    assert _err(server.api("GET", f"{path}?classification=documents")) == (
        404,
        "sheet_not_found",
    )
    region = _all(server, pid, "regions")[0]
    rpath = f"/projects/{pid}/regions/{region['regionId']}"
    assert _get(server, f"{rpath}?sheetId={region['sheetId']}")["region"] == region
    assert _err(server.api("GET", f"{rpath}?sheetId={sheet['sheetId']}x")) == (
        404,
        "region_not_found",
    )


def test_sections_of_a_specification_and_outline_only_headings(
    server: Server, project: tuple[str, str]
) -> None:
    pid, job_id = project
    result = _get(server, f"/jobs/{job_id}/result")
    outlines = {
        s["specificationId"]: s["sections"]
        for d in result["documents"]
        for s in d["specifications"] or []
    }
    outline_only = [(spec, s) for spec, ss in outlines.items() for s in ss if s["outlineOnly"]]
    assert outline_only, "the fixture's specifications have outline-only headings"
    for spec, sections in outlines.items():
        body = _get(server, f"/projects/{pid}/specifications/{spec}/sections")
        SectionsListResponse.model_validate(body)
        assert [s["sectionId"] for s in body["sections"]] == [
            s["sectionId"] for s in sections if not s["outlineOnly"]
        ]
        for listed in body["sections"]:
            one = _get(
                server, f"/projects/{pid}/specifications/{spec}/sections/{listed['sectionId']}"
            )
            SectionEntityResponse.model_validate(one)
            assert one == {"section": listed}
            assert one["section"]["textLength"] == len(one["section"]["text"])
    spec, heading = outline_only[0]
    r = server.api("GET", f"/projects/{pid}/specifications/{spec}/sections/{heading['sectionId']}")
    assert _err(r) == (404, "section_not_found")
    assert "outline-only" in r.json()["error"]["message"]
    # a section under another specification is not found either
    other = next(s for s in outlines if s != spec)
    section = next(s for s in outlines[spec] if not s["outlineOnly"])
    r = server.api(
        "GET", f"/projects/{pid}/specifications/{other}/sections/{section['sectionId']}"
    )
    assert _err(r) == (404, "section_not_found")
    r = server.api("GET", f"/projects/{pid}/specifications/spec_nope/sections")
    assert _err(r) == (404, "specification_not_found")


def test_a_sheets_regions(server: Server, project: tuple[str, str]) -> None:
    pid, _ = project
    regions = _all(server, pid, "regions")
    sheet = _all(server, pid, "sheets")[4]["sheetId"]
    mine = [r for r in regions if r["sheetId"] == sheet]
    body = _get(server, f"/projects/{pid}/sheets/{sheet}/regions")
    RegionsListResponse.model_validate(body)
    assert body["regions"] == mine
    # the path names the sheet: sheets= and sheetId= are not taken here
    other = _all(server, pid, "sheets")[0]["sheetId"]
    assert (
        _get(server, f"/projects/{pid}/sheets/{sheet}/regions?sheets={other}")["regions"] == mine
    )
    assert (
        _get(server, f"/projects/{pid}/sheets/{sheet}/regions?sheetId={other}")["regions"] == mine
    )
    titled = _get(server, f"/projects/{pid}/sheets/{sheet}/regions?regionType=title_block")
    assert [r["regionType"] for r in titled["regions"]] == ["title_block"]
    r = server.api("GET", f"/projects/{pid}/sheets/sheet_nope/regions")
    assert _err(r) == (404, "sheet_not_found")


# --------------------------------------------------------------------------- who may read

ROUTES = [
    "files", "sheets", "regions", "specifications", "docs", "files/{file}", "sheets/{sheet}",
    "sheets/{sheet}/regions", "regions/{region}", "specifications/{spec}",
    "specifications/{spec}/sections", "specifications/{spec}/sections/{section}", "docs/{doc}",
]  # fmt: skip


def _routes(server: Server, pid: str) -> list[str]:
    spec = _all(server, pid, "specifications")[0]["specificationId"]
    ids = {
        "file": _all(server, pid, "files")[0]["fileId"],
        "sheet": _all(server, pid, "sheets")[0]["sheetId"],
        "region": _all(server, pid, "regions")[0]["regionId"],
        "spec": spec,
        "section": _all(server, pid, f"specifications/{spec}/sections")[0]["sectionId"],
        "doc": _all(server, pid, "docs")[0]["docId"],
    }
    return [f"/projects/{pid}/" + r.format(**ids) for r in ROUTES]


def test_thirteen_routes_and_another_organisation_gets_404(
    server: Server, project: tuple[str, str]
) -> None:
    pid, _ = project
    routes = _routes(server, pid)
    assert len(routes) == 13
    for path in routes:
        assert server.api("GET", path).status_code == 200, path
        r = server.api("GET", path, key="pgk_someone_else")
        assert _err(r) == (404, "project_not_found"), path


def test_project_reads_need_jobs_read(make_server: Callable[..., Server]) -> None:
    keys = ("pgk_all", "pgk_writer:jobs:write", "pgk_artifacts:artifacts:read")
    server = make_server(polling="off", api_keys=tuple(parse_key_spec(k) for k in keys))
    pid = server.ready_project(key="pgk_all")
    job_id = server.new_job(pid, key="pgk_all")["job"]["id"]
    server.upload(job_id, key="pgk_all", files=FILES)
    server.complete(job_id, key="pgk_all")
    server.advance(3600)
    for path in _routes_with_key(server, pid):
        for key in ("pgk_writer", "pgk_artifacts"):
            r = server.api("GET", path, key=key)
            assert _err(r) == (403, "insufficient_scope"), path
            assert r.json()["error"]["requiredScope"] == "jobs:read"


def _routes_with_key(server: Server, pid: str) -> list[str]:
    def get(path: str) -> dict[str, Any]:
        return _get(server, path, key="pgk_all")

    spec = get(f"/projects/{pid}/specifications")["specifications"][0]["specificationId"]
    sheet = get(f"/projects/{pid}/sheets")["sheets"][0]["sheetId"]
    return [
        f"/projects/{pid}/sheets",
        f"/projects/{pid}/sheets/{sheet}",
        f"/projects/{pid}/specifications/{spec}/sections",
    ]


# --------------------------------------------------------------------------- routing


def test_the_project_routes_do_not_swallow_post_projects_search() -> None:
    """`POST /projects/search` shares its path with `GET /projects/{projectId}`: routing must
    reach its own route, not answer 405. Until its module is installed, a stand-in route takes
    its place (the check is the router's, not the handler's)."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from mock_server import create_app
    from mock_server.http.endpoints import ENDPOINTS_KEY

    app = create_app(MockConfig(clock="manual"))
    path = "/api/open/v1/projects/search"
    if ("POST", path) not in {(ep.method, ep.path) for ep in app[ENDPOINTS_KEY]}:

        async def stand_in(request: web.Request) -> web.Response:
            return web.json_response({"standIn": True})

        app.router.add_post(path, stand_in)

    async def post() -> int:
        async with TestClient(TestServer(app)) as client:
            r = await client.post(path, json={"query": "x"}, headers={"Authorization": "Bearer k"})
            return r.status

    assert asyncio.run(post()) not in (404, 405)


def test_a_page_asked_again_is_the_same_and_follows_a_finished_job(
    server: Server, project: tuple[str, str]
) -> None:
    pid, _ = project
    path = f"/projects/{pid}/sheets?limit=3"
    first = server.api("GET", path)
    assert server.api("GET", path).content == first.content
    _finished_job(server, pid, [("later.pdf", b"z" * 200_000, "plans")])
    after = server.api("GET", path).json()
    assert after["total"] == first.json()["total"] + 2
    assert after["sheets"] == first.json()["sheets"]  # the page's entities stay where they were
