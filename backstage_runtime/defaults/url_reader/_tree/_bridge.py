"""Feed an async byte stream to blocking code (``tarfile``) running in a worker thread.

The network is read by a task on the event loop; the worker pulls chunks through a small
bounded channel, so downloading, decompressing and writing overlap and at most a few chunks sit
in memory. gzip is decoded in the worker (zlib releases the GIL) with a bounded output per
step, so a compression bomb cannot allocate more than the decompressed-size limit allows.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ....api.services.url_reader import ArchiveLimitError, UrlReaderError

__all__ = ["StreamReader", "run_over_stream"]

T = TypeVar("T")

_GZIP_MAGIC = b"\x1f\x8b"
# Chunks in flight between the network task and the worker: bounded memory, enough to overlap.
_CHANNEL_SIZE = 16
# The most decompressed bytes produced per zlib call.
_MAX_DECODE = 1024 * 1024


class _SourceFailed(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _SourceInterrupted(Exception):
    pass


class _Pump:
    """Copies the source into the channel; remembers why it stopped instead of raising, so that
    the worker (blocked on the channel) learns it and the caller gets one clear error.
    """

    def __init__(self, source: AsyncIterator[bytes], send: MemoryObjectSendStream[bytes]) -> None:
        self.source = source
        self.send = send
        self.error: BaseException | None = None
        self.interrupted = False

    async def run(self) -> None:
        try:
            async with self.send:
                async for chunk in self.source:
                    if chunk:
                        await self.send.send(chunk)
        except anyio.get_cancelled_exc_class():
            self.interrupted = True
            raise
        except Exception as error:
            self.error = error
        finally:
            aclose = getattr(self.source, "aclose", None)
            if aclose is not None:
                # Releases the HTTP connection even while being cancelled.
                with anyio.CancelScope(shield=True):
                    await aclose()


class StreamReader:
    """A blocking, read-only file object over the channel, used from the worker thread.

    Transparently decompresses gzip (detected by its magic bytes) and raises
    :class:`ArchiveLimitError` once more than ``limit`` decompressed bytes were produced.
    """

    def __init__(
        self, receive: MemoryObjectReceiveStream[bytes], pump: _Pump, *, limit: int, source: str
    ) -> None:
        self._receive = receive
        self._pump = pump
        self._limit = limit
        self._source = source
        self._buffer = bytearray()
        self._pending = b""  # compressed input not yet given to zlib
        self._decoder: zlib._Decompress | None = None
        self._detected = False
        self._raw_done = False
        self._produced = 0

    def readable(self) -> bool:
        """Always true (file-object protocol)."""
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all remaining when negative); ``b""`` at the end."""
        while (size < 0 or len(self._buffer) < size) and self._fill():
            pass
        if size < 0 or size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        return data

    def _fill(self) -> bool:
        """Add decoded bytes to the buffer; False once the stream is exhausted."""
        if not self._pending and (self._decoder is None or not self._decoder.unconsumed_tail):
            if self._raw_done:
                return self._flush()
            chunk = self._next_chunk()
            if chunk is None:
                self._raw_done = True
                return self._flush()
            self._pending = chunk
        if not self._detected:
            if len(self._pending) < len(_GZIP_MAGIC) and not self._raw_done:
                more = self._next_chunk()  # too short to recognise the format yet
                if more is None:
                    self._raw_done = True
                else:
                    self._pending += more
                return True
            self._detected = True
            if self._pending[:2] == _GZIP_MAGIC:
                self._decoder = zlib.decompressobj(wbits=31)
        if self._decoder is None:
            output, self._pending = self._pending, b""
        else:
            output = self._decode()
        self._count(len(output))
        self._buffer += output
        return True

    def _decode(self) -> bytes:
        decoder = self._decoder
        assert decoder is not None
        if decoder.eof:
            rest, self._pending = decoder.unused_data + self._pending, b""
            if rest[:2] != _GZIP_MAGIC:
                return b""  # trailing padding after the last gzip member, as gzip ignores it
            decoder = self._decoder = zlib.decompressobj(wbits=31)
            self._pending = rest
        data = decoder.unconsumed_tail + self._pending
        self._pending = b""
        try:
            return decoder.decompress(data, _MAX_DECODE)
        except zlib.error as error:
            raise UrlReaderError(
                f"Invalid gzip data in the archive from {self._source}: {error}"
            ) from None

    def _flush(self) -> bool:
        decoder = self._decoder
        if decoder is None:
            return False
        if decoder.unconsumed_tail or (decoder.eof and decoder.unused_data[:2] == _GZIP_MAGIC):
            output = self._decode()
        elif not decoder.eof:
            raise UrlReaderError(f"The archive from {self._source} ended unexpectedly")
        else:
            return False
        self._count(len(output))
        self._buffer += output
        return True

    def _count(self, produced: int) -> None:
        self._produced += produced
        if self._produced > self._limit:
            raise ArchiveLimitError(
                f"The archive from {self._source} unpacks to more than {self._limit} bytes "
                "(see backend.reading.tree.maxBytes)"
            )

    def _next_chunk(self) -> bytes | None:
        try:
            return anyio.from_thread.run(self._receive.receive)
        except anyio.EndOfStream:
            if self._pump.error is not None:
                raise _SourceFailed(self._pump.error) from None
            if self._pump.interrupted:
                raise _SourceInterrupted() from None
            return None


async def run_over_stream(
    source: AsyncIterator[bytes],
    work: Callable[[StreamReader], T],
    *,
    limit: int,
    description: str,
) -> T:
    """Run ``work(reader)`` in a worker thread while ``source`` is pumped into ``reader``.

    Errors of the source are raised as they are; errors of ``work`` too. The source is closed
    (its HTTP connection released) whatever happens, also when ``work`` stops early.
    """
    send, receive = anyio.create_memory_object_stream[bytes](_CHANNEL_SIZE)
    pump = _Pump(source, send)
    reader = StreamReader(receive, pump, limit=limit, source=description)
    failure: Exception | None = None
    result: T | None = None
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(pump.run)
        try:
            result = await anyio.to_thread.run_sync(work, reader)
        except Exception as error:
            # Kept, not raised here: raising inside the task group would wrap it in a group.
            failure = error
        finally:
            receive.close()
            task_group.cancel_scope.cancel()
    if isinstance(failure, _SourceFailed):
        raise failure.cause
    if isinstance(failure, _SourceInterrupted):
        # The pump was cancelled from outside; let that cancellation surface here.
        await anyio.lowlevel.checkpoint()
        raise UrlReaderError(f"Reading {description} was interrupted")
    if failure is not None:
        raise failure
    return result  # type: ignore[return-value]
