"""The server's state: everything one mock server holds, under `app[STATE_KEY]`.

Like a moto backend, it has no HTTP in it: the engine, the keys and sessions, the journal and
violations, the idempotency store, the polling rule's memory, signed storage, the synthetic
content and its search indexes, the faults and the webhook dispatcher. Each part is built here
and reset here (`reset()`), explicitly; `create_app` adds the HTTP side (middleware, endpoints,
the dispatcher's session and the realtime ticker).

`subscribe(fn)` adds a transition subscriber `fn(record, obj)` that follows the engine across
resets (the contract kit and tests use it); the parts above are subscribed by the state itself.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from statemachine import (
    UPLOAD_WINDOW,
    Clock,
    Engine,
    Job,
    Project,
    ScenarioRegistry,
    TransitionRecord,
    load_scenario_dir,
)

from .config import MockConfig
from .content import RESULT_STATUSES, ContentStore, load_content_packs
from .faults import FaultRegistry
from .http.idempotency import IdempotencyStore
from .indexing import SearchFeed
from .journal import Journal, ViolationLog
from .keys import KeyRegistry, ResolvedKey, SessionBook
from .polling import SeenBook
from .public.serialize import job_json
from .storage import Storage, StorageSettings
from .webhooks.dispatcher import WebhookDispatcher

__all__ = ["STATE_KEY", "KeyRegistry", "MockState", "ResolvedKey"]


Subscriber = Callable[[TransitionRecord, "Job | Project"], None]


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
        self.keys = KeyRegistry(config.api_keys, created_at=self.clock.now())
        self.sessions = SessionBook(self.keys.default_org, strict=config.strict_sessions)
        self.journal = Journal(config.journal_size)
        self.violations = ViolationLog()
        self.idempotency = IdempotencyStore()
        self.polls = SeenBook(config.poll_interval)
        # with a seed, the signing key follows it too: the same seed and uploads give the same
        # upload tokens and result URLs (and so byte-identical results)
        key = (
            None
            if config.seed is None
            else hashlib.sha256(f"plangrep-mock storage key {config.seed}".encode()).digest()
        )
        self.storage = Storage(StorageSettings.from_config(config), key)
        # the synthetic extracted content, generated when a result or a read asks; a bad
        # content pack fails here, early (ContentPackError is a ValueError)
        self.content = ContentStore(config.seed, load_content_packs(config.content_packs))
        # each project's source index, fed from the content of its finished jobs when a search
        # first needs it
        self.search = SearchFeed(self.content)
        self.faults = FaultRegistry()
        self.server_errors: list[BaseException] = []
        # requests being handled (headers in, answer not sent): serve's shutdown waits for them
        self.in_flight = 0
        # job id -> (what the Job object depends on, its serialized `{"job": ...}`)
        self.job_json_cache: dict[str, tuple[object, bytes]] = {}
        self.started_wall = time.time()
        self._subscribers: list[Subscriber] = []
        self.engine = self._new_engine()
        self.webhooks = WebhookDispatcher(
            self.engine,
            self._render_job,
            faults=self.faults,
            timeout=config.webhook_timeout,
            retries=config.webhook_retries,
            subscribe=False,
            on_error=self.server_errors.append,
        )

    def _render_job(self, job: Job, status: str) -> dict[str, Any]:
        return job_json(self, job, status=status)

    def _new_engine(self) -> Engine:
        engine = Engine(
            self.clock,
            scenarios=self.scenarios,
            default_scenario=self.config.scenario,
            seed=self.config.seed,
            default_credits=self.config.credits,
        )
        engine.subscribe(self._on_transition)
        for fn in self._subscribers:
            engine.subscribe(fn)
        return engine

    def _on_transition(self, record: TransitionRecord, obj: Job | Project) -> None:
        """The state's own parts follow every transition: webhooks go out, the bytes held for
        a job's uploads are released once its upload window closes, and a job that wrote its
        entities is noted for its project's search index."""
        if record.kind != "job":
            return
        self.webhooks.on_transition(record, obj)
        if record.src in UPLOAD_WINDOW and record.dst not in UPLOAD_WINDOW:
            self.storage.release_job(record.object_id)
        if record.dst in RESULT_STATUSES:
            assert isinstance(obj, Job)
            self.search.job_finished(obj, record.at)

    def subscribe(self, fn: Subscriber) -> None:
        """Subscribe to the transitions of this engine and of every engine after a reset."""
        self._subscribers.append(fn)
        self.engine.subscribe(fn)

    @property
    def now(self) -> float:
        return self.engine.now

    def reset(self) -> None:
        """Forget every project, job, account, session, created key, request, violation,
        upload, search index, fault, delivery and revocation; the clock goes on from where it
        is. Server errors are kept: each is a bug that must reach the test."""
        self.engine = self._new_engine()
        self.keys.reset()
        self.sessions.clear()
        self.journal.clear()
        self.violations.clear()
        self.idempotency.clear()
        self.polls.clear()
        self.job_json_cache.clear()
        self.storage.clear()
        self.content.clear()
        self.search.clear()
        self.faults.clear()
        self.webhooks.reset(self.engine)


STATE_KEY: web.AppKey[MockState] = web.AppKey("plangrep_mock_state", MockState)
