"""Time arithmetic in SQL, per database: every scheduling time comes from the database clock.

PostgreSQL keeps ``timestamptz`` columns. SQLite has no time type: times are UTC text
``YYYY-MM-DD HH:MM:SS.SSS`` (Backstage's knex writes the same without the fraction, and the two
forms compare correctly as text). MySQL keeps ``DATETIME(6)`` columns holding UTC, whatever the
session's time zone; it has neither ``RETURNING`` nor ``ON CONFLICT``, which the store works
around when :attr:`Dialect.returning` is false.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["Dialect", "dialect_for", "format_iso"]

_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%f"


class Dialect:
    """SQL fragments for PostgreSQL; :class:`_Sqlite` overrides them for SQLite."""

    #: Whether ``UPDATE … RETURNING`` and ``INSERT … ON CONFLICT`` exist.
    returning = True
    #: The current time of the database.
    now = "now()"
    #: The current time as seconds since the epoch (float).
    epoch_now = "CAST(EXTRACT(EPOCH FROM now()) AS double precision)"

    def now_plus(self, param: str) -> str:
        """The current time plus the seconds bound to ``:param`` (see :meth:`seconds`)."""
        return f"now() + make_interval(secs => CAST(:{param} AS double precision))"

    def column_plus(self, column: str, param: str) -> str:
        """``column`` plus the seconds bound to ``:param``."""
        return f"{column} + make_interval(secs => CAST(:{param} AS double precision))"

    def greatest(self, first: str, second: str) -> str:
        """The later of two times."""
        return f"greatest({first}, {second})"

    def seconds_until(self, column: str) -> str:
        """Seconds from now until ``column`` (negative when past; NULL when it is NULL)."""
        return f"CAST(EXTRACT(EPOCH FROM ({column} - now())) AS double precision)"

    def time_param(self, param: str) -> str:
        """A time bound to ``:param`` (see :meth:`time`)."""
        return f"CAST(:{param} AS timestamptz)"

    def seconds(self, value: float) -> Any:
        """The bound value of a seconds parameter."""
        return float(value)

    def time(self, value: datetime) -> Any:
        """The bound value of a time parameter."""
        return value

    def read_time(self, value: Any) -> datetime | None:
        """A time column as an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


class _Sqlite(Dialect):
    now = f"strftime('{_SQLITE_FORMAT}', 'now')"
    epoch_now = "(julianday('now') - 2440587.5) * 86400.0"

    def now_plus(self, param: str) -> str:
        return f"strftime('{_SQLITE_FORMAT}', 'now', :{param})"

    def column_plus(self, column: str, param: str) -> str:
        return f"strftime('{_SQLITE_FORMAT}', {column}, :{param})"

    def greatest(self, first: str, second: str) -> str:
        return f"max({first}, {second})"

    def seconds_until(self, column: str) -> str:
        return f"(julianday({column}) - julianday('now')) * 86400.0"

    def time_param(self, param: str) -> str:
        return f":{param}"

    def seconds(self, value: float) -> Any:
        # SQLite's date functions take the offset as a modifier string.
        return f"{float(value):+.3f} seconds"

    def time(self, value: datetime) -> Any:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class _Mysql(Dialect):
    returning = False
    # UTC_TIMESTAMP, not NOW(): the columns hold UTC even if a session runs in another zone.
    now = "UTC_TIMESTAMP(6)"
    # UNIX_TIMESTAMP() of a DATETIME reads it in the session's zone, as NOW(6) is written.
    epoch_now = "UNIX_TIMESTAMP(NOW(6))"

    def now_plus(self, param: str) -> str:
        return f"TIMESTAMPADD(MICROSECOND, :{param}, UTC_TIMESTAMP(6))"

    def column_plus(self, column: str, param: str) -> str:
        return f"TIMESTAMPADD(MICROSECOND, :{param}, {column})"

    def seconds_until(self, column: str) -> str:
        return f"(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), {column}) / 1000000.0)"

    def time_param(self, param: str) -> str:
        return f":{param}"

    def seconds(self, value: float) -> Any:
        # INTERVAL … SECOND rounds to whole seconds: add microseconds instead.
        return round(float(value) * 1_000_000)

    def time(self, value: datetime) -> Any:
        return value.astimezone(UTC).replace(tzinfo=None)


def dialect_for(name: str) -> Dialect:
    """The fragments for SQLAlchemy dialect ``name`` (``postgresql``, ``sqlite``, ``mysql``)."""
    if name == "postgresql":
        return Dialect()
    if name == "sqlite":
        return _Sqlite()
    if name in ("mysql", "mariadb"):
        return _Mysql()
    raise ValueError(f"The scheduler does not support the '{name}' database")


def format_iso(value: datetime) -> str:
    """Luxon's ``toISO()`` form in UTC: ``2025-01-01T10:30:00.000+00:00``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+00:00"
