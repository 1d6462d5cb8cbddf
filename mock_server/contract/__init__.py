"""The client contract kit: `check_client`, `ContractViolation`, strategies and coverage."""

from __future__ import annotations

from .violations import RULES, ContractViolation, format_requests

__all__ = ["RULES", "ContractViolation", "format_requests"]
