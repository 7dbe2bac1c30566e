"""A tree read file by file (object stores): each content is streamed from its source when read.

Object stores have no archive endpoint: a reader lists the objects under a prefix and hands
over one :class:`TreeFileSource` per object. Nothing is downloaded until ``files()``,
``archive()`` or ``dir()`` runs, and the filter and the limits see every listed size first.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, BinaryIO

import anyio
import anyio.to_thread

from ....api.services.url_reader import (
    ArchiveLimitError,
    ReadTreeResponseFile,
    TreeEntryInfo,
    TreeFileSource,
    TreeFilter,
    UrlReaderError,
)
from ._common import constant_content, make_target, remove_created, stream_spool
from ._limits import TreeLimits
from ._walk import check_relative_path
from ._writer import SafeTreeWriter

__all__ = ["FileStreamsTreeResponse"]

#: Files fetched at once by ``files()`` and ``dir()``: object stores answer each request with
#: latency, so one at a time would leave a large tree waiting on round trips.
DEFAULT_CONCURRENCY = 8

_BLOCK = 512
# Small chunks (some SDKs yield 1 KiB) are gathered before a write, which costs a thread hop.
_WRITE_BATCH = 256 * 1024
SPOOL_MEMORY = 8 * 1024 * 1024


class _ByteBudget:
    """Counts the bytes one read has fetched and stops it past ``backend.reading.tree.maxBytes``;
    listed sizes can be wrong, so the bytes that actually arrive are what count.
    """

    def __init__(self, limits: TreeLimits, source: str) -> None:
        self._left = limits.max_bytes
        self._limit = limits.max_bytes
        self._source = source

    def take(self, size: int) -> None:
        self._left -= size
        if self._left < 0:
            raise _too_many_bytes(self._source, self._limit)


def _too_many_bytes(source: str, limit: int) -> ArchiveLimitError:
    return ArchiveLimitError(
        f"The tree from {source} holds more than {limit} bytes (see backend.reading.tree.maxBytes)"
    )


async def _each_chunk(
    file: TreeFileSource, budget: _ByteBudget, consume: Callable[[bytes], Awaitable[None]]
) -> int:
    """Stream ``file`` into ``consume``; returns the byte count. The source stream is closed
    however the read ends, so a failed or cancelled read releases its connection.
    """
    stream = file.open()
    count = 0
    try:
        async for chunk in stream:
            budget.take(len(chunk))
            count += len(chunk)
            await consume(chunk)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with anyio.CancelScope(shield=True):
                await aclose()
    return count


class FileStreamsTreeResponse:
    """A tree over :class:`TreeFileSource` objects; any of ``files()``, ``archive()`` and
    ``dir()`` may be called, and more than once (each fetches the contents again).
    """

    def __init__(
        self,
        files: Sequence[TreeFileSource],
        *,
        etag: str,
        working_directory: Path,
        limits: TreeLimits,
        filter: TreeFilter | None = None,
        source: str = "the files",
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.etag = etag
        self._working = working_directory
        self._limits = limits
        self._source = source
        self._concurrency = concurrency
        kept: list[TreeFileSource] = []
        for file in files:
            relative = "/".join(check_relative_path(file.path, source))
            if not relative:
                continue
            if filter is not None and not filter(relative, TreeEntryInfo(file.size or 0)):
                continue
            kept.append(replace(file, path=relative))
        if len(kept) > limits.max_entries:
            raise ArchiveLimitError(
                f"The tree from {source} has more than {limits.max_entries} entries "
                "(see backend.reading.tree.maxEntries)"
            )
        if sum(file.size or 0 for file in kept) > limits.max_bytes:
            raise _too_many_bytes(source, limits.max_bytes)
        self._files = kept

    async def files(self) -> list[ReadTreeResponseFile]:
        """Every kept file with its content in memory, in listing order."""
        budget = _ByteBudget(self._limits, self._source)
        contents: list[bytes] = [b""] * len(self._files)

        async def fetch(index: int, file: TreeFileSource) -> None:
            parts: list[bytes] = []

            async def keep(chunk: bytes) -> None:
                parts.append(chunk)

            await _each_chunk(file, budget, keep)
            contents[index] = b"".join(parts)

        await self._for_each(fetch)
        return [
            ReadTreeResponseFile(
                path=file.path,
                content=constant_content(data),
                last_modified_at=file.last_modified_at,
            )
            for file, data in zip(self._files, contents, strict=True)
        ]

    async def archive(self) -> AsyncIterator[bytes]:
        """The kept files as an uncompressed tar stream, produced while they are fetched."""
        budget = _ByteBudget(self._limits, self._source)
        for file in self._files:
            if file.size is None:
                spool = await self._spool(file, budget)
                # Also closed when the consumer stops at the header or a seek fails.
                try:
                    size = await anyio.to_thread.run_sync(spool.seek, 0, os.SEEK_END)
                    await anyio.to_thread.run_sync(spool.seek, 0)
                    yield self._header(file, size)
                    async for chunk in stream_spool(spool):
                        yield chunk
                finally:
                    spool.close()
            else:
                size = file.size
                yield self._header(file, size)
                async for chunk in self._exactly(file, budget):
                    yield chunk
            yield b"\0" * (-size % _BLOCK)
        # Two zero blocks end a tar archive.
        yield b"\0" * (2 * _BLOCK)

    async def dir(self, *, target_dir: str | os.PathLike[str] | None = None) -> Path:
        """Write the kept files into ``target_dir`` (created with missing parents) or a new
        temporary directory under ``backend.workingDirectory``. On failure the directories
        this call created are removed again; a ``target_dir`` that already existed is left in
        place, with whatever was written into it.
        """
        directory, created = await make_target(target_dir, self._working)
        budget = _ByteBudget(self._limits, self._source)

        async def fetch(_: int, file: TreeFileSource) -> None:
            out = await anyio.to_thread.run_sync(lambda: writer.create(file.path))
            pending = bytearray()

            async def write(chunk: bytes) -> None:
                pending.extend(chunk)
                if len(pending) >= _WRITE_BATCH:
                    await anyio.to_thread.run_sync(out.write, bytes(pending))
                    pending.clear()

            try:
                await _each_chunk(file, budget, write)
                await anyio.to_thread.run_sync(out.write, bytes(pending))
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(out.close)

        try:
            writer = SafeTreeWriter(directory, source=self._source)
            await self._for_each(fetch)
        except BaseException:
            await remove_created(created)
            raise
        return directory

    # -- helpers -----------------------------------------------------------------------------

    async def _for_each(self, work: Callable[[int, TreeFileSource], Awaitable[None]]) -> None:
        limiter = anyio.CapacityLimiter(self._concurrency)

        async def run(index: int, file: TreeFileSource) -> None:
            async with limiter:
                await work(index, file)

        # The first failure cancels the other fetches; the task group re-raises it (grouped
        # failures are unwrapped so callers see the reader's own error class).
        try:
            async with anyio.create_task_group() as group:
                for index, file in enumerate(self._files):
                    group.start_soon(run, index, file)
        except BaseExceptionGroup as group_error:
            raise _first_leaf(group_error) from None

    def _header(self, file: TreeFileSource, size: int) -> bytes:
        info = tarfile.TarInfo(file.path)
        info.size = size
        info.mode = 0o644
        info.mtime = int(file.last_modified_at.timestamp()) if file.last_modified_at else 0
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")

    async def _exactly(self, file: TreeFileSource, budget: _ByteBudget) -> AsyncIterator[bytes]:
        # The tar header already promised ``size`` bytes: a source that sends another amount
        # would corrupt every later entry, so it fails the read instead.
        expected = file.size or 0
        sent = 0
        stream = file.open()
        try:
            async for chunk in stream:
                budget.take(len(chunk))
                sent += len(chunk)
                if sent > expected:
                    break
                yield chunk
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
        if sent != expected:
            raise UrlReaderError(
                f"'{file.path}' from {self._source} changed while it was read "
                f"(listed with {expected} bytes)"
            )

    async def _spool(self, file: TreeFileSource, budget: _ByteBudget) -> IO[bytes]:
        spool: BinaryIO = tempfile.SpooledTemporaryFile(  # type: ignore[assignment]  # noqa: SIM115 - returned open
            max_size=SPOOL_MEMORY, dir=str(self._working)
        )

        async def write(chunk: bytes) -> None:
            await anyio.to_thread.run_sync(spool.write, chunk)

        try:
            await _each_chunk(file, budget, write)
        except BaseException:
            spool.close()
            raise
        return spool


def _first_leaf(error: BaseExceptionGroup[BaseException]) -> BaseException:
    first = error.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first
