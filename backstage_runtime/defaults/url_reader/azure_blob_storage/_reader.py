"""``AzureBlobStorageUrlReader``: blobs of one storage account (``integrations.azureBlobStorage``).

Files are downloaded with ``If-None-Match`` / ``If-Modified-Since``; trees and globs come from
a listing of the container (Backstage reads trees the same way and has no glob search). The
Azure SDK is optional (``pip install 'backstage-runtime[azure]'``): readers register without
it and a read then says what to install.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from ....api.errors import InputError, NotFoundError, NotModifiedError
from ....api.services.config import Config
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadTreeResponseFactory,
    ReadUrlResponse,
    SearchResponse,
    SearchResponseFile,
    TreeFileSource,
    TreeFilter,
    UrlReaderError,
    UrlReaderPredicateTuple,
)
from .._git import search_literal
from .._glob import compile_glob, is_glob, static_prefix
from .._integration_reader import IntegrationUrlReader
from .._urls import redact_url
from ._config import AzureBlobStorageIntegrationConfig, read_azure_blob_storage_integration_configs
from ._listing import BlobInfo, collect_tree, entry_limit, listing_etag
from ._urls import BlobLocation, blob_url_predicate, parse_blob_url

if TYPE_CHECKING:
    from ._client import BlobStore

__all__ = ["AzureBlobStorageUrlReader"]

_INSTALL_HINT = "pip install 'backstage-runtime[azure]'"


class AzureBlobStorageUrlReader(IntegrationUrlReader[AzureBlobStorageIntegrationConfig]):
    """Reads from one storage account (``integrations.azureBlobStorage[]``).

    ``token=`` replaces the configured credentials for one call: a SAS token (it carries a
    ``sig=``) or else an Entra ID access token.
    """

    read_integrations = staticmethod(read_azure_blob_storage_integration_configs)

    def __init__(
        self,
        integration: AzureBlobStorageIntegrationConfig,
        *,
        session: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
    ) -> None:
        super().__init__(integration, session=session, tree_response_factory=tree_response_factory)
        # Made on first use, then kept so that Entra ID tokens are cached between calls.
        self._store: BlobStore | None = None

    @classmethod
    def factory(
        cls,
        *,
        config: Config,
        http_client: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        **_: Any,
    ) -> list[UrlReaderPredicateTuple]:
        """A reader per configured account, accepting that account's blob URLs (Backstage's
        account-less default entry has no account to read, so it gets no reader).
        """
        return [
            UrlReaderPredicateTuple(
                reader=cls(
                    integration,
                    session=http_client,
                    tree_response_factory=tree_response_factory,
                ),
                predicate=blob_url_predicate(integration),
            )
            for integration in cls.read_integrations(config)
            if integration.account_name is not None
        ]

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Download the blob ``url`` names, streamed in chunks."""
        location = parse_blob_url(url, self.integration)
        if not location.blob:
            raise InputError(
                f"Invalid Azure Blob Storage URL format: {redact_url(url)}, it names a "
                "container, not a blob"
            )
        store = self._store_for(url, token)
        return await store.download(
            location.container,
            location.blob,
            message=f"Could not retrieve file from Azure Blob Storage: {redact_url(url)}",
            etag=etag,
            if_modified_since=last_modified_after,
        )

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """The blobs below the folder ``url`` names (the whole container when it names one).

        The ETag is derived from the listing (see :mod:`._listing`), so an unchanged folder
        answers ``NotModifiedError`` before anything is downloaded.
        """
        location = parse_blob_url(url, self.integration)
        source = redact_url(url)
        message = f"Could not retrieve file tree from Azure Blob Storage: {source}"
        store = self._store_for(url, token)
        folder = location.blob.strip("/")
        prefix = f"{folder}/" if folder else ""
        blobs = await collect_tree(
            store.list(location.container, prefix, message=message),
            prefix,
            limit=entry_limit(self._trees),
            source=source,
        )
        if folder and not blobs:
            raise NotFoundError(f"{message}, no blobs under '{folder}/'")
        tree_etag = listing_etag(blob for _, blob in blobs)
        if etag and etag == tree_etag:
            raise NotModifiedError()
        return self._trees.from_file_streams(
            [
                TreeFileSource(
                    path=path,
                    open=self._opener(store, location, blob, message),
                    size=blob.size,
                    last_modified_at=blob.last_modified_at,
                )
                for path, blob in blobs
            ],
            etag=tree_etag,
            filter=filter,
            source=source,
        )

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """The blobs whose names match the glob in ``url``'s path
        (``.../<container>/catalog/**/*.yaml``); a URL without glob reads that one blob.
        """
        location = parse_blob_url(url, self.integration)
        if not is_glob(location.blob):
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        source = redact_url(url)
        message = f"Could not search Azure Blob Storage: {source}"
        store = self._store_for(url, token)
        folder = static_prefix(location.blob)
        pattern = compile_glob(location.blob)
        # Every listed file counts towards the limit, as a search of a repository reads (and
        # limits) its whole tree before the glob filters it.
        listed = await collect_tree(
            store.list(location.container, f"{folder}/" if folder else "", message=message),
            "",
            limit=entry_limit(self._trees),
            source=source,
        )
        matches = [blob for _, blob in listed if pattern.fullmatch(blob.name) is not None]
        search_etag = listing_etag(matches)
        if etag and etag == search_etag:
            raise NotModifiedError()
        return SearchResponse(
            files=[
                SearchResponseFile(
                    url=location.url_of(blob.name),
                    content=self._content(store, location, blob, message),
                    last_modified_at=blob.last_modified_at,
                )
                for blob in matches
            ],
            etag=search_etag,
        )

    def __str__(self) -> str:
        return (
            f"azureBlobStorage{{accountName={self.integration.account_name},"
            f"authed={bool(self.integration.account_key)}}}"
        )

    # -- helpers -----------------------------------------------------------------------------

    def _store_for(self, url: str, token: str | None) -> BlobStore:
        store_class = _load_store_class(url)
        try:
            if token:
                return store_class.for_token(self.integration, token, session=self._session)
            if self._store is None:
                self._store = store_class.for_integration(self.integration, session=self._session)
        except ValueError as error:
            # The SDK refuses unsafe combinations up front, such as an Entra ID token for an
            # http endpoint; its message names no secret.
            raise UrlReaderError(f"Cannot read {redact_url(url)}, {error}") from None
        return self._store

    @staticmethod
    def _opener(
        store: BlobStore, location: BlobLocation, blob: BlobInfo, message: str
    ) -> Callable[[], AsyncIterator[bytes]]:
        async def open_blob() -> AsyncIterator[bytes]:
            # Pinned to the listed version: the tree's ETag describes exactly that content.
            download = await store.download(
                location.container, blob.name, message=message, if_match=blob.etag
            )
            async for chunk in download.stream():
                yield chunk

        return open_blob

    @staticmethod
    def _content(
        store: BlobStore, location: BlobLocation, blob: BlobInfo, message: str
    ) -> Callable[[], Awaitable[bytes]]:
        async def content() -> bytes:
            download = await store.download(
                location.container, blob.name, message=message, if_match=blob.etag
            )
            return await download.buffer()

        return content


def _load_store_class(url: str) -> type[BlobStore]:
    """:class:`._client.BlobStore`, imported on first use since the Azure SDK it needs is an
    optional extra.
    """
    try:
        module = importlib.import_module(f"{__package__}._client")
    except ImportError as error:
        if not (error.name or "").startswith("azure"):
            raise
        raise UrlReaderError(
            f"Cannot read {redact_url(url)}: reading Azure Blob Storage needs the Azure SDK "
            f"({error.name} is not installed); install it with {_INSTALL_HINT}"
        ) from None
    store_class: type[BlobStore] = module.BlobStore
    return store_class
