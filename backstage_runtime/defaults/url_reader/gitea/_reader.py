"""``GiteaUrlReader``: Gitea (and Forgejo) through the REST API v1.

Files come from ``/repos/:owner/:repo/raw/:path?ref=`` (which honours ``If-None-Match``),
trees from ``/archive/<commit>.tar.gz`` (the commit SHA is the ETag), globs from the tree.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from urllib.parse import quote, urlencode

from ....api.errors import InputError, NotFoundError, NotModifiedError
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadUrlResponse,
    SearchResponse,
    TreeFilter,
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
from .._urls import redact_url, split_url
from ._config import GiteaIntegrationConfig, read_gitea_integration_configs
from ._urls import GiteaUrl, parse_gitea_url

__all__ = ["GiteaUrlReader"]


class GiteaUrlReader(IntegrationUrlReader[GiteaIntegrationConfig]):
    """Reads from one Gitea host (``integrations.gitea[]``)."""

    read_integrations = staticmethod(read_gitea_integration_configs)

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file of ``.../src/branch/<ref>/<path>``."""
        parsed = parse_gitea_url(url, self.integration.relative_path)
        if not parsed.kind or len(parsed.rest) < 2:
            raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid Gitea URL or file path")
        auth = self.integration.auth_headers(token)
        headers = {**auth, **conditional_headers(etag, last_modified_after)}

        async def attempt(ref: str, path: str) -> ReadUrlResponse:
            built = f"{self._repo_api(parsed)}/raw/{quote(path)}?{urlencode({'ref': ref})}"
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
        """Read a repository or a folder (``.../src/branch/<ref>/<folder>``)."""
        parsed = parse_gitea_url(url, self.integration.relative_path)
        auth = self.integration.auth_headers(token)

        async def attempt(ref: str, path: str) -> ReadTreeResponse:
            return await self._tree_at(url, parsed, ref, path, auth, etag=etag, filter=filter)

        if not parsed.rest:
            return await attempt(await self._default_branch(parsed, auth), "")
        resolved = await with_ref_fallback(
            parsed.rest, attempt, self._ref_lookup(parsed, auth), min_path_segments=0
        )
        return resolved.result

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``.../src/branch/<ref>/<glob>`` (Backstage's Gitea reader
        only reads literal URLs here).
        """
        parsed = parse_gitea_url(url, self.integration.relative_path)
        glob_segments = glob_split(parsed.rest)
        if not glob_segments:
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        if len(parsed.rest) - glob_segments < 1:
            raise InputError(f"Incorrect URL: {redact_url(url)}, the search glob needs a ref")
        auth = self.integration.auth_headers(token)

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
        ref_kind = f"{parsed.ref_kind}/" if parsed.ref_kind else ""

        def to_url(path: str) -> str:
            full = f"{folder}/{path}" if folder else path
            return (
                f"{parts.scheme}://{parts.netloc}{self.integration.relative_path}/"
                f"{quote(parsed.owner)}/{quote(parsed.repo)}/{parsed.kind}/{ref_kind}"
                f"{quote(resolved.ref, safe='/')}/{quote(full)}"
            )

        tree = resolved.result
        return tree_files_to_search(await tree.files(), etag=tree.etag, to_url=to_url)

    def __str__(self) -> str:
        return f"gitea{{host={self.integration.host},authed={bool(self.integration.password)}}}"

    # -- helpers -----------------------------------------------------------------------------

    def _repo_api(self, parsed: GiteaUrl) -> str:
        return (
            f"{self.integration.api_base_url}/repos/{quote(parsed.owner, safe='')}/"
            f"{quote(parsed.repo, safe='')}"
        )

    async def _default_branch(self, parsed: GiteaUrl, auth: dict[str, str]) -> str:
        url = self._repo_api(parsed)
        repo = await get_json(
            self._session,
            url,
            headers=auth,
            message=f"Failed to retrieve repository information from {redact_url(url)}",
        )
        return str(repo["default_branch"])

    async def _tree_at(
        self,
        url: str,
        parsed: GiteaUrl,
        ref: str,
        path: str,
        auth: dict[str, str],
        *,
        etag: str | None,
        filter: TreeFilter | None,
    ) -> ReadTreeResponse:
        source = redact_url(url)
        commit_url = f"{self._repo_api(parsed)}/git/commits/{quote(ref, safe='')}"
        commit = await get_json(
            self._session,
            commit_url,
            headers=auth,
            message=f"Failed to retrieve latest commit information from {redact_url(commit_url)}",
        )
        sha = str(commit["sha"])
        if etag and etag == sha:
            raise NotModifiedError()
        archive_url = f"{self._repo_api(parsed)}/archive/{sha}.tar.gz"
        response = await open_url(self._session, archive_url, headers=auth, timeout=ARCHIVE_TIMEOUT)
        raise_for_status(response, f"Failed to read tree from {source}")
        return self._trees.from_tar_archive(
            stream=iter_body(response, source=source),
            etag=sha,
            subpath=path,
            filter=filter,
            source=source,
        )

    def _ref_lookup(self, parsed: GiteaUrl, auth: dict[str, str]) -> RefLookup:
        # Gitea cannot list refs by prefix: ask for each candidate, longest first.
        kinds = {"branch": ("branches",), "tag": ("tags",)}.get(
            parsed.ref_kind, () if parsed.ref_kind == "commit" else ("branches", "tags")
        )

        async def lookup(candidates: Sequence[str]) -> Collection[str]:
            for candidate in candidates:
                for kind in kinds:
                    try:
                        await get_json(
                            self._session,
                            f"{self._repo_api(parsed)}/{kind}/{quote(candidate, safe='')}",
                            headers=auth,
                        )
                    except NotFoundError:
                        continue
                    return {candidate}
            return set()

        return lookup
