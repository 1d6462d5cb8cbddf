"""The virtual clock: `manual` (moves only when advanced) or `realtime` (origin + wall x speed)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import StrEnum

__all__ = ["Clock", "ClockMode", "format_time", "parse_time"]


class ClockMode(StrEnum):
    MANUAL = "manual"
    REALTIME = "realtime"


class Clock:
    """Virtual time in epoch seconds.

    In realtime mode now = origin + offset + (monotonic elapsed) x speed; advancing adds to the
    offset in both modes, so tests can jump ahead of a realtime clock too. `hold()` stops a
    realtime clock where it is until `release()` (a contract check holds it while the program
    under test starts, so its start-up costs no virtual time).
    """

    __slots__ = ("_held", "_offset", "_start", "mode", "origin", "speed")

    def __init__(
        self,
        mode: ClockMode | str = ClockMode.MANUAL,
        *,
        origin: float | None = None,
        speed: float = 1.0,
    ) -> None:
        self.mode = ClockMode(mode)
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        self.speed = float(speed)
        self.origin = float(origin) if origin is not None else round(time.time(), 3)
        self._offset = 0.0
        self._start = time.monotonic()
        self._held: float | None = None

    def now(self) -> float:
        if self._held is not None:
            return self._held
        if self.mode is ClockMode.MANUAL:
            return self.origin + self._offset
        return self.origin + self._offset + (time.monotonic() - self._start) * self.speed

    def advance(self, seconds: float) -> float:
        if not seconds >= 0:  # also rejects NaN
            raise ValueError(f"cannot advance the clock by {seconds}; seconds must be >= 0")
        if self._held is not None:
            self._held += seconds
            return self._held
        self._offset += seconds
        return self.now()

    @property
    def held(self) -> bool:
        return self._held is not None

    def hold(self) -> float:
        """Stop the clock at the current time (until `release()`); returns that time."""
        if self._held is None:
            self._held = self.now()
        return self._held

    def release(self) -> None:
        """Let a held clock run again from the time it was held at (advances included)."""
        held = self._held
        if held is None:
            return
        self._held = None
        elapsed = (time.monotonic() - self._start) * self.speed
        realtime = self.mode is ClockMode.REALTIME
        self._offset = held - self.origin - (elapsed if realtime else 0.0)


def format_time(t: float) -> str:
    """ISO 8601 UTC with milliseconds, as Plangrep writes timestamps."""
    ms = round(t * 1000)
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
