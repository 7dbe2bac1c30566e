"""Tar archives built in the tests: well-formed ones and hostile ones."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """One archive member; ``name`` is written as is (no top folder added)."""

    name: str
    content: bytes = b""
    kind: str = "file"  # file | dir | symlink | hardlink
    link: str = ""
    mode: int = 0o644
    size: int | None = None  # a header that claims another size (data is zeros)


def tar_bytes(entries: Iterable[Entry], *, gzip: bool = True) -> bytes:
    """The archive holding ``entries`` in order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mode = entry.mode
            info.mtime = 1_700_000_000
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.link
                archive.addfile(info)
            elif entry.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = entry.link
                archive.addfile(info)
            elif entry.size is not None:
                info.size = entry.size
                archive.addfile(info, _Zeros(entry.size))
            else:
                info.size = len(entry.content)
                archive.addfile(info, io.BytesIO(entry.content))
    return buffer.getvalue()


def repo_tar(files: dict[str, bytes], *, top: str = "org-repo-abc1234", gzip: bool = True) -> bytes:
    """A forge-style archive: every file under one top folder, with folder entries."""
    entries = [Entry(f"{top}/", kind="dir")]
    seen: set[str] = set()
    for path, content in sorted(files.items()):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in seen:
                seen.add(folder)
                entries.append(Entry(f"{top}/{folder}/", kind="dir"))
        entries.append(Entry(f"{top}/{path}", content))
    return tar_bytes(entries, gzip=gzip)


async def chunks(data: bytes, size: int = 7_001) -> AsyncIterator[bytes]:
    """``data`` as an async stream of odd-sized chunks (boundaries fall mid-header)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        count = self._left if size < 0 else min(size, self._left)
        self._left -= count
        return b"\0" * count


def children(directory: Path) -> list[str]:
    """The names in ``directory``, sorted (a sync helper: tests look, nothing waits on it)."""
    return sorted(path.name for path in directory.iterdir())
