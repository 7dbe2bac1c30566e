"""SPIKE (issue 19): a response of known length sent without h11's ``send``, h11's state kept.

``h11.Connection.send(Response)`` builds the response twice (each time validating its header
lines), decides its framing and keep-alive, moves the state machine and writes the head line
by line; ``send(Data)`` and ``send(EndOfMessage)`` go through the state machine again.
For the usual response (``_response_head.split_head`` already wrote its lines; the request was
read to its end; no protocol switch pending; the connection stays open) the server side of
h11's state machine is moved here with h11's own functions, and the body is counted by the
writer h11 would have chosen, so a body longer or shorter than its ``Content-Length`` still
fails as it does in h11. Only the serialisation and the re-validation are skipped.
"""

from __future__ import annotations

import h11
from h11._connection import _keep_alive
from h11._headers import Headers as H11Headers

__all__ = ["end_message", "start_body", "write_data"]


def start_body(connection: h11.Connection, headers: H11Headers, status: int) -> bool:
    """What ``connection.send(Response)`` does to h11's state for a response whose framing
    and keep-alive lines are ``headers`` (False, nothing done, where the fast path does not
    apply: h11 must send it).
    """
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


def write_data(connection: h11.Connection, data: bytes) -> bytes:
    """``connection.send(Data(data))`` after :func:`start_body`: the body's bytes, counted
    against the ``Content-Length`` by h11's writer.
    """
    out: list[bytes] = []
    try:
        writer = connection._writer
        assert writer is not None
        writer(h11.Data(data=data), out.append)
    except BaseException:
        connection._process_error(h11.SERVER)
        raise
    return b"".join(out)


def end_message(connection: h11.Connection) -> bytes:
    """``connection.send(EndOfMessage())`` after :func:`start_body` (no bytes for a body of
    known length; h11's writer checks that all of it was sent).
    """
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
