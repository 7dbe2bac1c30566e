"""Fakes of Bitbucket Server's REST API 1.0 and Bitbucket Cloud's API 2.0 (plus its web host's
``/get/<commit>.tar.gz`` downloads), over :class:`FakeRepo` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web

from ._archives import repo_tar
from ._forge import FakeRepo, file_answer


@dataclass
class BitbucketState:
    repos: dict[str, FakeRepo]  # "PROJECT/slug" (server) or "workspace/repo" (cloud)
    authorization: str | None = None  # the exact header required, when set
    rate_limited: bool = False


def _guard(state: BitbucketState, request: web.Request) -> None:
    if state.rate_limited:
        raise web.HTTPTooManyRequests()
    if state.authorization and request.headers.get("Authorization") != state.authorization:
        raise web.HTTPUnauthorized()


def _repo(state: BitbucketState, owner: str, name: str) -> FakeRepo:
    repo = state.repos.get(f"{owner}/{name}")
    if repo is None:
        raise web.HTTPNotFound()
    return repo


def bitbucket_server_routes(state: BitbucketState) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    prefix = "/rest/api/1.0/projects/{project}/repos/{slug}"

    def repo_of(request: web.Request) -> FakeRepo:
        _guard(state, request)
        return _repo(state, request.match_info["project"], request.match_info["slug"])

    def branch_json(repo: FakeRepo, name: str) -> dict[str, object]:
        return {"id": f"refs/heads/{name}", "displayId": name, "latestCommit": repo.sha(name)}

    @routes.get(prefix + "/raw/{path:.*}")
    async def raw(request: web.Request) -> web.Response:
        repo = repo_of(request)
        ref = repo.ref_of(request.query.get("at", repo.default_branch))
        if ref is None:
            return web.json_response({"errors": [{"message": "no such ref"}]}, status=404)
        return file_answer(request, repo.refs[ref].get(request.match_info["path"]))

    @routes.get(prefix + "/branches")
    async def branches(request: web.Request) -> web.Response:
        repo = repo_of(request)
        text = request.query.get("filterText", "")
        values = [branch_json(repo, n) for n in repo.refs if text in n and n not in repo.tags]
        return web.json_response({"size": len(values), "values": values})

    @routes.get(prefix + "/branches/default")
    async def default_branch(request: web.Request) -> web.Response:
        repo = repo_of(request)
        return web.json_response(branch_json(repo, repo.default_branch))

    @routes.get(prefix + "/commits")
    async def commits(request: web.Request) -> web.Response:
        repo = repo_of(request)
        ref = repo.ref_of(request.query["until"])
        if ref is None:
            return web.json_response({"errors": [{"message": "no such commit"}]}, status=404)
        return web.json_response({"values": [{"id": repo.sha(ref)}]})

    @routes.get(prefix + "/archive")
    async def archive(request: web.Request) -> web.Response:
        repo = repo_of(request)
        assert request.query["format"] == "tgz"
        ref = repo.ref_of(request.query["at"])
        assert ref is not None
        files = repo.files_under(ref, request.query.get("path", ""))
        return web.Response(body=repo_tar(files, top=request.query["prefix"]))

    return routes


def bitbucket_cloud_routes(state: BitbucketState) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    prefix = "/2.0/repositories/{workspace}/{repo}"

    def repo_of(request: web.Request) -> FakeRepo:
        _guard(state, request)
        return _repo(state, request.match_info["workspace"], request.match_info["repo"])

    @routes.get(prefix)
    async def info(request: web.Request) -> web.Response:
        repo = repo_of(request)
        return web.json_response({"mainbranch": {"name": repo.default_branch}})

    @routes.get(prefix + "/src/{ref}/{path:.*}")
    async def src(request: web.Request) -> web.Response:
        repo = repo_of(request)
        ref = repo.ref_of(request.match_info["ref"])
        if ref is None:
            return web.json_response({"error": {"message": "Commit not found"}}, status=404)
        return file_answer(request, repo.refs[ref].get(request.match_info["path"]))

    @routes.get(prefix + "/commits/{ref}")
    async def commits(request: web.Request) -> web.Response:
        repo = repo_of(request)
        ref = repo.ref_of(request.match_info["ref"])
        if ref is None:
            return web.json_response({"error": {"message": "not found"}}, status=404)
        return web.json_response({"values": [{"hash": repo.sha(ref)}]})

    @routes.get(prefix + "/refs")
    async def refs(request: web.Request) -> web.Response:
        repo = repo_of(request)
        query = request.query["q"]
        assert query.startswith('name ~ "')
        assert query.endswith('"')
        needle = query[len('name ~ "') : -1]
        return web.json_response({"values": [{"name": n} for n in repo.refs if needle in n]})

    @routes.get("/{workspace}/{repo}/get/{archive}")
    async def download(request: web.Request) -> web.Response:
        repo = repo_of(request)
        commit = unquote(request.match_info["archive"]).removesuffix(".tar.gz")
        ref = repo.ref_of(commit)
        assert ref is not None
        top = f"{repo.owner}-{repo.name}-{commit[:12]}"
        return web.Response(body=repo_tar(repo.refs[ref], top=top))

    return routes
