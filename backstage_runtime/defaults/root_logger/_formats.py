"""Line formats: JSON lines for production, a coloured human format for development."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from json.encoder import encode_basestring
from typing import Any, Final, Literal, Protocol

from ._entry import LogEntry, error_name, error_stack

__all__ = [
    "Formatter",
    "JsonFormatter",
    "LogFormat",
    "PrettyFormatter",
    "format_timestamp",
    "to_json",
]

#: The names accepted by ``backend.logger.format`` and ``LOG_FORMAT``.
LogFormat = Literal["json", "pretty"]

_UNCASTABLE: Final = "[field value not castable to string]"
_UNCASTABLE_JSON: Final = json.dumps(_UNCASTABLE)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseException):
        return {"name": error_name(value), "message": str(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return list(value)
    try:
        return str(value)
    except Exception:
        return _UNCASTABLE


# One encoder for every line: json.dumps with non-default options builds a new encoder per call,
# which was the largest single cost of a request log line.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _plain_encoder() -> Callable[[dict[str, Any]], str]:
    """What encodes a plain record: the C encoder that :meth:`json.JSONEncoder.encode` builds
    on every call, built once here (with the same options).

    It is undocumented (``json.encoder.c_make_encoder``, the same since Python 2.7), so where
    it is missing or takes other arguments the public encoder does the work. It is made
    without circular-reference markers, which a record of scalars does not need.
    """
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    try:
        encode = make(None, _json_default, encode_basestring, None, ":", ",", False, False, True)
    except TypeError:
        return _ENCODER.encode

    def encode_plain(record: dict[str, Any]) -> str:
        return "".join(encode(record, 0))

    return encode_plain


_encode_plain: Final = _plain_encoder()


def to_json(value: Any) -> str:
    """Compact JSON as JavaScript's ``JSON.stringify`` writes it (no spaces, no ``\\u`` escapes).

    Values JSON cannot hold are converted (exceptions to ``{name, message}``, dates to ISO text,
    anything else to ``str``) because a log call must never fail on its metadata.
    """
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError):
        pass
    if type(value) is dict:
        # One field the encoder refuses (an int longer than Python's 4,300-digit limit for
        # int-to-text conversion, say) must not cost the line its other fields.
        try:
            return _ENCODER.encode({key: _encodable(item) for key, item in value.items()})
        except (TypeError, ValueError):
            pass  # a key the encoder refuses
    return json.dumps(_json_default(value), ensure_ascii=False)


def _encodable(value: Any) -> Any:
    """``value`` if :func:`to_json` can encode it alone, else the uncastable marker."""
    try:
        _ENCODER.encode(value)
    except (TypeError, ValueError):
        return _UNCASTABLE
    return value


def _scalar_json(value: Any) -> str:
    """The JSON of an ``int``, ``float``, ``bool`` or ``None``, as :func:`to_json` writes it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float and not math.isfinite(value):
        # Python's json (allow_nan) writes these; JavaScript would write null.
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    # int.__repr__ and float.__repr__ are what the json encoder writes for numbers.
    try:
        return repr(value)
    except ValueError:
        # An int past the int-to-text digit limit: what to_json writes for it.
        return _UNCASTABLE_JSON


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as JavaScript's ``Date.toISOString``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Formatter(Protocol):
    """Renders one entry as text (one line, plus a traceback in the pretty format)."""

    def format(self, entry: LogEntry) -> str:
        """The text to write for ``entry``, without the trailing newline."""

    def format_plain(self, record: dict[str, Any], timestamp: str) -> str:
        """The text :meth:`format` writes for a plain entry, from less work.

        ``record`` is ``{"level": ..., "message": ..., **fields}`` with fields that need no
        masking (see ``is_plain``), none named ``level`` or ``message``, and no exception;
        ``timestamp`` is already formatted. The formatter may change ``record``.
        """


class JsonFormatter:
    """One JSON object per line: ``level``, ``message``, every field, ``stack``, ``timestamp``.

    Matches Backstage's production output (winston's ``json`` format) with one knowing
    difference: Backstage adds no timestamp there, while this project's guide asks for UTC
    timestamps in request logs, so each line ends with ``"timestamp":"<ISO-8601 UTC>Z"``.
    An exception passed as metadata adds its ``name`` and its traceback as ``stack``.
    """

    def format(self, entry: LogEntry) -> str:
        """The entry as a single-line JSON object."""
        record: dict[str, Any] = {"level": entry.level, "message": entry.message}
        record.update(entry.fields)
        record["level"] = entry.level
        if entry.error is not None:
            record["stack"] = error_stack(entry.error)
        record["timestamp"] = format_timestamp(entry.timestamp)
        return to_json(record)

    def format_plain(self, record: dict[str, Any], timestamp: str) -> str:
        """The line of a plain entry (see :meth:`Formatter.format_plain`): one encoding."""
        record["timestamp"] = timestamp
        try:
            return _encode_plain(record)
        except ValueError:
            return to_json(record)  # a field the encoder refuses: see to_json


# ANSI styles: (start, end) so a style can be closed without resetting the others.
_STYLES: Final[Mapping[str, tuple[str, str]]] = {
    "timestamp": ("\x1b[2m", "\x1b[22m"),
    "prefix": ("\x1b[34m", "\x1b[39m"),
    "field": ("\x1b[36m", "\x1b[39m"),
    "error": ("\x1b[31m", "\x1b[39m"),
    "warn": ("\x1b[33m", "\x1b[39m"),
    "info": ("\x1b[32m", "\x1b[39m"),
    "debug": ("\x1b[90m", "\x1b[39m"),
}


# The keys of a plain record that the pretty format shows other than as ``key=value``.
_NOT_PRETTY_FIELDS: Final = frozenset({"level", "message", "plugin", "service"})


class PrettyFormatter:
    """``<ISO timestamp> <plugin-or-service> <level> <message> key=<JSON value> ...``.

    Backstage's development format: ``plugin`` (else ``service``) is the prefix, and neither is
    repeated as a field. With ``colors`` the timestamp is dim, the prefix blue, field names cyan
    and the level coloured by severity. An exception's traceback follows on the next lines.
    """

    def __init__(self, *, colors: bool = False) -> None:
        self._colors = colors
        # The ANSI codes around a field name: each line paints a dozen.
        self._field_start, self._field_end = _STYLES["field"] if colors else ("", "")

    def _paint(self, style: str, text: str) -> str:
        if not self._colors or style not in _STYLES:
            return text
        start, end = _STYLES[style]
        return f"{start}{text}{end}"

    def format(self, entry: LogEntry) -> str:
        """The entry as one human-readable line, followed by the traceback if there is one."""
        fields = dict(entry.fields)
        plugin = fields.pop("plugin", None)
        service = fields.pop("service", None)
        prefix = plugin or service or "-"
        parts = [
            self._paint("timestamp", format_timestamp(entry.timestamp)),
            self._paint("prefix", prefix if isinstance(prefix, str) else to_json(prefix)),
            self._paint(entry.level, entry.level),
            entry.message,
        ]
        parts.extend(
            f"{self._paint('field', key)}={to_json(value)}" for key, value in fields.items()
        )
        line = " ".join(parts)
        if entry.error is not None:
            line = f"{line}\n{error_stack(entry.error)}"
        return line

    def format_plain(self, record: dict[str, Any], timestamp: str) -> str:
        """The line of a plain entry (see :meth:`Formatter.format_plain`), each field's value
        encoded on its own as :meth:`format` does, without the copies and calls per field.
        """
        level = record["level"]
        prefix = record.get("plugin") or record.get("service") or "-"
        if type(prefix) is not str:
            prefix = _scalar_json(prefix)
        parts = [
            self._paint("timestamp", timestamp),
            self._paint("prefix", prefix),
            self._paint(level, level),
            record["message"],
        ]
        start, end = self._field_start, self._field_end
        for key, value in record.items():
            if key in _NOT_PRETTY_FIELDS:
                continue
            text = encode_basestring(value) if type(value) is str else _scalar_json(value)
            parts.append(f"{start}{key}{end}={text}")
        return " ".join(parts)
