"""Whether this process's h11 has the private parts the HTTP/1.1 fast paths use.

:mod:`._llhttp_head` and :mod:`._fast_send` work inside h11 (its receive buffer, its state
machine, its writer, its keep-alive rule, its header list) because its public API offers no
seam there. h11 may change any of these in a release, so :func:`fast_paths_usable` checks,
once per process, that every one exists with the shape those modules expect, and that a
request read and a response sent by them leave h11 exactly as its own path does; when not,
the strict connection keeps h11's own reader and ``send`` (the same bytes, only slower).
Neither module is imported before the check has passed, so a missing private name cannot
break the server's import.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
from typing import Any

import h11

__all__ = ["fast_paths_usable"]

_log = logging.getLogger(__name__)

#: The fields the fast paths fill in without h11's constructors (h11 0.14-0.16).
_REQUEST_FIELDS = frozenset({"method", "target", "headers", "http_version"})
_RESPONSE_FIELDS = frozenset({"status_code", "headers", "http_version", "reason"})

_GET = b"GET /a HTTP/1.1\r\nHost: h\r\nX: 1\r\n\r\n"


@functools.cache
def fast_paths_usable() -> bool:
    """Whether h11's private parts are all there as :mod:`._llhttp_head` and
    :mod:`._fast_send` use them (checked once per process; False falls back to h11's path).
    """
    try:
        usable = _shapes_match() and _same_as_h11()
    except Exception:  # any surprise in h11's internals means "use h11's own path"
        usable = False
    if not usable:
        _log.debug("h11 %s: the HTTP/1.1 fast paths are off", getattr(h11, "__version__", "?"))
    return usable


def _fields(cls: type) -> frozenset[str]:
    if not dataclasses.is_dataclass(cls):
        return frozenset()
    return frozenset(field.name for field in dataclasses.fields(cls))


def _shapes_match() -> bool:
    connection_module = importlib.import_module("h11._connection")
    headers_module = importlib.import_module("h11._headers")
    buffer_module = importlib.import_module("h11._receivebuffer")
    if not callable(getattr(connection_module, "_keep_alive", None)):
        return False
    if not isinstance(getattr(headers_module, "Headers", None), type):
        return False
    buffer = buffer_module.ReceiveBuffer()
    if not (
        type(getattr(buffer, "_data", None)) is bytearray
        and type(getattr(buffer, "_next_line_search", None)) is int
        and type(getattr(buffer, "_multiple_lines_search", None)) is int
    ):
        return False
    connection: Any = h11.Connection(h11.SERVER)
    cstate = getattr(connection, "_cstate", None)
    if not (
        type(getattr(connection, "_receive_buffer", None)) is buffer_module.ReceiveBuffer
        and hasattr(connection, "_writer")
        and callable(getattr(connection, "_respond_to_state_changes", None))
        and callable(getattr(connection, "_process_error", None))
        and hasattr(connection, "client_is_waiting_for_100_continue")
        and cstate is not None
        and type(getattr(cstate, "states", None)) is dict
        and callable(getattr(cstate, "process_event", None))
        and callable(getattr(cstate, "process_keep_alive_disabled", None))
        and hasattr(cstate, "pending_switch_proposals")
        and hasattr(cstate, "keep_alive")
    ):
        return False
    return _fields(h11.Request) == _REQUEST_FIELDS and _fields(h11.Response) == _RESPONSE_FIELDS


def _same_as_h11() -> bool:
    """One request read and one response sent both ways: the same events, bytes and states."""
    from ._fast_send import FastSend
    from ._llhttp_head import HeadReader
    from ._response_head import split_head
    from ._strict_http1 import _StrictConnection

    fast = _StrictConnection(h11.SERVER)
    fast.head_reader = HeadReader()
    slow = _StrictConnection(h11.SERVER)
    for connection in (fast, slow):
        connection.receive_data(_GET)
    read, expected = fast.next_event(), slow.next_event()
    # h11's Headers compare lower-cased names only: the raw names (sent on to Quart) too.
    if read != expected or read.headers.raw_items() != expected.headers.raw_items():
        return False
    # The EndOfMessage, read by h11 from the state the head reader's request left.
    if fast.next_event() != slow.next_event() or fast.states != slow.states:
        return False
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    split = split_head(headers)
    sender = FastSend(fast)
    if split is None or not sender.start(split[0], 200):
        return False
    slow.send(h11.Response(status_code=200, headers=headers))
    if fast.states != slow.states:
        return False
    if sender.data(b"ok") != slow.send(h11.Data(data=b"ok")):
        return False
    if sender.end() != slow.send(h11.EndOfMessage()) or fast.states != slow.states:
        return False
    fast.start_next_cycle()
    slow.start_next_cycle()
    return bool(fast.states == slow.states)
