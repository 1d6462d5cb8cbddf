"""`ContractViolation` and the client-contract rules it names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .rules import RULES as REGISTRY
from .rules import rules

__all__ = ["RULES", "ContractViolation", "format_requests"]

# rule id -> what is asked of a client (the one registry: rules.py)
RULES: dict[str, str] = {r.id: r.text for r in rules("client")}


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

    `rule` is one of the registry's rules (`mock_server.contract.rules.RULES`); `report` is the
    readable text (also the exception's message). From `check_client`: `scenario`, `plan`
    (replay it with `replay_plan`), `seed` (replay the whole search with `check_client(...,
    seed=seed)`) and `requests` (the client's requests). From `check_workflow` also `fault`
    (the fault that exposed it) and `webhooks` (the webhook log); replay with
    `replay_workflow(workflow, exc.plan)`.
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
        fault: str | None = None,
        webhooks: Sequence[str] = (),
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
        self.fault = fault
        self.webhooks = list(webhooks)

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
            known = REGISTRY.get(str(v["rule"]))
            if known is not None:
                lines.append(f"      rule: {known.text}")
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
