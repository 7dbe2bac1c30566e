"""A request head read by llhttp (``httptools``) rather than by h11's readers.

h11 reads a request head in Python: a regular expression finds the blank line, the head is split
into lines, the request line and every header line are matched by regular expressions, and
``h11.Request`` normalises the list again. llhttp (Node's parser, which ``httptools`` wraps)
does the same scan in C, and refuses on its own the framings :func:`check_request_head`
looks for (bare LF, obs-fold, ``Content-Length`` with ``Transfer-Encoding``, a repeated or
malformed ``Content-Length``).

:class:`HeadReader` takes the place of h11's ``maybe_read_from_IDLE_client`` for one
connection: it returns the same ``h11.Request`` (or None, leaving the buffer to h11's reader),
and h11's state machine, body readers and writer go on as before.

llhttp is only the fast path for heads it takes: a head it refuses, an incomplete one, one
that starts with an empty line, and one without exactly one ``Host`` (llhttp takes both) are
left in the buffer for h11's reader (after :func:`check_request_head`), so every verdict on
the wire stays h11's, including where Node's would differ (an unknown method, ``HTTP/1.2``, a
control character in a value: llhttp refuses them, h11 serves them).

It uses h11's private parts (``ReceiveBuffer._data``, its line-search offsets,
``h11._headers.Headers``): import it only once :func:`._h11_internals.fast_paths_usable` has
said they are there.
Measured (callgrind, served hello request, 300 sequential): 1.42 M -> 1.34 M instructions a
request with this reader alone, 1.26 M with :mod:`._fast_send` too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h11
import httptools
from h11._headers import Headers as H11Headers

if TYPE_CHECKING:
    from h11._receivebuffer import ReceiveBuffer

__all__ = ["HeadReader"]

_FRAMING_NAMES = (b"content-length", b"transfer-encoding")

#: The versions read here (h11 reads the others, e.g. ``HTTP/2.0`` sent as text).
_VERSIONS = {"1.1": b"1.1", "1.0": b"1.0"}


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
        """The next request head in ``buffer`` as h11's reader for a client in ``IDLE`` reads
        it, or None (the buffer untouched) where h11's own reader must answer.
        """
        data = buffer._data
        end = data.find(b"\r\n\r\n")
        # Not a whole CRLF head, or one that starts with an empty line (h11 refuses it,
        # llhttp skips it): h11's reader waits for it or refuses it, as before.
        if end < 0 or data.startswith((b"\r", b"\n")):
            return None
        if not self._whole:
            self._parser = httptools.HttpRequestParser(self)
        self._whole = False
        self._target = b""
        headers: list[tuple[bytes, bytes, bytes]] = []
        self._headers = headers
        self._hosts = 0
        parser = self._parser
        head = data[: end + 4]
        try:
            parser.feed_data(head)
        except httptools.HttpParserUpgrade:
            pass  # h11 and Hypercorn decide what an Upgrade means, as before
        except httptools.HttpParserError:
            # Whatever llhttp refuses h11 reads (and refuses, or takes) as it always did, so
            # the verdict on the wire stays h11's; the parser in error is replaced.
            return None
        version = _VERSIONS.get(parser.get_http_version())
        method = parser.get_method()
        target = self._target
        # llhttp also takes an HTTP/0.9 line (no version) and runs of spaces between the
        # parts; h11 takes neither: only ``METHOD SP target SP HTTP/1.x CRLF`` is ours.
        if version is None or data.find(b"\r\n") != len(method) + len(target) + 10:
            self._whole = False
            return None
        if parser.should_upgrade():
            self._whole = False  # llhttp stops at an Upgrade: the next head gets a new parser
        if version == b"1.1" and self._hosts != 1:
            return None  # h11 refuses a missing or repeated Host (llhttp takes both)
        # As h11's buffer extracts (without a second copy of the head).
        del data[: end + 4]
        buffer._next_line_search = buffer._multiple_lines_search = 0
        if any(item[1] in _FRAMING_NAMES for item in headers):
            # h11 normalises the framing lines (a lower-cased Transfer-Encoding, its own
            # errors and status hints): it is given them as it would read them.
            return h11.Request(
                method=method,
                target=target,
                headers=[(item[0], item[2]) for item in headers],
                http_version=version,
                _parsed=True,
            )
        # The fields h11's Request has, without its second pass over lines llhttp checked.
        request = object.__new__(h11.Request)
        setattr_ = object.__setattr__
        setattr_(request, "method", method)
        setattr_(request, "target", target)
        setattr_(request, "headers", H11Headers(headers))
        setattr_(request, "http_version", version)
        return request
