"""``AwsS3UrlReader``: S3 buckets on AWS and S3-compatible stores (``integrations.awsS3``).

Files come from GetObject (``IfNoneMatch`` / ``IfModifiedSince`` give 304), trees from
ListObjectsV2 under the folder's prefix with each object fetched only when read, globs from
the listing of their literal prefix. Backstage's tree and search have no ETag; ours is derived
from the listed objects' keys and ETags, so an unchanged tree answers ``NotModifiedError``
before anything is downloaded.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import aiohttp

from ....api.errors import InputError, NotModifiedError
from ....api.services.config import Config
from ....api.services.lifecycle import RootLifecycleService
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadTreeResponseFactory,
    ReadUrlResponse,
    SearchResponse,
    SearchResponseFile,
    TreeFileSource,
    TreeFilter,
    UrlReaderPredicateTuple,
    UrlReaderService,
)
from .._git import search_literal
from .._glob import compile_glob, is_glob
from .._integration_reader import IntegrationUrlReader
from .._urls import redact_url
from ._client import S3Clients
from ._config import (
    AwsMainAccountConfig,
    AwsS3IntegrationConfig,
    read_aws_main_account_config,
    read_aws_s3_integration_configs,
)
from ._errors import s3_errors
from ._listing import Listed, entry_limit, listing_etag, too_many_entries, tree_path
from ._responses import S3ObjectResponse, stream_object
from ._urls import S3Location, object_url, parse_s3_url, s3_host_predicate

__all__ = ["AwsS3UrlReader"]

# ListObjectsV2 page size (S3's maximum).
_PAGE_SIZE = 1000
_GLOB_CHARS = "*?[{"


class AwsS3UrlReader(IntegrationUrlReader[AwsS3IntegrationConfig]):
    """Reads objects of one S3 endpoint (``integrations.awsS3[]``).

    ``token=`` is ignored, as in Backstage: S3 requests are signed with the integration's
    credentials.
    """

    read_integrations = staticmethod(read_aws_s3_integration_configs)

    def __init__(
        self,
        integration: AwsS3IntegrationConfig,
        *,
        session: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        main_account: AwsMainAccountConfig | None = None,
        lifecycle: RootLifecycleService | None = None,
    ) -> None:
        super().__init__(integration, session=session, tree_response_factory=tree_response_factory)
        self._clients = S3Clients(
            integration, main_account or AwsMainAccountConfig(), keep_open=lifecycle is not None
        )
        if lifecycle is not None:
            # Idle clients stay open between reads (their connections too) until shutdown.
            lifecycle.add_shutdown_hook(self._clients.aclose)

    @classmethod
    def factory(
        cls,
        *,
        config: Config,
        http_client: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        lifecycle: RootLifecycleService | None = None,
        **_: Any,
    ) -> list[UrlReaderPredicateTuple]:
        """A reader per ``integrations.awsS3`` entry (``amazonaws.com`` always among them), each
        accepting URLs on its host and its subdomains.
        """
        main_account = read_aws_main_account_config(config)
        return [
            UrlReaderPredicateTuple(
                reader=cast(
                    UrlReaderService,
                    cls(
                        integration,
                        session=http_client,
                        tree_response_factory=tree_response_factory,
                        main_account=main_account,
                        lifecycle=lifecycle,
                    ),
                ),
                predicate=s3_host_predicate(integration.host),
            )
            for integration in read_aws_s3_integration_configs(config)
        ]

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Stream one object; ``etag`` / ``last_modified_after`` make S3 answer 304."""
        location = parse_s3_url(url, self.integration)
        source = redact_url(url)
        if not location.key or location.key.endswith("/"):
            raise InputError(f"Invalid AWS S3 URL {source}, it does not name an object")
        params: dict[str, Any] = {"Bucket": location.bucket, "Key": location.key}
        if etag:
            params["IfNoneMatch"] = etag
        if last_modified_after is not None:
            params["IfModifiedSince"] = _aware(last_modified_after)
        resources = AsyncExitStack()
        try:
            with s3_errors(f"Could not retrieve file from S3 at {source}"):
                client = await resources.enter_async_context(self._clients.client(location.region))
                response = await client.get_object(**params)
        except BaseException:
            await resources.aclose()
            raise
        return S3ObjectResponse(
            response["Body"],
            resources,
            source=source,
            etag=response.get("ETag"),
            last_modified_at=response.get("LastModified"),
        )

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """The objects below the URL's key, taken as a folder (``docs`` reads ``docs/...``)."""
        location = parse_s3_url(url, self.integration)
        source = redact_url(url)
        prefix = location.key.rstrip("/") + "/" if location.key.strip("/") else ""
        listed = await self._list(
            location,
            prefix,
            root=prefix,
            message=f"Could not retrieve file tree from S3 at {source}",
            source=source,
        )
        tree_etag = listing_etag(listed)
        if etag and etag == tree_etag:
            raise NotModifiedError()
        files = [
            TreeFileSource(
                path=item.path,
                open=partial(stream_object, self._clients, location, item.key, source=source),
                size=item.size,
                last_modified_at=item.last_modified_at,
            )
            for item in listed
        ]
        return self._trees.from_file_streams(files, etag=tree_etag, filter=filter, source=source)

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """The objects whose keys match the glob in the URL's key (``catalog/**/*.yaml``); a
        key without glob is read as one file (none when missing). Backstage supports only the
        latter.
        """
        location = parse_s3_url(url, self.integration)
        if not is_glob(location.key):
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        source = redact_url(url)
        literal = min(
            (location.key.find(char) for char in _GLOB_CHARS if char in location.key),
            default=len(location.key),
        )
        pattern = compile_glob(location.key)
        listed = [
            item
            for item in await self._list(
                location,
                location.key[:literal],
                root="",
                message=f"Could not search S3 at {source}",
                source=source,
            )
            if pattern.fullmatch(item.key)
        ]
        search_etag = listing_etag(listed)
        if etag and etag == search_etag:
            raise NotModifiedError()
        return SearchResponse(
            files=[
                SearchResponseFile(
                    url=object_url(url, location, item.key),
                    content=partial(self._read_object, location, item.key, source),
                    last_modified_at=item.last_modified_at,
                )
                for item in listed
            ],
            etag=search_etag,
        )

    def __str__(self) -> str:
        authed = bool(self.integration.secret_access_key)
        return f"awsS3{{host={self.integration.host},authed={authed}}}"

    # -- helpers -----------------------------------------------------------------------------

    async def _list(
        self, location: S3Location, prefix: str, *, root: str, message: str, source: str
    ) -> list[Listed]:
        """Every object under ``prefix`` that can be a file of a tree rooted at ``root`` (see
        :func:`tree_path`); raises :class:`ArchiveLimitError` as soon as there are more than
        ``backend.reading.tree.maxEntries``, before the rest of the bucket is listed.
        """
        limit = entry_limit(self._trees)
        listed: list[Listed] = []
        with s3_errors(message):
            async with self._clients.client(location.region) as client:
                continuation: str | None = None
                while True:
                    params: dict[str, Any] = {
                        "Bucket": location.bucket,
                        "Prefix": prefix,
                        "MaxKeys": _PAGE_SIZE,
                    }
                    if continuation:
                        params["ContinuationToken"] = continuation
                    page = await client.list_objects_v2(**params)
                    for item in page.get("Contents", []):
                        key = item.get("Key", "")
                        path = tree_path(key, root)
                        if path is None:
                            continue
                        if limit is not None and len(listed) >= limit:
                            raise too_many_entries(source, limit)
                        listed.append(
                            Listed(
                                path=path,
                                key=key,
                                etag=item.get("ETag", ""),
                                size=item.get("Size"),
                                last_modified_at=item.get("LastModified"),
                            )
                        )
                    continuation = page.get("NextContinuationToken")
                    if not page.get("IsTruncated") or not continuation:
                        return listed

    async def _read_object(self, location: S3Location, key: str, source: str) -> bytes:
        chunks = stream_object(self._clients, location, key, source=source)
        return b"".join([chunk async for chunk in chunks])


def _aware(value: datetime) -> datetime:
    # botocore formats naive datetimes as they are; the reader's API takes naive ones as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
