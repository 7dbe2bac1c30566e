"""Walk the entries of a spooled zip archive, validated and renamed relative to the tree root.

A zip's central directory lists every entry up front, with sizes the archive declares. Names
are checked as for tar (no absolute paths, drive letters or ``..``; backslashes count as
separators, as Windows tools write and read them), symbolic links (a Unix mode in the
external attributes) are checked lexically here and physically by the writer, and the
central directory is counted before ``zipfile`` parses it, so an archive listing millions of
entries is refused without building millions of objects. Declared sizes are only a first
check: :class:`CountingReader` bounds the bytes actually inflated.
"""

from __future__ import annotations

import stat
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Literal

from ....api.services.url_reader import (
    ArchiveLimitError,
    TreeEntryInfo,
    TreeFilter,
    UnsafeArchiveError,
    UrlReaderError,
)
from ._limits import TreeLimits
from ._walk import _shown, check_relative_path, check_symlink_target

__all__ = [
    "ByteBudget",
    "CountingReader",
    "ZipEntry",
    "ZipWalker",
    "check_central_directory",
    "entry_mtime",
]

ZipEntryKind = Literal["file", "dir", "symlink"]

# A symbolic link's target is its content; no real target is longer than this.
_MAX_LINK_TARGET = 4096
# zlib bounds what one read inflates; bzip2 and lzma in ``zipfile`` do not, so a bomb in
# those formats could allocate without limit before any byte is counted.
_SUPPORTED_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
# What one read of an entry returns at most: memory stays flat whatever the entry's size.
_READ_SIZE = 1024 * 1024
# The unset DOS timestamp that zip tools write when they know no better.
_NO_DATE = (1980, 1, 1, 0, 0, 0)

# The fixed part of a central directory header (APPNOTE 4.3.12).
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_ZIP64_END_SIZES = 56 + 20  # the zip64 end record and its locator
# Positions in the end record that ``zipfile._EndRecData`` returns.
_END_SIGNATURE, _END_CD_SIZE, _END_CD_OFFSET, _END_LOCATION = 0, 5, 6, 9


@dataclass(frozen=True)
class ZipEntry:
    """A kept entry: ``path`` is relative to the tree root; ``link`` a symlink's target."""

    kind: ZipEntryKind
    path: str
    info: zipfile.ZipInfo
    link: str = ""

    @property
    def executable(self) -> bool:
        """Whether a Unix tool marked the file executable."""
        return bool(_unix_mode(self.info) & 0o111)


def entry_mtime(info: zipfile.ZipInfo) -> datetime | None:
    """The entry's timestamp (zip stores local time without a zone; taken as UTC)."""
    if tuple(info.date_time) == _NO_DATE:
        return None
    try:
        return datetime(*info.date_time, tzinfo=UTC)
    except ValueError:
        return None


def _unix_mode(info: zipfile.ZipInfo) -> int:
    return info.external_attr >> 16 if info.create_system == 3 else 0


def check_central_directory(spool: IO[bytes], limits: TreeLimits, source: str) -> None:
    """Raise :class:`ArchiveLimitError` when the central directory holds more entries than
    ``limits`` allow, reading only its fixed-size headers.

    It reads the end record the way ``zipfile`` does (with its own function) so that both see
    the same directory; anything malformed is left for ``zipfile`` to report.
    """
    find_end = getattr(zipfile, "_EndRecData", None)
    if find_end is None:  # pragma: no cover - every CPython since 2.x has it
        return
    try:
        end = find_end(spool)
    except OSError:
        return
    if not end:
        return
    size, offset = int(end[_END_CD_SIZE]), int(end[_END_CD_OFFSET])
    start = int(end[_END_LOCATION]) - size
    if end[_END_SIGNATURE] == _ZIP64_END_SIGNATURE:
        start -= _ZIP64_END_SIZES
    if start < 0 or offset < 0:
        return
    spool.seek(start)
    count = 0
    consumed = 0
    while consumed < size:
        header = spool.read(_CENTRAL_HEADER.size)
        if len(header) != _CENTRAL_HEADER.size:
            return
        fields = _CENTRAL_HEADER.unpack(header)
        if fields[0] != _CENTRAL_SIGNATURE:
            return
        count += 1
        if count > limits.max_entries:
            raise _too_many_entries(source, limits)
        variable = fields[12] + fields[13] + fields[14]  # name, extra field, comment
        spool.seek(variable, 1)
        consumed += _CENTRAL_HEADER.size + variable
    spool.seek(0)


def _too_many_entries(source: str, limits: TreeLimits) -> ArchiveLimitError:
    return ArchiveLimitError(
        f"The archive from {source} has more than {limits.max_entries} entries "
        "(see backend.reading.tree.maxEntries)"
    )


class CountingReader:
    """A file object over an entry's content that counts the bytes inflated across the whole
    tree and raises :class:`ArchiveLimitError` past ``backend.reading.tree.maxBytes``.
    """

    def __init__(self, inner: IO[bytes], budget: ByteBudget) -> None:
        self._inner = inner
        self._budget = budget

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (bounded even when ``size`` is negative)."""
        data = self._inner.read(size if 0 <= size <= _READ_SIZE else _READ_SIZE)
        self._budget.spend(len(data))
        if not data:
            self._inner.close()
        return data

    def read_all(self) -> bytes:
        """The rest of the content (still counted chunk by chunk)."""
        chunks = []
        while chunk := self.read(_READ_SIZE):
            chunks.append(chunk)
        return b"".join(chunks)


class ByteBudget:
    """The decompressed bytes one tree read may still produce."""

    def __init__(self, limits: TreeLimits, source: str) -> None:
        self._limit = limits.max_bytes
        self._source = source
        self._spent = 0

    def spend(self, count: int) -> None:
        """Count ``count`` more bytes; raise once the limit is passed."""
        self._spent += count
        if self._spent > self._limit:
            raise ArchiveLimitError(
                f"The archive from {self._source} unpacks to more than {self._limit} bytes "
                "(see backend.reading.tree.maxBytes)"
            )


class ZipWalker:
    """Yields the :class:`ZipEntry` objects to keep from an open ``ZipFile``."""

    def __init__(
        self,
        *,
        source: str,
        limits: TreeLimits,
        subpath: str = "",
        strip_first_directory: bool = False,
        filter: TreeFilter | None = None,
    ) -> None:
        self._source = source
        self._limits = limits
        self._subpath = [part for part in subpath.split("/") if part not in ("", ".")]
        self._strip = strip_first_directory
        self._filter = filter

    def walk(
        self, archive: zipfile.ZipFile, open_entry: Callable[[zipfile.ZipInfo], CountingReader]
    ) -> Iterator[ZipEntry]:
        """The kept entries in archive order; raises on the first unsafe or excess entry.

        ``open_entry`` reads a symbolic link's target (counted like any content).
        """
        infos = archive.infolist()
        if len(infos) > self._limits.max_entries:
            raise _too_many_entries(self._source, self._limits)
        declared = 0
        for info in infos:
            path = self._relative(info.filename)
            if path is None:
                continue
            entry = self._entry(info, path, open_entry)
            if entry is None:
                continue
            if entry.kind == "file":
                declared += info.file_size
                if declared > self._limits.max_bytes:
                    raise ArchiveLimitError(
                        f"The archive from {self._source} unpacks to more than "
                        f"{self._limits.max_bytes} bytes (see backend.reading.tree.maxBytes)"
                    )
            yield entry

    def _relative(self, name: str) -> str | None:
        parts = check_relative_path(name.replace("\\", "/"), self._source)
        if self._strip:
            parts = parts[1:]
        if self._subpath:
            if parts[: len(self._subpath)] != self._subpath:
                return None
            parts = parts[len(self._subpath) :]
        return "/".join(parts) if parts else None

    def _entry(
        self,
        info: zipfile.ZipInfo,
        path: str,
        open_entry: Callable[[zipfile.ZipInfo], CountingReader],
    ) -> ZipEntry | None:
        mode = _unix_mode(info)
        kind = stat.S_IFMT(mode)
        if info.is_dir() or kind == stat.S_IFDIR:
            return ZipEntry("dir", path, info)
        if kind not in (0, stat.S_IFREG, stat.S_IFLNK):
            return None  # devices and FIFOs have no place in a source tree
        if self._filter is not None and not self._filter(path, TreeEntryInfo(info.file_size)):
            return None
        self._check_readable(info)
        if kind == stat.S_IFLNK:
            target = self._link_target(info, open_entry)
            check_symlink_target(path, target, self._source)
            return ZipEntry("symlink", path, info, target)
        return ZipEntry("file", path, info)

    def _check_readable(self, info: zipfile.ZipInfo) -> None:
        if info.flag_bits & 0x1:
            raise UrlReaderError(
                f"Invalid archive from {self._source}: the entry '{_shown(info.filename)}' is "
                "encrypted"
            )
        if info.compress_type not in _SUPPORTED_COMPRESSION:
            raise UrlReaderError(
                f"Invalid archive from {self._source}: the entry '{_shown(info.filename)}' uses "
                f"an unsupported compression method ({info.compress_type})"
            )

    def _link_target(
        self, info: zipfile.ZipInfo, open_entry: Callable[[zipfile.ZipInfo], CountingReader]
    ) -> str:
        # The declared size may lie: the read is bounded, and its length checked again.
        data = (
            b""
            if info.file_size > _MAX_LINK_TARGET
            else open_entry(info).read(_MAX_LINK_TARGET + 1)
        )
        try:
            target = data.decode("utf-8") if len(data) <= _MAX_LINK_TARGET else ""
        except UnicodeDecodeError:
            target = ""
        if not target or "\0" in target:
            raise UnsafeArchiveError(
                f"Unsafe archive from {self._source}: the symbolic link '{_shown(info.filename)}' "
                f"has an invalid target (empty, not UTF-8 or longer than {_MAX_LINK_TARGET} bytes)"
            )
        return target
