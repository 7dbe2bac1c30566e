"""``DefaultReadTreeResponseFactory``: what readers use to build their tree responses."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from ....api.errors import ConfigError
from ....api.services.config import Config
from ....api.services.url_reader import ReadTreeResponse, TreeFileSource, TreeFilter
from ._limits import TreeLimits, read_tree_limits
from ._responses import FilesTreeResponse, TarArchiveResponse
from ._streams import FileStreamsTreeResponse
from ._zip import ZipArchiveResponse

__all__ = ["DefaultReadTreeResponseFactory"]


class DefaultReadTreeResponseFactory:
    """Builds tree responses that extract under ``working_directory`` within ``limits``."""

    def __init__(
        self, *, working_directory: Path | None = None, limits: TreeLimits | None = None
    ) -> None:
        self.working_directory = working_directory or Path(tempfile.gettempdir())
        self.limits = limits or TreeLimits()

    @classmethod
    def from_config(cls, config: Config) -> DefaultReadTreeResponseFactory:
        """Configured by ``backend.workingDirectory`` (default: the OS temporary directory) and
        ``backend.reading.tree.maxEntries`` / ``maxBytes``.
        """
        configured = config.get_optional_string("backend.workingDirectory")
        working = Path(configured) if configured else None
        if working is not None and not working.is_dir():
            raise ConfigError(
                f"Invalid config at 'backend.workingDirectory': '{configured}' is not a directory"
            )
        return cls(working_directory=working, limits=read_tree_limits(config))

    def from_tar_archive(
        self,
        *,
        stream: AsyncIterator[bytes],
        etag: str,
        subpath: str = "",
        filter: TreeFilter | None = None,
        strip_first_directory: bool = True,
        source: str = "",
    ) -> ReadTreeResponse:
        """A tree over a tar or tar.gz stream (see ``ReadTreeResponseFactory``)."""
        return TarArchiveResponse(
            stream=stream,
            etag=etag,
            working_directory=self.working_directory,
            limits=self.limits,
            subpath=subpath,
            filter=filter,
            strip_first_directory=strip_first_directory,
            source=source or "the archive",
        )

    def from_files(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        etag: str,
        filter: TreeFilter | None = None,
    ) -> ReadTreeResponse:
        """A tree over in-memory ``(path, content)`` pairs."""
        return FilesTreeResponse(
            files, etag=etag, working_directory=self.working_directory, filter=filter
        )

    def from_zip_archive(
        self,
        *,
        stream: AsyncIterator[bytes],
        etag: str,
        subpath: str = "",
        filter: TreeFilter | None = None,
        strip_first_directory: bool = False,
        source: str = "",
    ) -> ReadTreeResponse:
        """A tree over a zip stream (see ``ReadTreeResponseFactory``)."""
        return ZipArchiveResponse(
            stream=stream,
            etag=etag,
            working_directory=self.working_directory,
            limits=self.limits,
            subpath=subpath,
            filter=filter,
            strip_first_directory=strip_first_directory,
            source=source or "the archive",
        )

    def from_file_streams(
        self,
        files: Sequence[TreeFileSource],
        *,
        etag: str,
        filter: TreeFilter | None = None,
        source: str = "",
    ) -> ReadTreeResponse:
        """A tree over files fetched one by one (see ``ReadTreeResponseFactory``)."""
        return FileStreamsTreeResponse(
            files,
            etag=etag,
            working_directory=self.working_directory,
            limits=self.limits,
            filter=filter,
            source=source or "the files",
        )
