"""Azure DevOps repository URLs, as copied from the browser (Backstage's ``AzureUrl``).

Accepted forms (``path`` names a file or folder, ``version`` a ref)::

    https://dev.azure.com/<org>/<project>/_git/<repo>?path=/catalog-info.yaml&version=GB<branch>
    https://dev.azure.com/<org>/_git/<repo>              (project named like the repository)
    https://<host>/tfs/<collection>/<project>/_git/<repo> (Azure DevOps Server / TFS)
    https://<host>/<collection>/<project>/_git/<repo>
    https://<org>.visualstudio.com/<project>/_git/<repo>

``version`` is ``GB<branch>`` (slashes allowed), ``GT<tag>`` or ``GC<commit>``; without it the
repository's default branch is read. Backstage accepts only ``GB``; tags and commits are
read here with the API's ``versionType``. API URLs are built on the URL's own host, as
Backstage does, but always over https for ``dev.azure.com`` and ``*.visualstudio.com``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlunsplit

from ....api.errors import InputError
from .._urls import redact_url, split_url

__all__ = ["AzureUrl", "RefKind", "form_encode", "parse_azure_url"]

RefKind = Literal["branch", "tag", "commit"]

_VERSION_PREFIXES: dict[str, RefKind] = {"GB": "branch", "GT": "tag", "GC": "commit"}


def form_encode(pairs: list[tuple[str, str]]) -> str:
    """A query string encoded as WHATWG ``URLSearchParams`` writes it (``/`` as ``%2F``,
    spaces as ``+``), so URLs built here read as Backstage's do.
    """
    return "&".join(f"{_form_quote(name)}={_form_quote(value)}" for name, value in pairs)


def _form_quote(value: str) -> str:
    return quote_plus(value, safe="*").replace("~", "%7E")


@dataclass(frozen=True)
class AzureUrl:
    """A parsed repository URL. ``owner`` is the organization or collection (``tfs/<name>``
    on old Team Foundation Servers); ``ref_kind`` says what ``ref`` names.
    """

    url: str = field(repr=False)  # may carry user-info; messages use ``redact_url``
    origin: str
    owner: str
    project: str
    repo: str
    path: str | None = None
    ref: str | None = None
    ref_kind: RefKind = "branch"
    visualstudio: bool = False

    def repository_api(self) -> str:
        """``<origin>/<org>/<project>/_apis/git/repositories/<repo>`` (no ``<org>`` on
        ``*.visualstudio.com``, where the host names it).
        """
        owner = [] if self.visualstudio else self.owner.split("/")
        segments = [*owner, self.project, "_apis", "git", "repositories", self.repo]
        return self.origin + "/" + "/".join(quote(segment, safe="") for segment in segments)

    def file_url(self, api_version: str) -> str:
        """The items API URL that downloads the file at ``path``."""
        if not self.path:
            raise InputError(
                f"Invalid Azure DevOps URL '{redact_url(self.url)}': Azure URL must point to a "
                "specific path to be able to download a file"
            )
        query = [("api-version", api_version), ("path", self.path), *self._version("")]
        return f"{self.repository_api()}/items?{form_encode(query)}"

    def archive_url(self, api_version: str, commit: str) -> str:
        """The items API URL that downloads ``path`` (or the repository) at ``commit`` as zip."""
        query = [("recursionLevel", "full"), ("download", "true"), ("api-version", api_version)]
        if self.path:
            query.append(("scopePath", self.path))
        query += [
            ("versionDescriptor.version", commit),
            ("versionDescriptor.versionType", "commit"),
        ]
        return f"{self.repository_api()}/items?{form_encode(query)}"

    def commits_url(self, api_version: str) -> str:
        """The commits API URL whose first answer is the head commit of the ref."""
        query = [("api-version", api_version), ("searchCriteria.$top", "1")]
        query += self._version("searchCriteria.itemVersion.")
        return f"{self.repository_api()}/commits?{form_encode(query)}"

    def with_path(self, path: str) -> str:
        """This URL with its ``path`` parameter replaced (as Backstage's ``resolveUrl``)."""
        parts = split_url(self.url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        updated: list[tuple[str, str]] = []
        for name, value in pairs:
            if name != "path":
                updated.append((name, value))
            elif not any(existing == "path" for existing, _ in updated):
                updated.append((name, path))
        if not any(name == "path" for name, _ in updated):
            updated.append(("path", path))
        return urlunsplit(
            (parts.scheme, parts.netloc, parts.path, form_encode(updated), parts.fragment)
        )

    def _version(self, prefix: str) -> list[tuple[str, str]]:
        if not self.ref:
            return []
        if self.ref_kind == "branch":
            # The short ``version`` parameter, as Backstage sends it.
            return [(f"{prefix}version" if prefix else "version", self.ref)]
        descriptor = prefix or "versionDescriptor."
        return [(f"{descriptor}version", self.ref), (f"{descriptor}versionType", self.ref_kind)]


def parse_azure_url(url: str) -> AzureUrl:
    """Parse a repository URL; raises :class:`InputError` naming the URL when it is not one."""
    parts = split_url(url)
    segments = [unquote(segment) for segment in parts.path.split("/")]
    hostname = parts.hostname or ""
    on_visualstudio = hostname == "visualstudio.com" or hostname.endswith(".visualstudio.com")

    def at(index: int) -> str:
        return segments[index] if index < len(segments) else ""

    owner = project = repo = ""
    # ``<org>.visualstudio.com/<project>/_git/<repo>``: the host names the organization.
    visualstudio = on_visualstudio and at(2) == "_git"
    if visualstudio:
        owner, project, repo = hostname.split(".")[0], at(1), at(3)
    elif at(2) == "_git":
        owner, project, repo = at(1), at(3), at(3)
    elif at(3) == "_git":
        owner, project, repo = at(1), at(2), at(4)
    elif at(4) == "_git":
        owner, project, repo = f"{at(1)}/{at(2)}", at(3), at(5)
    if not owner or not project or not repo or owner.startswith("/") or owner.endswith("/"):
        raise InputError(
            f"Invalid Azure DevOps URL '{redact_url(url)}': Azure URL must point to a git "
            "repository (https://<host>/<organization>/<project>/_git/<repository>)"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    path = next((value for name, value in query if name == "path"), "") or None
    version = next((value for name, value in query if name == "version"), "")
    ref: str | None = None
    ref_kind: RefKind = "branch"
    if version:
        kind = _VERSION_PREFIXES.get(version[:2])
        if kind is None:
            raise InputError(
                f"Invalid Azure DevOps URL '{redact_url(url)}': Azure URL version must point to "
                "a git branch (GB<branch>), tag (GT<tag>) or commit (GC<commit>)"
            )
        ref, ref_kind = version[2:] or None, kind
    netloc = parts.netloc.rsplit("@", 1)[-1]
    # Credentials go with every API request, so the cloud hosts are always reached over https
    # whatever the URL says (Backstage keeps the URL's scheme). On-premises servers keep the
    # URL's scheme, as in Backstage: they often serve plain http on an internal network, and
    # the scheme there is the operator's choice.
    cloud = hostname == "dev.azure.com" or on_visualstudio
    scheme = "https" if cloud else parts.scheme
    return AzureUrl(
        url=url,
        origin=f"{scheme}://{netloc}",
        owner=owner,
        project=project,
        repo=repo,
        path=path,
        ref=ref,
        ref_kind=ref_kind if ref else "branch",
        visualstudio=visualstudio,
    )
