"""``MockRootLogger``: a logger that records entries for assertions instead of writing them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api.services.logger import LogMeta
from ..defaults.root_logger import LEVELS, LogLevel, level_value

__all__ = ["LogRecordEntry", "MockRootLogger"]


@dataclass(frozen=True)
class LogRecordEntry:
    """One recorded call: level, message, the merged fields and the exception passed as meta."""

    level: LogLevel
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    error: BaseException | None = None


class MockRootLogger:
    """A root logger for tests: records entries in :attr:`entries` instead of writing lines.

    Entries below ``level`` (default ``debug``: record everything) are dropped. Children record
    into the same list with their fields merged in, so a test can inspect what a plugin logged
    through the root it passed in. Nothing is redacted; :meth:`add_redactions` only remembers the
    values in :attr:`redactions`.
    """

    def __init__(self, *, level: str = "debug") -> None:
        rank = level_value(level)
        if rank is None:
            raise ValueError(f"Unknown log level {level!r}, expected one of {', '.join(LEVELS)}")
        self._rank = rank
        self._fields: Mapping[str, Any] = {}
        #: Every recorded entry, from this logger and all its children, in call order.
        self.entries: list[LogRecordEntry] = []
        #: Every value passed to :meth:`add_redactions`.
        self.redactions: set[str] = set()

    def error(self, message: str, meta: LogMeta = None) -> None:
        """Record an error entry."""
        self._record("error", message, meta)

    def warn(self, message: str, meta: LogMeta = None) -> None:
        """Record a warn entry."""
        self._record("warn", message, meta)

    def info(self, message: str, meta: LogMeta = None) -> None:
        """Record an info entry."""
        self._record("info", message, meta)

    def debug(self, message: str, meta: LogMeta = None) -> None:
        """Record a debug entry."""
        self._record("debug", message, meta)

    def child(self, meta: Mapping[str, Any]) -> MockRootLogger:
        """A logger adding ``meta`` to its entries and recording into the same list."""
        child = object.__new__(MockRootLogger)
        child._rank = self._rank
        child._fields = {**self._fields, **meta}
        child.entries = self.entries
        child.redactions = self.redactions
        return child

    def add_redactions(self, values: Iterable[str]) -> int:
        """Remember ``values``; returns how many were new."""
        before = len(self.redactions)
        self.redactions.update(values)
        return len(self.redactions) - before

    def messages(self, level: LogLevel | None = None) -> list[str]:
        """The recorded messages, optionally only those of ``level``."""
        return [e.message for e in self.entries if level is None or e.level == level]

    def _record(self, level: LogLevel, message: str, meta: LogMeta) -> None:
        if LEVELS[level] > self._rank:
            return
        fields = dict(self._fields)
        error: BaseException | None = None
        if isinstance(meta, BaseException):
            error = meta
        elif isinstance(meta, Mapping):
            fields.update(meta)
        self.entries.append(LogRecordEntry(level, message, fields, error))
