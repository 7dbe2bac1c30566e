"""The content codings the compression piece writes: ``br``, ``gzip`` and ``deflate``, with the
parameters Node's zlib gets from ``compression`` 1.8.1's defaults.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli

__all__ = ["ENCODINGS", "Encoder", "new_encoder"]

#: The codings :func:`new_encoder` writes.
ENCODINGS = ("br", "gzip", "deflate")

# zlib's window bits: 16 + 15 writes the gzip wrapper, 15 the zlib wrapper that HTTP's
# ``deflate`` means (Node's createDeflate); level and memory level are zlib's defaults, as Node's.
_WINDOW_BITS = {"gzip": 31, "deflate": 15}

#: compression's brotli default: quality 4 (Node's own default is 11, far too slow per request);
#: window and mode stay brotli's defaults, as Node leaves them.
BROTLI_QUALITY = 4


class Encoder(Protocol):
    """One response body's compressor."""

    def encode(self, data: bytes, last: bool) -> bytes:
        """``data`` compressed; flushed so the client can decode all of it so far, and the
        stream finished when ``last``.
        """
        ...


class _ZlibEncoder:
    __slots__ = ("_compressor",)

    def __init__(self, window_bits: int) -> None:
        self._compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, window_bits)

    def encode(self, data: bytes, last: bool) -> bytes:
        compressor = self._compressor
        return compressor.compress(data) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH
        )


class _BrotliEncoder:
    __slots__ = ("_compressor",)

    def __init__(self) -> None:
        self._compressor = brotli.Compressor(quality=BROTLI_QUALITY)

    def encode(self, data: bytes, last: bool) -> bytes:
        compressor = self._compressor
        head = compressor.process(data)
        return bytes(head) + bytes(compressor.finish() if last else compressor.flush())


def new_encoder(encoding: str) -> Encoder:
    """A fresh compressor for ``encoding`` (one of :data:`ENCODINGS`); raises
    :class:`ValueError` for another coding.
    """
    if encoding == "br":
        return _BrotliEncoder()
    if encoding in _WINDOW_BITS:
        return _ZlibEncoder(_WINDOW_BITS[encoding])
    raise ValueError(f"Unsupported content coding {encoding!r}, expected one of {ENCODINGS}")
