"""The v1 result from the content model: byte-identical for the same seed and uploads, counts
that agree with `usage`, errors for exactly the failed pages; and generation stays lazy."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import MockConfig, MockState
from mock_server.content import ContentStore, build_result, facts_from_job
from mock_server.public.results import result_document
from mock_server.public.serialize import job_json
from statemachine import FileSpec
from statemachine.scenarios import Scenario

from .conftest import Finished, Upload, finish, run_to_end, run_until_open, with_errors

UPLOADS: list[list[Upload]] = [
    [("tower-a.pdf", 1_200_000, "plans"), ("specs.pdf", 900_000, "specifications")],
    [("rfis.pdf", 450_000, "documents"), ("mixed.pdf", 800_000, "mixed"), ("x.pdf", 99, None)],
]


def _result(done: Finished, store: ContentStore, index: int = -1) -> dict[str, Any]:
    job = done.jobs[index]
    return build_result(
        done.engine,
        job,
        store.job(done.engine, job),
        result_url=f"http://mock/r/{job.id}",
        artifact_url_prefix=f"http://mock/api/open/v1/jobs/{job.id}/artifact?path=",
    )


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def test_same_seed_and_uploads_give_byte_identical_results_and_entities() -> None:
    runs = [finish(UPLOADS, seed=9, scenario=with_errors(0.2)) for _ in range(2)]
    stores = [ContentStore(9), ContentStore(9)]
    results = [
        [_dump(_result(r, s, i)) for i in range(2)] for r, s in zip(runs, stores, strict=True)
    ]
    assert results[0] == results[1]
    projects = [s.project(r.engine, r.project) for r, s in zip(runs, stores, strict=True)]
    for kind in ("files", "sheets", "regions", "specifications", "sections", "docs"):
        lists = [p.encode_list(p.list(kind), "/p?path=") for p in projects]  # type: ignore[arg-type]
        assert lists[0] == lists[1] and lists[0] != b"[]"

    other = finish(UPLOADS, seed=10, scenario=with_errors(0.2))
    assert _dump(_result(other, ContentStore(10), 0)) != results[0][0]
    # the content seed alone changes the content of the very same jobs
    assert _dump(_result(runs[0], ContentStore(11), 0)) != results[0][0]


def test_result_entities_match_the_page_outcomes() -> None:
    done = finish(UPLOADS, seed=4, scenario=with_errors(0.3))
    store = ContentStore(4)
    for i, job in enumerate(done.jobs):
        result = _result(done, store, i)
        usage = result["usage"]
        sheets = [s for d in result["documents"] for s in d["sheets"]]
        assert len(sheets) == usage["successfulDrawingPageCount"]
        failed = [e for e in result["errors"] if e["code"] == "page_failed"]
        assert len(failed) == usage["pageCount"] - usage["successfulPageCount"] > 0
        for doc in result["documents"]:
            bad = {e["pageNumber"] for e in failed if e["documentId"] == doc["documentId"]}
            assert len(bad) == doc["failedPageCount"]
            assert not bad & {s["pageNumber"] for s in doc["sheets"]}
            for spec in doc["specifications"] or []:
                assert spec["pageStart"] not in bad and spec["pageEnd"] not in bad
            for d in doc["docs"] or []:
                assert d["pageStart"] not in bad and d["pageEnd"] not in bad
        assert job.state == "completed_with_errors"


@st.composite
def uploads(draw: st.DrawFn) -> list[Upload]:
    n = draw(st.integers(1, 4))
    return [
        (
            f"f{i}.pdf",
            draw(st.integers(0, 900_000)),
            draw(
                st.sampled_from(
                    [None, "plans", "specifications", "documents", "addenda", "mixed", "other"]
                )
            ),
        )
        for i in range(n)
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    files=uploads(),
    fraction=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    extra=st.sampled_from([(0, "document"), (3, "drawing"), (4, "document")]),
    seed=st.integers(0, 1000),
)
def test_counts_agree_with_usage(
    files: list[Upload], fraction: float, extra: tuple[int, str], seed: int
) -> None:
    scenario = Scenario(
        name="prop",
        outcome="completed_with_errors" if fraction else "completed",
        failed_page_fraction=fraction,
        pages_per_second=100.0,
        extra_pages=extra[0],
        extra_page_kind=extra[1],  # type: ignore[arg-type]
    )
    done = finish([files], seed=seed, scenario=scenario)
    job = done.job
    assert job.state in ("completed", "completed_with_errors")
    store = ContentStore(seed)
    result = _result(done, store)
    usage, docs = result["usage"], result["documents"]
    sheets = [s for d in docs for s in d["sheets"]]
    assert len(sheets) == usage["successfulDrawingPageCount"]
    assert len([e for e in result["errors"] if e["code"] == "page_failed"]) == (
        usage["pageCount"] - usage["successfulPageCount"]
    )
    assert sum(d["successfulPageCount"] for d in docs) == usage["successfulPageCount"]
    content = store.job(done.engine, job)
    regions = [r for d in content.documents for r in d.regions]
    assert len(result["evidence"]) == sum(1 for r in regions if r.text)
    for d, c in zip(docs, content.documents, strict=True):
        facts = c.facts
        # specification and doc pages: every successful one belongs to one entity
        spec_pages = sum(
            1 for n in range(1, facts.pages + 1) if facts.succeeded(n) and not facts.is_drawing(n)
        )
        if d["classification"] == "specifications":
            assert (spec_pages > 0) == bool(d["specifications"])
            assert d["docs"] is None
        if d["classification"] in ("documents", "addenda"):
            assert (spec_pages > 0) == bool(d["docs"])
            assert d["specifications"] is None
        if d["classification"] in ("plans", "other"):
            assert d["specifications"] is None and d["docs"] is None
        assert bool(d["artifacts"]) == (d["successfulPageCount"] > 0)


def test_facts_read_the_engines_page_plan() -> None:
    done = finish(UPLOADS[:1], seed=3, scenario=with_errors(0.25, extra_pages=2))
    parts = done.engine.page_breakdown(done.job)
    facts = facts_from_job(done.engine, done.job)
    assert [f.pages for f in facts] == [p.pages for p in parts]
    assert [f.drawing_pages for f in facts] == [p.drawing_pages for p in parts]
    assert [f.failed_page_numbers for f in facts] == [p.failed_page_numbers for p in parts]
    assert [f.successful_pages for f in facts] == [p.successful_pages for p in parts]
    assert [f.document_id for f in facts] == [f.document_id for f in done.job.files]


def test_content_is_generated_only_when_a_result_asks() -> None:
    """Transitions and polls generate nothing; the first result generates each document once."""
    state = MockState(MockConfig(clock="manual", seed=1, polling="off"))
    engine = state.engine
    engine.set_balance("org", 10**9)
    project, _ = engine.create_project("org", "lazy")
    engine.advance(10)
    jobs = []
    for i in range(30):
        job = engine.create_job(project, scenario="with_errors" if i % 2 else "happy")
        run_until_open(engine, job)
        engine.add_files(job, [FileSpec("a.pdf", 500_000, classification="mixed")])
        engine.complete_uploads(job)
        while job.state not in ("completed", "completed_with_errors"):
            job_json(state, job)  # the poll path
            engine.advance(5)
        run_to_end(engine, job)
        jobs.append(job)
    assert state.content.generated == 0
    first = result_document(state, jobs[0])
    assert state.content.generated == 1
    assert result_document(state, jobs[0]) == first
    assert state.content.generated == 1  # kept, not generated again
    state.reset()
    assert state.content.generated == 1 and not state.content._documents
