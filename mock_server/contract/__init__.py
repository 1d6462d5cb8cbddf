"""The client contract kit: `check_client`, `ContractViolation`, strategies and coverage.

    from mock_server.contract import check_client
    check_client(my_wait_for_job, max_examples=100)   # raises ContractViolation, or reports

`check_client`, the runner and the strategies need hypothesis; they are imported on first use, so
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

__all__ = [
    "CONTRACT_API_KEY",
    "DELIVERY_OUTCOMES",
    "PATHS",
    "RULES",
    "ContractPlan",
    "ContractReport",
    "ContractRunner",
    "ContractViolation",
    "Fault",
    "FaultPlan",
    "MachineCoverage",
    "OwnerPlan",
    "canonical_plans",
    "check_client",
    "contract_plans",
    "contract_runner",
    "fault_plans",
    "format_requests",
    "owner_plans",
    "replay_plan",
    "scenarios",
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
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
