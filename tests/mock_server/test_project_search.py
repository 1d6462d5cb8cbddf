"""POST /projects/search: which of the organisation's projects match, why, paged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mock_server import MockConfig

from .corpus import CORPUS_ORIGIN, Corpus, build_corpus, words
from .harness import Server


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Server, Corpus, list[str]]]:
    server = Server(
        MockConfig(clock="manual", seed=5, polling="off", clock_origin=CORPUS_ORIGIN)
    ).start()
    try:
        corpus = build_corpus(server, name="Harbor Tower")
        empty = [server.ready_project(name=n) for n in ("Riverside Clinic", "Harbor Annex")]
        yield server, corpus, empty
        assert not server.state.server_errors, server.state.server_errors
    finally:
        server.stop()


def find(server: Server, key: str = "pgk_test_a", **body: Any) -> dict[str, Any]:
    r = server.api("POST", "/projects/search", json=body, key=key)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_the_route_is_not_taken_by_projects_project_id(
    world: tuple[Server, Corpus, list[str]],
) -> None:
    server, _, _ = world
    assert server.api("POST", "/projects/search", json={"query": "x"}).status_code == 200
    for method in ("GET", "PUT", "OPTIONS"):  # `search` is no project id
        r = server.api(method, "/projects/search")
        assert (r.status_code, r.headers["Allow"]) == (405, "POST")
    r = server.api("GET", "/projects/searching")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "project_not_found")


def test_names_and_sources_match_with_their_reasons(
    world: tuple[Server, Corpus, list[str]],
) -> None:
    server, corpus, (clinic, annex) = world
    body = find(server, query="harbor")
    assert body["query"] == "harbor" and body["warnings"] == []
    ids = [m["projectId"] for m in body["results"]]
    assert set(ids) == {corpus.project_id, annex}
    for match in body["results"]:
        assert match["project"]["id"] == match["projectId"]
        assert {"type": "name", "text": match["project"]["name"]} in match["matchReasons"]
    # a word only the sources hold: found through them, with the hits
    word = next(iter(corpus.unique_region_words()))
    body = find(server, query=word)
    assert [m["projectId"] for m in body["results"]] == [corpus.project_id]
    match = body["results"][0]
    assert any(r["type"] == "sources" for r in match["matchReasons"])
    assert match["sourceHits"][0]["sourceCatalogUri"] in corpus.entities
    assert find(server, query="riverside")["results"][0]["projectId"] == clinic


def test_the_list_envelope_pages_with_cursors(world: tuple[Server, Corpus, list[str]]) -> None:
    server, _, _ = world
    everything = find(server, query="harbor riverside clinic tower annex")
    assert everything["total"] == 3 and everything["limit"] == 25
    seen, cursor = [], None
    while True:
        page = find(server, query="harbor riverside clinic tower annex", limit=1, cursor=cursor)
        assert page["returnedCount"] == len(page["results"]) == 1 and page["total"] == 3
        assert page["cursor"] == cursor and page["hasMore"] is (page["nextCursor"] is not None)
        seen += [m["projectId"] for m in page["results"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [m["projectId"] for m in everything["results"]]
    # a cursor of another query is refused
    first = find(server, query="harbor", limit=1)
    r = server.api(
        "POST", "/projects/search", json={"query": "clinic", "cursor": first["nextCursor"]}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_cursor")


def test_project_ids_restrict_and_never_reveal(world: tuple[Server, Corpus, list[str]]) -> None:
    server, _, (_, annex) = world
    body = find(server, query="harbor", projectIds=[annex])
    assert [m["projectId"] for m in body["results"]] == [annex]
    theirs = server.ready_project(key="pgk_test_b", name="Harbor Lofts")
    mine_only = find(server, query="harbor", projectIds=[theirs, "proj_nothing"])
    assert mine_only["results"] == [] and len(mine_only["warnings"]) == 1
    # the warning is the same for another organisation's project and for none at all
    w = mine_only["warnings"][0]
    assert repr(theirs) in w and "'proj_nothing'" in w
    # and the other organisation never sees this one's projects
    other = find(server, key="pgk_test_b", query="harbor")
    assert [m["projectId"] for m in other["results"]] == [theirs]


def test_filters_apply_to_source_hits(world: tuple[Server, Corpus, list[str]]) -> None:
    server, corpus, _ = world
    in_a_doc = sorted(words(corpus.by_type("doc")[0].text), key=len)[-1]
    body = find(server, query=in_a_doc, entityTypes=["doc", "door"])
    match = next(m for m in body["results"] if m["projectId"] == corpus.project_id)
    assert {h["source"]["type"] for h in match["sourceHits"]} == {"doc"}
    assert any("door" in w for w in body["warnings"])
    body = find(server, query="scale", classification="plans", pageNumber=2)
    assert body["results"] and body["results"][0]["sourceHits"]
    for m in body["results"]:
        for hit in m["sourceHits"]:
            assert hit["source"]["type"] == "region" and hit["source"]["pageNumber"] == 2


def test_a_project_whose_index_is_being_built_is_skipped_with_a_warning(server: Server) -> None:
    pid = server.ready_project(name="Quarry Lofts")
    job_id: str = server.new_job(pid)["job"]["id"]
    assert server.upload(job_id).status_code == 200
    assert server.complete(job_id).status_code == 202
    server.advance(3)
    server.control("POST", f"/jobs/{job_id}/events", json={"event": "complete"})
    body = find(server, query="quarry scale")
    assert [m["projectId"] for m in body["results"]] == [pid]  # by its name
    assert body["results"][0]["sourceHits"] == []
    assert any(pid in w and "being built" in w for w in body["warnings"])
    server.advance(10)
    body = find(server, query="quarry scale")
    assert body["results"][0]["sourceHits"] and body["warnings"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"query": ""},
        {"query": "x", "limit": 0},
        {"query": "x", "limit": 101},
        {"query": "x", "projectIds": "proj_x"},
        {"query": "x", "pageNumber": 0},
        {"query": "x", "classification": "drawings"},
    ],
)
def test_bad_bodies_are_422(world: tuple[Server, Corpus, list[str]], body: Any) -> None:
    server, _, _ = world
    r = server.api("POST", "/projects/search", json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), r.text
