"""Tree responses: over a streamed tar archive, or over files already in memory."""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import anyio
import anyio.to_thread

from ....api.services.url_reader import (
    ReadTreeResponseFile,
    TreeEntryInfo,
    TreeFilter,
    UrlReaderError,
)
from ._bridge import StreamReader, run_over_stream
from ._common import (
    SPOOL_MEMORY,
    OneShotArchive,
    constant_content,
    make_target,
    mtime_from_seconds,
    release_stream,
    remove_created,
    stream_spool,
    tar_info,
)
from ._limits import TreeLimits
from ._walk import TarWalker, TreeEntry, check_relative_path
from ._writer import SafeTreeWriter

__all__ = ["FilesTreeResponse", "TarArchiveResponse"]

R = TypeVar("R")


class TarArchiveResponse(OneShotArchive):
    """A tree read from a tar (or tar.gz) stream; ``files()``, ``archive()`` or ``dir()`` read
    the stream once, without holding the archive in memory.
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
        strip_first_directory: bool = True,
        source: str = "the archive",
    ) -> None:
        super().__init__(
            stream=stream,
            etag=etag,
            working_directory=working_directory,
            limits=limits,
            source=source,
        )
        self._walker = TarWalker(
            source=source,
            limits=limits,
            subpath=subpath.strip("/"),
            strip_first_directory=strip_first_directory,
            filter=filter,
        )

    async def files(self) -> list[ReadTreeResponseFile]:
        """Every kept file with its content in memory (symbolic links are left out)."""

        def collect(reader: StreamReader) -> list[ReadTreeResponseFile]:
            files = []
            with self._open(reader) as archive:
                for entry in self._walker.walk(archive):
                    if entry.kind != "file":
                        continue
                    extracted = archive.extractfile(entry.member)
                    data = extracted.read() if extracted is not None else b""
                    files.append(
                        ReadTreeResponseFile(
                            path=entry.path,
                            content=constant_content(data),
                            last_modified_at=mtime_from_seconds(entry.member.mtime),
                        )
                    )
            return files

        return await self._run(collect)

    async def archive(self) -> AsyncIterator[bytes]:
        """The kept entries as an uncompressed tar stream, paths relative to the tree root."""

        def repack(reader: StreamReader) -> IO[bytes]:
            spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed to the caller, closed there
                max_size=SPOOL_MEMORY, dir=str(self._working)
            )
            try:
                with self._open(reader) as archive, tarfile.open(fileobj=spool, mode="w") as out:
                    for entry in self._walker.walk(archive):
                        out.addfile(*self._repacked(archive, entry))
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

        def extract(reader: StreamReader) -> None:
            writer = SafeTreeWriter(directory, source=self._source)
            with self._open(reader) as archive:
                for entry in self._walker.walk(archive):
                    _write_entry(writer, archive, entry)
            writer.finish()

        try:
            # From here on run_over_stream owns the stream and closes it.
            await run_over_stream(
                stream,
                self._tar_errors(extract),
                limit=self._limits.max_stream_bytes,
                description=self._source,
            )
        except BaseException:
            await remove_created(created)
            raise
        return directory

    async def _run(self, work: Callable[[StreamReader], R]) -> R:
        return await run_over_stream(
            self._take(),
            self._tar_errors(work),
            limit=self._limits.max_stream_bytes,
            description=self._source,
        )

    def _tar_errors(self, work: Callable[[StreamReader], R]) -> Callable[[StreamReader], R]:
        # A truncated or corrupt archive is the provider's failure, not a programming error.
        def run(reader: StreamReader) -> R:
            try:
                return work(reader)
            except tarfile.TarError as error:
                raise UrlReaderError(f"Invalid archive from {self._source}: {error}") from None

        return run

    @staticmethod
    def _open(reader: StreamReader) -> tarfile.TarFile:
        return cast(tarfile.TarFile, tarfile.open(fileobj=reader, mode="r|"))  # type: ignore[call-overload]

    @staticmethod
    def _repacked(archive: tarfile.TarFile, entry: TreeEntry) -> tuple[Any, IO[bytes] | None]:
        member = entry.member
        info = tar_info(
            entry.path, entry.kind, size=member.size, mode=member.mode, mtime=member.mtime
        )
        if entry.kind in ("symlink", "hardlink"):
            info.linkname = entry.link
        content = archive.extractfile(member) if entry.kind == "file" else None
        return info, content


def _write_entry(writer: SafeTreeWriter, archive: tarfile.TarFile, entry: TreeEntry) -> None:
    if entry.kind == "dir":
        writer.directory(entry.path)
    elif entry.kind == "file":
        extracted = archive.extractfile(entry.member)
        writer.file(
            entry.path,
            extracted if extracted is not None else b"",
            executable=bool(entry.member.mode & 0o111),
        )
    elif entry.kind == "symlink":
        writer.symlink(entry.path, entry.link)
    else:
        writer.hardlink(entry.path, entry.link)


class FilesTreeResponse:
    """A tree over ``(path, content)`` pairs in memory (Backstage's ``fromReadableArray``)."""

    def __init__(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        etag: str,
        working_directory: Path,
        filter: TreeFilter | None = None,
        source: str = "the files",
    ) -> None:
        self.etag = etag
        self._working = working_directory
        self._source = source
        kept = []
        for path, data in files:
            relative = "/".join(check_relative_path(path, source))
            if relative and (filter is None or filter(relative, TreeEntryInfo(len(data)))):
                kept.append((relative, data))
        self._files = kept

    async def files(self) -> list[ReadTreeResponseFile]:
        """Every kept file."""
        return [
            ReadTreeResponseFile(path=path, content=constant_content(data))
            for path, data in self._files
        ]

    async def archive(self) -> AsyncIterator[bytes]:
        """The files as an uncompressed tar stream."""

        def pack() -> IO[bytes]:
            spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed to the caller, closed there
                max_size=SPOOL_MEMORY, dir=str(self._working)
            )
            with tarfile.open(fileobj=spool, mode="w") as out:
                for path, data in self._files:
                    out.addfile(tar_info(path, "file", size=len(data)), _BytesReader(data))
            spool.seek(0)
            return spool

        spool = await anyio.to_thread.run_sync(pack)
        async for chunk in stream_spool(spool):
            yield chunk

    async def dir(self, *, target_dir: str | os.PathLike[str] | None = None) -> Path:
        """Write the files into ``target_dir`` (created with missing parents) or a new
        temporary directory. On failure the directories this call created are removed again;
        a ``target_dir`` that already existed is left in place.
        """
        directory, created = await make_target(target_dir, self._working)

        def write(items: Iterable[tuple[str, bytes]]) -> None:
            writer = SafeTreeWriter(directory, source=self._source)
            for path, data in items:
                writer.file(path, data)

        try:
            await anyio.to_thread.run_sync(write, self._files)
        except BaseException:
            await remove_created(created)
            raise
        return directory


class _BytesReader:
    """The minimal file object ``tarfile.addfile`` reads from."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else self._offset + size
        chunk = bytes(self._view[self._offset : end])
        self._offset += len(chunk)
        return chunk
