"""Backstage's error response: the status an error maps to and the JSON body that carries it.

Python's counterpart of ``@backstage/errors``' ``serializeError`` and the error handler of
``MiddlewareFactory``: every HTTP error of a backend, whether it comes from a plugin route, the
lifecycle gate or the credentials barrier, is rendered by these functions, so a Node
``ResponseError`` reads it as if a Node backend had sent it.
"""

from __future__ import annotations

import inspect
import secrets
import traceback
from typing import Any

from .errors import BackstageError

__all__ = [
    "INTERNAL_ERROR_MESSAGE",
    "error_name",
    "error_response_body",
    "internal_error_log_id",
    "is_internal_error",
    "serialize_error",
    "status_code_for_error",
]

#: Error names and their HTTP status, as Backstage's error handler maps them.
_STATUS_BY_NAME: dict[str, int] = {
    "NotModifiedError": 304,
    "InputError": 400,
    "AuthenticationError": 401,
    "NotAllowedError": 403,
    "NotFoundError": 404,
    "ConflictError": 409,
    "NotImplementedError": 501,
    "ServiceUnavailableError": 503,
}

#: The Backstage name of a bare HTTP status, so errors of HTTP libraries (werkzeug's ``NotFound``,
#: ``BadRequest``, ...) reach clients under the names Backstage clients know.
_NAME_BY_STATUS: dict[int, str] = {status: name for name, status in _STATUS_BY_NAME.items()}

#: What replaces the message of an internal error (database driver errors, non-errors).
INTERNAL_ERROR_MESSAGE = "An internal error occurred"

# Modules whose exceptions can carry SQL, parameters or connection details: their text never
# reaches a response (Backstage does the same for the pg driver's DatabaseError).
_INTERNAL_MODULE_PREFIXES = ("sqlalchemy.", "asyncpg.", "aiosqlite.", "sqlite3", "psycopg")


def _status_attribute(error: BaseException) -> int | None:
    for attribute in ("status_code", "statusCode", "status", "code"):
        value = getattr(error, attribute, None)
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        # The first number decides: aiohttp's ClientResponseError has `status`, and reading its
        # deprecated `code` alias as well would warn.
        return value if 100 <= value <= 599 else None
    return None


def error_name(error: BaseException) -> str:
    """The ``name`` an error carries on the wire.

    Backstage errors report their ``name`` (a forwarded error its cause's); an exception with an
    HTTP status whose status Backstage has a name for reports that name (werkzeug's ``NotFound``
    becomes ``NotFoundError``); anything else reports its class name.
    """
    if isinstance(error, BackstageError):
        return error.error_name
    status = _status_attribute(error)
    if status is not None and status in _NAME_BY_STATUS:
        return _NAME_BY_STATUS[status]
    return type(error).__name__


def status_code_for_error(error: BaseException) -> int:
    """The HTTP status for ``error``: its own ``status_code``/``statusCode``/``status``/``code``
    when that is a whole number in 100-599, else by its name (``NotFoundError`` 404, ...), else 500.
    """
    status = _status_attribute(error)
    if status is not None:
        return status
    return _STATUS_BY_NAME.get(error_name(error), 500)


def is_internal_error(error: BaseException) -> bool:
    """True for errors whose text must not reach a client (database driver errors)."""
    for cls in type(error).__mro__:
        if cls.__name__ == "DatabaseError" or cls.__module__.startswith(_INTERNAL_MODULE_PREFIXES):
            return True
    return False


def internal_error_log_id() -> str:
    """A random 20-hex-digit id that ties a hidden internal error to its log line."""
    return secrets.token_hex(10)


def _message(error: BaseException) -> str:
    description = getattr(error, "description", None)
    if not isinstance(error, BackstageError) and isinstance(description, str) and description:
        # werkzeug's HTTP exceptions keep their human-readable text in ``description``.
        return description
    return str(error)


def serialize_error(error: BaseException, *, include_stack: bool = False) -> dict[str, Any]:
    """``{"name", "message", "cause"?, "code"?, "stack"?}`` for ``error``, the cause serialised
    the same way.

    The stack is only included when ``include_stack`` is true (development mode).
    """
    body: dict[str, Any] = {"name": error_name(error), "message": _message(error)}
    cause = error.cause if isinstance(error, BackstageError) else None
    if cause is not None:
        body["cause"] = serialize_error(cause, include_stack=include_stack)
    # Looked up without running properties: aiohttp's deprecated `code` would warn, and a
    # computed value is not the error code Backstage means (a string set on the error).
    code = inspect.getattr_static(error, "code", None)
    if isinstance(code, str):
        body["code"] = code
    if include_stack:
        body["stack"] = "".join(traceback.format_exception(error))
    return body


def error_response_body(
    error: BaseException,
    *,
    method: str,
    url: str,
    status: int | None = None,
    include_stack: bool = False,
) -> dict[str, Any]:
    """The Backstage error body: ``{"error": ..., "request": {"method", "url"}, "response":
    {"statusCode"}}``; ``url`` is the path (and query) as the failing router saw it.
    """
    return {
        "error": serialize_error(error, include_stack=include_stack),
        "request": {"method": method, "url": url},
        "response": {"statusCode": status if status is not None else status_code_for_error(error)},
    }
