"""Fuzz the served `/openapi.json` with schemathesis (issue 8, item 1).

This is `schemathesis run` in-process: its engine, every phase (probing, coverage, fuzzing,
stateful with inferred links), both generation modes (positive and negative) and every check
it has: no 5xx; status codes, content types, headers and bodies as documented; schema-violating
requests rejected; schema-valid requests accepted; requests without or with wrong credentials
refused; unsupported methods answered 405 with `Allow`; ... The server runs in this process
(`MockServerThread` on 127.0.0.1:0) with the manual clock, two configured keys (so a wrong key
is a 401, as schemathesis' auth checks expect) and the polling policy `record` (a 429 would
hide every other answer of `GET /jobs/{jobId}`). Every request also carries the session cookie
of the workspace key routes (`/api/open-api/keys`); the server refuses sessions the control API
did not name (`strict_sessions`, so schemathesis' invalid-cookie probe is a 401), and the
fuzzer's session is of an organisation of its own, so revoking all of its keys never revokes
the fuzzing key.

Generated ids are mostly random strings that only ever reach the 404 branches, so two in three
are swapped (deterministically, from the generated value) for real objects of the fuzzing
key's organisation: a ready project, jobs in several statuses, a document, webhook deliveries,
the entities a finished job extracted and a download token for one of its artifacts.
Destructive control operations are kept sensible: `POST /_mock/reset` is followed by rebuilding
those objects, a fault added through `POST /_mock/faults` is removed right after (an injected
500 is the fault doing its job), and `POST /_mock/keys/{apiKey}/revoke` never gets the fuzzing
key itself.

`positive_data_acceptance` (a schema-valid request must not get a 4xx other than 401, 403, 404,
409, 429) has exceptions, all for rules no JSON Schema of a single request can state, each
covered by its own tests instead (`test_bad_input.py`, tests/mock_server, tests/search): the form
upload (`uploadFiles`), whose acceptance depends on its bytes (a metadata `sha256` must be the
digest of the part it names) and on which parts were sent (`partName` must name one); 422
`limit_exceeded`, API.md's answer when a job would hold more than 100 files or 10,000,000,000
declared bytes counting the files it has; 400 `invalid_cursor` for a list cursor the list never
handed out (only issued cursors are valid); a workspace key's `expiresAt` that is a valid
date-time but not in the future (the future moves with the virtual clock); and 410
`download_token_used` / `download_token_expired` for an artifact download token an earlier
request spent, or that outlived its 5 minutes (the docs: later uses are a 4xx).
`ensure_resource_availability` (a resource just created must not be 404) is excused for a 404
that names another resource than the one created: source text of a new project answers 404
`source_not_found` for the generated `sourceCatalogUri` in its body.

One operation is left out: `GET /_mock/ui/events`, the dashboard's live feed, is a stream that
never ends (server-sent events), so every call would wait for the request timeout;
`tests/ui/test_ui_api.py` covers its answers.

`ROBUSTNESS_FUZZ_EXAMPLES` sets the examples per operation and phase (default 100: about 60-70 s
on 2 cores), `ROBUSTNESS_FUZZ_SEED` the seed (default 8). The totals are printed (`pytest -s`).
"""

from __future__ import annotations

import collections
import json
import os
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.engine import events, from_schema

from mock_server import MockConfig
from mock_server.config import KeySpec
from mock_server.testing import MockServerThread

from .support import Api

FUZZ_KEY = "pgk_fuzz_main"
VICTIM_KEY = "pgk_fuzz_victim"
FUZZ_SESSION = "fuzz"
FUZZ_KEYS_ORG = "org_fuzz_keys"  # the session's organisation: not the fuzzing key's
EXAMPLES = int(os.environ.get("ROBUSTNESS_FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("ROBUSTNESS_FUZZ_SEED", "8"))
REBUILD_EVERY = 150  # calls between rebuilds of the real objects (jobs move on as time passes)
# check -> operations where the OpenAPI document cannot express what the server accepts
EXCLUDED = {("positive_data_acceptance", "POST /api/open/v1/jobs/{jobId}/files")}
ENDLESS = "mockUiEvents"  # the dashboard's live feed: a stream that never ends (see above)


class Pool:
    """Real objects of FUZZ_KEY's organisation that generated path ids are swapped for."""

    def __init__(self, server: MockServerThread) -> None:
        self.api = Api(server, FUZZ_KEY)
        self.lock = threading.Lock()
        self.values: dict[str, list[str]] = {}
        self.rebuilds = 0
        self.rebuild()

    def rebuild(self) -> None:
        api = self.api
        self.rebuilds += 1
        api.control("DELETE", "/faults")
        api.control("PUT", f"/sessions/{FUZZ_SESSION}", json={"org": FUZZ_KEYS_ORG})
        made = api.request(
            "POST",
            "/api/open-api/keys",
            key=False,
            headers={"Cookie": f"plangrep_session={FUZZ_SESSION}"},
            json={"label": f"fuzz-{self.rebuilds}", "scopes": ["jobs:read"]},
        )
        key_id = api.ok(made, 201)["key"]["id"]
        pid = api.ready_project(f"fuzz-{self.rebuilds}-{time.monotonic_ns()}")
        hook = api.server.url + "/_mock/health"  # answers a POST with 405: a failed delivery
        # a named scenario each: leave the scenarios the fuzzer queued to the fuzzer's jobs
        happy = {"X-Mock-Scenario": "happy"}
        fresh = api.create_job(pid, webhookUrl=hook, headers=happy)["job"]["id"]
        uploading = api.create_job(pid, headers=happy)["job"]["id"]
        docs = [u["documentId"] for u in api.upload(uploading)["uploads"]]
        running = api.create_job(pid, headers={"X-Mock-Scenario": "slow"})["job"]["id"]
        api.upload(running)
        api.complete(running)
        blocked = api.create_job(pid, headers={"X-Mock-Scenario": "expensive"})["job"]["id"]
        api.upload(blocked)
        api.complete(blocked)
        done = api.create_job(pid, webhookUrl=hook, headers=happy)["job"]["id"]
        api.upload(done)
        api.complete(done)
        api.advance(30)
        deliveries = api.control("GET", "/webhooks/deliveries").json().get("deliveries", [])
        # what `done` extracted: its file and docs (an unclassified file holds docs), and a
        # download token for one of its artifacts (a fresh one per rebuild: a GET spends it)
        files = api.api("GET", f"/projects/{pid}/files").json().get("files", [])
        entities = api.api("GET", f"/projects/{pid}/docs").json().get("docs", [])
        tokens = []
        if entities:
            url = entities[0]["artifacts"][0]["url"]
            body = {"projectId": pid, "path": url.split("path=", 1)[1]}
            tokens = [api.control("POST", "/artifact-downloads", json=body).json()["token"]]
        self.values = {
            "projectId": [pid],
            "jobId": [fresh, uploading, running, blocked, done],
            "documentId": docs,
            "deliveryId": [d["id"] for d in deliveries][-4:],
            "apiKey": [FUZZ_KEY, VICTIM_KEY],
            "fileId": [f["fileId"] for f in files],
            "docId": [d["docId"] for d in entities][:4],
            "token": tokens,
            "keyId": [key_id],
        }

    def map_path_parameters(
        self, operation_path: str, params: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if not params:
            return params
        out = dict(params)
        for name, value in params.items():
            choices = self.values.get(name)
            if not choices or not isinstance(value, str):
                continue
            h = zlib.crc32(value.encode("utf-8", "surrogatepass"))
            if h % 3:
                out[name] = choices[h % len(choices)]
        if operation_path.endswith("/revoke") and out.get("apiKey") == FUZZ_KEY:
            out["apiKey"] = VICTIM_KEY
        return out


@dataclass
class Totals:
    documented: set[str] = field(default_factory=set)
    cases: int = 0
    excused: int = 0
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    checks: set[str] = field(default_factory=set)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    failure_counts: collections.Counter[tuple[str, str, str]] = field(
        default_factory=collections.Counter
    )
    errors: list[str] = field(default_factory=list)
    phases: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def report(self) -> str:
        called = self.documented & set(self.calls)
        lines = [
            f"schemathesis: {len(self.documented)} documented operations ({len(called)} called), "
            f"{self.cases} test cases, {sum(self.calls.values())} requests (with the checks' "
            f"own, e.g. other methods on each path), {len(self.checks)} checks "
            f"({', '.join(sorted(self.checks))}), {self.seconds:.1f} s",
            f"failures: {len(self.failures)} distinct; {self.excused} excused (see the module "
            "docstring; a phase that had one reports 'failure')",
            f"phases: {self.phases}",
            f"statuses: {dict(sorted(self.statuses.items()))}",
            f"slowest: {self.slowest}",
        ]
        for key, sample in self.failures.items():
            lines.append(f"FAILED {key} x{self.failure_counts[key]}\n{sample}")
        lines += [f"ERROR {e}" for e in self.errors]
        return "\n".join(lines)


# answers to schema-valid requests that depend on more than the request: (status, code)
_UNSTATABLE = {
    # API.md's limits count the job's files and declared bytes together
    (422, "limit_exceeded"),
    # a cursor is valid only as the list that issued it handed it out
    (400, "invalid_cursor"),
    # a download token downloads once and for 5 minutes (the docs: later uses are 4xx)
    (410, "download_token_used"),
    (410, "download_token_expired"),
}


def _unstatable(check: str, recorder: Any, case_id: str) -> bool:
    """A schema-valid request refused for a rule no schema of one request can state
    (`_UNSTATABLE`, or an `expiresAt` that is not in the future)."""
    if check != "positive_data_acceptance":
        return False
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    if response is None:
        return False
    case = recorder.cases[case_id].value
    if case.method.upper() == "HEAD" and response.status_code == 410:
        # a HEAD answer has no body to name its code: a download token spent or expired
        return bool(case.operation.path == "/api/open/v1/artifact-downloads/{token}")
    try:
        error = json.loads(response.content or b"{}").get("error", {})
    except ValueError:
        return False
    if (response.status_code, error.get("code")) in _UNSTATABLE:
        return True
    details = error.get("details") or [{}]
    return (
        response.status_code == 422
        and details[0].get("field") == "expiresAt"
        and "in the future" in details[0].get("message", "")
    )


# 404s about a resource named in the body, not the one in the path (check -> error codes)
_OTHER_RESOURCE = {"ensure_resource_availability": frozenset({"source_not_found"})}


def _other_resource(check: str, recorder: Any, case_id: str) -> bool:
    """A 404 that names another resource than the one the check followed (`_OTHER_RESOURCE`)."""
    codes = _OTHER_RESOURCE.get(check)
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    if not codes or response is None or response.status_code != 404:
        return False
    try:
        return json.loads(response.content or b"{}").get("error", {}).get("code") in codes
    except ValueError:
        return False


def _describe(recorder: Any, case_id: str, message: str) -> str:
    case = recorder.cases[case_id].value
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    got = "no response"
    if response is not None:
        got = f"{response.status_code} {(response.content or b'')[:300]!r}"
    body = case.body if not isinstance(case.body, bytes) else case.body[:300]
    return (
        f"  {message[:400]}\n  request: {case.method} {case.formatted_path} "
        f"headers={dict(case.headers or {})} query={case.query} body={str(body)[:400]}\n"
        f"  response: {got}"
    )


def run_fuzz(server: MockServerThread, examples: int, seed: int) -> Totals:
    pool = Pool(server)
    totals = Totals()
    config = SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "workers": 1,
            # per security scheme, so a case that leaves out a credential on purpose (the
            # session cookie is an apiKey "parameter") is sent without it
            "auth": {
                "openapi": {
                    "bearer": {"bearer": FUZZ_KEY},
                    "session": {"api_key": FUZZ_SESSION},
                }
            },
            "generation": {"max-examples": examples, "mode": "all", "database": "none"},
            "phases": {"stateful": {"max-steps": 10}},
            "checks": {"enabled": True},
            "suppress-health-check": ["all"],
            "continue-on-failure": True,
            "request-timeout": 30,
        }
    )
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json", config=config)
    schema = schema.exclude(operation_id=ENDLESS)
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document has an invalid operation: {result.err()}"
        operation = result.ok()
        totals.documented.add(f"{operation.method.upper()} {operation.path}")

    @schema.hook
    def map_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
        with pool.lock:
            return pool.map_path_parameters(ctx.operation.path, path_parameters)

    @schema.hook
    def after_call(ctx: Any, case: Any, response: Any) -> None:
        path = case.operation.path
        totals.calls[f"{case.method.upper()} {path}"] += 1
        totals.statuses[response.status_code] += 1
        label = f"{case.method.upper()} {path} -> {response.status_code}"
        totals.slowest = sorted([*totals.slowest, (response.elapsed, label)], reverse=True)[:5]
        with pool.lock:
            if path == "/_mock/faults" and case.method.upper() == "POST":
                pool.api.control("DELETE", "/faults")
            was_reset = path == "/_mock/reset" and response.status_code == 200
            if was_reset or sum(totals.calls.values()) % REBUILD_EVERY == 0:
                pool.rebuild()

    started = time.perf_counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished):
            totals.phases[event.phase.name.value] = event.status.value
        elif isinstance(event, events.NonFatalError | events.FatalError):
            totals.errors.append(repr(event))
        elif isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            totals.cases += len(recorder.cases)
            for case_id, nodes in recorder.checks.items():
                for node in nodes:
                    totals.checks.add(node.name)
                    info = node.failure_info
                    if info is None:
                        continue
                    case = recorder.cases[case_id].value
                    op = f"{case.method.upper()} {case.operation.path}"
                    excused = (node.name, op) in EXCLUDED
                    if (
                        excused
                        or _unstatable(node.name, recorder, case_id)
                        or _other_resource(node.name, recorder, case_id)
                    ):
                        totals.excused += 1
                        continue
                    key = (op, node.name, getattr(info.failure, "title", ""))
                    totals.failure_counts[key] += 1
                    if key not in totals.failures:
                        totals.failures[key] = _describe(
                            recorder, case_id, str(getattr(info.failure, "message", ""))
                        )
    totals.seconds = time.perf_counter() - started
    # `POST /_mock/reset` keeps server errors, so every one raised during the run is here
    totals.errors += [f"the server raised {e!r}" for e in server.server_errors()]
    return totals


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[MockServerThread]:
    config = MockConfig(
        clock="manual",
        port=0,
        polling="record",
        seed=SEED,
        webhook_timeout=1.0,
        api_keys=(KeySpec(FUZZ_KEY), KeySpec(VICTIM_KEY)),
        strict_sessions=True,
    )
    with MockServerThread(config) as server:
        yield server


def test_openapi_fuzz_finds_no_5xx_and_no_undocumented_answer(
    fuzz_server: MockServerThread,
) -> None:
    totals = run_fuzz(fuzz_server, EXAMPLES, SEED)
    print("\n" + totals.report())
    assert not totals.failures and not totals.errors, totals.report()
    # it did reach the server, across the whole document
    assert len(totals.documented) >= 24 and totals.documented <= set(totals.calls)
    assert sum(totals.calls.values()) > 1000
    assert any(200 <= s < 300 for s in totals.statuses)
    assert 500 not in totals.statuses and 503 not in totals.statuses
