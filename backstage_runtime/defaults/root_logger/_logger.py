"""``BackstageLogger``: the default root logger and every child made from it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from ...api.services.logger import LogMeta
from ._entry import LogEntry, merge_meta
from ._formats import Formatter, JsonFormatter, LogFormat, PrettyFormatter
from ._levels import LEVELS, LogLevel, level_value
from ._overrides import LevelFilter, LevelOverride
from ._redaction import Redactor, mask_sensitive_fields
from ._trace_fields import add_trace_fields
from ._writer import BackgroundWriter

__all__ = ["BackstageLogger"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Output:
    """What a root logger and all its children share: filter, format, redactions and stream.

    Lines are written straight to the stream rather than through :mod:`logging`: the stdlib keeps
    its loggers in a process-wide registry, which would couple two backends in one process, and
    its ``LogRecord`` has no place for structured metadata. A lock keeps lines whole across threads.
    With ``background`` the lines go through a :class:`BackgroundWriter` instead (the process's
    stdout, which a full pipe would make block).
    """

    def __init__(
        self,
        *,
        stream: TextIO,
        formatter: Formatter,
        level_filter: LevelFilter,
        clock: Clock,
        background: bool = False,
    ) -> None:
        self.stream = stream
        self.formatter = formatter
        self.level_filter = level_filter
        self.redactor = Redactor()
        self.clock = clock
        self._lock = threading.Lock()
        self.background = BackgroundWriter(stream) if background else None

    def write(self, text: str) -> None:
        line = self.redactor.redact(text) + "\n"
        if self.background is not None:
            self.background.write(line)
            return
        with self._lock:
            try:
                self.stream.write(line)
                # Flush per line: stdout is block-buffered when piped (containers), and a line
                # stuck in a buffer is lost when the process is killed.
                self.stream.flush()
            except (OSError, ValueError):
                # A closed or broken stream must not turn logging into a crash of the caller.
                pass


class BackstageLogger:
    """The default ``core.rootLogger`` (and, through :meth:`child`, every plugin logger).

    Writes one entry per line to ``stream`` (default ``sys.stdout``, where Node's console
    transport writes) in the ``json`` or ``pretty`` format. An entry is written when the first
    matching level override admits it, or, if no override matches, when its level is at least as
    severe as ``level``. Every written line is passed through the redactor.

    Lines written to the process's own stdout or stderr (``sys.__stdout__``/``sys.__stderr__``,
    the default outside tests) are handed to a writer thread, so that a full pipe never blocks
    the event loop; ``background`` forces that on or off. :meth:`flush` writes out what is
    queued (the root logger service does at the end of the backend's stop; an ``atexit`` hook
    otherwise). Other streams are written synchronously, line by line.

    Usually built by :func:`create_root_logger` from config; construct directly for full control.
    Raises :class:`ValueError` for an unknown ``level`` or ``format``.
    """

    __slots__ = ("_fields", "_output")

    _output: _Output
    _fields: Mapping[str, Any]

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        level: str = "info",
        format: LogFormat = "pretty",
        meta: Mapping[str, Any] | None = None,
        overrides: Sequence[LevelOverride] = (),
        colors: bool | None = None,
        clock: Clock | None = None,
        background: bool | None = None,
    ) -> None:
        if level_value(level) is None:
            raise ValueError(f"Unknown log level {level!r}, expected one of {', '.join(LEVELS)}")
        # Resolved now, not at import: tests swap sys.stdout, and the default must follow them.
        out = stream if stream is not None else sys.stdout
        formatter: Formatter
        if format == "json":
            formatter = JsonFormatter()
        elif format == "pretty":
            if colors is None:
                isatty = getattr(out, "isatty", None)
                colors = bool(isatty()) if callable(isatty) else False
            formatter = PrettyFormatter(colors=colors)
        else:
            raise ValueError(f"Unknown log format {format!r}, expected 'json' or 'pretty'")
        level_filter = LevelFilter(level.strip().lower())
        level_filter.set_overrides(overrides)
        if background is None:
            background = out is sys.__stdout__ or out is sys.__stderr__
        self._output = _Output(
            stream=out,
            formatter=formatter,
            level_filter=level_filter,
            clock=clock or _utc_now,
            background=background,
        )
        self._fields = dict(meta or {})

    @property
    def level(self) -> str:
        """The global level (``LOG_LEVEL`` or ``backend.logger.level`` when built from config)."""
        return self._output.level_filter.level

    def error(self, message: str, meta: LogMeta = None) -> None:
        """Log at error level; ``meta`` is a mapping of fields or an exception."""
        self._log("error", message, meta)

    def warn(self, message: str, meta: LogMeta = None) -> None:
        """Log at warn level; ``meta`` is a mapping of fields or an exception."""
        self._log("warn", message, meta)

    def info(self, message: str, meta: LogMeta = None) -> None:
        """Log at info level; ``meta`` is a mapping of fields or an exception."""
        self._log("info", message, meta)

    def debug(self, message: str, meta: LogMeta = None) -> None:
        """Log at debug level; ``meta`` is a mapping of fields or an exception."""
        self._log("debug", message, meta)

    def child(self, meta: Mapping[str, Any]) -> BackstageLogger:
        """A logger that adds ``meta`` to every entry.

        It shares this logger's level, overrides, redactions and stream: a secret added later on
        the root is redacted from the child's lines too.
        """
        child = object.__new__(BackstageLogger)
        child._output = self._output
        child._fields = {**self._fields, **meta}
        return child

    def flush(self, timeout: float | None = 5.0) -> None:
        """Write out every line handed to the writer thread (waiting at most ``timeout``
        seconds); a no-op when lines are written synchronously. Logging may go on afterwards.
        """
        background = self._output.background
        if background is not None:
            background.flush(timeout)

    def add_redactions(self, values: Iterable[str]) -> int:
        """Redact each of ``values`` (trimmed; ones of length <= 1 ignored) from all later lines.

        Applies to this logger's root and all its children. Returns how many values were new.
        """
        return self._output.redactor.add(values)

    def set_level_overrides(self, overrides: Sequence[LevelOverride]) -> None:
        """Replace the level overrides of this logger's root and all its children."""
        self._output.level_filter.set_overrides(overrides)

    def _log(self, level: LogLevel, message: str, meta: LogMeta) -> None:
        output = self._output
        level_filter = output.level_filter
        rank = LEVELS[level]
        # Cheap exit before any work: most debug calls in production end here.
        if not level_filter.could_pass(rank):
            return
        text, fields, error = merge_meta(str(message), self._fields, meta)
        add_trace_fields(fields)
        # Overrides can match on any field (and raise verbosity), so they need the whole entry.
        if level_filter.has_overrides:
            entry_view = {**fields, "level": level, "message": text}
            if not level_filter.allows(rank, entry_view):
                return
        entry = LogEntry(
            level=level,
            message=text,
            fields=mask_sensitive_fields(fields),
            timestamp=output.clock(),
            error=error,
        )
        output.write(output.formatter.format(entry))
