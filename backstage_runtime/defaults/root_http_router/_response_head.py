"""A response's header lines as h11 validates and writes them, remembered line by line, and the
head of a response written without h11's passes over the lines it never reads.

h11 runs two regular expressions and four Python calls per line to validate a response's
headers: with the security headers a response carries about 16 lines, ~185k instructions a
request, more than the rest of Hypercorn's HTTP/1.1 handling. Most lines are the same on every
response (helmet's, ``Content-Type``, ``Vary``, the keep-alive pair), so a line h11 accepted
once is taken as it normalised it then (:func:`normalized_headers`).

Sending the response, h11 then goes over every line about seven times more in Python (framing,
keep-alive, clean-up, writing): ~10k instructions a line, ~6% of a served request. It only
reads ``Content-Length``, ``Transfer-Encoding`` and ``Connection`` (and writes a ``Host`` line
first); for the usual response (one ``Content-Length``, no ``Transfer-Encoding``, a request that
keeps the connection alive) it leaves the lines as they are. :func:`split_head` gives h11 only
the lines it reads, for its state, and the wire bytes of every line, remembered with the line,
to write in their place (see ``_StrictH11Protocol``).
"""

from __future__ import annotations

import h11
from h11._headers import Headers as H11Headers
from h11._headers import normalize_and_validate

__all__ = ["MAX_KNOWN_HEADER_LINES", "MAX_KNOWN_HEADS", "normalized_headers", "split_head"]

#: Most response header lines remembered as already validated; past it the memory starts over,
#: so varying values (ETags, dates) cannot grow it without end.
MAX_KNOWN_HEADER_LINES = 512

#: A line h11 accepted: its normalised item (raw name, lower-cased name, value) and the bytes
#: h11 writes for it.
_KnownLine = tuple[tuple[bytes, bytes, bytes], bytes]

_known_header_lines: dict[tuple[bytes, bytes], _KnownLine] = {}

#: Most whole heads remembered by :func:`split_head`, bounded as the lines are.
MAX_KNOWN_HEADS = 256

_known_heads: dict[tuple[tuple[bytes, bytes], ...], tuple[H11Headers, bytes]] = {}

#: The header names whose lines h11 checks against each other (a repeated Content-Length is
#: merged or refused, a repeated Transfer-Encoding refused), not one line at a time.
_FRAMING_NAMES = (b"content-length", b"transfer-encoding")

#: The names of the response lines h11 reads or changes: the framing and keep-alive ones, and
#: ``Host``, which it writes first.
_READ_BY_H11 = frozenset((b"content-length", b"transfer-encoding", b"connection", b"host"))


def normalized_headers(headers: list[tuple[bytes, bytes]]) -> H11Headers:
    """h11's normalisation and validation of a response's ``headers``, what ``h11.Response``
    would do with the list, remembering each line's outcome.

    h11's checks that span lines (a repeated ``Content-Length`` or ``Transfer-Encoding``) are
    left to h11 itself on the whole list, as are a line it refuses (so the error is the one h11
    raises first) and anything that is not a pair of bytes.
    """
    known = _known_header_lines
    items: list[tuple[bytes, bytes, bytes]] = []
    framing = 0
    try:
        for line in headers:
            entry = known.get(line)
            if entry is None:
                entry = _learn_header_line(line)
                if entry is None:  # refused: h11 on the whole list raises its first error
                    return normalize_and_validate(headers)
            item = entry[0]
            if item[1] in _FRAMING_NAMES:
                framing += 1
            items.append(item)
    except TypeError:  # an unhashable line (a list, a bytearray): not one of ours
        return normalize_and_validate(headers)
    if framing > 1:
        return normalize_and_validate(headers)
    return H11Headers(items)


def split_head(headers: list[tuple[bytes, bytes]]) -> tuple[H11Headers, bytes] | None:
    """:func:`_split_head`, remembered for a whole list of lines: one lookup of the list costs
    a sixth of the pass over its lines (~20k instructions a request). Most responses of a route
    repeat their head but for ``Date`` (once a second) and ``ETag`` (per body): a head not seen
    before costs the lookup on top of the pass (about a tenth more).
    """
    try:
        key = tuple(headers)
        found = _known_heads.get(key)
    except TypeError:  # an unhashable line (a list, a bytearray): not one of ours
        return None
    if found is not None:
        return found
    found = _split_head(headers)
    # Equal lists split alike: the split reads the lines' values only, as h11 does.
    if found is not None:
        if len(_known_heads) >= MAX_KNOWN_HEADS:
            _known_heads.clear()
        _known_heads[key] = found
    return found


def _split_head(headers: list[tuple[bytes, bytes]]) -> tuple[H11Headers, bytes] | None:
    """For a response whose lines h11 would send as they are: the lines h11 reads (its one
    ``Content-Length`` and any ``Connection``), as h11 headers, and the bytes h11 would write
    for all ``headers``, in order, between the status line and the blank line.

    None when h11 may change or reorder lines, so the response must go through h11 whole: no
    ``Content-Length`` or more than one, a ``Transfer-Encoding`` or a ``Host`` line, a line
    h11 refuses or one that is not hashable (not a tuple). The caller sees to h11's third
    condition: the request keeps the connection alive (else h11 adds ``Connection: close``).
    """
    known = _known_header_lines
    read: list[tuple[bytes, bytes, bytes]] = []
    wire: list[bytes] = []
    try:
        for line in headers:
            entry = known.get(line)
            if entry is None:
                entry = _learn_header_line(line)
                if entry is None:
                    return None
            item, data = entry
            if item[1] in _READ_BY_H11:
                read.append(item)
            wire.append(data)
    except TypeError:
        return None
    lengths = [item for item in read if item[1] == b"content-length"]
    if len(lengths) != 1 or any(item[1] in (b"transfer-encoding", b"host") for item in read):
        return None
    return H11Headers(read), b"".join(wire)


def _learn_header_line(line: tuple[bytes, bytes]) -> _KnownLine | None:
    # h11's own check of the one line (None when it refuses it); a line checked on its own
    # normalises as it does in any list with no other framing line.
    try:
        item: tuple[bytes, bytes, bytes] = normalize_and_validate([line])._full_items[0]
    except h11.LocalProtocolError:
        return None
    # What h11's writer makes of the line (``write_headers``).
    entry = (item, b"%s: %s\r\n" % (item[0], item[2]))
    if type(line) is tuple and type(line[0]) is bytes and type(line[1]) is bytes:
        if len(_known_header_lines) >= MAX_KNOWN_HEADER_LINES:
            _known_header_lines.clear()
        _known_header_lines[line] = entry
    return entry
