"""`check_receiver`: send a campaign of valid and adversarial webhook deliveries to an
integrator's receiver and judge every answer against the receiver rules of the registry.

    from mock_server.contract import check_receiver
    check_receiver("http://127.0.0.1:8000/webhooks", secret="wss_...")   # or an aiohttp app

The campaign is real job events (the mock's engine over the machine's paths, rendered as the
dispatcher renders them) in many byte-level serializations, each sent as a valid delivery or as
one mutation of it (`deliveries.MUTATIONS`): a fixed canonical part first, then
`max_examples` jobs drawn by hypothesis. Probes go out one at a time over HTTP/1.1. Each answer
is judged by every rule's judge (`JUDGES`, one function per receiver rule, named by its id);
a receiver that breaks any rule gets a `ReceiverViolation` (a `ContractViolation`) holding the
full `CheckResult`, with the exact request and answer of each finding.

What a receiver must answer (defined by the mock; Plangrep documents only that the receiver
answers 2xx within a reasonable timeout): 2xx to every valid delivery, duplicates and late ones
included, within `slow_ack` seconds; for a delivery that does not verify, any status that is not
2xx and not 5xx, promptly: 400, 401 or 403 are the usual answers. 2xx there counts as accepted;
5xx, a reset connection or no answer within `timeout` counts as a crash.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..testing import MockServerThread
from ..webhooks.signing import new_message_id
from .deliveries import TOLERANCE, Answer, BodyStyle, Event, Probe, WireRequest, build_request
from .deliveries import secret_key as _secret_key
from .kit import search_settings
from .receiver_strategies import (
    EventSource,
    JobPlan,
    Step,
    canonical_campaign,
    draw_steps,
    job_plans,
)
from .reports import CheckResult, Finding, RuleResult, text_report
from .rules import rule, rules
from .strategies import PATHS
from .violations import ContractViolation

__all__ = [
    "DEFAULT_SLOW_ACK",
    "DEFAULT_TIMEOUT",
    "JUDGES",
    "PASSED",
    "Limits",
    "Outcome",
    "ReceiverUnreachable",
    "ReceiverViolation",
    "StateCheck",
    "StateProbe",
    "check_receiver",
    "run_receiver_check",
]

DEFAULT_SLOW_ACK = 5.0
DEFAULT_TIMEOUT = 10.0  # the mock's own delivery timeout
PASSED = ""  # a judge's verdict when its rule applies and holds

StateProbe = Callable[[str], "str | None"] | str


class ReceiverUnreachable(ConnectionError):
    """Nothing answered at the receiver's address: the check could not start (or the receiver
    stopped listening during it)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"cannot reach the webhook receiver at {url}: {reason}; start the receiver first "
            "and pass the URL it listens on (e.g. http://127.0.0.1:8000/webhooks)"
        )
        self.url = url
        self.reason = reason


class ReceiverViolation(ContractViolation):
    """The receiver broke one or more receiver rules. `result` is the whole `CheckResult`
    (write it with `reports.write_junit` / `write_json`); `rule` is the first broken rule,
    `request` and `answer` its first finding's (as dicts: headers, body bytes as base64)."""

    def __init__(self, result: CheckResult) -> None:
        failed = result.failed_rules
        first = failed[0]
        details = first.findings[0].details if first.findings else {}
        header = (
            f"check_receiver: the receiver at {result.target} broke {len(failed)} rule(s): "
            + ", ".join(r.rule.id for r in failed)
        )
        super().__init__(
            header + "\n" + text_report(result),
            rule=first.rule.id,
            seed=result.seed,
            requests=[f.text for r in failed for f in r.findings[:1]],
            violations=[
                {"rule": r.rule.id, "message": f.message, **f.details}
                for r in failed
                for f in r.findings[:1]
            ],
        )
        self.result = result
        self.request: dict[str, Any] = dict(details.get("request", {}))
        self.answer: dict[str, Any] = dict(details.get("answer", {}))


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True, slots=True)
class Limits:
    slow_ack: float = DEFAULT_SLOW_ACK
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, slots=True)
class StateCheck:
    """What the state probe said after a delivery: `expected` is the status of the newest
    event the receiver acknowledged (by `data.sequence`)."""

    job_id: str
    expected: str
    expected_sequence: int
    observed: str | None
    after: str  # "late delivery" | "end of job"


@dataclass(frozen=True, slots=True)
class Outcome:
    probe: Probe
    answer: Answer
    original_accepted: bool = True  # duplicates: the first delivery of the event got 2xx
    state: StateCheck | None = None


Judge = Callable[[Outcome, Limits], "str | None"]
JUDGES: dict[str, Judge] = {}


def _judge(rule_id: str) -> Callable[[Judge], Judge]:
    """Register the judge of a receiver rule of the registry. A judge returns None when its
    rule does not apply to the outcome, `PASSED` when it applies and holds, else the message."""
    found = rule(rule_id)
    if found.family != "receiver":
        raise ValueError(f"{rule_id} is a {found.family} rule, not a receiver rule")

    def register(fn: Judge) -> Judge:
        JUDGES[rule_id] = fn
        return fn

    return register


def _why_valid_failed(o: Outcome) -> list[str]:
    p, a = o.probe, o.answer
    if a.status in (404, 405):
        return ["is the URL right? every probe is a POST to it"]
    if a.status == 413:
        return [f"the body was {len(p.request.body)} bytes: allow bodies of 1 MB or more"]
    if a.status is None:
        return [f"no answer ({a.error})"]
    hints = []
    if p.kind == "late":
        hints.append(
            "an older status delivered after a newer one is still a valid delivery: "
            "acknowledge it with 2xx and ignore it (a non-2xx makes the sender retry it)"
        )
    if p.knobs.layout != "single":
        hints.append(
            f"the signature header held several signatures ({p.note.split(';')[0]}): try "
            "every `v1,` entry and skip other versions"
        )
    if p.style != BodyStyle():
        hints.append(
            f"the body was serialized with {p.style.describe()}: verify the raw bytes as "
            "received, never re-serialized JSON"
        )
    if not p.request.body.isascii():
        hints.append("the body held raw UTF-8: hash the bytes, not decoded and re-encoded text")
    if p.knobs.header_case != "lower":
        hints.append("header names were not lower-case: HTTP header names are case-insensitive")
    if p.knobs.skew:
        hints.append(
            f"the timestamp was {p.knobs.skew:+d} s from now, within the {TOLERANCE // 60}-minute "
            "tolerance"
        )
    return hints


@_judge("valid_rejected")
def _valid_rejected(o: Outcome, limits: Limits) -> str | None:
    if not o.probe.mutation.expect_accept:
        return None
    if o.probe.kind == "duplicate" and o.original_accepted:
        return None  # judged by duplicate_rejected
    if o.answer.accepted:
        return PASSED
    hints = _why_valid_failed(o)
    why = f"; possible causes: {'; '.join(hints)}" if hints else ""
    return (
        f"a valid delivery was answered {o.answer.describe()}, expected 2xx "
        f"({o.probe.describe()}){why}"
    )


@_judge("duplicate_rejected")
def _duplicate_rejected(o: Outcome, limits: Limits) -> str | None:
    if o.probe.kind != "duplicate" or not o.original_accepted:
        return None
    if o.answer.accepted:
        return PASSED
    return (
        f"a repeated delivery (same webhook-id {o.probe.request.header('webhook-id')}, fresh "
        f"timestamp and signature) was answered {o.answer.describe()}; a retry of an event "
        "already processed must get 2xx (skip the work, keep the answer), or the sender keeps "
        "retrying it"
    )


def _accepted_message(o: Outcome, what: str) -> str:
    m = o.probe.mutation
    return f"{what} was accepted: answered {o.answer.describe()} ({o.probe.describe()}); {m.fix}"


@_judge("forged_accepted")
def _forged_accepted(o: Outcome, limits: Limits) -> str | None:
    if o.probe.mutation.category != "forged":
        return None
    if not o.answer.accepted:
        return PASSED
    return _accepted_message(o, "a delivery that does not verify")


@_judge("stale_accepted")
def _stale_accepted(o: Outcome, limits: Limits) -> str | None:
    if o.probe.mutation.category != "stale":
        return None
    if not o.answer.accepted:
        return PASSED
    return _accepted_message(o, f"a delivery older than the {TOLERANCE // 60}-minute tolerance")


@_judge("future_accepted")
def _future_accepted(o: Outcome, limits: Limits) -> str | None:
    if o.probe.mutation.category != "future":
        return None
    if not o.answer.accepted:
        return PASSED
    return _accepted_message(
        o, f"a delivery dated beyond the {TOLERANCE // 60}-minute tolerance ahead"
    )


@_judge("crash_on_bad_input")
def _crash_on_bad_input(o: Outcome, limits: Limits) -> str | None:
    if o.probe.mutation.expect_accept:
        return None
    if not o.answer.crashed:
        return PASSED
    if o.answer.status is None and o.answer.error == "timeout":
        what = f"got no answer within {limits.timeout:g} s"
    elif o.answer.status is None:
        what = f"got no answer ({o.answer.error}: {o.answer.detail})"
    else:
        what = f"was answered {o.answer.describe()}"
    return (
        f"a malformed delivery ({o.probe.describe()}) {what}; answer it with a 4xx: catch "
        "every error of parsing and verifying (the standardwebhooks library raises ValueError, "
        "not only WebhookVerificationError, for some malformed headers)"
    )


@_judge("slow_ack")
def _slow_ack(o: Outcome, limits: Limits) -> str | None:
    if not o.probe.mutation.expect_accept or not o.answer.accepted:
        return None
    if o.answer.latency <= limits.slow_ack:
        return PASSED
    return (
        f"a valid delivery was acknowledged only after {o.answer.latency:.2f} s (the threshold "
        f"is {limits.slow_ack:g} s; {o.probe.describe()}): answer 2xx first and do the work "
        "in the background"
    )


@_judge("state_regressed")
def _state_regressed(o: Outcome, limits: Limits) -> str | None:
    s = o.state
    if s is None:
        return None
    if s.observed == s.expected:
        return PASSED
    seen = "no status" if s.observed is None else f"status {s.observed!r}"
    return (
        f"after the {s.after} ({o.probe.describe()}) the state probe reports {seen} for "
        f"{s.job_id}, but the newest event the receiver acknowledged is {s.expected!r} "
        f"(sequence {s.expected_sequence}): compare data.sequence and keep the newer status"
    )


# --------------------------------------------------------------------------- HTTP


class _Sender:
    """Probes go out one at a time over one keep-alive HTTP/1.1 connection (http.client: the
    request is written exactly as built, header values as UTF-8 bytes, and nothing but Host and
    Content-Length is added)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the receiver URL must be an absolute http(s) URL, got {url!r}")
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def reachable(self) -> str | None:
        """None when a TCP connection to the receiver opens; else why not."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=min(self.timeout, 5))
        except TimeoutError:
            return f"connecting to {self.host}:{self.port} timed out"
        except OSError as exc:
            return f"{type(exc).__name__}: {exc.strerror or exc}"
        sock.close()
        return None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = cls(self.host, self.port, timeout=self.timeout)
            conn.connect()
            # http.client writes the head and the body separately: without this, Nagle's
            # algorithm holds the body back until the head is acknowledged
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        return self._conn

    def _exchange(self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes
                  ) -> Answer:  # fmt: skip
        started = time.perf_counter()
        try:
            conn = self._connection()
            conn.putrequest(method, target, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value.encode("utf-8"))
            conn.putheader("Content-Length", str(len(body)))
            # the receiver may answer (413, 400) and close before reading a whole body: its
            # answer, if any, is what counts
            with contextlib.suppress(OSError):
                conn.endheaders(body)
            resp = conn.getresponse()
            latency = time.perf_counter() - started
            data = resp.read()
            if resp.will_close:
                self.close()
            return Answer(resp.status, latency, None, None, data[:1024], len(data))
        except Exception as exc:  # every failure is an outcome to judge
            self.close()
            latency = time.perf_counter() - started
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Answer(None, latency, _classify(exc), detail)

    def send(self, req: WireRequest) -> tuple[Answer, str]:
        """Send one probe. A keep-alive connection the receiver closed while idle is not its
        answer: a reset on a reused connection is retried once on a new one (a receiver that
        crashes on the request crashes again), and the note says so."""
        reused = self._conn is not None and self._conn.sock is not None
        answer = self._exchange(req.method, self.target, req.headers, req.body)
        if reused and answer.error == "reset":
            retry = self._exchange(req.method, self.target, req.headers, req.body)
            return retry, "sent again on a new connection after the first was reset"
        return answer, ""

    def get_status(self, url: str) -> str | None:
        parts = urllib.parse.urlsplit(url)
        cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = cls(parts.hostname or "", parts.port, timeout=self.timeout)
        try:
            target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
            conn.request("GET", target)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        return _parse_status(raw) if resp.status == 200 else None


def _classify(exc: BaseException) -> str:
    """Why a probe got no HTTP answer: timeout, refused, dns, reset or error."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(
        exc,
        ConnectionResetError
        | BrokenPipeError
        | ConnectionAbortedError
        | http.client.RemoteDisconnected
        | http.client.IncompleteRead,
    ):
        return "reset"
    if isinstance(exc, http.client.HTTPException):
        return "bad_response"
    return "error"


def _parse_status(raw: bytes) -> str | None:
    """A state probe's answer: `{"status": "..."}`, a JSON string, or plain text."""
    try:
        value = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        return text or None
    if isinstance(value, dict):
        value = value.get("status")
    return value if isinstance(value, str) and value else None


class _InProcess:
    """Serve an aiohttp application on 127.0.0.1, port 0, from a thread of its own."""

    def __init__(self, app: web.Application) -> None:
        self.server = MockServerThread(app=app)

    def __enter__(self) -> str:
        self.server.start()
        return self.server.url

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


# --------------------------------------------------------------------------- the campaign


def _keep_distinct(kept: list[Finding], new: Finding) -> bool:
    """Keep the first finding of each mutation kind (then of each body style)."""
    key = (new.details.get("mutation"), new.details.get("bodyStyle"))
    return all((f.details.get("mutation"), f.details.get("bodyStyle")) != key for f in kept)


class _Campaign:
    def __init__(
        self,
        url: str,
        key: bytes,
        limits: Limits,
        sender: _Sender,
        state_probe: StateProbe | None,
        state_settle: float,
    ) -> None:
        self.url = url
        self.key = key
        self.limits = limits
        self.sender = sender
        self.state_probe = state_probe
        self.state_settle = state_settle
        self.rules = {r.id: RuleResult(r) for r in rules("receiver")}
        if state_probe is None:
            self.rules["state_regressed"].skip_reason = "no state_probe given"
        self.source = EventSource()
        self.probes = 0
        self.jobs = 0
        self.kinds: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self.aborted: str | None = None

    # -- one job ---------------------------------------------------------------

    def run_job(
        self, plan: JobPlan, events: list[Event], steps: Sequence[Step], example: int
    ) -> None:
        if self.aborted:
            return
        self.jobs += 1
        self.paths[plan.contract.path] += 1
        bodies = [plan.style.render(e.payload) for e in events]
        ids = [new_message_id() for _ in events]
        acknowledged: set[int] = set()
        newest: Event | None = None
        last: tuple[Probe, Answer] | None = None
        for step in steps:
            if step.event >= len(events):
                continue
            event = events[step.event]
            request, note = build_request(
                step.kind,
                event,
                url=self.url,
                key=self.key,
                msg_id=ids[step.event],
                now=int(time.time()),
                style=plan.style,
                knobs=step.knobs,
                body=bodies[step.event],
            )
            answer, retried = self.sender.send(request)
            if retried:
                note = f"{note}; {retried}" if note else retried
            probe = Probe(
                self.probes, step.kind, step.knobs, event, plan.style, request, example, note
            )
            self.probes += 1
            self.kinds[step.kind] += 1
            self.categories[probe.mutation.category] += 1
            original = step.event in acknowledged
            state: StateCheck | None = None
            if step.kind in ("valid", "late") and answer.accepted:
                acknowledged.add(step.event)
                if newest is None or event.sequence > newest.sequence:
                    newest = event
                last = (probe, answer)
                if step.kind == "late" and newest is not event and self.state_probe is not None:
                    state = self._check_state(newest, "late delivery")
            self._judge(Outcome(probe, answer, original, state))
            if answer.error in ("refused", "dns"):
                self.aborted = (
                    f"the receiver stopped accepting connections after probe {probe.index} "
                    f"({probe.describe()}): {answer.detail}"
                )
                return
        if newest is not None and last is not None and self.state_probe is not None:
            state = self._check_state(newest, "end of job")
            self._judge(Outcome(*last, state=state), only="state_regressed")

    def _check_state(self, newest: Event, after: str) -> StateCheck:
        probe = self.state_probe
        assert probe is not None
        settle = 0.0 if self.rules["state_regressed"].violations else self.state_settle
        deadline = time.monotonic() + settle
        while True:
            if callable(probe):
                observed = probe(newest.job_id)
            else:
                observed = self.sender.get_status(probe.replace("{job_id}", newest.job_id))
            # a receiver that records in the background may need a moment
            if observed == newest.status or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        return StateCheck(newest.job_id, newest.status, newest.sequence, observed, after)

    def _judge(self, outcome: Outcome, *, only: str | None = None) -> None:
        for rule_id, judge in JUDGES.items():
            if only is not None and rule_id != only:
                continue
            verdict = judge(outcome, self.limits)
            if verdict is None:
                continue
            result = self.rules[rule_id]
            result.checks += 1
            if verdict != PASSED:
                result.add(_finding(outcome, verdict), keep=_keep_distinct)

    # -- the result -------------------------------------------------------------------

    def result(self, target: str, seed: int, started: float, seconds: float) -> CheckResult:
        valid = sum(self.categories[c] for c in ("valid", "duplicate", "late"))
        stats: dict[str, Any] = {
            "probes": self.probes,
            "jobs": self.jobs,
            "probesPerSecond": round(self.probes / seconds, 1) if seconds else 0.0,
            "byCategory": dict(sorted(self.categories.items())),
            "byMutation": dict(sorted(self.kinds.items())),
            "paths": dict(sorted(self.paths.items())),
            "slowAckSeconds": self.limits.slow_ack,
            "timeoutSeconds": self.limits.timeout,
            "summary": (
                f"{self.probes} probes ({valid} valid, {self.probes - valid} forged, stale or "
                f"future) over {self.jobs} jobs, {self.probes / seconds if seconds else 0:.0f}/s"
            ),
        }
        notes = [self.aborted] if self.aborted else []
        rejected = self.rules["valid_rejected"]
        if rejected.checks and rejected.violations == rejected.checks:
            notes.append(
                "every valid delivery was rejected: does the receiver verify with the secret "
                "given here, and is the URL its webhook route?"
            )
        return CheckResult(
            "receiver",
            target,
            list(self.rules.values()),
            seed=seed,
            started_at=started,
            seconds=seconds,
            stats=stats,
            notes=notes,
        )


def _finding(o: Outcome, message: str) -> Finding:
    p, a = o.probe, o.answer
    lines = [message, f"probe #{p.index}: {p.mutation.description}"]
    if p.note:
        lines.append(f"  changed: {p.note}")
    lines.append(f"  body style: {p.style.describe()}")
    lines.append("request:")
    lines.extend("  " + line for line in p.request.lines())
    lines.append(f"answer: {a.describe()}")
    details: dict[str, Any] = {
        "mutation": p.kind,
        "category": p.mutation.category,
        "note": p.note,
        "example": p.example,
        "probe": p.index,
        "bodyStyle": p.style.describe(),
        "event": {
            "jobId": p.event.job_id,
            "status": p.event.status,
            "previousStatus": p.event.previous_status,
            "sequence": p.event.sequence,
        },
        "request": p.request.as_dict(),
        "answer": a.as_dict(),
    }
    if o.state is not None:
        s = o.state
        lines.append(
            f"state probe ({s.after}): expected {s.expected!r} (sequence "
            f"{s.expected_sequence}), observed {s.observed!r}"
        )
        details["state"] = {
            "jobId": s.job_id,
            "expected": s.expected,
            "expectedSequence": s.expected_sequence,
            "observed": s.observed,
            "after": s.after,
        }
    return Finding(message, "\n".join(lines), details)


# --------------------------------------------------------------------------- entry points


@contextlib.contextmanager
def _target(target: str | web.Application, path: str) -> Iterator[str]:
    if isinstance(target, web.Application):
        with _InProcess(target) as root:
            yield root + (path if path.startswith("/") else "/" + path)
    elif isinstance(target, str):
        yield target
    else:
        raise TypeError(
            f"check_receiver needs a URL (str) or an aiohttp web.Application, got "
            f"{type(target).__name__}"
        )


def run_receiver_check(
    target: str | web.Application,
    *,
    secret: str,
    max_examples: int = 100,
    seed: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    slow_ack: float = DEFAULT_SLOW_ACK,
    state_probe: StateProbe | None = None,
    state_settle: float = 0.5,
    path: str = "/webhooks",
    paths: Sequence[str] = PATHS,
    wait: float = 0.0,
) -> CheckResult:
    """Run the campaign and return the `CheckResult` (passed or not); `check_receiver` raises
    on a failed one. Raises `ReceiverUnreachable` when nothing listens at the URL, and
    `ValueError` (e.g. `InvalidSecret`) for bad arguments."""
    key = _secret_key(secret)
    if max_examples < 0:
        raise ValueError(f"max_examples must be >= 0, got {max_examples}")
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    if not slow_ack > 0:
        raise ValueError(f"slow_ack must be > 0 seconds, got {slow_ack}")
    if state_settle < 0:
        raise ValueError(f"state_settle must be >= 0 seconds, got {state_settle}")
    if wait < 0:
        raise ValueError(f"wait must be >= 0 seconds, got {wait}")
    if isinstance(state_probe, str) and "{job_id}" not in state_probe:
        raise ValueError(
            f"a state_probe URL must contain {{job_id}}, e.g. "
            f"http://127.0.0.1:8000/state/{{job_id}}; got {state_probe!r}"
        )
    unknown = sorted(set(paths) - set(PATHS))
    if unknown or not paths:
        raise ValueError(f"unknown path(s) {unknown or '(none)'}; known: {', '.join(PATHS)}")
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    limits = Limits(slow_ack=slow_ack, timeout=timeout)
    with _target(target, path) as url:
        sender = _Sender(url, timeout)
        try:
            deadline = time.monotonic() + wait
            while (problem := sender.reachable()) is not None:
                if time.monotonic() >= deadline:
                    raise ReceiverUnreachable(url, problem)
                time.sleep(0.1)  # the receiver may still be starting (CI starts it just before)
            campaign = _Campaign(url, key, limits, sender, state_probe, state_settle)
            started_wall, started = time.time(), time.perf_counter()
            for plan, steps in canonical_campaign():
                campaign.run_job(plan, campaign.source.events(plan), steps, 0)
            if max_examples and not campaign.aborted:
                _search(campaign, max_examples, seed, tuple(paths))
            seconds = time.perf_counter() - started
        finally:
            sender.close()
    result = campaign.result(url, seed, started_wall, seconds)
    if isinstance(target, str):
        result.replay = (
            f"plangrep-mock check-receiver {url} --secret $SECRET --seed {seed} "
            f"--examples {max_examples}"
        )
    else:
        result.replay = (
            f"check_receiver(app, secret=..., seed={seed}, max_examples={max_examples})"
        )
    return result


def _search(campaign: _Campaign, max_examples: int, seed: int, paths: tuple[str, ...]) -> None:
    counter = iter(range(1, 1 << 62))

    @hypothesis_seed(seed)
    @search_settings(max_examples, shrink=False)
    # hypothesis draws the job (path, text, files, body style); the many small choices of what
    # to send for each event come from one drawn seed: a draw costs hypothesis about 0.1 ms,
    # and a job has a hundred of these choices (nothing is shrunk: no example fails)
    @given(plan=job_plans(paths), steps_seed=st.integers(0, 2**64 - 1))
    def example(plan: JobPlan, steps_seed: int) -> None:
        # nothing raises here: every answer is judged and recorded, so one run reports
        # every rule the receiver breaks (hypothesis is the generator, not the judge)
        if campaign.aborted:
            return
        events = campaign.source.events(plan)
        steps = draw_steps(random.Random(steps_seed), len(events))
        campaign.run_job(plan, events, steps, next(counter))

    example()


def check_receiver(
    target: str | web.Application,
    *,
    secret: str,
    max_examples: int = 100,
    seed: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    slow_ack: float = DEFAULT_SLOW_ACK,
    state_probe: StateProbe | None = None,
    state_settle: float = 0.5,
    path: str = "/webhooks",
    paths: Sequence[str] = PATHS,
    wait: float = 0.0,
) -> CheckResult:
    """Grade a webhook receiver: send it a campaign of valid and adversarial deliveries of real
    job events signed with `secret` (the job's `wss_...` webhookSigningSecret; `whsec_` works
    too) and judge every answer.

    `target`: the receiver's URL, or an aiohttp `web.Application` served in-process on a free
    port (deliveries go to `path` on it). Returns the `CheckResult` when every rule held;
    raises `ReceiverViolation` (a `ContractViolation`) naming each broken rule with the exact
    request and answer, and `ReceiverUnreachable` when nothing listens there.

    `max_examples`: jobs drawn by hypothesis after the canonical campaign; `seed` replays a
    run; `timeout`: seconds to wait for an answer; `slow_ack`: a 2xx later than this breaks
    `slow_ack`; `state_probe`: `job_id -> status | None` (a callable, or a URL template with
    `{job_id}` answering `{"status": ...}`) that tells the status the receiver recorded; with
    it, `state_regressed` is judged (polled up to `state_settle` seconds for receivers that
    record in the background). `paths`: the machine's paths the drawn jobs take. `wait`: how
    long to wait for the receiver to start listening before giving up as unreachable.
    """
    result = run_receiver_check(
        target,
        secret=secret,
        max_examples=max_examples,
        seed=seed,
        timeout=timeout,
        slow_ack=slow_ack,
        state_probe=state_probe,
        state_settle=state_settle,
        path=path,
        paths=paths,
        wait=wait,
    )
    if not result.passed:
        raise ReceiverViolation(result)
    return result
