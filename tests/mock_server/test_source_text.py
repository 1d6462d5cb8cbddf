"""POST /projects/{projectId}/source-text: bounded pages that reassemble the whole text, every
textKind, facets, cursors and their errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import MockConfig

from .corpus import CORPUS_ORIGIN, Corpus, build_corpus
from .harness import Server

KINDS = ["text", "markdown", "page_regions"]
FACET_KINDS = ["facet_source_text", "facet_match_text"]


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Server, Corpus]]:
    server = Server(
        MockConfig(clock="manual", seed=4, polling="off", clock_origin=CORPUS_ORIGIN)
    ).start()
    try:
        yield server, build_corpus(server, name="Source Text")
        assert not server.state.server_errors, server.state.server_errors
    finally:
        server.stop()


def read(server: Server, pid: str, **body: Any) -> dict[str, Any]:
    r = server.api("POST", f"/projects/{pid}/source-text", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def walk(server: Server, pid: str, max_chars: int, **body: Any) -> tuple[str, int]:
    """The text joined from every page, and the number of pages."""
    text, cursor, pages = "", None, 0
    while True:
        page = read(
            server, pid, maxChars=max_chars, **body, **({"cursor": cursor} if cursor else {})
        )
        assert len(page["text"]) <= max_chars and page["returnedChars"] == len(page["text"])
        assert page["offset"] == len(text)
        text += page["text"]
        pages += 1
        cursor = page["nextCursor"]
        assert page["truncated"] is (cursor is not None)
        if cursor is None:
            assert len(text) == page["totalChars"]
            return text, pages


def test_the_whole_text_in_one_page(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    for entity in list(corpus.entities.values())[:20]:
        page = read(server, corpus.project_id, sourceCatalogUri=entity.uri)
        assert page["status"] == "ok" and page["sourceCatalogUri"] == entity.uri
        assert page["text"] == entity.text and page["nextCursor"] is None
        assert page["textKind"] == "text" and page["source"]["type"] == entity.type


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_cursor_walks_reassemble_the_whole_text(
    world: tuple[Server, Corpus], data: st.DataObject
) -> None:
    server, corpus = world
    entity = data.draw(st.sampled_from(sorted(corpus.entities.values(), key=lambda e: e.uri)))
    body: dict[str, Any] = {"sourceCatalogUri": entity.uri}
    if entity.facets and data.draw(st.booleans()):
        body["textKind"] = data.draw(st.sampled_from(FACET_KINDS))
        body["facetId"] = data.draw(st.sampled_from(sorted(entity.facets)))
    else:
        body["textKind"] = data.draw(st.sampled_from(KINDS))
    whole = read(server, corpus.project_id, maxChars=50_000, **body)
    assert whole["nextCursor"] is None
    full = whole["text"]
    if body["textKind"] == "text":
        assert full == entity.text
    elif body["textKind"] == "facet_source_text":
        assert full == entity.facets[body["facetId"]]
    # at most ~40 pages per walk, any page size from 1 up
    max_chars = data.draw(st.integers(max(1, len(full) // 40), max(1, len(full) + 5)))
    text, pages = walk(server, corpus.project_id, max_chars, **body)
    assert text == full
    assert pages == max(1, -(-len(full) // max_chars))


def test_page_sizes_may_change_along_a_walk(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    entity = max(corpus.by_type("specification"), key=lambda e: len(e.text))
    pid, text, cursor = corpus.project_id, "", None
    sizes = iter([1, 7, 500, 3, 50_000])
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = read(server, pid, sourceCatalogUri=entity.uri, maxChars=next(sizes), **extra)
        text += page["text"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert text == entity.text


def test_every_kind_has_its_text(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    pid = corpus.project_id
    region = next(e for e in corpus.by_type("region") if e.text)
    spec = corpus.by_type("specification")[0]
    md = read(server, pid, sourceCatalogUri=spec.uri, textKind="markdown", maxChars=50_000)
    assert md["text"].startswith("# ") and "\n## PART 1" in md["text"]
    regions = read(server, pid, sourceCatalogUri=region.uri, textKind="page_regions")["text"]
    assert region.text in regions and regions.count("[") >= 2  # every region of its sheet
    facet_id, facet_text = next(iter(spec.facets.items()))
    match = read(
        server, pid, sourceCatalogUri=spec.uri, textKind="facet_match_text", facetId=facet_id
    )
    assert match["text"] == " ".join(facet_text.casefold().split())
    assert match["facetId"] == facet_id and match["source"]["facetId"] == facet_id


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"sourceCatalogUri": "pgcat://elsewhere/region/nothing"}, 404, "source_not_found"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, 400, "invalid_cursor"),
        ({"cursor": "!"}, 400, "invalid_cursor"),
        ({"maxChars": 0}, 422, "validation_error"),
        ({"maxChars": 50_001}, 422, "validation_error"),
        ({"textKind": "pdf"}, 422, "validation_error"),
        ({"textKind": "facet_source_text"}, 422, "validation_error"),  # no facetId
        ({"facetId": "facet_x"}, 422, "validation_error"),  # a facet with kind text
        ({"textKind": "facet_match_text", "facetId": "facet_x"}, 422, "validation_error"),
        ({"sourceCatalogUri": ""}, 422, "validation_error"),
    ],
)
def test_errors(
    world: tuple[Server, Corpus], change: dict[str, Any], status: int, code: str
) -> None:
    server, corpus = world
    spec = corpus.by_type("specification")[0]
    body = {"sourceCatalogUri": spec.uri, **change}
    r = server.api("POST", f"/projects/{corpus.project_id}/source-text", json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text


def test_a_cursor_works_only_where_it_came_from(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    pid = corpus.project_id
    a, b = corpus.by_type("specification")[:2]
    cursor = read(server, pid, sourceCatalogUri=a.uri, maxChars=10)["nextCursor"]
    assert cursor
    for body in (
        {"sourceCatalogUri": b.uri},
        {"sourceCatalogUri": a.uri, "textKind": "markdown"},
    ):
        r = server.api("POST", f"/projects/{pid}/source-text", json={**body, "cursor": cursor})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_cursor")


def test_a_uri_of_another_project_is_404(world: tuple[Server, Corpus]) -> None:
    server, corpus = world
    other = server.ready_project(name="empty neighbour")
    uri = next(iter(corpus.entities))
    r = server.api("POST", f"/projects/{other}/source-text", json={"sourceCatalogUri": uri})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "source_not_found")
