"""Index readiness on the virtual clock, and the registry that applies it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.search import (
    DEFAULT_INDEX_DELAY,
    IndexNotReady,
    IndexReadiness,
    SearchIndexes,
    SearchValidationError,
)

from .conftest import PROJECT, region, small_project


def test_a_project_nothing_wrote_to_is_ready() -> None:
    r = IndexReadiness()
    assert r.is_ready(0.0) and r.retry_after(0.0) == 0
    r.check(0.0)


def test_a_write_makes_the_index_ready_delay_seconds_later() -> None:
    r = IndexReadiness().after_write(100.0, 10.0)
    assert (r.ready_at, r.written_at) == (110.0, 100.0)
    assert not r.is_ready(100.0) and not r.is_ready(109.999)
    assert r.is_ready(110.0) and r.is_ready(500.0)
    assert [r.retry_after(t) for t in (100.0, 100.5, 109.0, 109.9, 110.0)] == [10, 10, 1, 1, 0]


def test_the_default_delay_is_ten_seconds() -> None:
    assert DEFAULT_INDEX_DELAY == 10.0
    assert IndexReadiness().after_write(0.0).ready_at == 10.0


def test_writes_move_the_ready_time_later_never_earlier() -> None:
    r = IndexReadiness().after_write(0.0, 10.0).after_write(1.0, 2.0)
    assert r.ready_at == 10.0  # the second job's short delay does not skip the first's
    r = r.after_write(5.0, 10.0)
    assert r.ready_at == 15.0


def test_a_zero_delay_is_ready_at_once() -> None:
    assert IndexReadiness().after_write(7.0, 0.0).is_ready(7.0)


@pytest.mark.parametrize("delay", [-1.0, float("nan"), float("inf")])
def test_a_bad_delay_is_refused(delay: float) -> None:
    with pytest.raises(SearchValidationError):
        IndexReadiness().after_write(0.0, delay)


@given(
    now=st.floats(0, 1e9),
    delay=st.floats(0, 1e6),
    waited=st.floats(0, 2e6),
)
def test_retry_after_is_whole_seconds_and_never_early(
    now: float, delay: float, waited: float
) -> None:
    r = IndexReadiness().after_write(now, delay)
    t = now + waited
    wait = r.retry_after(t)
    assert isinstance(wait, int)
    if r.is_ready(t):
        assert wait == 0
    else:
        assert wait >= 1
        assert r.is_ready(t + wait)  # waiting as told is enough
        r2 = IndexReadiness(ready_at=r.ready_at)
        assert wait - 1 < (r2.ready_at or 0) - t + 1e-6  # and not a second more than needed


def test_check_raises_index_not_ready_with_retry_after() -> None:
    r = IndexReadiness().after_write(0.0, 10.0)
    with pytest.raises(IndexNotReady) as info:
        r.check(3.2)
    assert info.value.retry_after == 7 and info.value.code == "index_not_ready"
    assert "retry in 7 s" in str(info.value)


def test_the_registry_answers_409_material_until_ready_and_text_at_once() -> None:
    reg = SearchIndexes()
    reg.write(PROJECT, small_project(), now=0.0, delay=10.0)
    with pytest.raises(IndexNotReady) as info:
        reg.search(PROJECT, "batt", now=5.0)
    assert info.value.retry_after == 5
    # source text needs no index: a hit's text is readable as soon as the job wrote it
    uri = small_project()[0].uri
    assert reg.source_text(PROJECT, uri).text.startswith("Provide R-19")
    assert reg.search(PROJECT, "batt", now=10.0).hits[0].uri == uri
    # a second job: not ready again, and the new source is there once it is
    reg.write(PROJECT, [region("reg_50", "terrazzo divider strips")], now=20.0, delay=3.0)
    with pytest.raises(IndexNotReady):
        reg.search(PROJECT, "terrazzo", now=22.0)
    assert reg.search(PROJECT, "terrazzo", now=23.0).hit_count == 1


def test_projects_have_separate_indexes() -> None:
    reg = SearchIndexes()
    reg.write("proj_a", [region("reg_1", "terrazzo")], now=0.0, delay=0.0)
    reg.write("proj_b", [region("reg_2", "plywood")], now=0.0, delay=100.0)
    assert reg.search("proj_a", "terrazzo", now=1.0).hit_count == 1
    assert reg.search("proj_a", "plywood", now=1.0).hit_count == 0
    assert reg.search("proj_c", "terrazzo", now=1.0).hit_count == 0  # nothing written: empty
    with pytest.raises(IndexNotReady):
        reg.search("proj_b", "plywood", now=1.0)


def test_drop_and_clear_forget_projects() -> None:
    reg = SearchIndexes()
    reg.write("proj_a", [region("reg_1", "terrazzo")], now=0.0, delay=50.0)
    reg.drop("proj_a")
    assert reg.search("proj_a", "terrazzo", now=0.0).hit_count == 0  # ready and empty
    reg.write("proj_b", [region("reg_1", "terrazzo")], now=0.0, delay=0.0)
    reg.clear()
    assert reg.search("proj_b", "terrazzo", now=0.0).hit_count == 0
