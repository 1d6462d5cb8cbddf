"""The server's configuration: every `plangrep-mock serve` option, plus a few knobs for tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "ALL_SCOPES",
    "CHECK_DEFAULT_EXAMPLES",
    "CHECK_DEFAULT_JITTER",
    "CHECK_DEFAULT_TIME_SCALE",
    "POLLING_POLICIES",
    "KeySpec",
    "MockConfig",
    "parse_key_spec",
]

ALL_SCOPES: frozenset[str] = frozenset({"jobs:read", "jobs:write", "artifacts:read"})
POLLING_POLICIES: tuple[str, ...] = ("enforce", "record", "off")
# `plangrep-mock check`'s defaults, here so that the CLI's help can show them without importing
# the checker (and hypothesis) for every command
CHECK_DEFAULT_TIME_SCALE = 200.0  # a 15 s poll loop: 75 ms of wall time per poll
CHECK_DEFAULT_JITTER = 0.002  # wall seconds a poll may come early (the program's timers, the OS)
CHECK_DEFAULT_EXAMPLES = 20  # drawn after the canonical ones (one per path)
PollingPolicy = Literal["enforce", "record", "off"]
ClockName = Literal["manual", "realtime"]


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One configured API key: its scopes and its organisation (the key itself by default)."""

    key: str
    scopes: frozenset[str] = ALL_SCOPES
    org: str = ""

    @property
    def organisation(self) -> str:
        return self.org or self.key


def parse_key_spec(text: str) -> KeySpec:
    """Parse `KEY[:scope,scope][@org]` as given to `--api-key`.

    Without scopes the key has every scope; without `@org` the key is its own organisation.
    """
    raw = text.strip()
    org = ""
    if "@" in raw:
        raw, org = raw.rsplit("@", 1)
        if not org:
            raise ValueError(f"api key {text!r}: an empty organisation after '@'")
    key, sep, scope_text = raw.partition(":")
    if not key:
        raise ValueError(f"api key {text!r}: the key is empty; use KEY[:scope,scope][@org]")
    if any(c.isspace() for c in key):
        raise ValueError(f"api key {text!r}: a key cannot contain whitespace")
    scopes = ALL_SCOPES
    if sep:
        wanted = frozenset(s.strip() for s in scope_text.split(",") if s.strip())
        unknown = wanted - ALL_SCOPES
        if unknown:
            raise ValueError(
                f"api key {text!r}: unknown scope(s) {', '.join(sorted(unknown))}; "
                f"known scopes: {', '.join(sorted(ALL_SCOPES))}"
            )
        scopes = wanted
    return KeySpec(key=key, scopes=scopes, org=org)


@dataclass(frozen=True, slots=True)
class MockConfig:
    """Configuration of one mock server (defaults = `plangrep-mock serve` defaults)."""

    host: str = "127.0.0.1"
    port: int = 8080
    clock: ClockName = "realtime"
    speed: float = 1.0
    scenario: str = "happy"
    seed: int | None = None
    api_keys: tuple[KeySpec, ...] = ()
    credits: int = 10_000
    polling: PollingPolicy = "enforce"
    max_upload_mb: float = 64.0
    strict_webhook_urls: bool = False
    webhook_timeout: float = 10.0
    webhook_retries: int = 0
    content_packs: tuple[Path, ...] = ()  # JSON files fixing files' content by name
    # not CLI flags: knobs for tests and embedding
    poll_interval: float = 5.0
    journal_size: int = 10_000
    tick_interval: float = 0.02
    clock_origin: float | None = None
    scenario_dir: str | None = None
    # refuse (401) a session cookie the control API did not name, instead of signing it into
    # the default organisation (so a fuzzer's "invalid cookie" probe is refused)
    strict_sessions: bool = False

    def __post_init__(self) -> None:
        if self.clock not in ("manual", "realtime"):
            raise ValueError(f"clock must be manual or realtime, got {self.clock!r}")
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError(f"speed must be a finite number > 0, got {self.speed}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535 (0 picks a free port), got {self.port}")
        if self.polling not in POLLING_POLICIES:
            raise ValueError(
                f"polling must be one of {', '.join(POLLING_POLICIES)}, got {self.polling!r}"
            )
        if self.credits < 0:
            raise ValueError(f"credits must be >= 0, got {self.credits}")
        if not (math.isfinite(self.max_upload_mb) and self.max_upload_mb > 0):
            raise ValueError(f"max_upload_mb must be > 0, got {self.max_upload_mb}")
        if not (math.isfinite(self.webhook_timeout) and self.webhook_timeout > 0):
            raise ValueError(f"webhook_timeout must be > 0, got {self.webhook_timeout}")
        if self.webhook_retries < 0:
            raise ValueError(f"webhook_retries must be >= 0, got {self.webhook_retries}")
        if self.journal_size < 1:
            raise ValueError(f"journal_size must be >= 1, got {self.journal_size}")
        if not (math.isfinite(self.poll_interval) and self.poll_interval >= 0):
            raise ValueError(f"poll_interval must be >= 0, got {self.poll_interval}")
        if not self.tick_interval > 0:
            raise ValueError(f"tick_interval must be > 0, got {self.tick_interval}")
        keys = [k.key for k in self.api_keys]
        if len(set(keys)) != len(keys):
            raise ValueError("api_keys: the same key is configured twice")

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
