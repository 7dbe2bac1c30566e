"""A fake Gitea REST API v1 over :class:`FakeRepo` objects."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ._archives import repo_tar
from ._forge import FakeRepo, file_answer


@dataclass
class GiteaState:
    repos: dict[str, FakeRepo]
    authorization: str | None = None


def gitea_routes(state: GiteaState) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    prefix = "/api/v1/repos/{owner}/{repo}"

    def repo_of(request: web.Request) -> FakeRepo:
        if state.authorization and request.headers.get("Authorization") != state.authorization:
            raise web.HTTPUnauthorized()
        repo = state.repos.get(f"{request.match_info['owner']}/{request.match_info['repo']}")
        if repo is None:
            raise web.HTTPNotFound()
        return repo

    @routes.get(prefix)
    async def info(request: web.Request) -> web.Response:
        return web.json_response({"default_branch": repo_of(request).default_branch})

    @routes.get(prefix + "/raw/{path:.*}")
    async def raw(request: web.Request) -> web.Response:
        repo = repo_of(request)
        ref = repo.ref_of(request.query.get("ref", repo.default_branch))
        if ref is None:
            return web.json_response({"message": "object does not exist"}, status=404)
        return file_answer(request, repo.refs[ref].get(request.match_info["path"]))

    @routes.get(prefix + "/git/commits/{ref}")
    async def commit(request: web.Request) -> web.Response:
        repo = repo_of(request)
        ref = repo.ref_of(request.match_info["ref"])
        if ref is None:
            return web.json_response({"message": "sha not found"}, status=404)
        return web.json_response({"sha": repo.sha(ref)})

    @routes.get(prefix + "/archive/{archive}")
    async def archive(request: web.Request) -> web.Response:
        repo = repo_of(request)
        ref = repo.ref_of(request.match_info["archive"].removesuffix(".tar.gz"))
        assert ref is not None
        return web.Response(body=repo_tar(repo.refs[ref], top=repo.name))

    @routes.get(prefix + "/{kind:branches|tags}/{name}")
    async def one_ref(request: web.Request) -> web.Response:
        repo = repo_of(request)
        name = request.match_info["name"]
        is_tag = request.match_info["kind"] == "tags"
        if name not in repo.refs or (name in repo.tags) != is_tag:
            return web.json_response({"message": "not found"}, status=404)
        return web.json_response({"name": name})

    return routes
