"""A fake GitHub REST API v3 (and its raw and codeload hosts) over :class:`FakeRepo` objects."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

from ._archives import repo_tar
from ._forge import FakeRepo, file_answer
from ._server import LocalServer, serve


@dataclass
class GithubState:
    repos: dict[str, FakeRepo]
    token: str | None = None  # when set, API calls without it get 401
    truncate_trees: bool = False
    rate_limited: bool = False
    codeload: LocalServer | None = None  # where tarball downloads redirect to
    blobs: dict[str, bytes] = field(default_factory=dict)
    archive_override: bytes | None = None  # served instead of the real tarball (hostile tests)
    # When set, decides instead of ``token`` whether a repository call is authorised (apps).
    authorize: Callable[[web.Request], bool] | None = None


def _repo(state: GithubState, request: web.Request) -> FakeRepo:
    repo = state.repos.get(f"{request.match_info['owner']}/{request.match_info['repo']}")
    if repo is None:
        raise web.HTTPNotFound(text='{"message": "Not Found"}', content_type="application/json")
    return repo


def _guard(state: GithubState, request: web.Request) -> None:
    if state.rate_limited:
        raise web.HTTPForbidden(
            text='{"message": "API rate limit exceeded"}',
            content_type="application/json",
            headers={"x-ratelimit-remaining": "0"},
        )
    if state.authorize is not None:
        if not state.authorize(request):
            raise web.HTTPUnauthorized(
                text='{"message": "Bad credentials"}', content_type="application/json"
            )
        return
    if state.token and request.headers.get("Authorization") != f"Bearer {state.token}":
        raise web.HTTPUnauthorized(
            text='{"message": "Bad credentials"}', content_type="application/json"
        )


def github_routes(state: GithubState, base: list[str]) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/repos/{owner}/{repo}")
    async def repo_info(request: web.Request) -> web.Response:
        _guard(state, request)
        repo = _repo(state, request)
        return web.json_response(
            {"full_name": f"{repo.owner}/{repo.name}", "default_branch": repo.default_branch}
        )

    @routes.get("/repos/{owner}/{repo}/contents/{path:.*}")
    async def contents(request: web.Request) -> web.Response:
        _guard(state, request)
        repo = _repo(state, request)
        assert request.headers.get("Accept") == "application/vnd.github.v3.raw"
        ref = repo.ref_of(request.query.get("ref", repo.default_branch))
        if ref is None:
            return web.json_response(
                {"message": f"No commit found for the ref {request.query.get('ref')}"}, status=404
            )
        return file_answer(request, repo.refs[ref].get(unquote(request.match_info["path"])))

    @routes.get("/raw/{owner}/{repo}/{rest:.*}")
    async def raw(request: web.Request) -> web.Response:
        repo = _repo(state, request)
        split = repo.split(unquote(request.match_info["rest"]).split("/"))
        if split is None:
            return web.Response(status=404, text="404: Not Found")
        return file_answer(request, repo.refs[split[0]].get(split[1]))

    @routes.get("/repos/{owner}/{repo}/commits/{ref}/status")
    async def status(request: web.Request) -> web.Response:
        _guard(state, request)
        repo = _repo(state, request)
        ref = repo.ref_of(unquote(request.match_info["ref"]))
        if ref is None:
            return web.json_response({"message": "No commit found for SHA"}, status=422)
        api = f"{base[0]}/repos/{repo.owner}/{repo.name}"
        return web.json_response(
            {
                "state": "success",
                "sha": repo.sha(ref),
                "repository": {
                    "archive_url": api + "/{archive_format}{/ref}",
                    "trees_url": api + "/git/trees{/sha}",
                },
            }
        )

    @routes.get("/repos/{owner}/{repo}/tarball/{sha}")
    async def tarball(request: web.Request) -> web.StreamResponse:
        _guard(state, request)
        repo = _repo(state, request)
        sha = request.match_info["sha"]
        if state.archive_override is not None:
            return web.Response(body=state.archive_override)
        if state.codeload is not None:
            raise web.HTTPFound(
                f"{state.codeload.base}/{repo.owner}/{repo.name}/legacy.tar.gz/{sha}"
            )
        return _archive(repo, sha)

    @routes.get("/repos/{owner}/{repo}/git/trees/{sha}")
    async def trees(request: web.Request) -> web.Response:
        _guard(state, request)
        repo = _repo(state, request)
        assert request.query.get("recursive") == "true"
        ref = repo.ref_of(request.match_info["sha"])
        assert ref is not None
        items = []
        folders: set[str] = set()
        for path, content in sorted(repo.refs[ref].items()):
            blob_sha = hashlib.sha1(content).hexdigest()
            state.blobs[blob_sha] = content
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folders.add("/".join(parts[:depth]))
            items.append(
                {
                    "path": path,
                    "type": "blob",
                    "sha": blob_sha,
                    "url": f"{base[0]}/repos/{repo.owner}/{repo.name}/git/blobs/{blob_sha}",
                }
            )
        items += [{"path": folder, "type": "tree"} for folder in sorted(folders)]
        if state.truncate_trees:
            items = items[:1]
        return web.json_response(
            {"sha": repo.sha(ref), "tree": items, "truncated": state.truncate_trees}
        )

    @routes.get("/repos/{owner}/{repo}/git/blobs/{sha}")
    async def blob(request: web.Request) -> web.Response:
        _guard(state, request)
        content = state.blobs[request.match_info["sha"]]
        return web.json_response(
            {"content": base64.b64encode(content).decode(), "encoding": "base64"}
        )

    @routes.get("/repos/{owner}/{repo}/git/matching-refs/{namespace}/{prefix:.*}")
    async def matching_refs(request: web.Request) -> web.Response:
        _guard(state, request)
        repo = _repo(state, request)
        namespace = request.match_info["namespace"]
        prefix = unquote(request.match_info["prefix"])
        names = [
            name
            for name in repo.refs
            if name.startswith(prefix) and ((name in repo.tags) == (namespace == "tags"))
        ]
        return web.json_response([{"ref": f"refs/{namespace}/{name}"} for name in names])

    return routes


def _archive(repo: FakeRepo, sha: str) -> web.Response:
    ref = repo.ref_of(sha)
    assert ref is not None
    top = f"{repo.owner}-{repo.name}-{sha[:7]}"
    return web.Response(body=repo_tar(repo.refs[ref], top=top), content_type="application/x-gzip")


def codeload_routes(state: GithubState) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/{owner}/{repo}/legacy.tar.gz/{sha}")
    async def download(request: web.Request) -> web.Response:
        return _archive(_repo(state, request), request.match_info["sha"])

    return routes


@asynccontextmanager
async def fake_github(state: GithubState) -> AsyncIterator[LocalServer]:
    base: list[str] = [""]
    async with serve(github_routes(state, base)) as server:
        base[0] = server.base
        yield server
