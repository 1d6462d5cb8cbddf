"""Scenarios: how the simulated Plangrep behaves for a job (API.md part B, "Time")."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ScenarioError, UnknownScenario

__all__ = [
    "BUILTIN_SCENARIOS",
    "DEFAULT_SCENARIO",
    "ProjectUpgrade",
    "Scenario",
    "ScenarioRegistry",
    "load_scenario_dir",
    "load_scenario_file",
    "parse_scenario",
]

SEVEN_DAYS = 7 * 24 * 3600.0
# Durations are at most 10 years: a job's expiresAt (created + TTL) must stay a writable
# timestamp (found by fuzzing: an inline scenario with job_ttl 1e300 made job creation a 500).
MAX_SECONDS = 10 * 365 * 24 * 3600.0


class ProjectUpgrade(BaseModel):
    """A runtime upgrade of a project: `runtime.upgradeStatus` is `in_progress` from
    `start_after` seconds after the project is created, for `duration` seconds; the project
    stays usable meanwhile."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    start_after: float = Field(0.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    duration: float = Field(60.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)


class Scenario(BaseModel):
    """Every knob of a scenario; all have defaults, so `{"name": "x"}` is a valid scenario."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        # `0` is not a boolean and `"5"` not a number; `5.0` is an integer, as in JSON Schema
        strict=True,
        # the JSON Schema of `_fraction_needs_errors`, so a generated scenario is a valid one
        json_schema_extra={
            "if": {
                "properties": {"outcome": {"const": "completed_with_errors"}},
                "required": ["outcome"],
            },
            "then": {
                "properties": {"failed_page_fraction": {"exclusiveMinimum": 0}},
                "required": ["failed_page_fraction"],
            },
        },
    )

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")
    description: str = ""
    job_provisioning_delay: float = Field(0.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    project_provisioning_delay: float = Field(5.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    preflight_delay: float = Field(3.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    preflight_outcome: Literal["pass", "fail"] = "pass"
    pages_per_file: int | None = Field(None, ge=1, le=100_000)
    pages_per_second: float = Field(1.0, gt=0, allow_inf_nan=False)
    outcome: Literal["completed", "completed_with_errors", "failed"] = "completed"
    failed_page_fraction: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)
    extra_pages: int = Field(0, ge=0, le=1_000_000)
    extra_page_kind: Literal["drawing", "document"] = "document"
    drawing_credits_per_page: int | None = Field(None, ge=0, le=1_000_000)
    document_credits_per_page: int | None = Field(None, ge=0, le=1_000_000)
    job_ttl: float = Field(SEVEN_DAYS, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    cancel_while_processing: Literal["immediate", "deferred", "race_lost"] = "immediate"
    cancel_defer_seconds: float = Field(10.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    # after the job writes its entities (completed, completed_with_errors), the project's search
    # index answers 409 index_not_ready for this long
    index_ready_delay: float = Field(10.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    # projects created under this scenario (the server's default, or X-Mock-Scenario on
    # POST /projects) run a runtime upgrade
    project_upgrade: ProjectUpgrade | None = None
    randomize: bool = False

    @field_validator(
        "pages_per_file",
        "extra_pages",
        "drawing_credits_per_page",
        "document_credits_per_page",
        mode="before",
    )
    @classmethod
    def _integral_float(cls, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @model_validator(mode="after")
    def _fraction_needs_errors(self) -> Scenario:
        if self.outcome == "completed_with_errors" and self.failed_page_fraction == 0:
            raise ValueError(
                "outcome completed_with_errors needs failed_page_fraction > 0 (0 < f <= 1)"
            )
        return self

    def draw(self, rng: random.Random) -> Scenario:
        """The concrete scenario of one job: itself, or a seeded random draw for `randomize`.

        The draw: outcome completed 70%, completed_with_errors 20% (5-50% of pages fail), failed
        10%; preflight fails 5%; preflight 1-10 s; 0.2-5 pages/s; extra pages 0 (60%), 2 (20%)
        or 50 (20%); a TTL of 30-120 s for 5% of jobs (they expire); cancel behaviour uniform.
        One `random()` per knob: `simulate` draws once per job, so this stays cheap.
        """
        if not self.randomize:
            return self
        uniform = rng.random
        r = uniform()
        outcome = "completed" if r < 0.7 else "completed_with_errors" if r < 0.9 else "failed"
        extra = uniform()
        return self._derive(
            {
                "randomize": False,
                "preflight_outcome": "fail" if uniform() < 0.05 else "pass",
                "preflight_delay": 1.0 + 9.0 * uniform(),
                "pages_per_second": 0.2 + 4.8 * uniform(),
                "outcome": outcome,
                "failed_page_fraction": 0.05 + 0.45 * uniform()
                if outcome == "completed_with_errors"
                else 0.0,
                "extra_pages": 0 if extra < 0.6 else 2 if extra < 0.8 else 50,
                # a few jobs get a TTL shorter than their processing and expire
                "job_ttl": 30.0 + 90.0 * uniform() if uniform() < 0.05 else self.job_ttl,
                "cancel_while_processing": _CANCEL_MODES[int(3 * uniform())],
            }
        )

    def _derive(self, update: dict[str, Any]) -> Scenario:
        """`self.model_copy(update=update)` without its three `copy.copy` calls (~1.4 us less a
        draw): the new model gets its own `__dict__` and fields set, as `__copy__` gives it.
        Scenario has no extra fields (extra="forbid") and no private attributes."""
        derived = Scenario.__new__(Scenario)
        _set = object.__setattr__
        _set(derived, "__dict__", {**self.__dict__, **update})
        _set(derived, "__pydantic_fields_set__", self.__pydantic_fields_set__ | update.keys())
        _set(derived, "__pydantic_extra__", None)
        _set(derived, "__pydantic_private__", None)
        return derived


_CANCEL_MODES = ("immediate", "deferred", "race_lost")

DEFAULT_SCENARIO = "happy"

_BUILTINS: list[dict[str, Any]] = [
    {"name": "happy", "description": "Every job completes."},
    {
        "name": "with_errors",
        "description": "Processing ends completed_with_errors; 25% of pages fail (and are free).",
        "outcome": "completed_with_errors",
        "failed_page_fraction": 0.25,
    },
    {
        "name": "processing_fails",
        "description": "The job fails halfway through processing.",
        "outcome": "failed",
    },
    {
        "name": "preflight_fails",
        "description": "The job fails at preflight; nothing is reserved or debited.",
        "preflight_outcome": "fail",
    },
    {
        "name": "expensive",
        "description": "Every file is 400 pages at 50 credits a page: the reservation exceeds a "
        "default balance and the job blocks at preflight.",
        "pages_per_file": 400,
        "pages_per_second": 50.0,
        "drawing_credits_per_page": 50,
        "document_credits_per_page": 50,
    },
    {
        "name": "runs_dry",
        "description": "Processing finds 1,500 drawing pages beyond the estimate and blocks "
        "mid-processing when the balance runs out.",
        "pages_per_second": 20.0,
        "extra_pages": 1500,
        "extra_page_kind": "drawing",
    },
    {
        "name": "slow",
        "description": "Slow preflight and processing (one page every 10 s).",
        "preflight_delay": 60.0,
        "pages_per_second": 0.1,
    },
    {
        "name": "cold_start",
        "description": "Jobs take 30 s to provision; the create response says provisioning.",
        "job_provisioning_delay": 30.0,
    },
    {
        "name": "cancel_deferred",
        "description": "A cancel while processing answers cancelled, but GET keeps saying "
        "processing for 10 s.",
        "pages_per_second": 0.05,
        "cancel_while_processing": "deferred",
    },
    {
        "name": "cancel_race_lost",
        "description": "A cancel while processing loses the race: the job ends completed.",
        "pages_per_second": 0.05,
        "cancel_while_processing": "race_lost",
    },
    {
        "name": "random",
        "description": "Seeded random outcome, timing, page count, TTL and cancel behaviour per "
        "job; over many jobs every terminal status is reached.",
        "randomize": True,
    },
]

BUILTIN_SCENARIOS: dict[str, Scenario] = {d["name"]: Scenario(**d) for d in _BUILTINS}


def _first_error(source: str, exc: ValidationError) -> ScenarioError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(scenario)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        model: type[BaseModel] = ProjectUpgrade if len(err["loc"]) > 1 else Scenario
        msg = f"unknown field; allowed fields: {', '.join(model.model_fields)}"
    return ScenarioError(source=source, field=field, message=msg)


def parse_scenario(data: Any, *, source: str = "inline") -> Scenario:
    """Validate a scenario object; ScenarioError names the source and the first bad field."""
    if not isinstance(data, dict):
        raise ScenarioError(
            source=source,
            field="(scenario)",
            message=f"a scenario is a JSON object, got {type(data).__name__}",
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(source, exc) from None


def load_scenario_file(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(source=str(path), field="(file)", message=str(exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(source=str(path), field="(file)", message=f"not JSON: {exc}") from None
    scenario = parse_scenario(data, source=str(path))
    if scenario.name != path.stem:
        raise ScenarioError(
            source=str(path),
            field="name",
            message=f"name {scenario.name!r} must equal the file name {path.stem!r}",
        )
    return scenario


def load_scenario_dir(directory: str | Path) -> dict[str, Scenario]:
    return {p.stem: load_scenario_file(p) for p in sorted(Path(directory).glob("*.json"))}


class ScenarioRegistry:
    """Built-in plus registered scenarios, looked up by name."""

    def __init__(self, extra: dict[str, Scenario] | None = None) -> None:
        self._by_name: dict[str, Scenario] = dict(BUILTIN_SCENARIOS)
        if extra:
            self._by_name.update(extra)

    def register(self, scenario: Scenario) -> None:
        self._by_name[scenario.name] = scenario

    def get(self, name: str) -> Scenario:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownScenario(name=name, known=self._by_name) from None

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def all(self) -> list[Scenario]:
        return [self._by_name[n] for n in self.names()]
