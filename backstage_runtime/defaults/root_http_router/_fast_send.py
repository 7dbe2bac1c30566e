"""A response of known length sent without h11's ``send``, h11's state moved as ``send`` does.

``h11.Connection.send(Response)`` builds the response twice (each time validating its header
lines), decides its framing and keep-alive, moves the state machine and writes the head line
by line; ``send(Data)`` and ``send(EndOfMessage)`` go through the state machine again.
For the usual response (``_response_head.split_head`` already wrote its lines; the request was
read to its end; no protocol switch pending; the connection stays open) :class:`FastSend`
moves the server side of h11's state machine with h11's own functions, and the body is counted
by the writer h11 would have chosen, so a body longer or shorter than its ``Content-Length``
still fails as it does in h11. Only the serialisation and the re-validation are skipped.

It uses h11's private parts (``Connection._cstate``, ``_writer``, ``_respond_to_state_changes``,
``_process_error``, ``h11._connection._keep_alive``): import it only once
:func:`._h11_internals.fast_paths_usable` has said they are there.
Measured (callgrind, served hello request, 300 sequential): 1.34 M -> 1.26 M instructions a
request on top of :mod:`._llhttp_head`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h11
from h11._connection import _keep_alive

if TYPE_CHECKING:
    from h11._headers import Headers as H11Headers

__all__ = ["FastSend"]


class FastSend:
    """One connection's responses sent past h11's ``send`` (where :meth:`start` applies)."""

    __slots__ = ("_connection",)

    def __init__(self, connection: h11.Connection) -> None:
        self._connection = connection

    def start(self, headers: H11Headers, status: int) -> bool:
        """What ``send(Response)`` does to h11's state for a response whose framing and
        keep-alive lines are ``headers`` (False, nothing done, where this does not apply:
        h11 must send it).
        """
        connection = self._connection
        cstate = connection._cstate
        if (
            connection.our_state is not h11.SEND_RESPONSE
            or connection.their_state is not h11.DONE
            or cstate.pending_switch_proposals
            or not cstate.keep_alive
        ):
            return False
        # The fields h11 reads (framing, keep-alive), without h11's re-validation of the lines.
        response = object.__new__(h11.Response)
        setattr_ = object.__setattr__
        setattr_(response, "headers", headers)
        setattr_(response, "status_code", status)
        setattr_(response, "http_version", b"1.1")
        setattr_(response, "reason", b"")
        try:
            old_states = dict(cstate.states)
            cstate.process_event(h11.SERVER, h11.Response, None)
            if not _keep_alive(response):
                cstate.process_keep_alive_disabled()
            connection.client_is_waiting_for_100_continue = False
            connection._respond_to_state_changes(old_states, response)
        except BaseException:
            connection._process_error(h11.SERVER)
            raise
        return True

    def data(self, data: bytes) -> bytes:
        """``send(Data(data))`` after :meth:`start`: the body's bytes, counted against the
        ``Content-Length`` by h11's writer.
        """
        connection = self._connection
        out: list[bytes] = []
        try:
            writer = connection._writer
            assert writer is not None
            writer(h11.Data(data=data), out.append)
        except BaseException:
            connection._process_error(h11.SERVER)
            raise
        return b"".join(out)

    def end(self) -> bytes:
        """``send(EndOfMessage())`` after :meth:`start` (no bytes for a body of known length;
        h11's writer checks that all of it was sent).
        """
        connection = self._connection
        out: list[bytes] = []
        try:
            writer = connection._writer
            assert writer is not None
            event = h11.EndOfMessage()
            writer(event, out.append)
            cstate = connection._cstate
            old_states = dict(cstate.states)
            cstate.process_event(h11.SERVER, h11.EndOfMessage, None)
            connection._respond_to_state_changes(old_states, event)
        except BaseException:
            connection._process_error(h11.SERVER)
            raise
        return b"".join(out)
