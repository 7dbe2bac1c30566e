"""``GithubUrlReader``: GitHub and GitHub Enterprise through the REST API v3.

Files come from the contents API (``Accept: application/vnd.github.v3.raw``) or, without a
token, from the raw host; trees from the commit's tarball; globs from the recursive git tree
(falling back to the tarball when GitHub truncates the tree). Each call's token is the
caller's ``token=``, else a GitHub App installation token or the integration's token (see
:class:`SingleInstanceGithubCredentialsProvider`).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from ....api.errors import ConfigError, InputError, NotFoundError, NotModifiedError
from ....api.services.config import Config
from ....api.services.logger import LoggerService
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadTreeResponseFactory,
    ReadUrlResponse,
    SearchResponse,
    SearchResponseFile,
    TreeFilter,
    UrlReaderError,
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
from .._glob import compile_glob
from .._http import (
    ARCHIVE_TIMEOUT,
    format_http_date,
    get_json,
    iter_body,
    open_url,
    raise_for_status,
)
from .._responses import HttpReadUrlResponse
from .._urls import host_predicate, redact_url, same_origin, split_url
from ._config import GithubIntegrationConfig, read_github_integration_configs
from ._credentials import GithubCredentialsProvider, SingleInstanceGithubCredentialsProvider
from ._rate_limit import github_rate_limited
from ._urls import GithubUrl, parse_github_url

__all__ = ["GithubUrlReader", "github_rate_limited"]


@dataclass(frozen=True)
class _Commit:
    sha: str
    archive_url: str
    trees_url: str


class GithubUrlReader:
    """Reads from one GitHub host (``integrations.github[]``)."""

    def __init__(
        self,
        integration: GithubIntegrationConfig,
        *,
        session: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        credentials_provider: GithubCredentialsProvider | None = None,
    ) -> None:
        if not integration.api_base_url and not integration.raw_base_url:
            raise ConfigError(
                f"GitHub integration '{integration.host}' must configure an explicit apiBaseUrl "
                "or rawBaseUrl"
            )
        self.integration = integration
        self.credentials_provider = credentials_provider or SingleInstanceGithubCredentialsProvider(
            integration, session=session
        )
        self._session = session
        self._trees = tree_response_factory

    @classmethod
    def factory(
        cls,
        *,
        config: Config,
        logger: LoggerService,
        http_client: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        **_: Any,
    ) -> list[UrlReaderPredicateTuple]:
        """A reader per ``integrations.github`` entry; each accepts URLs of its host."""
        tuples = []
        for integration in read_github_integration_configs(config):
            reader = cls(
                integration, session=http_client, tree_response_factory=tree_response_factory
            )
            tuples.append(
                UrlReaderPredicateTuple(reader=reader, predicate=host_predicate(integration.host))
            )
        return tuples

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file of ``.../blob|raw|tree/<ref>/<path>``."""
        parsed = parse_github_url(url)
        if parsed.kind not in ("blob", "raw", "tree") or (
            len(parsed.rest) < (1 if parsed.query_path else 2)
        ):
            raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitHub URL or file path")
        auth = await self._auth(url, token)
        headers = {**auth, "Accept": "application/vnd.github.v3.raw"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified_after is not None:
            headers["If-Modified-Since"] = format_http_date(last_modified_after)
        use_api = bool(self.integration.api_base_url) and (
            bool(auth) or not self.integration.raw_base_url
        )

        async def attempt(ref: str, path: str) -> ReadUrlResponse:
            fetch_url = self._file_url(parsed, ref, path, use_api=use_api)
            response = await open_url(self._session, fetch_url, headers=headers)
            raise_for_status(
                response,
                f"Request failed for {redact_url(fetch_url)}",
                rate_limited=github_rate_limited(response),
            )
            return HttpReadUrlResponse(response, source=redact_url(url))

        if parsed.query_path:
            return await attempt("/".join(parsed.rest), parsed.query_path)
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
        """Read a repository (``https://github.com/o/r``) or a folder (``.../tree/<ref>/<p>``)."""
        parsed = parse_github_url(url)
        if parsed.kind not in ("", "tree", "blob"):
            raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitHub URL or file path")
        auth = await self._auth(url, token)
        if parsed.query_path:
            ref, path = "/".join(parsed.rest), parsed.query_path
            commit = await self._commit(parsed, ref, auth)
        elif parsed.rest:
            resolved = await with_ref_fallback(
                parsed.rest,
                lambda ref, _path: self._commit(parsed, ref, auth),
                self._ref_lookup(parsed, auth),
                min_path_segments=0,
            )
            path, commit = resolved.path, resolved.result
        else:
            ref = await self._default_branch(parsed, auth)
            path, commit = "", await self._commit(parsed, ref, auth)
        if etag and etag == commit.sha:
            raise NotModifiedError()
        return await self._tree_at(commit, path, auth, filter=filter, source=redact_url(url))

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``.../blob/<ref>/<glob>``; a literal path reads one file."""
        parsed = parse_github_url(url)
        glob_segments = glob_split(parsed.rest)
        if not glob_segments:
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        if len(parsed.rest) - glob_segments < 1:
            raise InputError(f"Incorrect URL: {redact_url(url)}, the search glob needs a ref")
        auth = await self._auth(url, token)
        resolved = await with_ref_fallback(
            parsed.rest,
            lambda ref, _path: self._commit(parsed, ref, auth),
            self._ref_lookup(parsed, auth),
            min_path_segments=glob_segments,
        )
        commit = resolved.result
        if etag and etag == commit.sha:
            raise NotModifiedError()
        parts = split_url(url)
        kind = parsed.kind or "blob"

        def to_url(path: str) -> str:
            return (
                f"{parts.scheme}://{parts.netloc}/{quote(parsed.owner)}/{quote(parsed.repo)}/"
                f"{kind}/{quote(resolved.ref, safe='/')}/{quote(path, safe='/')}"
            )

        pattern = resolved.path
        tree = await self._json(
            commit.trees_url.replace("{/sha}", f"/{commit.sha}") + "?recursive=true",
            self._auth_for(commit.trees_url, auth),
        )
        if not tree.get("truncated"):
            matcher = compile_glob(pattern)
            files = [
                SearchResponseFile(
                    url=to_url(item["path"]),
                    content=self._blob_content(item["url"], self._auth_for(item["url"], auth)),
                )
                for item in tree.get("tree", [])
                if item.get("type") == "blob"
                and item.get("path")
                and item.get("url")
                and matcher.fullmatch(item["path"])
            ]
            return SearchResponse(files=files, etag=commit.sha)
        # GitHub truncates the recursive tree of large repositories: filter the tarball instead.
        tree_response = await self._tree_at(
            commit, "", auth, filter=glob_filter(pattern), source=redact_url(url)
        )
        return tree_files_to_search(await tree_response.files(), etag=commit.sha, to_url=to_url)

    def __str__(self) -> str:
        return f"github{{host={self.integration.host},authed={bool(self.integration.token)}}}"

    # -- helpers -----------------------------------------------------------------------------

    async def _auth(self, url: str, token: str | None) -> dict[str, str]:
        if token:
            return {"Authorization": f"Bearer {token}"}
        credentials = await self.credentials_provider.get_credentials(url)
        return credentials.headers

    def _auth_for(self, url: str, auth: dict[str, str]) -> dict[str, str]:
        # URLs taken from API answers get the credentials only on the API's own origin.
        api = self.integration.api_base_url
        return auth if api and same_origin(url, api) else {}

    def _api(self, operation: str) -> str:
        if not self.integration.api_base_url:
            raise UrlReaderError(
                f"GitHub integration '{self.integration.host}' has no apiBaseUrl, which "
                f"{operation} needs"
            )
        return self.integration.api_base_url

    def _file_url(self, parsed: GithubUrl, ref: str, path: str, *, use_api: bool) -> str:
        owner, repo = quote(parsed.owner, safe=""), quote(parsed.repo, safe="")
        if use_api:
            query = urlencode({"ref": ref}, safe="/")
            return (
                f"{self.integration.api_base_url}/repos/{owner}/{repo}/contents/"
                f"{quote(path, safe='/')}?{query}"
            )
        return (
            f"{self.integration.raw_base_url}/{owner}/{repo}/{quote(ref, safe='/')}/"
            f"{quote(path, safe='/')}"
        )

    async def _json(self, url: str, auth: dict[str, str]) -> Any:
        return await get_json(
            self._session,
            url,
            headers={**auth, "Accept": "application/vnd.github+json"},
            rate_limited=github_rate_limited,
        )

    async def _default_branch(self, parsed: GithubUrl, auth: dict[str, str]) -> str:
        api = self._api("reading a tree")
        repo = await self._json(f"{api}/repos/{quote(parsed.owner)}/{quote(parsed.repo)}", auth)
        return str(repo["default_branch"])

    async def _commit(self, parsed: GithubUrl, ref: str, auth: dict[str, str]) -> _Commit:
        api = self._api("reading a tree")
        status_url = (
            f"{api}/repos/{quote(parsed.owner)}/{quote(parsed.repo)}/commits/"
            f"{quote(ref, safe='')}/status?per_page=0"
        )
        try:
            status = await self._json(status_url, auth)
        except UrlReaderError as error:
            if error.status == 422:  # GitHub's answer for a ref it does not know
                raise NotFoundError(str(error)) from None
            raise
        repository = status["repository"]
        return _Commit(status["sha"], repository["archive_url"], repository["trees_url"])

    async def _tree_at(
        self,
        commit: _Commit,
        path: str,
        auth: dict[str, str],
        *,
        filter: TreeFilter | None,
        source: str,
    ) -> ReadTreeResponse:
        archive_url = commit.archive_url.replace("{archive_format}", "tarball").replace(
            "{/ref}", f"/{commit.sha}"
        )
        response = await open_url(
            self._session,
            archive_url,
            headers=self._auth_for(archive_url, auth),
            timeout=ARCHIVE_TIMEOUT,
        )
        raise_for_status(
            response,
            f"Request failed for {redact_url(archive_url)}",
            rate_limited=github_rate_limited(response),
        )
        return self._trees.from_tar_archive(
            stream=iter_body(response, source=source),
            etag=commit.sha,
            subpath=path,
            filter=filter,
            source=source,
        )

    def _blob_content(self, blob_url: str, auth: dict[str, str]) -> Callable[[], Awaitable[bytes]]:
        async def content() -> bytes:
            blob = await self._json(blob_url, auth)
            return base64.b64decode(blob.get("content", ""))

        return content

    def _ref_lookup(self, parsed: GithubUrl, auth: dict[str, str]) -> RefLookup:
        async def lookup(candidates: Sequence[str]) -> Collection[str]:
            api = self.integration.api_base_url
            if not api or not candidates:
                return set()
            first = candidates[-1].split("/")[0]
            names: set[str] = set()
            for namespace in ("heads", "tags"):
                matching_url = (
                    f"{api}/repos/{quote(parsed.owner)}/{quote(parsed.repo)}/git/matching-refs/"
                    f"{namespace}/{quote(first, safe='')}?per_page=100"
                )
                try:
                    refs = await self._json(matching_url, auth)
                except NotFoundError:
                    continue
                prefix = f"refs/{namespace}/"
                names.update(
                    item["ref"].removeprefix(prefix)
                    for item in refs
                    if isinstance(item, dict) and str(item.get("ref", "")).startswith(prefix)
                )
            return names.intersection(candidates)

        return lookup
