"""``BackstageLogger``: the default root logger and every child made from it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TextIO, cast

from ..._iso_time import IsoClock
from ...api.services.logger import LogMeta
from ._entry import LogEntry, merge_meta
from ._formats import Formatter, JsonFormatter, LogFormat, PrettyFormatter, format_timestamp
from ._levels import LEVELS, LogLevel, level_value
from ._overrides import LevelFilter, LevelOverride
from ._redaction import PlainCheck, Redactor, mask_sensitive_fields
from ._trace_fields import add_trace_fields
from ._writer import BackgroundWriter

__all__ = ["BackstageLogger"]

Clock = Callable[[], datetime]

_ERROR: Final = LEVELS["error"]
_WARN: Final = LEVELS["warn"]
_INFO: Final = LEVELS["info"]
_DEBUG: Final = LEVELS["debug"]


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
        clock: Clock | None,
        background: bool = False,
    ) -> None:
        self.stream = stream
        self.formatter = formatter
        self.level_filter = level_filter
        self.redactor = Redactor()
        self.plain = PlainCheck()
        self.clock = clock or _utc_now
        # Without a clock of the caller's, timestamps come from the system clock, formatted
        # once a second (plus milliseconds) instead of through datetime.isoformat per line.
        self._custom_clock = clock
        self._iso_clock = IsoClock()
        self._lock = threading.Lock()
        self.background = BackgroundWriter(stream) if background else None

    def timestamp(self) -> str:
        """The current time as the formats write it (``2024-05-06T07:08:09.005Z``)."""
        if self._custom_clock is not None:
            return format_timestamp(self._custom_clock())
        return self._iso_clock.now()

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

    __slots__ = ("_fields", "_output", "_plain")

    _output: _Output
    _fields: Mapping[str, Any]
    # Whether the bound fields are plain (see ``is_plain``) and name neither the entry's
    # ``message`` nor its ``level``: then an entry with plain metadata takes the plain path.
    _plain: bool

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
            clock=clock,
            background=background,
        )
        self._bind(dict(meta or {}))

    def _bind(self, fields: dict[Any, Any]) -> None:
        self._fields = fields
        self._plain = (
            "message" not in fields and "level" not in fields and self._output.plain(fields)
        )

    @property
    def level(self) -> str:
        """The global level (``LOG_LEVEL`` or ``backend.logger.level`` when built from config)."""
        return self._output.level_filter.level

    # Each method checks the level first: most debug calls in production end there.

    def error(self, message: str, meta: LogMeta = None) -> None:
        """Log at error level; ``meta`` is a mapping of fields or an exception."""
        if self._output.level_filter.widest >= _ERROR:
            self._log("error", _ERROR, message, meta)

    def warn(self, message: str, meta: LogMeta = None) -> None:
        """Log at warn level; ``meta`` is a mapping of fields or an exception."""
        if self._output.level_filter.widest >= _WARN:
            self._log("warn", _WARN, message, meta)

    def info(self, message: str, meta: LogMeta = None) -> None:
        """Log at info level; ``meta`` is a mapping of fields or an exception."""
        if self._output.level_filter.widest >= _INFO:
            self._log("info", _INFO, message, meta)

    def debug(self, message: str, meta: LogMeta = None) -> None:
        """Log at debug level; ``meta`` is a mapping of fields or an exception."""
        if self._output.level_filter.widest >= _DEBUG:
            self._log("debug", _DEBUG, message, meta)

    def child(self, meta: Mapping[str, Any]) -> BackstageLogger:
        """A logger that adds ``meta`` to every entry.

        It shares this logger's level, overrides, redactions and stream: a secret added later on
        the root is redacted from the child's lines too.
        """
        child = object.__new__(BackstageLogger)
        child._output = self._output
        child._bind({**self._fields, **meta})
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

    def _log(self, level: LogLevel, rank: int, message: str, meta: LogMeta) -> None:
        output = self._output
        level_filter = output.level_filter
        # The plain path: plain bound fields and a plain dict (or no meta) as metadata. Exactly
        # a dict, as another mapping's ``update`` is its own; no ``message`` or ``level`` key,
        # which would change the entry's own (winston's merge, the general path's work).
        if self._plain and (
            meta is None
            or (
                type(meta) is dict
                and "message" not in meta
                and "level" not in meta
                and output.plain(meta)
            )
        ):
            # The line's record is built once, in its order (level, message, bound fields,
            # metadata), with nothing to mask and nothing to merge away.
            record: dict[str, Any] = {"level": level, "message": str(message), **self._fields}
            if meta:
                record.update(cast(dict[str, Any], meta))
            add_trace_fields(record)
            # ``record`` holds every field, ``level`` and ``message``, as the overrides need.
            if level_filter.has_overrides and not level_filter.allows(rank, record):
                return
            output.write(output.formatter.format_plain(record, output.timestamp()))
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
