from __future__ import annotations

import math
import time

import pytest

from statemachine import Clock, format_time, parse_time


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = Clock("manual", origin=1730538000.0)
    assert clock.now() == 1730538000.0
    time.sleep(0.01)
    assert clock.now() == 1730538000.0
    assert clock.advance(2.5) == 1730538002.5


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_advance_rejects_negative_and_nan(bad: float) -> None:
    with pytest.raises(ValueError, match="seconds must be >= 0"):
        Clock("manual").advance(bad)


def test_realtime_clock_runs_at_speed() -> None:
    clock = Clock("realtime", origin=0.0, speed=1000.0)
    a = clock.now()
    time.sleep(0.02)
    b = clock.now()
    assert b - a >= 0.02 * 1000 * 0.5  # moved by wall time x speed (loose lower bound)
    clock.advance(3600)
    assert clock.now() - b >= 3600


def test_bad_speed_and_mode() -> None:
    with pytest.raises(ValueError, match="speed must be > 0"):
        Clock("realtime", speed=0)
    with pytest.raises(ValueError):
        Clock("sideways")


def test_format_time_is_iso_utc_with_milliseconds() -> None:
    assert format_time(1730538000.0) == "2024-11-02T09:00:00.000Z"
    assert format_time(1730538000.1239) == "2024-11-02T09:00:00.124Z"
    assert format_time(1730538000.9996) == "2024-11-02T09:00:01.000Z"
    assert parse_time("2024-11-02T09:00:00.000Z") == 1730538000.0


def test_a_held_realtime_clock_stands_still_then_runs_on_from_where_it_was_held() -> None:
    clock = Clock("realtime", origin=0.0, speed=100.0)
    held = clock.hold()
    time.sleep(0.2)
    assert clock.now() == held and clock.held
    assert clock.advance(5) == held + 5  # advancing a held clock moves the held time
    clock.release()
    assert not clock.held
    after = clock.now()
    assert held + 5 <= after < held + 5 + 10  # not the 20 s of wall time x speed it was held
    time.sleep(0.02)
    assert clock.now() - after >= 0.02 * 100 * 0.5  # running again
    clock.release()  # releasing a running clock does nothing


def test_holding_a_manual_clock_keeps_its_time() -> None:
    clock = Clock("manual", origin=100.0)
    clock.hold()
    clock.advance(1)
    clock.release()
    assert clock.now() == 101.0
