"""The server's state: engine, configuration, keys, journal, violations, idempotency, polling.

Other parts of the server (webhooks, uploads) plug in through this object:

- `state.subscribe(fn)` subscribes `fn(record, obj)` to the engine's transitions, now and after
  every `reset()` (which builds a fresh engine); prefer it to `state.engine.subscribe`.
- `state.on_reset.append(fn)` runs `fn(state)` after `POST /_mock/reset`, to clear your stores.
- `state.result_url`: `fn(state, job) -> str`, set by the uploads part; `job_json` puts its value
  into `resultUrl` of completed and completed_with_errors jobs (null while unset).
- `state.complete_resolver`: `fn(state, job, body) -> (include, failed)`, set by the uploads part,
  resolves the whole complete-uploads body (documentIds, directUploads, multipartUploads,
  failedUploads); without it only `documentIds` is understood.
- `state.content`: the synthetic content (`mock_server.content.ContentStore`).
- `state.api_faults`: an object with `take_api_fault(path) -> fault | None` (fault: `mode`
  "error" or "latency", `status`, `seconds`), set by the faults part; the public API consults it
  once per public request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

from aiohttp import web

from statemachine import Clock, Engine, ScenarioRegistry, load_scenario_dir
from statemachine.engine import Job, JobFile, Project, TransitionRecord

from .config import ALL_SCOPES, KeySpec, MockConfig
from .content import ContentStore, load_content_packs
from .idempotency import IdempotencyStore
from .journal import Journal, ViolationLog
from .polling import PollTracker

if TYPE_CHECKING:
    from .models import CompleteUploadsRequest

__all__ = [
    "STATE_KEY",
    "ApiFault",
    "ApiFaultSource",
    "CompleteResolver",
    "KeyRegistry",
    "MockState",
    "ResolvedKey",
]


class ApiFault(Protocol):
    @property
    def mode(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def seconds(self) -> float | None: ...


class ApiFaultSource(Protocol):
    def take_api_fault(self, path: str) -> ApiFault | None: ...


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    key: str
    org: str
    scopes: frozenset[str]


class KeyRegistry:
    """Which bearer tokens are accepted, their organisation and scopes, and revocations.

    Without configured keys any non-empty token is accepted with every scope and is its own
    organisation; with configured keys only those are accepted.
    """

    def __init__(self, specs: tuple[KeySpec, ...] = ()) -> None:
        self._configured = {s.key: s for s in specs}
        self._revoked: set[str] = set()
        self._resolved: dict[str, ResolvedKey] = {}

    @property
    def open(self) -> bool:
        return not self._configured

    def resolve(self, token: str) -> ResolvedKey | None:
        """The key's identity, or None when it is unknown or revoked."""
        known = self._resolved.get(token)
        if known is not None:
            return known
        if not token or token in self._revoked:
            return None
        if not self._configured:
            resolved = ResolvedKey(token, token, ALL_SCOPES)
        else:
            spec = self._configured.get(token)
            if spec is None:
                return None
            resolved = ResolvedKey(token, spec.organisation, spec.scopes)
        if len(self._resolved) < 100_000:  # any token is a key by default: stay bounded
            self._resolved[token] = resolved
        return resolved

    def organisation(self, token: str) -> str | None:
        """The organisation of a key whether or not it is revoked (for the control API)."""
        if not token:
            return None
        if not self._configured:
            return token
        spec = self._configured.get(token)
        return spec.organisation if spec else None

    def revoke(self, token: str) -> None:
        self._revoked.add(token)
        self._resolved.pop(token, None)

    def is_revoked(self, token: str) -> bool:
        return token in self._revoked

    def clear_revocations(self) -> None:
        self._revoked.clear()
        self._resolved.clear()


Subscriber = Callable[[TransitionRecord, "Job | Project"], None]
# (state, job, body) -> (files to process or None for every uploaded one, [(file, reason)] failed)
CompleteResolver: TypeAlias = Callable[
    ["MockState", Job, "CompleteUploadsRequest"],
    tuple[list[JobFile] | None, list[tuple[JobFile, str]]],
]


class MockState:
    """Everything one mock server holds; lives under `app[STATE_KEY]`."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.clock = Clock(config.clock, origin=config.clock_origin, speed=config.speed)
        self.scenarios = ScenarioRegistry(
            load_scenario_dir(config.scenario_dir) if config.scenario_dir else None
        )
        # fails early with UnknownScenario if the default scenario does not exist
        self.scenarios.get(config.scenario)
        self.keys = KeyRegistry(config.api_keys)
        # the synthetic extracted content, generated when a result or a read asks; a bad
        # content pack fails here, early (ContentPackError is a ValueError)
        self.content = ContentStore(config.seed, load_content_packs(config.content_packs))
        self.journal = Journal(config.journal_size)
        self.violations = ViolationLog()
        self.idempotency = IdempotencyStore()
        self.polls = PollTracker(config.poll_interval)
        self.server_errors: list[BaseException] = []
        # job id -> (what the Job object depends on, its serialized `{"job": ...}`)
        self.job_json_cache: dict[str, tuple[object, bytes]] = {}
        self.on_reset: list[Callable[[MockState], None]] = []
        self.result_url: Callable[[MockState, Job], str] | None = None
        self.api_faults: ApiFaultSource | None = None
        self.complete_resolver: CompleteResolver | None = None
        self.started_wall = time.time()
        self._subscribers: list[Subscriber] = []
        self.engine = self._new_engine()

    def _new_engine(self) -> Engine:
        engine = Engine(
            self.clock,
            scenarios=self.scenarios,
            default_scenario=self.config.scenario,
            seed=self.config.seed,
            default_credits=self.config.credits,
        )
        for fn in self._subscribers:
            engine.subscribe(fn)
        return engine

    def subscribe(self, fn: Subscriber) -> None:
        """Subscribe to the transitions of this engine and of every engine after a reset."""
        self._subscribers.append(fn)
        self.engine.subscribe(fn)

    @property
    def now(self) -> float:
        return self.engine.now

    def reset(self) -> None:
        """Forget every project, job, account, request, violation and revocation; the clock goes
        on from where it is. Server errors are kept: each is a bug that must reach the test."""
        self.engine = self._new_engine()
        self.keys.clear_revocations()
        self.journal.clear()
        self.violations.clear()
        self.idempotency.clear()
        self.polls.clear()
        self.job_json_cache.clear()
        self.content.clear()
        for fn in list(self.on_reset):
            fn(self)


STATE_KEY: web.AppKey[MockState] = web.AppKey("plangrep_mock_state", MockState)
