"""Parsing a request body as JSON the way Express's ``express.json()`` does: strictly.

Every way a body can fail to be JSON ends as an :class:`InputError` (400) that says what is
wrong, never as an exception the error handler would log as a crash.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from ..api.errors import InputError

__all__ = ["parse_json_body"]


class _ConstantRefused(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in the body (not JSON; ``JSON.parse`` refuses it)."""


def _refuse_constant(name: str) -> NoReturn:
    raise _ConstantRefused(name)


def parse_json_body(data: bytes) -> Any:
    """``data`` (UTF-8, an optional byte order mark) parsed as JSON.

    Raises :class:`InputError` for bytes that are not UTF-8, text that is not JSON (truncated,
    a bare ``NaN``/``Infinity``, which Python's parser would accept but JSON does not) and
    nesting too deep to parse (Python's parser recurses; a deep body would otherwise be a
    ``RecursionError``, a 500).
    """
    try:
        # iconv-lite, which body-parser decodes with, drops a byte order mark too.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"Request body is not valid UTF-8: {error.reason} at byte {error.start}"
        ) from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except _ConstantRefused as error:
        raise InputError(f"Invalid JSON in request body: {error} is not a JSON value") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"Invalid JSON in request body: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise InputError("Invalid JSON in request body: nested too deeply") from None
