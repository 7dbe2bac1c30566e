"""A fake of Azure DevOps' Git REST API (items and commits) over :class:`FakeRepo` objects."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from ._forge import FakeRepo, file_answer

SIGN_IN_PAGE = b"<html><body>Sign in to your account</body></html>"


@dataclass
class AzureState:
    """``repos`` keyed ``<organization>/<project>/<repo>`` (the organization may be
    ``tfs/<collection>``); ``authorization`` maps organizations to the only header they accept.
    """

    repos: dict[str, FakeRepo]
    authorization: dict[str, str] = field(default_factory=dict)
    rate_limited: bool = False
    failing: bool = False


def azure_zip(files: Mapping[str, bytes], scope: str) -> bytes:
    """What the items API sends for ``scopePath``: the folder's files under a folder named like
    the folder's last segment (the repository's files at the top without a scope).
    """
    scope = scope.strip("/")
    top = scope.rsplit("/", 1)[-1]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        folders: set[str] = set()
        for path, content in sorted(files.items()):
            relative = path[len(scope) + 1 :] if scope else path
            name = f"{top}/{relative}" if top else relative
            parts = name.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth]) + "/"
                if folder not in folders:
                    folders.add(folder)
                    archive.writestr(folder, b"")
            archive.writestr(name, content)
    return buffer.getvalue()


def _version(query: Mapping[str, str], prefix: str) -> tuple[str | None, str]:
    if f"{prefix}version" in query:
        return query[f"{prefix}version"], query.get(f"{prefix}versionType", "branch")
    if prefix == "versionDescriptor." and "version" in query:
        return query["version"], "branch"
    return None, "branch"


def _resolve(repo: FakeRepo, version: str | None, kind: str) -> str | None:
    if version is None:
        return repo.default_branch
    if kind == "commit":
        ref = repo.ref_of(version)
        return ref if ref is not None and repo.sha(ref).startswith(version) else None
    if version not in repo.refs or (version in repo.tags) != (kind == "tag"):
        return None
    return version


def _not_found(message: str) -> web.Response:
    return web.json_response({"$id": "1", "message": message}, status=404)


def azure_routes(state: AzureState) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    prefix = "/{owner:.+}/{project}/_apis/git/repositories/{repo}"

    def guard(request: web.Request) -> FakeRepo | web.Response:
        if state.rate_limited:
            return web.json_response(
                {"message": "Request was blocked due to exceeding usage of resource"},
                status=429,
                headers={"Retry-After": "30"},
            )
        if state.failing:
            return web.json_response({"message": "internal"}, status=500)
        info = request.match_info
        owner = info["owner"]
        organization = owner.removeprefix("tfs/")
        expected = state.authorization.get(organization)
        if expected is not None and request.headers.get("Authorization") != expected:
            # What Azure DevOps answers a credential it does not accept.
            return web.Response(status=203, body=SIGN_IN_PAGE, content_type="text/html")
        repo = state.repos.get(f"{owner}/{info['project']}/{info['repo']}")
        if repo is None:
            return _not_found("TF401019: The Git repository does not exist")
        return repo

    @routes.get(prefix + "/items")
    async def items(request: web.Request) -> web.StreamResponse:
        repo = guard(request)
        if isinstance(repo, web.Response):
            return repo
        query = request.query
        assert query.get("api-version") == "6.0"
        ref = _resolve(repo, *_version(query, "versionDescriptor."))
        if ref is None:
            return _not_found("TF401175: The version descriptor could not be resolved")
        if query.get("recursionLevel") == "full" and query.get("download") == "true":
            assert request.headers.get("Accept") == "application/zip"
            scope = query.get("scopePath", "/").strip("/")
            files = repo.files_under(ref, scope)
            if scope and not files:
                return _not_found(f"TF401174: The item '/{scope}' could not be found")
            return web.Response(body=azure_zip(files, scope), content_type="application/zip")
        path = query.get("path", "").lstrip("/")
        return file_answer(request, repo.refs[ref].get(path))

    @routes.get(prefix + "/commits")
    async def commits(request: web.Request) -> web.Response:
        repo = guard(request)
        if isinstance(repo, web.Response):
            return repo
        ref = _resolve(repo, *_version(request.query, "searchCriteria.itemVersion."))
        if ref is None:
            return _not_found("TF401175: The version descriptor could not be resolved")
        sha = repo.sha(ref)
        return web.json_response(
            {"count": 1, "value": [{"commitId": sha, "comment": "latest"}]},
        )

    return routes
