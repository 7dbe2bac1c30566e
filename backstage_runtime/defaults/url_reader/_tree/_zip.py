"""Tree responses over zip archives (Backstage's ``fromZipArchive``).

A zip is read from its end (the central directory), so the download is first spooled to an
anonymous temporary file under ``backend.workingDirectory`` (never held in memory, bounded by
the tree limits) and then read with ``zipfile`` in a worker thread, with the same safety as
the tar path: checked names, links that cannot escape, and limits on entries and on the bytes
actually inflated.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import anyio
import anyio.to_thread

from ....api.services.url_reader import (
    ArchiveLimitError,
    ReadTreeResponseFile,
    TreeFilter,
    UrlReaderError,
)
from ._common import (
    SPOOL_MEMORY,
    OneShotArchive,
    constant_content,
    make_target,
    release_stream,
    remove_created,
    stream_spool,
    tar_info,
)
from ._limits import TreeLimits
from ._writer import SafeTreeWriter
from ._zip_walk import (
    ByteBudget,
    CountingReader,
    ZipEntry,
    ZipWalker,
    check_central_directory,
    entry_mtime,
)

__all__ = ["ZipArchiveResponse"]

R = TypeVar("R")

# Downloaded chunks are gathered up to this size before one write in a worker thread.
_SPOOL_BATCH = 1024 * 1024
_READ_SIZE = 1024 * 1024


class ZipArchiveResponse(OneShotArchive):
    """A tree read from a zip stream; ``files()``, ``archive()`` or ``dir()`` read it once.

    ``backend.reading.tree.maxBytes`` bounds the inflated bytes of the kept files (counted as
    they are read, whatever sizes the archive declares), ``maxEntries`` the entries.
    """

    def __init__(
        self,
        *,
        stream: AsyncIterator[bytes],
        etag: str,
        working_directory: Path,
        limits: TreeLimits,
        subpath: str = "",
        filter: TreeFilter | None = None,
        strip_first_directory: bool = False,
        source: str = "the archive",
    ) -> None:
        super().__init__(
            stream=stream,
            etag=etag,
            working_directory=working_directory,
            limits=limits,
            source=source,
        )
        self._walker = ZipWalker(
            source=source,
            limits=limits,
            subpath=subpath.strip("/"),
            strip_first_directory=strip_first_directory,
            filter=filter,
        )

    async def files(self) -> list[ReadTreeResponseFile]:
        """Every kept file with its content in memory (symbolic links are left out)."""

        def collect(archive: _OpenZip) -> list[ReadTreeResponseFile]:
            files = []
            for entry in archive.entries():
                if entry.kind != "file":
                    continue
                data = archive.open(entry.info).read_all()
                files.append(
                    ReadTreeResponseFile(
                        path=entry.path,
                        content=constant_content(data),
                        last_modified_at=entry_mtime(entry.info),
                    )
                )
            return files

        return await self._run(collect)

    async def archive(self) -> AsyncIterator[bytes]:
        """The kept entries as an uncompressed tar stream, paths relative to the tree root."""

        def repack(archive: _OpenZip) -> IO[bytes]:
            spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed to the caller, closed there
                max_size=SPOOL_MEMORY, dir=str(self._working)
            )
            try:
                with tarfile.open(fileobj=spool, mode="w") as out:
                    for entry in archive.entries():
                        out.addfile(*_repacked(archive, entry))
                spool.seek(0)
            except BaseException:
                spool.close()
                raise
            return spool

        spool = await self._run(repack)
        async for chunk in stream_spool(spool):
            yield chunk

    async def dir(self, *, target_dir: str | os.PathLike[str] | None = None) -> Path:
        """Extract into ``target_dir`` (created with missing parents) or a new temporary
        directory under ``backend.workingDirectory``. On failure the directories this call
        created are removed again; a ``target_dir`` that already existed is left in place,
        with whatever was written into it.
        """
        stream = self._take()
        try:
            directory, created = await make_target(target_dir, self._working)
        except BaseException:
            await release_stream(stream)
            raise

        def extract(archive: _OpenZip) -> None:
            writer = SafeTreeWriter(directory, source=self._source)
            for entry in archive.entries():
                if entry.kind == "dir":
                    writer.directory(entry.path)
                elif entry.kind == "file":
                    content = cast(IO[bytes], archive.open(entry.info))  # read() is all it uses
                    writer.file(entry.path, content, executable=entry.executable)
                else:
                    writer.symlink(entry.path, entry.link)
            writer.finish()

        try:
            await self._read(stream, extract)
        except BaseException:
            await remove_created(created)
            raise
        return directory

    async def _run(self, work: Callable[[_OpenZip], R]) -> R:
        return await self._read(self._take(), work)

    async def _read(self, stream: AsyncIterator[bytes], work: Callable[[_OpenZip], R]) -> R:
        # Owns ``stream`` from here: _spool closes it, or this does if no spool can be made.
        try:
            # An anonymous file: the system removes it once closed, even if this process dies.
            spool = await anyio.to_thread.run_sync(
                lambda: tempfile.TemporaryFile(dir=str(self._working))  # noqa: SIM115 - closed below
            )
        except BaseException:
            await release_stream(stream)
            raise
        try:
            await self._spool(stream, spool)
            return await anyio.to_thread.run_sync(self._open_and_run, spool, work)
        finally:
            spool.close()

    async def _spool(self, stream: AsyncIterator[bytes], spool: IO[bytes]) -> None:
        # A zip stores compressed data plus headers; the tar stream bound fits it as well.
        limit = self._limits.max_stream_bytes
        received = 0
        batch = bytearray()
        try:
            async for chunk in stream:
                received += len(chunk)
                if received > limit:
                    raise ArchiveLimitError(
                        f"The archive from {self._source} is larger than {limit} bytes "
                        "(see backend.reading.tree.maxBytes)"
                    )
                batch += chunk
                if len(batch) >= _SPOOL_BATCH:
                    await anyio.to_thread.run_sync(spool.write, bytes(batch))
                    batch.clear()
            if batch:
                await anyio.to_thread.run_sync(spool.write, bytes(batch))
        finally:
            await release_stream(stream)

    def _open_and_run(self, spool: IO[bytes], work: Callable[[_OpenZip], R]) -> R:
        # A corrupt archive is the provider's failure, not a programming error.
        try:
            spool.seek(0)
            check_central_directory(spool, self._limits, self._source)
            with zipfile.ZipFile(spool) as archive:
                return work(_OpenZip(archive, self._walker, ByteBudget(self._limits, self._source)))
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            NotImplementedError,
            UnicodeDecodeError,
        ) as error:
            raise UrlReaderError(f"Invalid archive from {self._source}: {error}") from None


class _OpenZip:
    """An open archive during one read: its kept entries, and their contents counted."""

    def __init__(self, archive: zipfile.ZipFile, walker: ZipWalker, budget: ByteBudget) -> None:
        self._archive = archive
        self._walker = walker
        self._budget = budget

    def entries(self) -> Iterator[ZipEntry]:
        """The kept entries (see :class:`ZipWalker`)."""
        return self._walker.walk(self._archive, self.open)

    def open(self, info: zipfile.ZipInfo) -> CountingReader:
        """The content of ``info``, counted against ``maxBytes``."""
        if info.header_offset < 0:
            # ``zipfile`` would seek there and fail with a bare OSError.
            raise zipfile.BadZipFile(f"Bad offset for the entry {info.filename!r}")
        return CountingReader(self._archive.open(info), self._budget)


def _repacked(archive: _OpenZip, entry: ZipEntry) -> tuple[Any, Any]:
    info = entry.info
    mtime = entry_mtime(info)
    timestamp = mtime.timestamp() if mtime is not None else 0
    mode = 0o777 if entry.kind == "symlink" else 0o755 if entry.kind == "dir" else 0o644
    if entry.executable and entry.kind == "file":
        mode = 0o755
    tar_entry = tar_info(entry.path, entry.kind, size=info.file_size, mode=mode, mtime=timestamp)
    if entry.kind == "symlink":
        tar_entry.linkname = entry.link
        return tar_entry, None
    if entry.kind == "dir":
        return tar_entry, None
    # The declared size goes in the tar header; the content must match it exactly.
    data = _ExactReader(archive.open(info), info.file_size, info.filename)
    return tar_entry, data


class _ExactReader:
    """Feeds ``tarfile.addfile`` exactly ``size`` bytes, or raises if the entry has fewer."""

    def __init__(self, inner: CountingReader, size: int, name: str) -> None:
        self._inner = inner
        self._left = size
        self._name = name

    def read(self, size: int = -1) -> bytes:
        want = min(self._left if size < 0 else min(size, self._left), _READ_SIZE)
        data = b""
        while len(data) < want:
            chunk = self._inner.read(want - len(data))
            if not chunk:
                raise zipfile.BadZipFile(f"the entry '{self._name}' is shorter than declared")
            data += chunk
        self._left -= len(data)
        return data
