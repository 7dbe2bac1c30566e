"""Walk the members of a streamed tar archive, validated and renamed relative to the tree root.

Every member name is checked before anything else (no absolute paths, no ``..``) and counted
against the limits; links are checked lexically here and, after extraction, physically by the
writer. Forges put the whole tree under one top folder (``owner-repo-sha/``), which is stripped.
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast

from ....api.services.url_reader import (
    ArchiveLimitError,
    TreeEntryInfo,
    TreeFilter,
    UnsafeArchiveError,
)
from ._limits import TreeLimits

__all__ = ["TarWalker", "TreeEntry", "check_relative_path", "check_symlink_target"]

EntryKind = Literal["file", "dir", "symlink", "hardlink"]

_MAX_NAME_IN_MESSAGE = 200


@dataclass(frozen=True)
class TreeEntry:
    """A kept member: ``path`` is relative to the tree root; ``link`` is a symlink's target as
    written, or a hard link's target path relative to the tree root.
    """

    kind: EntryKind
    path: str
    member: tarfile.TarInfo
    link: str = ""


def _shown(name: str) -> str:
    return name if len(name) <= _MAX_NAME_IN_MESSAGE else name[:_MAX_NAME_IN_MESSAGE] + "…"


def check_relative_path(name: str, source: str) -> list[str]:
    """The segments of ``name`` (``.`` and empty ones dropped); raises
    :class:`UnsafeArchiveError` for an absolute path or a ``..`` segment.
    """
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        raise UnsafeArchiveError(
            f"Unsafe archive from {source}: the entry '{_shown(name)}' has an absolute path"
        )
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(
            f"Unsafe archive from {source}: the entry '{_shown(name)}' would escape the target "
            "directory ('..' in its path)"
        )
    return parts


def check_symlink_target(path: str, target: str, source: str) -> None:
    """Raise :class:`UnsafeArchiveError` unless the link at ``path`` (relative to the root)
    points inside the root when read lexically.
    """
    if target.startswith("/"):
        raise UnsafeArchiveError(
            f"Unsafe archive from {source}: '{_shown(path)}' is a symbolic link to an absolute "
            f"path ('{_shown(target)}')"
        )
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchiveError(
            f"Unsafe archive from {source}: '{_shown(path)}' is a symbolic link pointing outside "
            f"the target directory ('{_shown(target)}')"
        )


class TarWalker:
    """Yields the :class:`TreeEntry` objects to keep from an open (streaming) ``TarFile``."""

    def __init__(
        self,
        *,
        source: str,
        limits: TreeLimits,
        subpath: str = "",
        strip_first_directory: bool = True,
        filter: TreeFilter | None = None,
    ) -> None:
        self._source = source
        self._limits = limits
        self._subpath = [part for part in subpath.split("/") if part not in ("", ".")]
        self._strip = strip_first_directory
        self._filter = filter

    def walk(self, archive: tarfile.TarFile) -> Iterator[TreeEntry]:
        """The kept entries, in archive order; raises on the first unsafe or excess entry."""
        entries = 0
        total = 0
        while (member := archive.next()) is not None:
            # tarfile remembers every member it read; a stream cannot seek back to them, so
            # forgetting them keeps memory flat however many entries the archive has.
            cast(Any, archive).members.clear()  # an attribute typeshed does not declare
            entries += 1
            if entries > self._limits.max_entries:
                raise ArchiveLimitError(
                    f"The archive from {self._source} has more than "
                    f"{self._limits.max_entries} entries (see backend.reading.tree.maxEntries)"
                )
            total += member.size
            if total > self._limits.max_bytes:
                raise ArchiveLimitError(
                    f"The archive from {self._source} unpacks to more than "
                    f"{self._limits.max_bytes} bytes (see backend.reading.tree.maxBytes)"
                )
            path = self._relative(member.name)
            if path is None:
                continue
            entry = self._entry(member, path)
            if entry is not None:
                yield entry

    def _relative(self, name: str) -> str | None:
        parts = check_relative_path(name, self._source)
        if self._strip:
            parts = parts[1:]
        if self._subpath:
            if parts[: len(self._subpath)] != self._subpath:
                return None
            parts = parts[len(self._subpath) :]
        return "/".join(parts) if parts else None

    def _entry(self, member: tarfile.TarInfo, path: str) -> TreeEntry | None:
        if member.isdir():
            return TreeEntry("dir", path, member)
        if not (member.isreg() or member.issym() or member.islnk()):
            return None  # devices and FIFOs have no place in a source tree
        if self._filter is not None and not self._filter(path, TreeEntryInfo(member.size)):
            return None
        if member.isreg():
            return TreeEntry("file", path, member)
        if member.issym():
            check_symlink_target(path, member.linkname, self._source)
            return TreeEntry("symlink", path, member, member.linkname)
        target = self._relative(member.linkname)
        if target is None:
            raise UnsafeArchiveError(
                f"Unsafe archive from {self._source}: '{_shown(path)}' is a hard link to "
                f"'{_shown(member.linkname)}', which is outside the tree"
            )
        return TreeEntry("hardlink", path, member, target)
