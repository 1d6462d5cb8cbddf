"""`ContractViolation` and the client-contract rules it names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["RULES", "ContractViolation", "format_requests"]

# rule id -> what Plangrep asks of a client (names shared with the server's violation log)
RULES: dict[str, str] = {
    "polling_too_fast": "never poll one job more often than once per 5 s (and wait at least "
    "Retry-After after a 429 or 503)",
    "wrong_result": "return only a terminal job, the one the server reached; give up with an "
    "error only after waiting a reasonable time",
    "poll_after_terminal": "never poll a job again after it was served a terminal status",
    "resume_not_blocked": "never resume a job that is not blocked_insufficient_credits",
    "cancel_not_cancellable": "never cancel a job after it was served a terminal status",
    "unbounded": "give up with an error rather than wait or retry without bound",
    # recorded by the server only (the contract kit creates the job itself)
    "job_create_on_unready_project": "create jobs only once the project is ready",
}


def format_requests(requests: Sequence[Mapping[str, Any]], limit: int = 40) -> list[str]:
    """Journal entries (`GET /_mock/requests` shape) as short lines, the last `limit` of them."""
    lines = []
    shown = list(requests)[-limit:]
    if len(requests) > len(shown):
        lines.append(f"  ... {len(requests) - len(shown)} earlier request(s) left out")
    for r in shown:
        code = f" {r['errorCode']}" if r.get("errorCode") else ""
        lines.append(f"  {r['at']}  {r['method']} {r['path']} -> {r['status']}{code}")
    return lines


class ContractViolation(AssertionError):
    """The client broke Plangrep's documented contract.

    `rule` is one of `RULES`; `report` is the readable text (also the exception's message).
    From `check_client`: `scenario`, `plan` (replay it with `replay_plan`), `seed` (replay the
    whole search with `check_client(..., seed=seed)`) and `requests` (the client's requests).
    """

    def __init__(
        self,
        report: str,
        *,
        rule: str,
        job_id: str | None = None,
        scenario: str | None = None,
        requests: Sequence[str] = (),
        seed: int | None = None,
        plan: Any = None,
        violations: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(report)
        self.report = report
        self.rule = rule
        self.job_id = job_id
        self.scenario = scenario
        self.requests = list(requests)
        self.seed = seed
        self.plan = plan
        self.violations = list(violations)

    @classmethod
    def from_server(
        cls,
        violations: Sequence[Mapping[str, Any]],
        requests: Sequence[Mapping[str, Any]],
    ) -> ContractViolation:
        """The fixture's strict-mode report from the server's violation log and journal."""
        lines = [
            f"the code under test broke Plangrep's client contract ({len(violations)} "
            "violation(s) recorded by plangrep-mock):"
        ]
        for v in violations:
            lines.append(f"  - [{v['rule']}] {v['message']}")
            rule_text = RULES.get(str(v["rule"]))
            if rule_text:
                lines.append(f"      rule: {rule_text}")
        request_lines = format_requests(requests)
        if request_lines:
            lines.append("requests to the public API (virtual time, oldest first):")
            lines.extend(request_lines)
        lines.append(
            "(to record violations without failing, mark the test "
            "@pytest.mark.plangrep_mock(strict=False) and read plangrep_mock.violations)"
        )
        first = violations[0]
        return cls(
            "\n".join(lines),
            rule=str(first["rule"]),
            job_id=first.get("jobId"),
            requests=request_lines,
            violations=violations,
        )
