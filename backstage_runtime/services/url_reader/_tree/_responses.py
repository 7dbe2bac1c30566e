"""Tree responses: over a streamed tar archive, or over files already in memory."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
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
from ._limits import TreeLimits
from ._walk import TarWalker, TreeEntry, check_relative_path
from ._writer import SafeTreeWriter

__all__ = ["FilesTreeResponse", "TarArchiveResponse"]

R = TypeVar("R")

_CHUNK_SIZE = 64 * 1024
# archive() re-packs into a spooled file: in memory up to this size, then on disk.
_SPOOL_MEMORY = 8 * 1024 * 1024


def _mtime(seconds: float) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


def _constant(data: bytes) -> Callable[[], Awaitable[bytes]]:
    async def content() -> bytes:
        return data

    return content


async def _make_target(
    target_dir: str | os.PathLike[str] | None, working: Path
) -> tuple[Path, Path | None]:
    """The directory to write into: ``target_dir`` (created with missing parents) or a new
    temporary one under ``working``; and the outermost directory this call created, which a
    failed read removes again (``None`` when ``target_dir`` already existed).
    """
    # Shielded: a directory made in the worker thread after a cancellation would be unknown
    # to the caller and never removed.
    with anyio.CancelScope(shield=True):
        if target_dir is not None:
            directory = Path(target_dir)
            return directory, await anyio.to_thread.run_sync(_create_directories, directory)
        created = await anyio.to_thread.run_sync(
            lambda: tempfile.mkdtemp(prefix="backstage-", dir=working)
        )
    return Path(created), Path(created)


def _create_directories(directory: Path) -> Path | None:
    # Like ``mkdir(parents=True, exist_ok=True)``, but tells which directory it created first:
    # each level is created by an exclusive mkdir, so a directory found existing is never ours.
    try:
        directory.mkdir()
    except FileExistsError:
        if directory.is_dir():
            return None
        raise
    except FileNotFoundError:
        if directory.parent == directory:
            raise
    else:
        return directory
    outer = _create_directories(directory.parent)
    try:
        directory.mkdir(exist_ok=True)
    except BaseException:
        if outer is not None:
            shutil.rmtree(outer, ignore_errors=True)
        raise
    return outer if outer is not None else directory


async def _remove(directory: Path | None) -> None:
    if directory is None:
        return
    # Shielded: this cleanup also runs when the read was cancelled.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(directory, ignore_errors=True))


async def _release(stream: AsyncIterator[bytes] | None) -> None:
    """Close a source stream (releasing its HTTP connection), even while being cancelled."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()


async def _stream_spool(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(spool.read, _CHUNK_SIZE):
            yield chunk
    finally:
        spool.close()


def _tar_info(path: str, kind: str, *, size: int = 0, mode: int = 0o644, mtime: float = 0) -> Any:
    info = tarfile.TarInfo(path)
    info.type = {
        "file": tarfile.REGTYPE,
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
    }[kind]
    info.size = size if kind == "file" else 0
    info.mode = mode
    info.mtime = int(mtime)
    return info


class TarArchiveResponse:
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
        self.etag = etag
        self._stream: AsyncIterator[bytes] | None = stream
        self._working = working_directory
        self._limits = limits
        self._source = source
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
                            content=_constant(data),
                            last_modified_at=_mtime(entry.member.mtime),
                        )
                    )
            return files

        return await self._run(collect)

    async def archive(self) -> AsyncIterator[bytes]:
        """The kept entries as an uncompressed tar stream, paths relative to the tree root."""

        def repack(reader: StreamReader) -> IO[bytes]:
            spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed to the caller, closed there
                max_size=_SPOOL_MEMORY, dir=str(self._working)
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
        async for chunk in _stream_spool(spool):
            yield chunk

    async def dir(self, *, target_dir: str | os.PathLike[str] | None = None) -> Path:
        """Extract into ``target_dir`` (created with missing parents) or a new temporary
        directory under ``backend.workingDirectory``. On failure the directories this call
        created are removed again; a ``target_dir`` that already existed is left in place,
        with whatever was written into it.
        """
        stream = self._take()
        try:
            directory, created = await _make_target(target_dir, self._working)
        except BaseException:
            await _release(stream)
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
            await _remove(created)
            raise
        return directory

    async def aclose(self) -> None:
        """Release the underlying connection without reading the tree."""
        stream, self._stream = self._stream, None
        await _release(stream)

    def _take(self) -> AsyncIterator[bytes]:
        # The archive is a one-shot stream, as in Backstage.
        if self._stream is None:
            raise RuntimeError("Response has already been read")
        stream, self._stream = self._stream, None
        return stream

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
        info = _tar_info(
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
            ReadTreeResponseFile(path=path, content=_constant(data)) for path, data in self._files
        ]

    async def archive(self) -> AsyncIterator[bytes]:
        """The files as an uncompressed tar stream."""

        def pack() -> IO[bytes]:
            spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed to the caller, closed there
                max_size=_SPOOL_MEMORY, dir=str(self._working)
            )
            with tarfile.open(fileobj=spool, mode="w") as out:
                for path, data in self._files:
                    out.addfile(_tar_info(path, "file", size=len(data)), _BytesReader(data))
            spool.seek(0)
            return spool

        spool = await anyio.to_thread.run_sync(pack)
        async for chunk in _stream_spool(spool):
            yield chunk

    async def dir(self, *, target_dir: str | os.PathLike[str] | None = None) -> Path:
        """Write the files into ``target_dir`` (created with missing parents) or a new
        temporary directory. On failure the directories this call created are removed again;
        a ``target_dir`` that already existed is left in place.
        """
        directory, created = await _make_target(target_dir, self._working)

        def write(items: Iterable[tuple[str, bytes]]) -> None:
            writer = SafeTreeWriter(directory, source=self._source)
            for path, data in items:
                writer.file(path, data)

        try:
            await anyio.to_thread.run_sync(write, self._files)
        except BaseException:
            await _remove(created)
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
