"""What the tree responses share: target directories, spools, releasing the source, and the
read-once archive stream.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.to_thread

from ._limits import TreeLimits

__all__ = [
    "SPOOL_MEMORY",
    "OneShotArchive",
    "constant_content",
    "make_target",
    "mtime_from_seconds",
    "release_stream",
    "remove_created",
    "stream_spool",
    "tar_info",
]

_CHUNK_SIZE = 64 * 1024
#: Spooled files (``archive()`` re-packs into one) stay in memory up to this size, then go to
#: disk.
SPOOL_MEMORY = 8 * 1024 * 1024


def mtime_from_seconds(seconds: float) -> datetime | None:
    """An archive's modification time, or ``None`` for an unset (zero) one."""
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


def constant_content(data: bytes) -> Callable[[], Awaitable[bytes]]:
    """A ``content()`` function for data already in memory."""

    async def content() -> bytes:
        return data

    return content


async def make_target(
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


async def remove_created(directory: Path | None) -> None:
    """Remove what :func:`make_target` created (nothing when it created nothing)."""
    if directory is None:
        return
    # Shielded: this cleanup also runs when the read was cancelled.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(directory, ignore_errors=True))


async def release_stream(stream: AsyncIterator[bytes] | None) -> None:
    """Close a source stream (releasing its HTTP connection), even while being cancelled."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()


async def stream_spool(spool: IO[bytes]) -> AsyncIterator[bytes]:
    """The spool's content from its current position; the spool is closed at the end."""
    try:
        while chunk := await anyio.to_thread.run_sync(spool.read, _CHUNK_SIZE):
            yield chunk
    finally:
        spool.close()


def tar_info(path: str, kind: str, *, size: int = 0, mode: int = 0o644, mtime: float = 0) -> Any:
    """A tar header for a ``file``, ``dir``, ``symlink`` or ``hardlink`` entry."""
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


class OneShotArchive:
    """A tree response over an archive stream, which can be read once (as in Backstage)."""

    def __init__(
        self,
        *,
        stream: AsyncIterator[bytes],
        etag: str,
        working_directory: Path,
        limits: TreeLimits,
        source: str,
    ) -> None:
        self.etag = etag
        self._stream: AsyncIterator[bytes] | None = stream
        self._working = working_directory
        self._limits = limits
        self._source = source

    async def aclose(self) -> None:
        """Release the underlying connection without reading the tree."""
        stream, self._stream = self._stream, None
        await release_stream(stream)

    def _take(self) -> AsyncIterator[bytes]:
        if self._stream is None:
            raise RuntimeError("Response has already been read")
        stream, self._stream = self._stream, None
        return stream
