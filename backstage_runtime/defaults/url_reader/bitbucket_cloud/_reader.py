"""``BitbucketCloudUrlReader``: bitbucket.org through the REST API 2.0.

Files come from ``/repositories/:workspace/:repo/src/:ref/:path``, trees from the web host's
``/<workspace>/<repo>/get/<commit>.tar.gz`` (the commit's first 12 characters are the ETag,
as in Backstage). Credentials, OAuth included, come from :class:`BitbucketCloudAuth`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from ....api.errors import InputError, NotFoundError, NotModifiedError
from ....api.services.config import Config
from ....api.services.logger import LoggerService
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadTreeResponseFactory,
    ReadUrlResponse,
    SearchResponse,
    TreeFilter,
    UrlReaderPredicateTuple,
)
from .._git import (
    RefLookup,
    glob_filter,
    glob_split,
    search_literal,
    tree_files_to_search,
    with_ref_fallback,
)
from .._glob import static_prefix
from .._http import (
    ARCHIVE_TIMEOUT,
    conditional_headers,
    get_json,
    iter_body,
    open_url,
    raise_for_status,
)
from .._integration_reader import IntegrationUrlReader
from .._responses import HttpReadUrlResponse
from .._urls import host_predicate, redact_url, split_url
from ._auth import BitbucketCloudAuth
from ._config import BitbucketCloudIntegrationConfig, read_bitbucket_cloud_integration_configs
from ._urls import BitbucketCloudUrl, parse_bitbucket_cloud_url, web_origin

__all__ = ["BitbucketCloudUrlReader"]


class BitbucketCloudUrlReader(IntegrationUrlReader[BitbucketCloudIntegrationConfig]):
    """Reads from Bitbucket Cloud (``integrations.bitbucketCloud[]``)."""

    read_integrations = staticmethod(read_bitbucket_cloud_integration_configs)

    def __init__(
        self,
        integration: BitbucketCloudIntegrationConfig,
        *,
        session: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(integration, session=session, tree_response_factory=tree_response_factory)
        self.auth = BitbucketCloudAuth(integration, session=session, clock=clock)

    @classmethod
    def factory(  # type: ignore[override]
        cls,
        *,
        config: Config,
        logger: LoggerService,
        http_client: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        **_: Any,
    ) -> list[UrlReaderPredicateTuple]:
        """A reader per ``integrations.bitbucketCloud`` entry (bitbucket.org by default)."""
        tuples = []
        for integration in read_bitbucket_cloud_integration_configs(config):
            reader = cls(
                integration, session=http_client, tree_response_factory=tree_response_factory
            )
            tuples.append(UrlReaderPredicateTuple(reader, host_predicate(integration.host)))
        return tuples

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file of ``.../src/<ref>/<path>``."""
        parsed = parse_bitbucket_cloud_url(url)
        if not parsed.kind or len(parsed.rest) < 2:
            raise InputError(
                f"Incorrect URL: {redact_url(url)}, Invalid Bitbucket Cloud URL or file path"
            )
        auth = await self.auth.headers(token)
        headers = {**auth, **conditional_headers(etag, last_modified_after)}

        async def attempt(ref: str, path: str) -> ReadUrlResponse:
            built = f"{self._repo_api(parsed)}/src/{quote(ref, safe='')}/{quote(path)}"
            response = await open_url(self._session, built, headers=headers)
            raise_for_status(
                response, f"{redact_url(url)} could not be read as {redact_url(built)}"
            )
            return HttpReadUrlResponse(response, source=redact_url(url))

        resolved = await with_ref_fallback(
            parsed.rest, attempt, self._ref_lookup(parsed, auth), min_path_segments=1
        )
        return resolved.result

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Read a repository or a folder (``.../src/<ref>/<folder>``)."""
        parsed = parse_bitbucket_cloud_url(url)
        auth = await self.auth.headers(token)

        async def attempt(ref: str, path: str) -> ReadTreeResponse:
            return await self._tree_at(url, parsed, ref, path, auth, etag=etag, filter=filter)

        if not parsed.rest:
            return await attempt(await self._main_branch(parsed, auth), "")
        resolved = await with_ref_fallback(
            parsed.rest, attempt, self._ref_lookup(parsed, auth), min_path_segments=0
        )
        return resolved.result

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``.../src/<ref>/<glob>``."""
        parsed = parse_bitbucket_cloud_url(url)
        glob_segments = glob_split(parsed.rest)
        if not glob_segments:
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        if len(parsed.rest) - glob_segments < 1:
            raise InputError(f"Incorrect URL: {redact_url(url)}, the search glob needs a ref")
        auth = await self.auth.headers(token)

        async def attempt(ref: str, pattern: str) -> ReadTreeResponse:
            folder = static_prefix(pattern)
            return await self._tree_at(
                url,
                parsed,
                ref,
                folder,
                auth,
                etag=etag,
                filter=glob_filter(pattern, prefix=folder),
            )

        resolved = await with_ref_fallback(
            parsed.rest, attempt, self._ref_lookup(parsed, auth), min_path_segments=glob_segments
        )
        folder = static_prefix(resolved.path)
        parts = split_url(url)

        def to_url(path: str) -> str:
            full = f"{folder}/{path}" if folder else path
            return (
                f"{parts.scheme}://{parts.netloc}/{quote(parsed.workspace)}/{quote(parsed.repo)}"
                f"/src/{quote(resolved.ref, safe='/')}/{quote(full)}"
            )

        tree = resolved.result
        return tree_files_to_search(await tree.files(), etag=tree.etag, to_url=to_url)

    def __str__(self) -> str:
        return f"bitbucketCloud{{host={self.integration.host},authed={self.integration.authed}}}"

    # -- helpers -----------------------------------------------------------------------------

    def _repo_api(self, parsed: BitbucketCloudUrl) -> str:
        return (
            f"{self.integration.api_base_url}/repositories/{quote(parsed.workspace, safe='')}/"
            f"{quote(parsed.repo, safe='')}"
        )

    async def _main_branch(self, parsed: BitbucketCloudUrl, auth: dict[str, str]) -> str:
        url = self._repo_api(parsed)
        repo = await get_json(
            self._session,
            url,
            headers=auth,
            message=f"Failed to retrieve default branch from {redact_url(url)}",
        )
        return str(repo["mainbranch"]["name"])

    async def _tree_at(
        self,
        url: str,
        parsed: BitbucketCloudUrl,
        ref: str,
        path: str,
        auth: dict[str, str],
        *,
        etag: str | None,
        filter: TreeFilter | None,
    ) -> ReadTreeResponse:
        source = redact_url(url)
        commits_url = f"{self._repo_api(parsed)}/commits/{quote(ref, safe='')}?pagelen=1"
        commits = await get_json(
            self._session,
            commits_url,
            headers=auth,
            message=f"Failed to retrieve commits from {redact_url(commits_url)}",
        )
        values = commits.get("values") or []
        if not values or not values[0].get("hash"):
            raise NotFoundError(f"Failed to read response from {redact_url(commits_url)}")
        commit = str(values[0]["hash"])
        if etag and etag == commit[:12]:
            raise NotModifiedError()
        archive_url = (
            f"{web_origin(url, self.integration.api_base_url)}/{quote(parsed.workspace)}/"
            f"{quote(parsed.repo)}/get/{commit}.tar.gz"
        )
        response = await open_url(self._session, archive_url, headers=auth, timeout=ARCHIVE_TIMEOUT)
        raise_for_status(response, f"Failed to read tree from {source}")
        return self._trees.from_tar_archive(
            stream=iter_body(response, source=source),
            etag=commit[:12],
            subpath=path,
            filter=filter,
            source=source,
        )

    def _ref_lookup(self, parsed: BitbucketCloudUrl, auth: dict[str, str]) -> RefLookup:
        async def lookup(candidates: Sequence[str]) -> Collection[str]:
            if not candidates:
                return set()
            first = candidates[-1].split("/")[0]
            query = urlencode({"q": f'name ~ "{first}/"', "pagelen": "100"})
            try:
                found = await get_json(
                    self._session, f"{self._repo_api(parsed)}/refs?{query}", headers=auth
                )
            except NotFoundError:
                return set()
            names = {str(item.get("name", "")) for item in found.get("values", [])}
            return names.intersection(candidates)

        return lookup
