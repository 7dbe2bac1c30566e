"""Which errors must not reach a client: drivers, sockets and the operating system talk about
hosts, ports, roles and SQL, none of which a caller should read.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Literal

from ..api.error_response import is_internal_error, status_code_for_error
from ..api.errors import BackstageError

__all__ = ["InternalKind", "causes", "internal_kind"]

#: ``unavailable``: a dependency could not be reached (worth retrying, 503); ``internal``:
#: anything else whose text is not for clients (500).
InternalKind = Literal["unavailable", "internal"]

# Driver errors that mean the server cannot be reached or takes no more connections, as
# opposed to a query it refused: class names, whatever the driver module. (DB-API's
# OperationalError is not among them: SQLite's "no such table" is one.)
_UNAVAILABLE_NAMES = frozenset(
    {
        "CannotConnectNowError",  # asyncpg: the server is starting or shutting down
        "TooManyConnectionsError",  # asyncpg
        "ConnectionDoesNotExistError",  # asyncpg: the connection was lost mid-query
        "DisconnectionError",  # SQLAlchemy
        "TimeoutError",  # SQLAlchemy's pool: no connection came free in time
    }
)
_UNAVAILABLE_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)
_MAX_CHAIN = 16


def causes(error: BaseException) -> Iterator[BaseException]:
    """``error``, then what caused it (``cause``, ``__cause__``, or the exception being handled
    unless ``raise ... from None`` hid it), without looping on a cycle.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(current))
        yield current
        explicit = current.cause if isinstance(current, BackstageError) else None
        if explicit is None:
            explicit = current.__cause__
        if explicit is None and not current.__suppress_context__:
            explicit = current.__context__
        current = explicit


def _serialized_causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the causes its response body would carry (Backstage errors' ``cause``)."""
    current: BaseException | None = error
    for _ in range(_MAX_CHAIN):
        if current is None:
            return
        yield current
        current = current.cause if isinstance(current, BackstageError) else None


def _is_system_error(error: BaseException) -> bool:
    return is_internal_error(error) or isinstance(error, OSError)


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if isinstance(error, OSError):
        if error.errno in _UNAVAILABLE_ERRNOS:
            return True
        if error.errno is None and "Connect call failed" in str(error):
            return True  # asyncio's "Multiple exceptions: ..." when every address refused
        return type(error).__name__ == "gaierror"  # a host name that does not resolve
    return is_internal_error(error) and type(error).__name__ in _UNAVAILABLE_NAMES


def internal_kind(error: BaseException) -> InternalKind | None:
    """Whether ``error`` must be hidden from the client, and as which kind; None: it may be sent.

    Hidden: an error that is itself a driver, socket or OS error; a Backstage error whose
    response body would carry one as its ``cause``; and any other server error (500 and above,
    or no status) caused by one, since its message is likely built from the cause's
    (``RuntimeError(f"query failed: {error}")``). A Backstage error raised on purpose keeps its
    message whatever was being handled (``NotFoundError`` while handling a
    ``FileNotFoundError``, ``ServiceUnavailableError("GitHub is unreachable")`` while handling a
    refused connection): its words are the author's. The kind is ``unavailable`` when any
    error in the chain says a dependency could not be reached.
    """
    if isinstance(error, BackstageError):
        hidden = any(_is_system_error(e) for e in _serialized_causes(error))
    elif _is_system_error(error):
        hidden = True
    else:
        hidden = status_code_for_error(error) >= 500 and any(
            _is_system_error(e) for e in list(causes(error))[1:]
        )
    if not hidden:
        return None
    return "unavailable" if any(_is_unavailable(e) for e in causes(error)) else "internal"
