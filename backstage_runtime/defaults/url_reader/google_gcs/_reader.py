"""``GoogleGcsUrlReader``: objects of Google Cloud Storage (``integrations.googleGcs``).

As Backstage's ``GoogleGcsUrlReader``: one reader, for ``storage.cloud.google.com`` URLs, and
only when ``integrations.googleGcs`` is configured. Beyond Backstage (which has no ETags, no
tree read and only prefix searches):

- ``read_url`` compares the caller's ``etag`` (and ``last_modified_after``) with the object's
  metadata before downloading anything;
- ``read_tree`` reads the objects below a folder, with an ETag derived from the listing;
- ``search`` takes any glob over object names (Backstage's trailing-``*`` prefix form keeps
  its meaning: every object whose name starts with the prefix).

The client library is optional (``pip install 'backstage-runtime[gcs]'``): the reader registers
without it and a read then says what to install.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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
    UrlReaderPredicateTuple,
)
from .._git import search_literal
from .._glob import compile_glob, is_glob
from .._http import iter_body
from .._responses import HttpReadUrlResponse
from .._urls import redact_url
from ._client import GcsClient, GcsObject
from ._config import GoogleGcsIntegrationConfig, read_google_gcs_integration_config
from ._listing import entry_limit, listing_etag, too_many_entries, tree_path
from ._urls import GcsLocation, gcs_predicate, object_url, parse_gcs_url

__all__ = ["GoogleGcsUrlReader"]

_GLOB_CHARS = ("*", "?", "[", "{")


class GoogleGcsUrlReader:
    """Reads ``https://storage.cloud.google.com/<bucket>/<object>`` URLs.

    ``token=`` on a call is an OAuth access token used instead of the configured credentials.
    """

    def __init__(
        self,
        integration: GoogleGcsIntegrationConfig,
        *,
        session: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        api_root: str | None = None,
        token_uri: str | None = None,
    ) -> None:
        self.integration = integration
        self._trees = tree_response_factory
        self._client = GcsClient(integration, session, api_root=api_root, token_uri=token_uri)

    @classmethod
    def factory(
        cls,
        *,
        config: Config,
        http_client: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        api_root: str | None = None,
        token_uri: str | None = None,
        **_: Any,
    ) -> list[UrlReaderPredicateTuple]:
        """One reader when ``integrations.googleGcs`` is configured, none otherwise.

        ``api_root`` and ``token_uri`` send the requests (with credentials) and the service
        account's token exchange to another server than Google's (tests; the backend passes
        neither).
        """
        integration = read_google_gcs_integration_config(config)
        if integration is None:
            return []
        reader = cls(
            integration,
            session=http_client,
            tree_response_factory=tree_response_factory,
            api_root=api_root,
            token_uri=token_uri,
        )
        return [UrlReaderPredicateTuple(reader=reader, predicate=gcs_predicate(integration.host))]

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Stream one object; an unchanged ``etag`` or ``last_modified_after`` is answered from
        the object's metadata, before any download.
        """
        location = parse_gcs_url(url, self.integration.host)
        source = redact_url(url)
        if not location.name or location.name.endswith("/"):
            raise InputError(
                f"Invalid Google Cloud Storage URL {source}, it names a bucket or folder, "
                "not an object"
            )
        message = f"Could not read {source} from Google Cloud Storage"
        info = await self._client.metadata(
            location.bucket, location.name, token=token, source=source, message=message
        )
        if etag and info.etag and etag == info.etag:
            raise NotModifiedError()
        if (
            last_modified_after is not None
            and info.updated is not None
            and info.updated <= _aware(last_modified_after)
        ):
            raise NotModifiedError()
        # Not pinned to the generation just seen: if the object changes in between, the
        # content is newer than the ETag, which only costs the caller one more download.
        response = await self._client.open(
            location.bucket, location.name, token=token, source=source, message=message
        )
        return HttpReadUrlResponse(
            response, source=source, etag=info.etag or None, last_modified_at=info.updated
        )

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """The objects below the folder ``url`` names (``docs`` reads ``docs/...``, not
        ``docs-old/...``; the whole bucket when it names none).
        """
        location = parse_gcs_url(url, self.integration.host)
        source = redact_url(url)
        if is_glob(location.name):
            raise InputError(
                f"Invalid Google Cloud Storage tree URL {source}, it holds a glob pattern; "
                "use search for globs"
            )
        message = f"Could not read the tree {source} from Google Cloud Storage"
        folder = location.name.strip("/")
        prefix = f"{folder}/" if folder else ""
        limit = entry_limit(self._trees)
        listed: list[tuple[str, GcsObject]] = []
        async for item in self._client.list(
            location.bucket, prefix, token=token, source=source, message=message
        ):
            path = tree_path(item.name, prefix)
            if path is None:
                continue
            if limit is not None and len(listed) >= limit:
                raise too_many_entries(source, limit)
            listed.append((path, item))
        if folder and not listed:
            raise NotFoundError(f"{message}, no objects under '{prefix}'")
        tree_etag = listing_etag(item for _, item in listed)
        if etag and etag == tree_etag:
            raise NotModifiedError()
        return self._trees.from_file_streams(
            [
                TreeFileSource(
                    path=path,
                    open=self._opener(location, item.name, token, source),
                    size=item.size,
                    last_modified_at=item.updated,
                )
                for path, item in listed
            ],
            etag=tree_etag,
            filter=filter,
            source=source,
        )

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """The objects whose names match the glob in ``url``'s path (``catalog/**/*.yaml``); a
        URL without glob reads that one object (no files when it is missing).
        """
        location = parse_gcs_url(url, self.integration.host)
        if not is_glob(location.name):
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        source = redact_url(url)
        message = f"Could not search {source} in Google Cloud Storage"
        pattern = location.name
        literal = min(pattern.find(char) for char in _GLOB_CHARS if char in pattern)
        prefix = pattern[:literal]
        matches = _name_matcher(pattern)
        found = [
            item
            async for item in self._client.list(
                location.bucket, prefix, token=token, source=source, message=message
            )
            # Names with empty or dot segments have no URL that reads them back.
            if tree_path(item.name, "") is not None and matches(item.name)
        ]
        search_etag = listing_etag(found)
        if etag and etag == search_etag:
            raise NotModifiedError()
        return SearchResponse(
            files=[
                SearchResponseFile(
                    url=object_url(location.bucket, item.name, self.integration.host),
                    content=self._content(location, item.name, token, source),
                    last_modified_at=item.updated,
                )
                for item in found
            ],
            etag=search_etag,
        )

    def __str__(self) -> str:
        return (
            f"googleGcs{{host={self.integration.host},authed={bool(self.integration.private_key)}}}"
        )

    # -- helpers -----------------------------------------------------------------------------

    def _opener(
        self, location: GcsLocation, name: str, token: str | None, source: str
    ) -> Callable[[], AsyncIterator[bytes]]:
        async def open_object() -> AsyncIterator[bytes]:
            response = await self._client.open(
                location.bucket,
                name,
                token=token,
                source=source,
                message=f"Could not read {name} of {source} from Google Cloud Storage",
            )
            body = iter_body(response, source=source)
            try:
                async for chunk in body:
                    yield chunk
            finally:
                await body.aclose()

        return open_object

    def _content(
        self, location: GcsLocation, name: str, token: str | None, source: str
    ) -> Callable[[], Awaitable[bytes]]:
        url = object_url(location.bucket, name, self.integration.host)

        async def content() -> bytes:
            response = await self._client.open(
                location.bucket,
                name,
                token=token,
                source=source,
                message=f"Could not read {redact_url(url)} from Google Cloud Storage",
            )
            return await HttpReadUrlResponse(response, source=redact_url(url)).buffer()

        return content


def _name_matcher(pattern: str) -> Callable[[str], bool]:
    """Which object names a search ``pattern`` selects. Backstage's only form, a single
    trailing ``*``, keeps its meaning: every name starting with what precedes it (in subfolders
    too); any other glob is matched as minimatch would (``*`` within one segment).
    """
    if pattern.endswith("*") and not is_glob(pattern[:-1]):
        prefix = pattern[:-1]
        return lambda name: name.startswith(prefix)
    regex = compile_glob(pattern)
    return lambda name: regex.fullmatch(name) is not None


def _aware(value: datetime) -> datetime:
    # The reader's API takes naive datetimes as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
