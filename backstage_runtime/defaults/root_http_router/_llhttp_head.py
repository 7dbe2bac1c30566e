"""SPIKE (issue 19): a request head read by llhttp (``httptools``) rather than by h11's readers.

h11 reads a request head in Python: a regular expression finds the blank line, the head is split
into lines, the request line and every header line are matched by regular expressions, and
``h11.Request`` normalises the list again. llhttp (Node's parser, which ``httptools`` wraps)
does the same scan in C, and refuses on its own the framings :func:`check_request_head`
looks for (bare LF, obs-fold, ``Content-Length`` with ``Transfer-Encoding``, a repeated or
malformed ``Content-Length``).

:func:`read_request_head` takes the place of h11's ``maybe_read_from_IDLE_client`` for one
connection: it returns the same ``h11.Request`` (or None while the head is incomplete, or
raises h11's error), and h11's state machine, body readers and writer go on as before.

Where llhttp and h11 disagree, h11's answer is kept so that nothing on the wire changes:
a head that starts with an empty line, and a missing or repeated ``Host`` (llhttp takes
both), are refused as h11 refuses them; a head llhttp refuses that h11 would take (an unknown
method, ``HTTP/1.2``) is refused, as Node does (a behaviour change, see the spike's report).
"""

from __future__ import annotations

import h11
import httptools
from h11._headers import Headers as H11Headers
from h11._receivebuffer import ReceiveBuffer

__all__ = ["HeadReader"]

_FRAMING_NAMES = (b"content-length", b"transfer-encoding")

_VERSIONS = {"1.1": b"1.1", "1.0": b"1.0", "0.9": b"0.9", "2.0": b"2.0"}


class HeadReader:
    """One connection's llhttp parser, reused for each request head it reads.

    The parser is fed the head alone (up to the blank line); a request with a body leaves it
    inside that body, so the next head gets a new parser.
    """

    __slots__ = ("_headers", "_hosts", "_parser", "_target", "_whole")

    def __init__(self) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._target = b""
        self._headers: list[tuple[bytes, bytes, bytes]] = []
        self._hosts = 0
        #: Whether the last head was a whole message (no body): the parser is at a message start.
        self._whole = True

    # llhttp's callbacks (called from C while the head is fed).
    def on_url(self, url: bytes) -> None:
        """The request target (llhttp may split it; the pieces are joined)."""
        self._target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header line: h11's item (raw name, lower-cased name, value without its OWS)."""
        lowered = name.lower()
        if lowered == b"host":
            self._hosts += 1
        # llhttp drops the whitespace before a value, not after it; h11 drops both.
        self._headers.append((name, lowered, value.rstrip(b" \t")))

    def on_message_complete(self) -> None:
        """The head was a whole request (no body follows)."""
        self._whole = True

    def __call__(self, buffer: ReceiveBuffer) -> h11.Request | None:
        """h11's reader for a client in ``IDLE``: the next request head in ``buffer``."""
        data = buffer._data
        if data.startswith((b"\r", b"\n")):
            # h11 refuses a head that starts with an empty line (llhttp skips it).
            raise h11.RemoteProtocolError("no request line received")
        end = data.find(b"\r\n\r\n")
        if end < 0:
            # Incomplete (or its lines end in bare LFs): refused now as before, not when it
            # times out.
            from ._strict_http1 import check_request_head  # a cycle: _strict_http1 uses this

            check_request_head(bytes(data))
            if data and data[0] < 0x21:
                raise h11.RemoteProtocolError("illegal request line")
            return None
        head = buffer._extract(end + 4)
        if not self._whole:
            self._parser = httptools.HttpRequestParser(self)
        self._whole = False
        self._target = b""
        headers: list[tuple[bytes, bytes, bytes]] = []
        self._headers = headers
        self._hosts = 0
        parser = self._parser
        try:
            parser.feed_data(head)
        except httptools.HttpParserUpgrade:
            pass  # h11 and Hypercorn decide what an Upgrade means, as before
        except httptools.HttpParserError as error:
            self._whole = False  # a parser in error parses nothing more
            message = str(error)
            # h11 answers a Transfer-Encoding it cannot decode with 501, not 400.
            status = 501 if "`Transfer-Encoding`" in message else 400
            raise h11.RemoteProtocolError(message, error_status_hint=status) from None
        version = _VERSIONS[parser.get_http_version()]
        if any(item[1] in _FRAMING_NAMES for item in headers):
            # h11 normalises the framing lines (a lower-cased Transfer-Encoding, its own
            # errors and status hints): it is given them as it would read them.
            return h11.Request(
                method=parser.get_method(),
                target=self._target,
                headers=[(item[0], item[2]) for item in headers],
                http_version=version,
                _parsed=True,
            )
        if version == b"1.1" and self._hosts != 1:
            message = (
                "Missing mandatory Host: header"
                if not self._hosts
                else ("Found multiple Host: headers")
            )
            raise h11.RemoteProtocolError(message)
        # The fields h11's Request has, without its second pass over lines llhttp checked.
        request = object.__new__(h11.Request)
        setattr_ = object.__setattr__
        setattr_(request, "method", parser.get_method())
        setattr_(request, "target", self._target)
        setattr_(request, "headers", H11Headers(headers))
        setattr_(request, "http_version", version)
        return request
