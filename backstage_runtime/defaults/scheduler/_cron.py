"""Cron expressions, read the way Backstage's ``cron`` library reads them."""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import CroniterError, croniter

from ...api.errors import InputError

__all__ = ["next_fire_time", "validate_cron"]


def _parser(expression: str, start: datetime) -> croniter:
    fields = expression.split()
    if not expression.startswith("@") and len(fields) not in (5, 6):
        raise InputError(
            f"Invalid cron expression '{expression}': expected 5 fields, or 6 with seconds first"
        )
    # Backstage's six-field form puts the seconds first; croniter's default puts them last.
    return croniter(expression, start, second_at_beginning=len(fields) == 6)


def validate_cron(expression: str) -> None:
    """Raise :class:`InputError` unless ``expression`` is a 5- or 6-field cron expression."""
    try:
        _parser(expression, datetime.now(UTC))
    except (CroniterError, ValueError, KeyError) as error:
        raise InputError(f"Invalid cron expression '{expression}': {error}") from None


def next_fire_time(expression: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` (an aware datetime) that ``expression`` matches,
    evaluated in UTC so that every instance of a cluster agrees, whatever its local time zone.
    """
    parsed = _parser(expression, after.astimezone(UTC))
    result: datetime = parsed.get_next(datetime)
    return result.astimezone(UTC)
