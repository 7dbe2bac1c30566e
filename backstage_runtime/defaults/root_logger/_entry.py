"""One log entry, composed from the logger's bound fields and the call's metadata."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...api.errors import BackstageError

__all__ = ["LogEntry", "error_name", "error_stack", "merge_meta"]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What a formatter renders: level, message, metadata fields, time and an optional exception.

    ``fields`` are already masked (see ``mask_sensitive_fields``) and JSON-ready apart from leaf
    values the formatter converts.
    """

    level: str
    message: str
    fields: Mapping[str, Any]
    timestamp: datetime
    error: BaseException | None = None


def error_name(error: BaseException) -> str:
    """The error's name: Backstage's ``name`` for our errors, else the class name."""
    if isinstance(error, BackstageError):
        return error.error_name
    return type(error).__name__


def error_stack(error: BaseException) -> str:
    """The traceback of ``error`` (with its causes) as text, Node's ``stack`` in Python form.

    An exception that was never raised has no frames; its stack is then ``<Name>: <message>``.
    """
    return "".join(traceback.format_exception(error)).rstrip("\n")


def merge_meta(
    message: str, bound: Mapping[str, Any], meta: object
) -> tuple[str, dict[str, Any], BaseException | None]:
    """Combine a call's ``meta`` with the logger's ``bound`` fields, as winston does.

    Returns the message, the fields and the exception passed as ``meta`` (if any). Like winston,
    a ``message`` in the metadata (or an exception's text) is appended to the message, and the
    entry's own ``level`` cannot be overwritten by a field.
    """
    fields = dict(bound)
    # winston lets the entry's own message win over a child's bound ``message`` field.
    fields.pop("message", None)
    error: BaseException | None = None
    if isinstance(meta, BaseException):
        error = meta
        text = str(meta)
        if text:
            message = f"{message} {text}" if message else text
        fields["name"] = error_name(meta)
    elif isinstance(meta, Mapping):
        fields.update(meta)
        extra = fields.pop("message", None)
        if extra is not None:
            message = f"{message} {extra}"
    elif meta is not None:
        # Not part of the interface, but a logger must never turn a caller's slip into a crash.
        fields["meta"] = meta
    fields.pop("level", None)
    return message, fields, error
