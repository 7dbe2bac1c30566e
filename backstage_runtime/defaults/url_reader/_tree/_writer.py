"""Write tree entries under a root directory without ever writing outside it.

Paths were validated by the walker; this layer guards against the file system itself: a
folder that is (or was turned into) a symbolic link is never written through, files are
created exclusively (``O_EXCL`` refuses an existing link), and once everything is written
each link the archive created is resolved physically and must stay inside the root.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import IO, BinaryIO

from ....api.services.url_reader import UnsafeArchiveError

__all__ = ["SafeTreeWriter"]

_COPY_BUFFER = 1024 * 1024


class SafeTreeWriter:
    """Creates folders, files and links below ``root`` (relative ``/``-separated paths)."""

    def __init__(self, root: Path, *, source: str) -> None:
        self._root = os.path.realpath(root)
        self._source = source
        # Relative folders known to be real directories inside the root (checked or created).
        self._dirs: set[str] = {""}
        self._links: list[str] = []

    def directory(self, path: str) -> None:
        """Ensure the folder ``path`` exists as a real directory."""
        if path in self._dirs:
            return
        parent = path.rpartition("/")[0]
        self.directory(parent)
        full = self._full(path)
        try:
            os.mkdir(full)
        except FileExistsError:
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                raise self._unsafe(
                    f"'{path}' is a symbolic link; refusing to write through it"
                ) from None
            if not stat.S_ISDIR(mode):
                raise self._unsafe(f"'{path}' is both a file and a folder") from None
        self._dirs.add(path)

    def file(self, path: str, content: IO[bytes] | bytes, *, executable: bool = False) -> None:
        """Write a regular file (replacing an earlier entry of the same path)."""
        with self.create(path, executable=executable) as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                shutil.copyfileobj(content, out, _COPY_BUFFER)

    def create(self, path: str, *, executable: bool = False) -> BinaryIO:
        """Open a new regular file for writing (replacing an earlier entry of the same path);
        the caller writes its content and closes it.
        """
        out = open(self._prepare(path), "xb")  # noqa: SIM115 - handed to the caller
        if executable:
            os.fchmod(out.fileno(), 0o755)
        return out

    def symlink(self, path: str, target: str) -> None:
        """Create a symbolic link (already checked lexically by the walker)."""
        full = self._prepare(path)
        os.symlink(target, full)
        self._links.append(path)

    def hardlink(self, path: str, target: str) -> None:
        """Copy an earlier regular file of this tree (hard links are not recreated)."""
        target_parent = target.rpartition("/")[0]
        try:
            is_file = target_parent in self._dirs and stat.S_ISREG(
                os.lstat(self._full(target)).st_mode
            )
        except FileNotFoundError:
            is_file = False
        if not is_file:
            raise self._unsafe(f"'{path}' is a hard link to '{target}', not a file of this tree")
        full = self._prepare(path)
        shutil.copyfile(self._full(target), full, follow_symlinks=False)

    def finish(self) -> None:
        """Check every created link physically; remove the ones escaping the root and raise."""
        escaping = []
        for path in self._links:
            full = self._full(path)
            if not os.path.islink(full):
                continue  # replaced by a later entry
            resolved = os.path.realpath(full)
            if resolved != self._root and not resolved.startswith(self._root + os.sep):
                escaping.append(path)
                os.unlink(full)
        if escaping:
            raise self._unsafe(
                f"the symbolic link '{escaping[0]}' resolves outside the target directory"
            )

    def _prepare(self, path: str) -> str:
        parent = path.rpartition("/")[0]
        self.directory(parent)
        full = self._full(path)
        try:
            mode = os.lstat(full).st_mode
        except FileNotFoundError:
            return full
        if stat.S_ISDIR(mode):
            raise self._unsafe(f"'{path}' is both a file and a folder")
        os.unlink(full)  # a later entry wins, as with tar; never write through a link
        return full

    def _full(self, path: str) -> str:
        return os.path.join(self._root, *path.split("/")) if path else self._root

    def _unsafe(self, reason: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(f"Unsafe archive from {self._source}: {reason}")
