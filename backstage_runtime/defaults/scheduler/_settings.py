"""Task settings: what a schedule definition becomes, and the JSON persisted for it.

Backstage stores ``{"version": 2, "cadence", "initialDelayDuration"?, "timeoutAfterDuration"}``
in ``settings_json``: the cadence is an ISO-8601 duration (``PT5M``), a cron expression or
``manual``. Keeping that exact form lets Node and Python instances share a tasks table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal

from ...api import parse_duration
from ...api.errors import BackstageError, InputError
from ...api.services._json import JsonObject
from ...api.services.scheduler import TaskDuration, TaskFrequency
from ._cron import validate_cron

__all__ = ["CadenceKind", "TaskSettings", "iso_duration"]

CadenceKind = Literal["duration", "cron", "manual"]

# Luxon's ``Duration.toISO`` order of units; milliseconds join the seconds.
_ISO_DATE_UNITS = (("years", "Y"), ("months", "M"), ("weeks", "W"), ("days", "D"))
_ISO_TIME_UNITS = (("hours", "H"), ("minutes", "M"))


@dataclass(frozen=True)
class TaskSettings:
    """The persisted settings of one task; durations are parsed once, on first use."""

    cadence: str
    timeout_after: str
    initial_delay: str | None = None

    @property
    def kind(self) -> CadenceKind:
        """``duration`` (cadence starts with ``P``), ``manual``, or else ``cron``."""
        if self.cadence == "manual":
            return "manual"
        return "duration" if self.cadence.startswith("P") else "cron"

    @cached_property
    def cadence_seconds(self) -> float | None:
        """The cadence in seconds for a duration cadence, else None."""
        if self.kind != "duration":
            return None
        return parse_duration(self.cadence, key="cadence").total_seconds()

    @cached_property
    def timeout_seconds(self) -> float:
        """How long one run may take."""
        return parse_duration(self.timeout_after, key="timeoutAfterDuration").total_seconds()

    @cached_property
    def initial_delay_seconds(self) -> float:
        """How long an instance waits before its first run (0 when not set)."""
        if self.initial_delay is None:
            return 0.0
        return parse_duration(self.initial_delay, key="initialDelayDuration").total_seconds()

    def to_json(self) -> JsonObject:
        """The settings object, keys in Backstage's order."""
        body: JsonObject = {"version": 2, "cadence": self.cadence}
        if self.initial_delay is not None:
            body["initialDelayDuration"] = self.initial_delay
        body["timeoutAfterDuration"] = self.timeout_after
        return body

    def dumps(self) -> str:
        """The ``settings_json`` column value."""
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> TaskSettings:
        """Parse a ``settings_json`` value; raises :class:`ValueError` when it is not version 2
        settings this code understands (then a newer version of the task owns the row)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != 2:
                raise ValueError("not version 2 task settings")
            cadence, timeout, delay = (
                data["cadence"],
                data["timeoutAfterDuration"],
                data.get("initialDelayDuration"),
            )
            if not isinstance(cadence, str) or not isinstance(timeout, str):
                raise ValueError("cadence and timeoutAfterDuration must be strings")
            if delay is not None and not isinstance(delay, str):
                raise ValueError("initialDelayDuration must be a string")
            settings = cls(cadence=cadence, timeout_after=timeout, initial_delay=delay)
            settings.validate()
        except (KeyError, TypeError, ValueError, BackstageError) as error:
            raise ValueError(f"invalid task settings {text!r}: {error}") from None
        return settings

    def validate(self) -> None:
        """Raise :class:`InputError` (or a config error) unless every field parses."""
        if self.kind == "cron":
            validate_cron(self.cadence)
        else:
            _ = self.cadence_seconds
        _ = self.timeout_seconds
        _ = self.initial_delay_seconds

    @classmethod
    def build(
        cls,
        *,
        frequency: TaskFrequency,
        timeout: TaskDuration,
        initial_delay: TaskDuration | None,
    ) -> TaskSettings:
        """Settings for a schedule definition; raises :class:`InputError` when it is malformed."""
        settings = cls(
            cadence=_cadence(frequency),
            timeout_after=iso_duration(timeout, key="timeout"),
            initial_delay=None
            if initial_delay is None
            else iso_duration(initial_delay, key="initialDelay"),
        )
        settings.validate()
        return settings


def _cadence(frequency: TaskFrequency) -> str:
    if isinstance(frequency, Mapping):
        if "cron" in frequency:
            cron = frequency["cron"]
            if not isinstance(cron, str):
                raise InputError(f"Invalid cron frequency {frequency!r}, expected a string")
            return cron.strip()
        if "trigger" in frequency:
            if frequency["trigger"] != "manual":
                raise InputError(f"Invalid frequency {frequency!r}, the only trigger is 'manual'")
            return "manual"
    return iso_duration(frequency, key="frequency")


def iso_duration(value: Any, *, key: str) -> str:
    """``value`` as the ISO-8601 string luxon's ``toISO`` would give (``{"minutes": 5}`` →
    ``PT5M``); an ISO string is kept as written. Raises :class:`InputError` if it is not a
    duration."""
    try:
        if isinstance(value, timedelta):
            return _iso_from_timedelta(value, key)
        parsed = parse_duration(value, key=key)
    except BackstageError as error:
        raise InputError(str(error)) from None
    if isinstance(value, str):
        return value.strip() if value.strip().startswith("P") else _iso_from_timedelta(parsed, key)
    return _iso_from_units(value)


def _iso_from_units(units: Mapping[str, float]) -> str:
    date = "".join(f"{_number(units[u])}{s}" for u, s in _ISO_DATE_UNITS if units.get(u))
    time = "".join(f"{_number(units[u])}{s}" for u, s in _ISO_TIME_UNITS if units.get(u))
    seconds = units.get("seconds", 0) + units.get("milliseconds", 0) / 1000
    if seconds:
        time += f"{_number(round(seconds, 3))}S"
    if not date and not time:
        return "PT0S"
    return f"P{date}" + (f"T{time}" if time else "")


def _iso_from_timedelta(value: timedelta, key: str) -> str:
    if value < timedelta(0):
        raise InputError(f"Invalid duration at '{key}', must not be negative")
    micros = value // timedelta(microseconds=1)
    days, rest = divmod(micros, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    return _iso_from_units(
        {"days": days, "hours": hours, "minutes": minutes, "seconds": rest / 1_000_000}
    )


def _number(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and float(value).is_integer()):
        return str(int(value))
    return repr(float(value))
