"""The Backstage error a failed response carries, rebuilt from its error JSON.

A Node or Python backend answers ``{"error": {"name", "message", ...}, "response":
{"statusCode"}}``; the caller gets the error class of that name (``NotFoundError``, ...) with the
remote message (which already ends with the remote causes, ``...; caused by ...``), so
``except NotFoundError`` works across backends. A body that is not error JSON, or names an error
this side does not know, becomes a :class:`ResponseError` carrying the status and the body.
"""

from __future__ import annotations

import json
from typing import Any

from ...api.errors import (
    AuthenticationError,
    BackstageError,
    ConflictError,
    InputError,
    NotAllowedError,
    NotFoundError,
    NotImplementedYetError,
    NotModifiedError,
    ResponseError,
    ServiceUnavailableError,
)

__all__ = ["error_from_response"]

_BY_NAME: dict[str, type[BackstageError]] = {
    "InputError": InputError,
    "AuthenticationError": AuthenticationError,
    "NotAllowedError": NotAllowedError,
    "NotFoundError": NotFoundError,
    "ConflictError": ConflictError,
    "NotModifiedError": NotModifiedError,
    "NotImplementedError": NotImplementedYetError,
    "ServiceUnavailableError": ServiceUnavailableError,
}


def error_from_response(status: int, reason: str | None, text: str) -> BackstageError:
    """The error for a response of ``status`` whose body is ``text``."""
    response = ResponseError(
        f"Request failed with {status} {reason or ''}".strip(), status_code=status, body=text
    )
    try:
        body: Any = json.loads(text)
    except ValueError:
        return response
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return response
    name, message = error.get("name"), error.get("message")
    if not isinstance(message, str):
        return response
    cls = _BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None:
        return ResponseError(message, status_code=status, body=text)
    return cls(message)
