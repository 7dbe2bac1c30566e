"""``mock_url_reader``: a url reader serving files from a dict or a directory, for tests.

Backstage tests stub ``UrlReaderService`` by hand; this one behaves like a real reader
(ETags, ``NotModifiedError``, ``NotFoundError``, trees, globs) without any network::

    reader = mock_services.url_reader({"https://example.com/a/catalog-info.yaml": "kind: ..."})
    reader = mock_services.url_reader(directory="fixtures", base_url="https://github.com/org/repo/")
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..api import ServiceFactory, core_services, create_service_factory
from ..api.errors import InputError, NotFoundError, NotModifiedError
from ..api.services.url_reader import (
    ReadTreeResponse,
    ReadUrlResponse,
    SearchResponse,
    SearchResponseFile,
    TreeFilter,
    UrlReaderService,
)
from ..defaults.url_reader import (
    BytesReadUrlResponse,
    DefaultReadTreeResponseFactory,
    compile_glob,
    is_glob,
)
from ._service_mock import ServiceMock, build_service_mock

__all__ = ["MockUrlReader", "mock_url_reader"]


def _etag(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return f'"{digest.hexdigest()[:32]}"'


class MockUrlReader:
    """Serves ``files`` (URL → content) and, when ``directory`` is given, every file below it
    at ``base_url`` + its relative path. ``requests`` records ``(operation, url)`` calls.

    ``read_tree(url)`` returns the files whose URL starts with ``url + "/"``; ``search`` matches
    a glob against whole URLs. ETags are content hashes; directory files report their mtime.
    """

    def __init__(
        self,
        files: Mapping[str, bytes | str] | None = None,
        *,
        directory: str | os.PathLike[str] | None = None,
        base_url: str = "https://example.com/",
        working_directory: str | os.PathLike[str] | None = None,
    ) -> None:
        self._files = {
            url: content.encode() if isinstance(content, str) else bytes(content)
            for url, content in (files or {}).items()
        }
        self._directory = Path(directory).resolve() if directory is not None else None
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._trees = DefaultReadTreeResponseFactory(
            working_directory=Path(working_directory) if working_directory else None
        )
        #: Every call as ``(operation, url)``: ``read_url``, ``read_tree`` or ``search``.
        self.requests: list[tuple[str, str]] = []

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """The content at ``url``; ``NotModifiedError`` when ``etag`` or the date says so."""
        self.requests.append(("read_url", url))
        found = self._lookup(url)
        if found is None:
            raise NotFoundError(f"could not read {url}, 404 Not Found")
        data, modified = found
        current = _etag(data)
        if etag is not None and etag == current:
            raise NotModifiedError()
        if last_modified_after is not None and modified is not None:
            after = last_modified_after
            if after.tzinfo is None:
                after = after.replace(tzinfo=UTC)
            if modified <= after:
                raise NotModifiedError()
        return BytesReadUrlResponse(data, etag=current, last_modified_at=modified)

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """The files below ``url``, paths relative to it."""
        self.requests.append(("read_tree", url))
        prefix = url.rstrip("/") + "/"
        files = sorted(
            (file_url[len(prefix) :], data)
            for file_url, data in self._all().items()
            if file_url.startswith(prefix)
        )
        if not files:
            raise NotFoundError(f"could not read tree {url}, 404 Not Found")
        current = _etag(*(path.encode() + b"\0" + data for path, data in files))
        if etag is not None and etag == current:
            raise NotModifiedError()
        return self._trees.from_files(files, etag=current, filter=filter)

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """The files whose URL matches the glob ``url`` (or the one file of a literal URL)."""
        self.requests.append(("search", url))
        if is_glob(url):
            pattern = compile_glob(url)
            matches = sorted(
                (file_url, data)
                for file_url, data in self._all().items()
                if pattern.fullmatch(file_url)
            )
        else:
            found = self._lookup(url)
            matches = [(url, found[0])] if found is not None else []
        current = _etag(*(u.encode() + b"\0" + d for u, d in matches)) if matches else ""
        if etag is not None and matches and etag == current:
            raise NotModifiedError()
        return SearchResponse(
            files=[SearchResponseFile(url=u, content=_constant(d)) for u, d in matches],
            etag=current,
        )

    def __str__(self) -> str:
        return "mockUrlReader{}"

    def _lookup(self, url: str) -> tuple[bytes, datetime | None] | None:
        if url in self._files:
            return self._files[url], None
        path = self._path_for(url)
        if path is None or not path.is_file():
            return None
        stat = path.stat()
        return path.read_bytes(), datetime.fromtimestamp(int(stat.st_mtime), tz=UTC)

    def _path_for(self, url: str) -> Path | None:
        if self._directory is None or not url.startswith(self._base_url):
            return None
        relative = url[len(self._base_url) :].split("?", 1)[0]
        parts = [part for part in relative.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise InputError(f"Invalid path in {url}: '..' is not allowed")
        return self._directory.joinpath(*parts) if parts else None

    def _all(self) -> dict[str, bytes]:
        files = dict(self._files)
        if self._directory is not None:
            for path in sorted(self._directory.rglob("*")):
                if path.is_file():
                    relative = path.relative_to(self._directory).as_posix()
                    files.setdefault(self._base_url + relative, path.read_bytes())
        return files


def _constant(data: bytes) -> Callable[[], Awaitable[bytes]]:
    async def content() -> bytes:
        return data

    return content


class _MockUrlReaderHelper:
    """``mock_services.url_reader``: :class:`MockUrlReader` instances and a factory."""

    def __call__(
        self,
        files: Mapping[str, bytes | str] | None = None,
        *,
        directory: str | os.PathLike[str] | None = None,
        base_url: str = "https://example.com/",
    ) -> MockUrlReader:
        """A reader serving ``files`` and/or ``directory`` (at ``base_url``)."""
        return MockUrlReader(files, directory=directory, base_url=base_url)

    def factory(
        self,
        files: Mapping[str, bytes | str] | None = None,
        *,
        directory: str | os.PathLike[str] | None = None,
        base_url: str = "https://example.com/",
    ) -> ServiceFactory[UrlReaderService]:
        """A ``core.urlReader`` factory: every plugin gets the same :class:`MockUrlReader`."""
        reader = self(files, directory=directory, base_url=base_url)
        return create_service_factory(service=core_services.url_reader, factory=lambda: reader)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.urlReader`` (``read_url``, ``read_tree``, ``search``)."""
        return build_service_mock(core_services.url_reader, UrlReaderService, implementations)


#: ``mock_url_reader(files)`` / ``mock_url_reader.factory(files)``; to be exposed as
#: ``mock_services.url_reader``.
mock_url_reader = _MockUrlReaderHelper()
