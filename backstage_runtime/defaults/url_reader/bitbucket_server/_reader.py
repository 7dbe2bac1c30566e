"""``BitbucketServerUrlReader``: Bitbucket Server / Data Center through REST API 1.0.

Files come from ``/projects/:key/repos/:slug/raw/:path?at=``, trees from ``/archive?format=tgz``
at the branch's latest commit (its first 12 characters are the ETag, as in Backstage).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from ....api.errors import InputError, NotFoundError, NotModifiedError
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadUrlResponse,
    SearchResponse,
    TreeFilter,
)
from .._git import glob_filter, glob_split, search_literal, tree_files_to_search
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
from ._config import BitbucketServerIntegrationConfig, read_bitbucket_server_integration_configs
from ._urls import BitbucketServerUrl, parse_bitbucket_server_url

__all__ = ["BitbucketServerUrlReader"]

_FILE_KINDS = ("browse", "raw", "src")


class BitbucketServerUrlReader(IntegrationUrlReader[BitbucketServerIntegrationConfig]):
    """Reads from one Bitbucket Server host (``integrations.bitbucketServer[]``)."""

    read_integrations = staticmethod(read_bitbucket_server_integration_configs)

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file of ``.../browse/<path>?at=<ref>``."""
        parsed = parse_bitbucket_server_url(url)
        if parsed.kind not in _FILE_KINDS or not parsed.path:
            raise InputError(
                f"Incorrect URL: {redact_url(url)}, Invalid Bitbucket Server URL or file path"
            )
        built = f"{self._repo_api(parsed)}/raw/{quote(parsed.path)}"
        if parsed.at:
            built += "?" + urlencode({"at": parsed.at})
        headers = {
            **self.integration.auth_headers(token),
            **conditional_headers(etag, last_modified_after),
        }
        response = await open_url(self._session, built, headers=headers)
        raise_for_status(response, f"{redact_url(url)} could not be read as {redact_url(built)}")
        return HttpReadUrlResponse(response, source=redact_url(url))

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Read a repository or a folder (``.../browse/<folder>?at=<ref>``)."""
        parsed = parse_bitbucket_server_url(url)
        return await self._tree_at(
            parsed, parsed.path, token, etag=etag, filter=filter, source=redact_url(url)
        )

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``.../browse/<glob>?at=<ref>``."""
        parsed = parse_bitbucket_server_url(url)
        if not glob_split(parsed.path.split("/")):
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        folder = static_prefix(parsed.path)
        tree = await self._tree_at(
            parsed,
            folder,
            token,
            etag=etag,
            filter=glob_filter(parsed.path, prefix=folder),
            source=redact_url(url),
        )
        query = split_url(url).query

        def to_url(path: str) -> str:
            full = f"{folder}/{path}" if folder else path
            return f"{parsed.web_base}/browse/{quote(full)}" + (f"?{query}" if query else "")

        return tree_files_to_search(await tree.files(), etag=tree.etag, to_url=to_url)

    def __str__(self) -> str:
        return f"bitbucketServer{{host={self.integration.host},authed={self.integration.authed}}}"

    # -- helpers -----------------------------------------------------------------------------

    def _repo_api(self, parsed: BitbucketServerUrl) -> str:
        return (
            f"{self.integration.api_base_url}/projects/{quote(parsed.project, safe='~')}/repos/"
            f"{quote(parsed.repo, safe='')}"
        )

    async def _latest_commit(self, parsed: BitbucketServerUrl, auth: dict[str, str]) -> str:
        api = self._repo_api(parsed)
        if not parsed.at:
            default = await self._json(f"{api}/branches/default", auth, "default branch")
            return str(default["latestCommit"])
        branch = parsed.at.removeprefix("refs/heads/")
        branches = await self._json(
            f"{api}/branches?{urlencode({'filterText': branch})}", auth, "branch list"
        )
        for candidate in branches.get("values", []):
            if candidate.get("displayId") == branch or candidate.get("id") == parsed.at:
                return str(candidate["latestCommit"])
        # Not a branch: a tag or a commit, which the commits API resolves.
        commits = await self._json(
            f"{api}/commits?{urlencode({'until': parsed.at, 'limit': '1'})}", auth, "commits"
        )
        values = commits.get("values", [])
        if not values:
            raise NotFoundError(f"Failed to find the last commit of '{parsed.at}'")
        return str(values[0]["id"])

    async def _json(self, url: str, auth: dict[str, str], what: str) -> Any:
        return await get_json(
            self._session,
            url,
            headers=auth,
            message=f"Failed to retrieve {what} from {redact_url(url)}",
        )

    async def _tree_at(
        self,
        parsed: BitbucketServerUrl,
        path: str,
        token: str | None,
        *,
        etag: str | None,
        filter: TreeFilter | None,
        source: str,
    ) -> ReadTreeResponse:
        auth = self.integration.auth_headers(token)
        commit = await self._latest_commit(parsed, auth)
        short = commit[:12]
        if etag and etag == short:
            raise NotModifiedError()
        query = {
            "format": "tgz",
            "at": commit,
            "prefix": f"{parsed.project}-{parsed.repo}",
            **({"path": path} if path else {}),
        }
        archive_url = f"{self._repo_api(parsed)}/archive?{urlencode(query)}"
        response = await open_url(self._session, archive_url, headers=auth, timeout=ARCHIVE_TIMEOUT)
        raise_for_status(response, f"Failed to read tree from {source}")
        return self._trees.from_tar_archive(
            stream=iter_body(response, source=source),
            etag=short,
            subpath=path,
            filter=filter,
            source=source,
        )
