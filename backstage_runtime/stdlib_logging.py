"""Forwarding stdlib :mod:`logging` records of third-party libraries into a Backstage logger.

A toolkit layer: the root logger offers it to applications, and the HTTP server routes Hypercorn's
own log records through it, without either depending on the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .api.services.logger import LoggerService, LogMeta

__all__ = ["StdlibLoggingBridge", "install_stdlib_bridge"]

_LogMethod = Callable[[str, LogMeta], None]


class StdlibLoggingBridge(logging.Handler):
    """A :class:`logging.Handler` that writes each record to a Backstage ``logger``.

    Levels map CRITICAL/ERROR to ``error``, WARNING to ``warn``, INFO to ``info`` and anything
    lower to ``debug``; each entry carries ``logger=<record.name>``. A record's ``exc_info``
    becomes the exception meta, so the traceback is rendered (and redacted) like any other.
    """

    def __init__(self, logger: LoggerService, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        """Forward ``record``; failures go to :meth:`logging.Handler.handleError`, never raise."""
        try:
            message = record.getMessage()
            fields = {"logger": record.name}
            error = record.exc_info[1] if record.exc_info else None
            if error is not None:
                target = self._logger.child(fields)
                self._method(target, record.levelno)(message, error)
            else:
                self._method(self._logger, record.levelno)(message, fields)
        except Exception:
            self.handleError(record)

    @staticmethod
    def _method(logger: LoggerService, levelno: int) -> _LogMethod:
        if levelno >= logging.ERROR:
            return logger.error
        if levelno >= logging.WARNING:
            return logger.warn
        if levelno >= logging.INFO:
            return logger.info
        return logger.debug


def install_stdlib_bridge(
    logger: LoggerService, level: int = logging.WARNING, *, name: str | None = None
) -> StdlibLoggingBridge:
    """Attach a :class:`StdlibLoggingBridge` for ``logger`` to the stdlib logger ``name``.

    ``name`` None means the stdlib root logger, i.e. every library. This is the one place this
    package touches :mod:`logging`'s process-wide registry, and only because the caller asked;
    the stdlib logger's level is lowered to ``level`` if it would otherwise drop those records.
    Undo with ``logging.getLogger(name).removeHandler(bridge)``.
    """
    target = logging.getLogger(name)
    bridge = StdlibLoggingBridge(logger, level)
    target.addHandler(bridge)
    if target.level == logging.NOTSET or target.level > level:
        target.setLevel(level)
    return bridge
