"""The source search benchmark's generator and harness (no timing asserted here)."""

from __future__ import annotations

from benchmarks.bench_search import (
    content_sources,
    generate_queries,
    generate_sources,
    time_search,
)
from mock_server.search import SourceIndex


def test_the_generator_makes_the_asked_sources_and_every_query_runs() -> None:
    sources = generate_sources(60, 25)
    kinds = [s.type.value for s in sources]
    assert (kinds.count("region"), kinds.count("specification")) == (60, 25)
    assert len({s.uri for s in sources}) == 85
    assert generate_sources(60, 25) == sources  # seeded: the same every run
    index = SourceIndex()
    index.add(sources)
    queries = generate_queries(sources, 40)
    found = [
        index.search(q.query, max_hits=q.max_hits, entity_types=q.entity_types, filters=q.filters)
        for q in queries
    ]
    assert sum(r.hit_count for r in found) > 0


def test_time_search_reports_the_figures() -> None:
    data = time_search(200, 20, 20, rounds=1)
    for key in ("source_search_p50_ms", "source_search_p99_ms", "source_search_qps"):
        assert isinstance(data[key], float) and data[key] > 0
    assert data["queries"] == 20 and data["chunks"] == 200 + 20 * 6


def test_the_content_corpus_is_the_servers_own_sources_cut_to_size() -> None:
    sources = content_sources(120, 15)
    kinds = [s.type.value for s in sources]
    assert (kinds.count("region"), kinds.count("specification")) == (120, 15)
    assert len({s.uri for s in sources}) == 135
    assert all(s.facets for s in sources if s.type.value == "specification")
    assert content_sources(120, 15) == sources  # seeded: the same every run


def test_time_search_over_http_reports_the_figures() -> None:
    data = time_search(100, 10, 15, rounds=1, corpus="content", http=True)
    assert data["corpus"] == "content" and data["queries"] == 15
    for key in ("http_p50_ms", "http_p99_ms", "http_rps"):
        assert isinstance(data[key], float) and data[key] > 0
