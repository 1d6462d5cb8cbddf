"""POST /projects/{projectId}/source-search over a project's real content: relevance, every
filter, maxHits, index readiness, hostile queries, tenancy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import MockConfig

from .corpus import CLASSIFICATION, CORPUS_ORIGIN, Corpus, build_corpus
from .harness import Server


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Server, Corpus]]:
    server = Server(
        MockConfig(clock="manual", seed=3, polling="off", clock_origin=CORPUS_ORIGIN)
    ).start()
    try:
        yield server, build_corpus(server)
        assert not server.state.server_errors, server.state.server_errors
    finally:
        server.stop()


def search(server: Server, pid: str, **body: Any) -> dict[str, Any]:
    r = server.api("POST", f"/projects/{pid}/source-search", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_the_response_has_the_documented_fields(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    body = search(server, corpus.project_id, query="concrete", maxHits=5)
    assert body["status"] == "ok" and body["query"] == "concrete"
    assert body["hitCount"] == len(body["hits"]) > 0
    assert body["searchedChunkCount"] >= len(corpus.entities)  # sources plus their facets
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    for hit in body["hits"]:
        assert set(hit) == {"score", "snippet", "sourceCatalogUri", "source"}
        assert hit["sourceCatalogUri"] in corpus.entities
        assert hit["source"]["type"] == corpus.entities[hit["sourceCatalogUri"]].type
        assert "concrete" in hit["snippet"].lower()


def test_a_term_only_one_region_holds_finds_that_region_first(
    world: tuple[Server, Corpus],
) -> None:
    server, corpus = world
    unique = corpus.unique_region_words()
    assert len(unique) >= 5, "the corpus should hold some words only one region has"
    for word, uri in list(unique.items())[:12]:
        hits = search(server, corpus.project_id, query=word)["hits"]
        assert hits and hits[0]["sourceCatalogUri"] == uri, (word, hits[:2])
        assert word in hits[0]["snippet"].lower()


def test_a_section_number_finds_its_specification(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    spec = next(e for e in corpus.by_type("specification"))
    number = spec.searchable.split(" ", 3)[:3]  # "03 30 00"
    for typed in (" ".join(number), "".join(number)):
        hits = search(server, corpus.project_id, query=typed, entityTypes=["specification"])
        assert spec.uri in [h["sourceCatalogUri"] for h in hits["hits"][:3]], typed


def _satisfies(entity: Any, name: str, value: Any) -> bool:
    f = entity.fields
    if name == "fileName":
        return str(value).lower() in f["fileName"].lower()
    if name == "classification":
        return bool(CLASSIFICATION[f["fileName"]] == value)
    if name == "pageNumber":
        return bool(f["pages"][0] <= value <= f["pages"][1])
    return bool(f.get(name) is not None and str(f[name]).lower() == str(value).lower())


FILTERS = [
    ("regionType", lambda c: c.by_type("region")[3].fields["regionType"]),
    ("layoutType", lambda c: c.by_type("region")[0].fields["layoutType"]),
    ("drawingType", lambda c: c.by_type("region")[5].fields["drawingType"]),
    ("sheetNumber", lambda c: c.by_type("region")[7].fields["sheetNumber"]),
    ("fileName", lambda c: "MANUAL"),  # any case, a substring
    ("pageNumber", lambda c: 3),
    ("classification", lambda c: "documents"),
]


@pytest.mark.parametrize(("name", "pick"), FILTERS, ids=[f[0] for f in FILTERS])
def test_every_filter_keeps_only_matching_sources(
    world: tuple[Server, Corpus], name: str, pick: Any
) -> None:
    server, corpus = world
    value = pick(corpus)
    query = "the a of and provide section plan sheet"  # something in nearly every chunk
    everything = search(server, corpus.project_id, query=query, maxHits=50)
    filtered = search(server, corpus.project_id, query=query, maxHits=50, **{name: value})
    assert filtered["hits"], f"{name}={value!r} should leave some hits"
    for hit in filtered["hits"]:
        entity = corpus.entities[hit["sourceCatalogUri"]]
        assert _satisfies(entity, name, value), (name, value, entity.fields)
    # the filter did exclude something, and the count of searched chunks says so
    assert any(
        not _satisfies(corpus.entities[h["sourceCatalogUri"]], name, value)
        for h in everything["hits"]
    )
    assert filtered["searchedChunkCount"] < everything["searchedChunkCount"]
    expected = {e.uri for e in corpus.entities.values() if _satisfies(e, name, value)}
    assert {h["sourceCatalogUri"] for h in filtered["hits"]} <= expected


@pytest.mark.parametrize("kind", ["region", "specification", "doc"])
def test_entity_types_keep_only_that_type(world: tuple[Server, Corpus], kind: str) -> None:
    server, corpus = world
    body = search(server, corpus.project_id, query="the of and", entityTypes=[kind], maxHits=50)
    assert body["hits"] and {h["source"]["type"] for h in body["hits"]} == {kind}


def test_facet_hits_name_their_facet(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    body = search(server, corpus.project_id, query="execution", maxHits=50)
    facet_hits = [h for h in body["hits"] if "facetId" in h["source"]]
    assert facet_hits
    for hit in facet_hits:
        entity = corpus.entities[hit["sourceCatalogUri"]]
        assert hit["source"]["facetId"] in entity.facets
        assert hit["source"]["facetLabel"] and hit["source"]["facetKind"] == "part"


def test_max_hits_bounds_the_hits(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    query = "the of and provide"
    available = search(server, corpus.project_id, query=query, maxHits=50)["hitCount"]
    assert available > 10
    assert search(server, corpus.project_id, query=query)["hitCount"] == 10  # the default
    for n in (1, 2, 7, 10, 50):
        assert search(server, corpus.project_id, query=query, maxHits=n)["hitCount"] == min(
            n, available
        )
    assert search(server, corpus.project_id, query=query, maxHits=3.0)["hitCount"] == 3
    for bad in (0, 51, -1, "5", True, 2.5, None):
        body: dict[str, Any] = {"query": query, "maxHits": bad}
        if bad is None:
            continue  # null means the default
        r = server.api("POST", f"/projects/{corpus.project_id}/source-search", json=body)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["details"][0]["field"] == "maxHits"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"query": ""},
        {"query": 5},
        {"query": "x", "entityTypes": ["door"]},
        {"query": "x", "entityTypes": "region"},
        {"query": "x", "pageNumber": 0},
        {"query": "x", "classification": "blueprints"},
        {"query": "x", "regionType": 7},
    ],
)
def test_bad_bodies_are_422_with_details(world: tuple[Server, Corpus], body: Any) -> None:
    server, corpus = world
    r = server.api("POST", f"/projects/{corpus.project_id}/source-search", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["details"]


def test_a_query_with_no_words_finds_nothing_with_a_warning(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    body = search(server, corpus.project_id, query="!!! -- *")
    assert body["hits"] == [] and body["warnings"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    query=st.text(min_size=1, max_size=60)
    | st.lists(
        st.sampled_from(['"', "AND", "OR", "NOT", "NEAR(", ")", "*", "^", ":", "-", "'", "\\"])
        | st.text(max_size=8),
        min_size=1,
        max_size=8,
    ).map(" ".join)
    | st.sampled_from(["\x00", "\ud800", '"unclosed', "a:b", "NEAR(a b, 3)", "\u202e", "🏗️"]),
    extra=st.dictionaries(
        st.sampled_from(["regionType", "layoutType", "drawingType", "sheetNumber", "fileName"]),
        st.text(max_size=12),
        max_size=3,
    ),
)
def test_no_query_string_gives_a_5xx(
    world: tuple[Server, Corpus], query: str, extra: dict[str, str]
) -> None:
    server, corpus = world
    body = {"query": query, **extra}
    for path in (f"/projects/{corpus.project_id}/source-search", "/projects/search"):
        r = server.api(
            "POST",
            path,
            data=json.dumps(body),  # ensure_ascii: lone surrogates travel as \ud800
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code in (200, 422), (query, r.status_code, r.text[:300])
        if r.status_code == 200 and path.endswith("source-search"):
            assert r.json()["query"] == query


def test_another_organisations_project_is_404(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    for path, body in (
        ("source-search", {"query": "concrete"}),
        ("source-text", {"sourceCatalogUri": next(iter(corpus.entities))}),
    ):
        r = server.api(
            "POST", f"/projects/{corpus.project_id}/{path}", json=body, key="pgk_other_org"
        )
        assert (r.status_code, r.json()["error"]["code"]) == (404, "project_not_found")
        unknown = server.api("POST", f"/projects/proj_{'0' * 26}/{path}", json=body)
        assert unknown.json()["error"]["code"] == "project_not_found"


# --------------------------------------------------------------------------- readiness


def _processing_job(server: Server, pid: str) -> str:
    job_id: str = server.new_job(pid)["job"]["id"]
    assert server.upload(job_id).status_code == 200
    assert server.complete(job_id).status_code == 202
    server.advance(3)  # preflight passes
    assert server.job(job_id)["job"]["status"] == "processing"
    return job_id


def _finish(server: Server, job_id: str) -> None:
    r = server.control("POST", f"/jobs/{job_id}/events", json={"event": "complete"})
    assert r.status_code == 200, r.text


def test_409_index_not_ready_until_the_delay_has_passed(server: Server) -> None:
    pid = server.ready_project(name="fresh")
    assert search(server, pid, query="scale")["hits"] == []  # nothing written: ready, empty
    job_id = _processing_job(server, pid)
    assert search(server, pid, query="scale")["hits"] == []  # still processing: nothing written
    _finish(server, job_id)  # writes its entities now
    for wait, retry in ((0.0, 10), (4.0, 6), (5.5, 1)):  # 0, 4 and 9.5 s after the write
        server.advance(wait)
        r = server.api("POST", f"/projects/{pid}/source-search", json={"query": "scale"})
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert (err["code"], err["currentStatus"]) == ("index_not_ready", "indexing")
        assert r.headers["Retry-After"] == str(retry) == str(err["retryAfterSeconds"])
    server.advance(0.5)  # 10 s after the write
    body = search(server, pid, query="scale")
    assert body["hitCount"] > 0
    # source text does not wait for the index
    job2 = _processing_job(server, pid)
    _finish(server, job2)
    uri = body["hits"][0]["sourceCatalogUri"]
    r = server.api("POST", f"/projects/{pid}/source-text", json={"sourceCatalogUri": uri})
    assert r.status_code == 200
    r = server.api("POST", f"/projects/{pid}/source-search", json={"query": "scale"})
    assert r.status_code == 409


def test_the_delay_is_a_scenario_setting(server: Server) -> None:
    pid = server.ready_project(name="delays")
    for delay, retry in ((30.0, "30"), (0.0, None)):
        r = server.control(
            "POST",
            "/scenarios/next",
            json={"scenario": {"name": f"index_{int(delay)}", "index_ready_delay": delay}},
        )
        assert r.status_code == 200, r.text
        job_id = _processing_job(server, pid)
        _finish(server, job_id)
        r = server.api("POST", f"/projects/{pid}/source-search", json={"query": "scale"})
        if retry is None:
            assert r.status_code == 200, r.text
        else:
            assert (r.status_code, r.headers["Retry-After"]) == (409, retry)
            server.advance(delay)


def test_the_index_follows_every_finished_job(server: Server) -> None:
    pid = server.ready_project(name="grows")
    counts = []
    for _ in range(2):
        _finish(server, _processing_job(server, pid))
        server.advance(10)
        counts.append(search(server, pid, query="scale")["searchedChunkCount"])
    assert 0 < counts[0] < counts[1]


def test_a_project_no_search_asked_for_generates_no_content(server: Server) -> None:
    pid = server.ready_project(name="lazy")
    _finish(server, _processing_job(server, pid))
    server.advance(60)
    assert server.call(lambda: server.state.content.generated) == 0
    search(server, pid, query="scale")
    assert server.call(lambda: server.state.content.generated) == 1


# --------------------------------------------------------------------------- the contract rule


def _violations(server: Server) -> list[dict[str, Any]]:
    r = server.control("GET", "/violations")
    assert r.status_code == 200
    return [v for v in r.json()["violations"] if v["rule"] == "index_retry_too_fast"]


def test_a_client_retrying_before_retry_after_is_recorded(server: Server) -> None:
    pid = server.ready_project(name="impatient")
    _finish(server, _processing_job(server, pid))
    r = server.api("POST", f"/projects/{pid}/source-search", json={"query": "scale"})
    assert r.status_code == 409
    server.advance(2)  # Retry-After said 10
    r = server.api("POST", f"/projects/{pid}/source-search", json={"query": "scale"})
    assert r.status_code == 409
    found = _violations(server)
    assert len(found) == 1 and found[0]["projectId"] == pid
    assert found[0]["apiKey"] == "pgk_test_a"
    assert "Retry-After" in found[0]["message"]


def test_a_client_waiting_for_retry_after_is_not(server: Server) -> None:
    pid = server.ready_project(name="patient")
    _finish(server, _processing_job(server, pid))
    answers = []
    while not answers or answers[-1] == 409:
        r = server.api("POST", f"/projects/{pid}/source-search", json={"query": "scale"})
        answers.append(r.status_code)
        if r.status_code == 409:
            server.advance(int(r.headers["Retry-After"]))
    assert answers == [409, 200]
    assert _violations(server) == []
