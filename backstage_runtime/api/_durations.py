"""Durations in config, read the way Backstage's ``readDurationFromConfig`` reads them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .errors import ConfigError
from .services.config import Config

__all__ = ["parse_duration", "read_duration_from_config"]

_UNIT_SECONDS = {
    "years": 365.25 * 86400,
    "months": 30.4375 * 86400,
    "weeks": 7 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
    "milliseconds": 0.001,
}

# The ``ms`` library's unit spellings, which Backstage accepts in duration strings.
_MS_UNITS = {
    **dict.fromkeys(("years", "year", "yrs", "yr", "y"), 365.25 * 86400),
    **dict.fromkeys(("weeks", "week", "w"), 7 * 86400),
    **dict.fromkeys(("days", "day", "d"), 86400),
    **dict.fromkeys(("hours", "hour", "hrs", "hr", "h"), 3600),
    **dict.fromkeys(("minutes", "minute", "mins", "min", "m"), 60),
    **dict.fromkeys(("seconds", "second", "secs", "sec", "s"), 1),
    **dict.fromkeys(("milliseconds", "millisecond", "msecs", "msec", "ms"), 0.001),
}
_MS_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)\s*$", re.IGNORECASE)
_ISO_PATTERN = re.compile(
    r"^P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: Any, *, key: str = "<value>") -> timedelta:
    """Parse a duration: an ISO-8601 string (``PT30S``), an ``ms``-style string (``'5m'``,
    ``'2 seconds'``) or an object of units (``{"minutes": 10}``).

    A bare number string, a negative duration or an unknown unit raises :class:`ConfigError`
    naming ``key``.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("P"):
            match = _ISO_PATTERN.match(text)
            if not match or text in ("P", "PT") or text.endswith("T"):
                raise ConfigError(f"Invalid duration '{value}' in config at '{key}', not ISO-8601")
            return timedelta(
                seconds=sum(float(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v)
            )
        match = _MS_PATTERN.match(text)
        if not match or match.group(2).lower() not in _MS_UNITS:
            raise ConfigError(
                f"Invalid duration '{value}' in config at '{key}'; use a unit such as '30s' or "
                "'5 minutes', an ISO-8601 duration, or an object like {minutes: 5}"
            )
        return timedelta(seconds=float(match.group(1)) * _MS_UNITS[match.group(2).lower()])
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in _UNIT_SECONDS]
        if unknown or not value:
            raise ConfigError(
                f"Invalid duration object at '{key}', unknown or missing units: "
                f"{', '.join(unknown) or '(none)'}; expected any of {', '.join(_UNIT_SECONDS)}"
            )
        total = 0.0
        for unit, amount in value.items():
            if isinstance(amount, bool) or not isinstance(amount, int | float):
                raise ConfigError(f"Invalid duration at '{key}.{unit}', expected a number")
            total += amount * _UNIT_SECONDS[unit]
        if total < 0:
            raise ConfigError(f"Invalid duration at '{key}', must not be negative")
        return timedelta(seconds=total)
    raise ConfigError(
        f"Invalid duration at '{key}', expected a string or an object, got {type(value).__name__}"
    )


def read_duration_from_config(
    config: Config, key: str, *, allow_milliseconds: bool = False
) -> timedelta:
    """Read the duration at ``key``; ``allow_milliseconds`` also accepts a plain number of ms
    (as several Backstage keys do). Raises :class:`ConfigError` naming the key.
    """
    value = config.get(key)
    if allow_milliseconds and isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ConfigError(f"Invalid duration at '{key}', must not be negative")
        return timedelta(milliseconds=value)
    return parse_duration(value, key=key)
