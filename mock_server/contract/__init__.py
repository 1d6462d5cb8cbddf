"""The contract kit: `check_client`, `check_workflow`, `check_receiver`, `run_program_check`
(`plangrep-mock check -- CMD`, a client in any language), `ContractViolation`, strategies,
coverage and reports.

    from mock_server.contract import check_client, check_receiver, check_workflow
    check_client(my_wait_for_job, max_examples=100)   # raises ContractViolation, or reports
    check_workflow(my_submission, max_examples=100)   # the whole submission, under faults
    check_receiver("http://127.0.0.1:8000/webhooks", secret="wss_...")

The checkers, the runners and the strategies need hypothesis; they are imported on first use, so
the pytest plugin (which needs only the coverage table and `ContractViolation`) loads without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .coverage import DELIVERY_OUTCOMES, MachineCoverage
from .violations import RULES, ContractViolation, format_requests

if TYPE_CHECKING:
    from .checker import (
        CONTRACT_API_KEY,
        ContractReport,
        ContractRunner,
        check_client,
        contract_runner,
        replay_plan,
    )
    from .program import ProgramSettings, ProgramUnrunnable, run_program_check
    from .receiver_checker import (
        JUDGES,
        ReceiverUnreachable,
        ReceiverViolation,
        check_receiver,
        run_receiver_check,
    )
    from .reports import CaseResult, CheckResult, RuleResult
    from .strategies import (
        PATHS,
        ContractPlan,
        Fault,
        FaultPlan,
        OwnerPlan,
        canonical_plans,
        contract_plans,
        fault_plans,
        owner_plans,
        scenarios,
    )
    from .workflow import (
        WebhookDelivery,
        WorkflowEnv,
        WorkflowReport,
        WorkflowRunner,
        check_workflow,
        replay_workflow,
        workflow_runner,
    )
    from .workflow_strategies import (
        WORKFLOW_PATHS,
        ApiFault,
        ForgedDelivery,
        WebhookFault,
        WorkflowPlan,
        canonical_workflow_plans,
        workflow_fault_plans,
        workflow_plans,
    )

__all__ = [
    "CONTRACT_API_KEY",
    "DELIVERY_OUTCOMES",
    "JUDGES",
    "PATHS",
    "RULES",
    "WORKFLOW_PATHS",
    "ApiFault",
    "CaseResult",
    "CheckResult",
    "ContractPlan",
    "ContractReport",
    "ContractRunner",
    "ContractViolation",
    "Fault",
    "FaultPlan",
    "ForgedDelivery",
    "MachineCoverage",
    "OwnerPlan",
    "ProgramSettings",
    "ProgramUnrunnable",
    "ReceiverUnreachable",
    "ReceiverViolation",
    "RuleResult",
    "WebhookDelivery",
    "WebhookFault",
    "WorkflowEnv",
    "WorkflowPlan",
    "WorkflowReport",
    "WorkflowRunner",
    "canonical_plans",
    "canonical_workflow_plans",
    "check_client",
    "check_receiver",
    "check_workflow",
    "contract_plans",
    "contract_runner",
    "fault_plans",
    "format_requests",
    "owner_plans",
    "replay_plan",
    "replay_workflow",
    "run_program_check",
    "run_receiver_check",
    "scenarios",
    "workflow_fault_plans",
    "workflow_plans",
    "workflow_runner",
]

_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "CONTRACT_API_KEY",
            "ContractReport",
            "ContractRunner",
            "check_client",
            "contract_runner",
            "replay_plan",
        ),
        ".checker",
    ),
    **dict.fromkeys(
        (
            "JUDGES",
            "ReceiverUnreachable",
            "ReceiverViolation",
            "check_receiver",
            "run_receiver_check",
        ),
        ".receiver_checker",
    ),
    **dict.fromkeys(("ProgramSettings", "ProgramUnrunnable", "run_program_check"), ".program"),
    **dict.fromkeys(("CaseResult", "CheckResult", "RuleResult"), ".reports"),
    **dict.fromkeys(
        (
            "PATHS",
            "ContractPlan",
            "Fault",
            "FaultPlan",
            "OwnerPlan",
            "canonical_plans",
            "contract_plans",
            "fault_plans",
            "owner_plans",
            "scenarios",
        ),
        ".strategies",
    ),
    **dict.fromkeys(
        (
            "WebhookDelivery",
            "WorkflowEnv",
            "WorkflowReport",
            "WorkflowRunner",
            "check_workflow",
            "replay_workflow",
            "workflow_runner",
        ),
        ".workflow",
    ),
    **dict.fromkeys(
        (
            "WORKFLOW_PATHS",
            "ApiFault",
            "ForgedDelivery",
            "WebhookFault",
            "WorkflowPlan",
            "canonical_workflow_plans",
            "workflow_fault_plans",
            "workflow_plans",
        ),
        ".workflow_strategies",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
