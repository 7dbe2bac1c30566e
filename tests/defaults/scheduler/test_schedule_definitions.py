"""Frequencies and durations in every form Backstage accepts, in code and in config."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from backstage_runtime.api.errors import ConfigError, InputError
from backstage_runtime.api.services.scheduler import (
    SchedulerServiceTaskScheduleDefinition,
    read_scheduler_service_task_schedule_definition_from_config,
)
from backstage_runtime.defaults.scheduler import PluginScheduler
from backstage_runtime.defaults.scheduler._metrics import TaskMetrics
from backstage_runtime.defaults.scheduler._settings import TaskSettings
from backstage_runtime.testing import MockRootLogger, mock_services


@pytest.mark.parametrize(
    ("frequency", "cadence"),
    [
        ({"minutes": 10}, "PT10M"),
        ({"hours": 1, "minutes": 30}, "PT1H30M"),
        ({"minutes": 90}, "PT90M"),  # luxon keeps the units as given
        ({"days": 1, "seconds": 5}, "P1DT5S"),
        ({"seconds": 1, "milliseconds": 500}, "PT1.5S"),
        ({"weeks": 2}, "P2W"),
        ("PT10M", "PT10M"),
        ("P1DT12H", "P1DT12H"),
        ("10m", "PT10M"),
        ("2 hours", "PT2H"),
        (timedelta(hours=1, minutes=30), "PT1H30M"),
        (timedelta(milliseconds=250), "PT0.25S"),
        ({"cron": "*/5 * * * *"}, "*/5 * * * *"),
        ({"cron": "*/10 * * * * *"}, "*/10 * * * * *"),
        ({"cron": "@hourly"}, "@hourly"),
        ({"trigger": "manual"}, "manual"),
    ],
)
def test_frequencies_become_backstage_cadences(frequency: Any, cadence: str) -> None:
    settings = TaskSettings.build(frequency=frequency, timeout={"minutes": 1}, initial_delay=None)
    assert settings.to_json() == {"version": 2, "cadence": cadence, "timeoutAfterDuration": "PT1M"}
    assert TaskSettings.loads(settings.dumps()) == settings


def test_kinds_and_durations_are_read_back() -> None:
    settings = TaskSettings.build(
        frequency="PT1M30S", timeout=timedelta(seconds=20), initial_delay={"seconds": 5}
    )
    assert settings.to_json() == {
        "version": 2,
        "cadence": "PT1M30S",
        "initialDelayDuration": "PT5S",
        "timeoutAfterDuration": "PT20S",
    }
    assert (settings.kind, settings.cadence_seconds) == ("duration", 90)
    assert (settings.timeout_seconds, settings.initial_delay_seconds) == (20, 5)
    cron = TaskSettings.build(frequency={"cron": "0 3 * * *"}, timeout="PT1H", initial_delay=None)
    assert (cron.kind, cron.cadence_seconds) == ("cron", None)
    manual = TaskSettings.build(frequency={"trigger": "manual"}, timeout="1h", initial_delay=None)
    assert manual.kind == "manual"


@pytest.mark.parametrize(
    ("frequency", "message"),
    [
        ({"cron": "61 * * * *"}, "Invalid cron expression '61 \\* \\* \\* \\*'"),
        ({"cron": "* * *"}, "expected 5 fields, or 6 with seconds first"),
        ({"trigger": "hourly"}, "the only trigger is 'manual'"),
        ("banana", "Invalid duration 'banana'"),
        ({"fortnights": 1}, "unknown or missing units: fortnights"),
        ("P", "not ISO-8601"),
    ],
)
def test_malformed_frequencies_are_refused(frequency: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TaskSettings.build(frequency=frequency, timeout={"minutes": 1}, initial_delay=None)


def test_settings_of_another_version_are_not_read() -> None:
    for text in ['{"version": 3, "cadence": "PT1M"}', "not json", '{"version": 2}']:
        with pytest.raises(ValueError, match="invalid task settings"):
            TaskSettings.loads(text)


@pytest.mark.anyio
async def test_schedule_task_checks_its_arguments_first() -> None:
    async with mock_services.database("p") as database:
        scheduler = PluginScheduler(
            "p", database=database, logger=MockRootLogger(), metrics=TaskMetrics.for_plugin("p")
        )

        async def fn() -> None: ...

        with pytest.raises(InputError, match="is not a valid ID"):
            await scheduler.schedule_task(id=" ", frequency="PT1M", timeout="PT1M", fn=fn)
        with pytest.raises(InputError, match="Invalid scope 'cluster'"):
            await scheduler.schedule_task(
                id="t",
                frequency="PT1M",
                timeout="PT1M",
                fn=fn,
                scope="cluster",  # type: ignore[arg-type]
            )
        with pytest.raises(InputError, match="Invalid duration"):
            await scheduler.schedule_task(id="t", frequency="PT1M", timeout="soon", fn=fn)


def read(data: dict[str, Any]) -> SchedulerServiceTaskScheduleDefinition:
    return read_scheduler_service_task_schedule_definition_from_config(
        mock_services.root_config(data)
    )


def test_schedules_are_read_from_config() -> None:
    assert read({"frequency": {"cron": "0 3 * * *"}, "timeout": {"minutes": 10}}) == (
        SchedulerServiceTaskScheduleDefinition(
            frequency={"cron": "0 3 * * *"}, timeout={"minutes": 10}
        )
    )
    assert read(
        {"frequency": "PT30M", "timeout": "3m", "initialDelay": {"seconds": 15}, "scope": "local"}
    ) == SchedulerServiceTaskScheduleDefinition(
        frequency="PT30M", timeout="3m", initial_delay={"seconds": 15}, scope="local"
    )
    assert read({"frequency": {"trigger": "manual"}, "timeout": "PT1H"}).frequency == {
        "trigger": "manual"
    }
    # What was read schedules as written.
    definition = read({"frequency": {"hours": 1}, "timeout": "PT2M"})
    settings = TaskSettings.build(
        frequency=definition.frequency, timeout=definition.timeout, initial_delay=None
    )
    assert settings.to_json()["cadence"] == "PT1H"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"frequency": "PT1M", "timeout": "PT1M", "scope": "everywhere"}, "got: everywhere"),
        ({"frequency": "PT1M"}, "timeout"),
        ({"frequency": "often", "timeout": "PT1M"}, "Invalid duration 'often'"),
        ({"frequency": {"trigger": "hourly"}, "timeout": "PT1M"}, "expected 'manual'"),
    ],
)
def test_malformed_config_schedules_name_the_problem(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read(data)
