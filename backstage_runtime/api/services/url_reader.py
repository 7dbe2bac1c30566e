"""``core.urlReader``: reading files, trees and globs from integrations and allowed hosts.

Backstage's ``UrlReaderService`` in Python. A plugin reads a URL the way a catalog location
names it (``https://github.com/org/repo/blob/main/catalog-info.yaml``); the service picks the
reader whose predicate accepts the URL (the GitHub integration for ``github.com``, the plain
fetch reader for hosts in ``backend.reading.allow``, ...)::

    response = await url_reader.read_url(url, etag=previous_etag)
    data = await response.buffer()

    tree = await url_reader.read_tree("https://github.com/org/repo/tree/main/docs")
    directory = await tree.dir()          # the caller owns (and deletes) the directory

Other plugins add readers through the multiton :data:`url_reader_factories` ref. Cancellation
replaces Backstage's ``signal`` option: cancel the task that awaits the call.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import SplitResult

from ..._public import publish_lazy_module
from .._url_reader_refs import url_reader_factories
from ..errors import BackstageError, InputError

if TYPE_CHECKING:
    from .config import Config
    from .logger import LoggerService

__all__ = [
    "ArchiveLimitError",
    "ReadTreeResponse",
    "ReadTreeResponseFactory",
    "ReadTreeResponseFile",
    "ReadUrlResponse",
    "ReaderFactory",
    "SearchResponse",
    "SearchResponseFile",
    "TreeEntryInfo",
    "TreeFileSource",
    "TreeFilter",
    "UnsafeArchiveError",
    "UrlPredicate",
    "UrlReaderError",
    "UrlReaderPredicateTuple",
    "UrlReaderService",
    "url_reader_factories",
]


class UrlReaderError(BackstageError):
    """A provider answered with an error other than 304/404 (Backstage throws a plain ``Error``).

    ``status`` is the HTTP status when there was a response; ``rate_limited`` is true when the
    provider said the caller is rate limited (the message then ends with
    ``(rate limit exceeded)``). Messages name URLs without credentials.
    """

    name = "Error"

    def __init__(
        self,
        message: str,
        cause: BaseException | None = None,
        *,
        status: int | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(message, cause)
        self.status = status
        self.rate_limited = rate_limited


class UnsafeArchiveError(InputError):
    """An archive tried to write outside its target (``..``, absolute paths, links escaping)."""


class ArchiveLimitError(UnsafeArchiveError):
    """An archive holds more entries or more bytes than ``backend.reading.tree`` allows."""


@dataclass(frozen=True)
class TreeEntryInfo:
    """What a tree filter learns about an entry besides its path: its size in bytes."""

    size: int


#: ``filter(path, info)`` decides whether a file of a tree is kept; ``path`` is relative to the
#: tree root with ``/`` separators.
TreeFilter = Callable[[str, TreeEntryInfo], bool]


class ReadUrlResponse(Protocol):
    """The answer of :meth:`UrlReaderService.read_url`.

    Read the body once, with :meth:`buffer` or :meth:`stream`; or :meth:`aclose` it unread.
    ``async with`` closes it too.
    """

    #: The provider's entity tag for this content; pass it back as ``etag=`` next time.
    etag: str | None
    #: When the content last changed, when the provider says.
    last_modified_at: datetime | None

    async def buffer(self) -> bytes:
        """The whole body."""

    def stream(self) -> AsyncIterator[bytes]:
        """The body in chunks, without holding it all in memory."""

    async def aclose(self) -> None:
        """Release the connection without reading the body."""

    async def __aenter__(self) -> ReadUrlResponse: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


@dataclass(frozen=True)
class ReadTreeResponseFile:
    """One file of a tree: its ``path`` relative to the tree root and its ``content()``."""

    path: str
    content: Callable[[], Awaitable[bytes]]
    last_modified_at: datetime | None = None


class ReadTreeResponse(Protocol):
    """The answer of :meth:`UrlReaderService.read_tree`; read it once, in one of three ways."""

    #: Identifies this version of the tree (usually a commit SHA); pass it back as ``etag=``.
    etag: str

    async def files(self) -> list[ReadTreeResponseFile]:
        """Every file (after the filter), contents held in memory."""

    def archive(self) -> AsyncIterator[bytes]:
        """The tree as an uncompressed tar stream, paths relative to the tree root."""

    async def dir(self, *, target_dir: str | os.PathLike[str] | None = None) -> Path:
        """Extract the tree into ``target_dir`` (default: a new directory under
        ``backend.workingDirectory``) and return it; the caller deletes it.
        """


@dataclass(frozen=True)
class SearchResponseFile:
    """A file found by :meth:`UrlReaderService.search`: its ``url`` and ``content()``."""

    url: str
    content: Callable[[], Awaitable[bytes]]
    last_modified_at: datetime | None = None


@dataclass(frozen=True)
class SearchResponse:
    """The answer of :meth:`UrlReaderService.search`."""

    files: list[SearchResponseFile]
    #: Identifies this state of the searched tree; pass it back as ``etag=``.
    etag: str


class UrlReaderService(Protocol):
    """Reads URLs through the configured integrations (``integrations.*``) and allowed hosts.

    Every method raises :class:`~backstage_runtime.api.errors.NotModifiedError` when ``etag``
    (or ``last_modified_after``) says the caller already has this version,
    :class:`~backstage_runtime.api.errors.NotFoundError` when the target does not exist and
    :class:`~backstage_runtime.api.errors.NotAllowedError` when no reader accepts the URL.
    ``token`` replaces the integration's own credentials for this call.
    """

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file."""

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Read a directory tree (a repository, or a folder of one)."""

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Find the files matching the glob in the URL's path (``.../blob/main/**/*.yaml``)."""


@dataclass(frozen=True)
class TreeFileSource:
    """One file of a tree read file by file (object stores): its ``path`` relative to the tree
    root, its ``size`` when known (the filter and the limits see it before anything is
    downloaded) and ``open()``, which streams its content when it is needed.
    """

    path: str
    open: Callable[[], AsyncIterator[bytes]]
    size: int | None = None
    last_modified_at: datetime | None = None


class ReadTreeResponseFactory(Protocol):
    """Builds tree responses for readers; given to every :data:`ReaderFactory`."""

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
        """A tree over a (possibly gzip-compressed) tar stream.

        ``subpath`` keeps only that folder (paths then start below it);
        ``strip_first_directory`` drops the top folder that forges put in archives; ``source``
        names the archive in errors (a URL without credentials).
        """

    def from_files(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        etag: str,
        filter: TreeFilter | None = None,
    ) -> ReadTreeResponse:
        """A tree over in-memory ``(path, content)`` pairs."""

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
        """A tree over a zip stream (spooled to ``backend.workingDirectory`` first, since a zip
        is read from its end); the options are those of :meth:`from_tar_archive`.
        """

    def from_file_streams(
        self,
        files: Sequence[TreeFileSource],
        *,
        etag: str,
        filter: TreeFilter | None = None,
        source: str = "",
    ) -> ReadTreeResponse:
        """A tree over files fetched one by one when read (Backstage's ``fromReadableArray``):
        contents are streamed, never all held at once except by ``files()``.
        """


#: ``predicate(url)`` says whether a reader handles a URL (already split with ``urlsplit``).
UrlPredicate = Callable[[SplitResult], bool]


@dataclass(frozen=True)
class UrlReaderPredicateTuple:
    """A reader and the predicate choosing the URLs it reads."""

    reader: UrlReaderService
    predicate: UrlPredicate


class ReaderFactory(Protocol):
    """Creates readers from config (Backstage's ``ReaderFactory``).

    Called with keyword arguments ``config`` (the root config), ``logger``,
    ``tree_response_factory``, ``http_client`` (the backend's shared ``aiohttp`` session) and
    ``lifecycle`` (the root lifecycle, where a reader that keeps connections open registers a
    shutdown hook to close them; ``None`` when readers are built outside a backend). Accept
    ``**_`` so that arguments added later do not break the factory.
    """

    def __call__(
        self,
        *,
        config: Config,
        logger: LoggerService,
        tree_response_factory: ReadTreeResponseFactory,
        http_client: Any,
        **kwargs: Any,
    ) -> Sequence[UrlReaderPredicateTuple]:
        """The readers to register, in the order they are tried."""


# Loaded on first use (backstage_runtime.api is lazy for it): the names take their public module
# here, however this module was first imported.
publish_lazy_module(globals())
