from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pydantic import ValidationError

from statemachine import (
    BUILTIN_SCENARIOS,
    Scenario,
    ScenarioError,
    ScenarioRegistry,
    UnknownScenario,
    load_scenario_dir,
    load_scenario_file,
    parse_scenario,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def test_every_builtin_of_the_spec_exists() -> None:
    assert set(BUILTIN_SCENARIOS) == {
        "happy",
        "with_errors",
        "processing_fails",
        "preflight_fails",
        "expensive",
        "runs_dry",
        "slow",
        "cold_start",
        "cancel_deferred",
        "cancel_race_lost",
        "random",
    }


def test_fixture_files_are_the_builtins() -> None:
    loaded = load_scenario_dir(FIXTURES)
    assert loaded == BUILTIN_SCENARIOS


def test_defaults_follow_the_spec() -> None:
    sc = Scenario(name="x")
    assert sc.job_provisioning_delay == 0
    assert sc.project_provisioning_delay == 5
    assert sc.preflight_delay == 3
    assert sc.job_ttl == 7 * 24 * 3600
    assert sc.cancel_while_processing == "immediate"
    assert BUILTIN_SCENARIOS["cold_start"].job_provisioning_delay == 30


@pytest.mark.parametrize(
    ("content", "field", "fragment"),
    [
        ("{not json", "(file)", "not JSON"),
        ("[1, 2]", "(scenario)", "a scenario is a JSON object"),
        ('{"name": "broken", "preflight_delay": -1}', "preflight_delay", "greater than or equal"),
        ('{"name": "broken", "outcome": "exploded"}', "outcome", "completed"),
        ('{"name": "broken", "pages_per_second": 0}', "pages_per_second", "greater than 0"),
        ('{"name": "broken", "pages_per_second": "fast"}', "pages_per_second", "valid number"),
        ('{"name": "broken", "speeed": 1}', "speeed", "unknown field; allowed fields:"),
        ('{"preflight_delay": 1}', "name", "Field required"),
        ('{"name": "broken", "failed_page_fraction": 1.5}', "failed_page_fraction", "less than"),
        (
            '{"name": "broken", "outcome": "completed_with_errors"}',
            "(scenario)",
            "needs failed_page_fraction > 0",
        ),
        ('{"name": "other"}', "name", "must equal the file name 'broken'"),
        ('{"name": "broken", "job_ttl": 0}', "job_ttl", "greater than 0"),
        (
            '{"name": "broken", "project_upgrade": {"duration": 0}}',
            "project_upgrade.duration",
            "greater than 0",
        ),
        (
            '{"name": "broken", "project_upgrade": {"start": 1}}',
            "project_upgrade.start",
            "unknown field; allowed fields: start_after, duration",
        ),
    ],
)
def test_broken_files_are_rejected_naming_file_and_field(
    tmp_path: Path, content: str, field: str, fragment: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    err = info.value
    assert err.source == str(path)
    assert err.field == field
    assert fragment in str(err)
    assert str(err).startswith(f"{path}: {field}: ")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="No such file"):
        load_scenario_file(tmp_path / "nope.json")


def test_inline_scenarios_and_registry() -> None:
    sc = parse_scenario({"name": "mine", "outcome": "failed"})
    reg = ScenarioRegistry()
    reg.register(sc)
    assert reg.get("mine").outcome == "failed"
    with pytest.raises(UnknownScenario, match="known scenarios: cancel_deferred"):
        reg.get("nope")
    with pytest.raises(ScenarioError, match="inline: outcome"):
        parse_scenario({"name": "x", "outcome": 3})


def test_random_draws_are_seeded_and_vary() -> None:
    sc = BUILTIN_SCENARIOS["random"]
    a = [sc.draw(random.Random(5)) for _ in range(1)]
    b = [sc.draw(random.Random(5)) for _ in range(1)]
    assert a == b
    rng = random.Random(1)
    outcomes = {sc.draw(rng).outcome for _ in range(200)}
    assert outcomes == {"completed", "completed_with_errors", "failed"}
    assert all(not sc.draw(rng).randomize for _ in range(5))


def test_random_draws_are_valid_scenarios() -> None:
    # draw() builds its models without validation: each must still pass the model's own checks
    # and behave as a model (its own __dict__, fields set, frozen)
    sc = BUILTIN_SCENARIOS["random"]
    rng = random.Random(3)
    for _ in range(300):
        d = sc.draw(rng)
        assert Scenario.model_validate(d.model_dump()) == d
        assert {"outcome", "job_ttl", "randomize"} <= d.model_fields_set
    assert d.__dict__ is not sc.__dict__ and sc.randomize
    with pytest.raises(ValidationError):
        d.outcome = "failed"  # type: ignore[misc]


def test_scenario_json_round_trip() -> None:
    for sc in BUILTIN_SCENARIOS.values():
        assert parse_scenario(json.loads(sc.model_dump_json())) == sc
