"""The client contract kit: `check_client`, `ContractViolation`, strategies and coverage.

from mock_server.contract import check_client
check_client(my_wait_for_job, max_examples=100)   # raises ContractViolation, or reports
"""

from __future__ import annotations

from .checker import (
    CONTRACT_API_KEY,
    ContractReport,
    ContractRunner,
    check_client,
    contract_runner,
    replay_plan,
)
from .coverage import DELIVERY_OUTCOMES, MachineCoverage
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
from .violations import RULES, ContractViolation, format_requests

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
