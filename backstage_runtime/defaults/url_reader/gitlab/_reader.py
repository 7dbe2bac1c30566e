"""``GitlabUrlReader``: GitLab (gitlab.com and self-managed) through the REST API v4.

Files come from ``/projects/:id/repository/files/:path/raw``, trees from
``/repository/archive`` at the latest commit touching the folder (its SHA is the ETag), globs
from the tree of the glob's static folder.
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
from ._config import GitlabIntegrationConfig, read_gitlab_integration_configs
from ._urls import GitlabUrl, parse_gitlab_url

__all__ = ["GitlabUrlReader"]


class GitlabUrlReader(IntegrationUrlReader[GitlabIntegrationConfig]):
    """Reads from one GitLab host (``integrations.gitlab[]``)."""

    read_integrations = staticmethod(read_gitlab_integration_configs)

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file of ``.../-/blob|raw/<ref>/<path>`` or a job artifact."""
        parsed = parse_gitlab_url(url, self.integration.relative_path)
        auth = self._auth(token)
        if parsed.artifact is not None:
            # Artifacts are served without validators: no conditional request, as in Backstage.
            query = split_url(url).query
            built = f"{self._project_api(parsed)}/jobs/artifacts/{parsed.artifact}"
            return await self._fetch_file(url, built + (f"?{query}" if query else ""), auth)
        if parsed.kind not in ("blob", "raw") or len(parsed.rest) < 2:
            raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitLab URL or file path")
        headers = {**auth, **conditional_headers(etag, last_modified_after)}

        async def attempt(ref: str, path: str) -> ReadUrlResponse:
            built = (
                f"{self._project_api(parsed)}/repository/files/{quote(path, safe='')}/raw?"
                + urlencode({"ref": ref})
            )
            return await self._fetch_file(url, built, headers)

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
        """Read a project (``https://gitlab.com/group/project``) or a folder of it."""
        parsed = parse_gitlab_url(url, self.integration.relative_path)
        if parsed.kind not in ("", "tree", "blob"):
            raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitLab URL or file path")
        auth = self._auth(token)

        async def attempt(ref: str, path: str) -> ReadTreeResponse:
            return await self._tree_at(parsed, ref, path, auth, etag=etag, filter=filter, url=url)

        if not parsed.rest:
            return await attempt(await self._default_branch(parsed, auth, url), "")
        resolved = await with_ref_fallback(
            parsed.rest, attempt, self._ref_lookup(parsed, auth), min_path_segments=0
        )
        return resolved.result

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``.../-/blob/<ref>/<glob>``; a literal path reads one file."""
        parsed = parse_gitlab_url(url, self.integration.relative_path)
        glob_segments = glob_split(parsed.rest)
        if not glob_segments:
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        if len(parsed.rest) - glob_segments < 1:
            raise InputError(f"Incorrect URL: {redact_url(url)}, the search glob needs a ref")
        auth = self._auth(token)

        async def attempt(ref: str, pattern: str) -> ReadTreeResponse:
            folder = static_prefix(pattern)
            return await self._tree_at(
                parsed,
                ref,
                folder,
                auth,
                etag=etag,
                filter=glob_filter(pattern, prefix=folder),
                url=url,
            )

        resolved = await with_ref_fallback(
            parsed.rest, attempt, self._ref_lookup(parsed, auth), min_path_segments=glob_segments
        )
        tree = resolved.result
        folder = static_prefix(resolved.path)
        parts = split_url(url)
        web = f"{parts.scheme}://{parts.netloc}{self.integration.relative_path}"
        dash = "-/" if parsed.dashed else ""

        def to_url(path: str) -> str:
            full = f"{folder}/{path}" if folder else path
            return (
                f"{web}/{quote(parsed.project)}/{dash}blob/{quote(resolved.ref, safe='/')}/"
                f"{quote(full)}"
            )

        return tree_files_to_search(await tree.files(), etag=tree.etag, to_url=to_url)

    def __str__(self) -> str:
        return f"gitlab{{host={self.integration.host},authed={bool(self.integration.token)}}}"

    # -- helpers -----------------------------------------------------------------------------

    def _auth(self, token: str | None) -> dict[str, str]:
        effective = token or self.integration.token
        return {"Authorization": f"Bearer {effective}"} if effective else {}

    def _project_api(self, parsed: GitlabUrl) -> str:
        return f"{self.integration.api_base_url}/projects/{quote(parsed.project, safe='')}"

    async def _fetch_file(self, url: str, built: str, headers: dict[str, str]) -> ReadUrlResponse:
        response = await open_url(self._session, built, headers=headers)
        raise_for_status(response, f"{redact_url(url)} could not be read as {redact_url(built)}")
        return HttpReadUrlResponse(response, source=redact_url(url))

    async def _default_branch(self, parsed: GitlabUrl, auth: dict[str, str], url: str) -> str:
        project = await get_json(
            self._session,
            self._project_api(parsed),
            headers=auth,
            message=f"Failed to read tree from {redact_url(url)}",
        )
        return str(project["default_branch"])

    async def _tree_at(
        self,
        parsed: GitlabUrl,
        ref: str,
        path: str,
        auth: dict[str, str],
        *,
        etag: str | None,
        filter: TreeFilter | None,
        url: str,
    ) -> ReadTreeResponse:
        source = redact_url(url)
        query = {"ref_name": ref, "per_page": "1", **({"path": path} if path else {})}
        commits = await get_json(
            self._session,
            f"{self._project_api(parsed)}/repository/commits?{urlencode(query)}",
            headers=auth,
            message=f"Failed to read tree (branch) from {source}",
        )
        if not commits:
            raise NotFoundError(
                f"Failed to read tree (branch) from {source}, no commit of '{ref}' touches "
                f"'{path or '/'}'"
            )
        sha = str(commits[0]["id"])
        if etag and etag == sha:
            raise NotModifiedError()
        archive_query = {"sha": sha, **({"path": path} if path else {})}
        archive_url = f"{self._project_api(parsed)}/repository/archive?{urlencode(archive_query)}"
        response = await open_url(self._session, archive_url, headers=auth, timeout=ARCHIVE_TIMEOUT)
        raise_for_status(
            response, f"Failed to read tree (archive) from {source}, {redact_url(archive_url)}"
        )
        return self._trees.from_tar_archive(
            stream=iter_body(response, source=source),
            etag=sha,
            subpath=path,
            filter=filter,
            source=source,
        )

    def _ref_lookup(self, parsed: GitlabUrl, auth: dict[str, str]) -> RefLookup:
        async def lookup(candidates: Sequence[str]) -> Collection[str]:
            if not candidates:
                return set()
            first = candidates[-1].split("/")[0]
            names: set[str] = set()
            for kind in ("branches", "tags"):
                query = urlencode({"search": f"^{first}/", "per_page": "100"})
                try:
                    found = await get_json(
                        self._session,
                        f"{self._project_api(parsed)}/repository/{kind}?{query}",
                        headers=auth,
                    )
                except NotFoundError:
                    continue
                names.update(str(item.get("name", "")) for item in found if isinstance(item, dict))
            return names.intersection(candidates)

        return lookup
