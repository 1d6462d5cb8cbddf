"""The one registry of contract rules.

Every rule the product judges is one entry of `RULES`: its id, the family of code it judges (an
integrator's client, whole workflow, or webhook receiver), the text a developer needs to fix the
code, and where the obligation comes from (documented by Plangrep, or defined by the mock). The
server's violation log and every checker (`check_client`, `check_workflow`, `check_receiver`)
name rules from this table only, so a report and the README cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["RULES", "Family", "Rule", "Source", "rule", "rules"]

Family = Literal["client", "workflow", "receiver"]
Source = Literal["plangrep", "mock"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: `text` says what is asked, in words that tell a developer what to fix."""

    id: str
    family: Family
    text: str
    source: Source
    # also judged by the running server (recorded in GET /_mock/violations)
    server: bool = False


_ALL: tuple[Rule, ...] = (
    # -- clients: the code that waits for a job ------------------------------------------------
    Rule(
        "polling_too_fast",
        "client",
        "never poll one job more often than once per 5 s (and wait at least Retry-After after "
        "a 429 or 503)",
        "plangrep",
        server=True,
    ),
    Rule(
        "wrong_result",
        "client",
        "return only a terminal job, the one the server reached; give up with an error only "
        "after waiting a reasonable time",
        "plangrep",
    ),
    Rule(
        "poll_after_terminal",
        "client",
        "never poll a job again after it was served a terminal status",
        "plangrep",
        server=True,
    ),
    Rule(
        "resume_not_blocked",
        "client",
        "never resume a job that is not blocked_insufficient_credits",
        "plangrep",
        server=True,
    ),
    Rule(
        "cancel_not_cancellable",
        "client",
        "never cancel a job after it was served a terminal status",
        "plangrep",
        server=True,
    ),
    Rule(
        "unbounded",
        "client",
        "give up with an error rather than wait or retry without bound",
        "mock",
    ),
    # recorded by the server only (the contract kit creates the job itself)
    Rule(
        "job_create_on_unready_project",
        "client",
        "create jobs only once the project is ready",
        "plangrep",
        server=True,
    ),
    # -- receivers: the integrator's webhook endpoint (judged by check_receiver) -------------
    Rule(
        "valid_rejected",
        "receiver",
        "answer 2xx to every delivery that verifies with the job's secret, whatever its bytes: "
        "verify the raw body exactly as received (never re-serialized JSON), try every "
        "`v1,` signature in the space-separated list and skip unknown versions; acknowledge "
        "an older status that arrives late too (2xx, then ignore it)",
        "plangrep",
    ),
    Rule(
        "forged_accepted",
        "receiver",
        "answer 4xx (400, 401 or 403) to a delivery whose signature does not verify: sign "
        "`webhook-id.webhook-timestamp.body` with the base64-decoded secret (the part after "
        "`wss_`), compare in constant time, and reject a missing header, an empty or malformed "
        "signature, a changed body, id or timestamp",
        "mock",
    ),
    Rule(
        "stale_accepted",
        "receiver",
        "reject (4xx) a delivery whose `webhook-timestamp` is more than 5 minutes in the past, "
        "even when its signature verifies: an old captured delivery must not be replayable",
        "mock",
    ),
    Rule(
        "future_accepted",
        "receiver",
        "reject (4xx) a delivery whose `webhook-timestamp` is more than 5 minutes in the "
        "future, even when its signature verifies (a timestamp in milliseconds is one)",
        "mock",
    ),
    Rule(
        "crash_on_bad_input",
        "receiver",
        "answer a malformed or forged delivery with a 4xx, promptly: never a 5xx, a reset "
        "connection or a hang (catch every error of parsing and verification, including the "
        "library's ValueError and a body that is not UTF-8)",
        "mock",
    ),
    Rule(
        "duplicate_rejected",
        "receiver",
        "answer 2xx to a delivery whose `webhook-id` was already processed (a retry: fresh "
        "timestamp and signature, same id) and do not process it twice",
        "mock",
    ),
    Rule(
        "slow_ack",
        "receiver",
        "acknowledge a valid delivery with 2xx within the threshold (default 5 s): queue slow "
        "work and answer first, or the sender times out and counts the delivery as failed",
        "plangrep",
    ),
    Rule(
        "state_regressed",
        "receiver",
        "keep the newest status of a job (highest `data.sequence`): an older status delivered "
        "after a newer one must not overwrite it",
        "mock",
    ),
)

RULES: Mapping[str, Rule] = {r.id: r for r in _ALL}


def rule(rule_id: str) -> Rule:
    """The rule named `rule_id`; a `KeyError` that lists the known ids otherwise."""
    found = RULES.get(rule_id)
    if found is None:
        raise KeyError(f"unknown contract rule {rule_id!r}; known rules: {', '.join(RULES)}")
    return found


def rules(family: Family | None = None, *, server: bool | None = None) -> list[Rule]:
    """The rules of one family (all when None), optionally only those the server records."""
    return [
        r
        for r in _ALL
        if (family is None or r.family == family) and (server is None or r.server == server)
    ]
