"""A temporary directory described by nested dicts: Backstage's ``createMockDirectory``."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeAlias

__all__ = [
    "MockDirectory",
    "MockDirectoryContent",
    "MockDirectoryContentCallback",
    "MockDirectoryContentCallbackContext",
    "MockDirectoryReadContent",
    "create_mock_directory",
]


@dataclass(frozen=True)
class MockDirectoryContentCallbackContext:
    """What a content callback gets: where it is, and how to put a symlink there."""

    #: Absolute path of this piece of content.
    path: Path

    def symlink(self, target: str | os.PathLike[str]) -> None:
        """Create a symbolic link at :attr:`path` pointing at ``target`` (kept as given, so a
        relative target stays relative to the link's folder).
        """
        os.symlink(target, self.path)


#: Called with the context of its location, for content that is neither file nor folder.
MockDirectoryContentCallback: TypeAlias = Callable[[MockDirectoryContentCallbackContext], None]

#: Names (``/`` makes nested folders) to folders (dicts), text files (``str``, written as
#: UTF-8), binary files (``bytes``) or callbacks (e.g. symlinks).
MockDirectoryContent: TypeAlias = Mapping[
    str, "MockDirectoryContent | str | bytes | MockDirectoryContentCallback"
]

#: What :meth:`MockDirectory.content` returns: folders as dicts, files as ``str`` or ``bytes``.
MockDirectoryReadContent: TypeAlias = dict[str, "MockDirectoryReadContent | str | bytes"]


def _looks_like_text(_path: str, data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class MockDirectory:
    """A temporary directory for one test or test module, removed by :meth:`remove` (the
    ``mock_directory`` fixture, ``with``, or at interpreter exit, whichever comes first).
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._restore_tmpdir: list[str | None] = []

    def _mock_tmpdir(self) -> None:
        if tempfile.tempdir is not None and Path(tempfile.tempdir).name.startswith(_PREFIX):
            raise RuntimeError("Cannot mock the temporary directory when it is already mocked")
        self._restore_tmpdir.append(tempfile.tempdir)
        tempfile.tempdir = str(self._root)

    @property
    def path(self) -> Path:
        """The root of the mock directory."""
        return self._root

    def resolve(self, *paths: str | os.PathLike[str]) -> Path:
        """A path relative to the root (absolute, not checked to be inside it)."""
        return Path(os.path.abspath(self._root.joinpath(*paths)))

    def _inside(self, path: Path) -> Path:
        root = os.path.abspath(self._root)
        if os.path.commonpath([root, os.path.abspath(path)]) != root:
            raise ValueError(
                f"Provided path must resolve to a child path of the mock directory, got '{path}'"
            )
        return path

    def set_content(self, content: MockDirectoryContent) -> None:
        """Replace everything in the directory with ``content``."""
        self.remove()
        self.add_content(content)

    def add_content(self, content: MockDirectoryContent) -> None:
        """Add ``content``, overwriting files of the same name; folders merge.

        Raises :class:`ValueError` for a name that would land outside the directory (``..``,
        an absolute path) before writing anything.
        """
        entries: list[tuple[Path, object]] = []

        def walk(node: object, relative: str) -> None:
            entries.append((self._inside(self.resolve(relative)), node))
            if isinstance(node, Mapping):
                for name, child in node.items():
                    if not isinstance(name, str) or not name:
                        raise ValueError(f"Invalid name {name!r} in mock directory content")
                    walk(child, f"{relative}/{name}" if relative else name)
            elif not isinstance(node, str | bytes) and not callable(node):
                raise TypeError(
                    f"Invalid mock directory content at '{relative}': expected a dict, str, "
                    f"bytes or callable, got {type(node).__name__}"
                )

        walk(content, "")
        for path, node in entries:
            if isinstance(node, Mapping):
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(node, str):
                path.write_bytes(node.encode("utf-8"))
            elif isinstance(node, bytes):
                path.write_bytes(node)
            else:
                node(MockDirectoryContentCallbackContext(path))  # type: ignore[operator]

    def content(
        self,
        *,
        path: str | os.PathLike[str] | None = None,
        should_read_as_text: bool | Callable[[str, bytes], bool] | None = None,
    ) -> MockDirectoryReadContent | None:
        """The directory (or its sub-folder ``path``) as nested dicts; ``None`` if it does not
        exist. Files come back as ``str`` when ``should_read_as_text`` says so (a bool, or a
        function of the POSIX path relative to the folder read and the bytes); by default when
        they decode as UTF-8 and hold no NUL byte, else as ``bytes``.
        """
        if should_read_as_text is None:
            as_text: Callable[[str, bytes], bool] = _looks_like_text
        elif isinstance(should_read_as_text, bool):
            fixed = should_read_as_text

            def as_text(_path: str, _data: bytes) -> bool:
                return fixed
        else:
            as_text = should_read_as_text
        top = self._inside(self.resolve(path or ""))

        def read(folder: Path) -> MockDirectoryReadContent:
            result: MockDirectoryReadContent = {}
            for entry in sorted(folder.iterdir(), key=lambda p: p.name):
                if entry.is_dir():
                    result[entry.name] = read(entry)
                    continue
                data = entry.read_bytes()
                relative = entry.relative_to(top).as_posix()
                result[entry.name] = data.decode("utf-8") if as_text(relative, data) else data
            return result

        return read(top) if top.is_dir() else None

    def clear(self) -> None:
        """Empty the directory, keeping the directory itself."""
        self.set_content({})

    def remove(self) -> None:
        """Remove the directory and everything in it (nothing happens if it is gone); undo
        ``mock_tmpdir``.
        """
        if self._restore_tmpdir and tempfile.tempdir == str(self._root):
            tempfile.tempdir = self._restore_tmpdir.pop()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> MockDirectory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()


_PREFIX = "backstage-tmp-test-dir-"


def create_mock_directory(
    *, content: MockDirectoryContent | None = None, mock_tmpdir: bool = False
) -> MockDirectory:
    """Backstage's ``createMockDirectory``: a new temporary directory, optionally filled::

        with create_mock_directory(content={"app-config.yaml": "backend: {}"}) as mock_dir:
            load(mock_dir.resolve("app-config.yaml"))

    In pytest, the ``mock_directory`` fixture gives one removed after the test. Otherwise it is
    removed on ``with`` exit, by :meth:`MockDirectory.remove`, or when the interpreter exits.
    ``mock_tmpdir=True`` (Backstage's ``mockOsTmpDir``) makes it :func:`tempfile.gettempdir`
    until it is removed; :class:`RuntimeError` if another mock directory already is.
    """
    root = Path(tempfile.mkdtemp(prefix=_PREFIX)).resolve()
    directory = MockDirectory(root)
    if mock_tmpdir:
        try:
            directory._mock_tmpdir()
        except RuntimeError:
            directory.remove()
            raise
    # The last resort for directories nobody removed (module-level ones, crashed tests).
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    if content is not None:
        directory.set_content(content)
    return directory
