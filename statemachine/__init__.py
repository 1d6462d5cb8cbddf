"""plangrep-mock's formal core: Plangrep's job lifecycle, a virtual clock, scenarios, the engine.

Pure and synchronous: no I/O, no asyncio, no aiohttp. `mock_server` builds on it, not the reverse.
"""

from __future__ import annotations

from .billing import DEFAULT_CREDITS, PROJECT_CREATION_CHARGE, Account, estimate_pages, split_pages
from .clock import Clock, ClockMode, format_time, parse_time
from .diagram import render_diagram
from .engine import Engine
from .errors import (
    CommandRejected,
    InvalidTransition,
    ScenarioError,
    StateMachineError,
    UnknownScenario,
)
from .machine import (
    JOB_TRANSITIONS,
    PROJECT_TRANSITIONS,
    allowed_events,
    fire_job_event,
    fire_project_event,
    job_edges,
    job_machine,
    project_machine,
)
from .objects import (
    MAX_DECLARED_BYTES,
    MAX_FILES,
    CancelOutcome,
    FilePages,
    FileSpec,
    FormUploadRecord,
    Job,
    JobFile,
    Progress,
    Project,
    ProjectCharge,
    TransitionRecord,
    require_upload_window,
)
from .scenarios import (
    BUILTIN_SCENARIOS,
    DEFAULT_SCENARIO,
    ProjectUpgrade,
    Scenario,
    ScenarioRegistry,
    load_scenario_dir,
    load_scenario_file,
    parse_scenario,
)
from .scheduler import Subscriber
from .simulation import SimulationReport, simulate
from .statuses import (
    ACTIVE_STATUSES,
    OPEN_FILE_STATUSES,
    RESULT_STATUSES,
    TERMINAL_STATUSES,
    UPLOAD_WINDOW,
    FileStatus,
    JobEvent,
    JobStatus,
    ProjectEvent,
    ProjectStatus,
)

__all__ = [
    "ACTIVE_STATUSES",
    "BUILTIN_SCENARIOS",
    "DEFAULT_CREDITS",
    "DEFAULT_SCENARIO",
    "JOB_TRANSITIONS",
    "MAX_DECLARED_BYTES",
    "MAX_FILES",
    "OPEN_FILE_STATUSES",
    "PROJECT_CREATION_CHARGE",
    "PROJECT_TRANSITIONS",
    "RESULT_STATUSES",
    "TERMINAL_STATUSES",
    "UPLOAD_WINDOW",
    "Account",
    "CancelOutcome",
    "Clock",
    "ClockMode",
    "CommandRejected",
    "Engine",
    "FilePages",
    "FileSpec",
    "FileStatus",
    "FormUploadRecord",
    "InvalidTransition",
    "Job",
    "JobEvent",
    "JobFile",
    "JobStatus",
    "Progress",
    "Project",
    "ProjectCharge",
    "ProjectEvent",
    "ProjectStatus",
    "ProjectUpgrade",
    "Scenario",
    "ScenarioError",
    "ScenarioRegistry",
    "SimulationReport",
    "StateMachineError",
    "Subscriber",
    "TransitionRecord",
    "UnknownScenario",
    "allowed_events",
    "estimate_pages",
    "fire_job_event",
    "fire_project_event",
    "format_time",
    "job_edges",
    "job_machine",
    "load_scenario_dir",
    "load_scenario_file",
    "parse_scenario",
    "parse_time",
    "project_machine",
    "render_diagram",
    "require_upload_window",
    "simulate",
    "split_pages",
]
