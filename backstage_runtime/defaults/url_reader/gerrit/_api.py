"""Calls to Gerrit's REST API and to Gitiles for one reader call (one set of credentials).

Gerrit answers JSON behind the XSSI guard ``)]}'`` (Gitiles' ``?format=JSON`` too) and file
contents as base64 text. Authenticated calls go below ``/a/`` with Basic auth.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

import aiohttp

from ....api.errors import NotFoundError
from ....api.services.url_reader import UrlReaderError
from .._git import RefLookup
from .._http import describe_client_error, open_url, raise_for_status
from .._urls import redact_url
from ._config import GerritIntegrationConfig
from ._urls import RefType

__all__ = ["GerritApi", "Revision", "XSSI_PREFIX"]

#: What Gerrit and Gitiles put before every JSON body (against cross-site script inclusion).
XSSI_PREFIX = b")]}'"


@dataclass(frozen=True)
class Revision:
    """A ref resolved to its commit: ``kind`` ``branch`` (HEAD resolves to its branch),
    ``tag`` or ``sha``; ``name`` is the branch or tag name (the SHA for ``sha``).
    """

    kind: Literal["branch", "tag", "sha"]
    name: str
    sha: str


class GerritApi:
    """URLs and JSON calls against one Gerrit, with the call's credentials."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        integration: GerritIntegrationConfig,
        token: str | None = None,
    ) -> None:
        self._session = session
        self._integration = integration
        self.headers = integration.auth_headers(token)
        self.authed = bool(self.headers)
        self._api = integration.api_url(authed=self.authed)

    # -- URLs ------------------------------------------------------------------------------------

    def require_gitiles(self) -> None:
        """Fail before any call when no Gitiles URL can be built for these credentials."""
        self._integration.gitiles_url(authed=self.authed)

    def project_url(self, project: str) -> str:
        """``<baseUrl>[/a]/projects/<project, slashes encoded>``."""
        return f"{self._api}/projects/{quote(project, safe='')}"

    def content_url(self, project: str, revision: Revision, path: str) -> str:
        """The base64 content of a file: by branch as Backstage does, else by commit (Gerrit
        has no content endpoint for tags).
        """
        file = quote(path.strip("/"), safe="")
        if revision.kind == "branch":
            at = f"branches/{quote(revision.name, safe='')}"
        else:
            at = f"commits/{revision.sha}"
        return f"{self.project_url(project)}/{at}/files/{file}/content"

    def gitiles_url(self, project: str, revision: Revision, marker: str) -> str:
        """``<gitiles>[/a]/<project>/<marker><refspec>`` (``marker`` is ``+/`` or ``+archive/``)."""
        gitiles = self._integration.gitiles_url(authed=self.authed)
        return f"{gitiles}/{quote(project)}/{marker}{_refspec(revision)}"

    def archive_url(self, project: str, revision: Revision, path: str) -> str:
        """Gitiles' ``.tar.gz`` of the tree at ``path`` (its files at the archive's root)."""
        folder = path.strip("/")
        suffix = f"/{quote(folder)}.tar.gz" if folder else ".tar.gz"
        return self.gitiles_url(project, revision, "+archive/") + suffix

    def tree_url(self, project: str, revision: Revision, path: str) -> str:
        """Gitiles' recursive JSON listing of the tree at ``path``."""
        folder = path.strip("/")
        return (
            self.gitiles_url(project, revision, "+/")
            + (f"/{quote(folder)}" if folder else "")
            + "/?format=JSON&recursive"
        )

    # -- calls -----------------------------------------------------------------------------------

    async def json(self, url: str, *, message: str) -> Any:
        """GET ``url`` and decode Gerrit's JSON (the XSSI prefix is stripped)."""
        response = await open_url(self._session, url, headers=self.headers)
        try:
            raise_for_status(response, message)
            try:
                body = await response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise UrlReaderError(
                    f"Unable to read {redact_url(url)}, {describe_client_error(error)}"
                ) from None
        finally:
            response.release()
        try:
            return json.loads(body.removeprefix(XSSI_PREFIX))
        except ValueError:
            raise UrlReaderError(
                f"Invalid response from Gerrit at {redact_url(url)}: {body[:10]!r}"
            ) from None

    async def resolve(self, project: str, ref_type: RefType, ref: str) -> Revision:
        """The commit ``ref`` names now; a missing ref raises :class:`NotFoundError`."""
        if ref_type == "sha":
            return Revision("sha", ref, ref)
        if ref_type == "tag":
            url = f"{self.project_url(project)}/tags/{quote(ref, safe='')}"
            info = await self.json(url, message=f"Unable to read tag {ref} of {project}")
            # An annotated tag's ``revision`` is the tag object; ``object`` is its commit.
            return Revision("tag", ref, str(info.get("object") or info["revision"]))
        if ref_type == "head":
            url = f"{self.project_url(project)}/HEAD"
            head = await self.json(url, message=f"Unable to read HEAD of {project}")
            ref = str(head).removeprefix("refs/heads/")
        url = f"{self.project_url(project)}/branches/{quote(ref, safe='')}"
        info = await self.json(url, message=f"Unable to read branch state of {ref} in {project}")
        return Revision("branch", ref, str(info["revision"]))

    def ref_lookup(self, project: str, ref_type: RefType) -> RefLookup:
        """Which candidate branch (or tag) names with slashes exist: one listing filtered by
        the shortest candidate, which every longer one contains.
        """
        kind, prefix = ("tags", "refs/tags/") if ref_type == "tag" else ("branches", "refs/heads/")

        async def lookup(candidates: Sequence[str]) -> Collection[str]:
            if not candidates:
                return set()
            query = urlencode({"m": min(candidates, key=len)})
            url = f"{self.project_url(project)}/{kind}/?{query}"
            try:
                refs = await self.json(url, message=f"Unable to list {kind} of {project}")
            except NotFoundError:
                return set()
            names = {str(item.get("ref", "")).removeprefix(prefix) for item in refs}
            return names.intersection(candidates)

        return lookup


def _refspec(revision: Revision) -> str:
    if revision.kind == "branch":
        return f"refs/heads/{quote(revision.name, safe='/')}"
    if revision.kind == "tag":
        return f"refs/tags/{quote(revision.name, safe='/')}"
    return revision.sha
