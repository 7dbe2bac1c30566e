"""``core.rootLogger`` and ``core.logger``: structured logging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["LogMeta", "LoggerService", "RootLoggerService"]

#: Extra fields for one log entry, or an exception to log with it.
LogMeta = Mapping[str, Any] | BaseException | None


class LoggerService(Protocol):
    """A structured logger; plugin loggers carry ``plugin=<pluginId>`` on every entry."""

    def error(self, message: str, meta: LogMeta = None) -> None:
        """Log at error level."""

    def warn(self, message: str, meta: LogMeta = None) -> None:
        """Log at warn level."""

    def info(self, message: str, meta: LogMeta = None) -> None:
        """Log at info level."""

    def debug(self, message: str, meta: LogMeta = None) -> None:
        """Log at debug level."""

    def child(self, meta: Mapping[str, Any]) -> LoggerService:
        """A logger that adds ``meta`` to every entry."""


class RootLoggerService(LoggerService, Protocol):
    """The backend's root logger; plugin loggers are its children."""
