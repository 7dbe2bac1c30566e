"""A fake GitLab REST API v4 over :class:`FakeRepo` objects (routed on the raw, encoded path)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

from ._archives import repo_tar
from ._forge import FakeRepo, file_answer
from ._server import LocalServer, serve


@dataclass
class GitlabState:
    projects: dict[str, FakeRepo]  # "group/sub/project" → repo
    token: str | None = None
    artifacts: dict[tuple[str, str, str, str], bytes] = field(default_factory=dict)
    rate_limited: bool = False


_ROUTE = re.compile(r"^/api/v4/projects/(?P<id>[^/]+)(?P<rest>/.*)?$")


def gitlab_routes(state: GitlabState) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/api/v4/projects/{tail:.*}")
    async def projects(request: web.Request) -> web.StreamResponse:
        if state.rate_limited:
            return web.json_response({"message": "429 Too Many Requests"}, status=429)
        if state.token and request.headers.get("Authorization") != f"Bearer {state.token}":
            return web.json_response({"message": "401 Unauthorized"}, status=401)
        match = _ROUTE.match(request.raw_path.split("?")[0])
        assert match is not None
        project_id = unquote(match["id"])
        assert "/" not in match["id"], "the project path must be URL-encoded"
        repo = state.projects.get(project_id)
        if repo is None:
            return web.json_response({"message": "404 Project Not Found"}, status=404)
        rest = match["rest"] or ""
        query = request.query
        if rest == "":
            return web.json_response(
                {"path_with_namespace": project_id, "default_branch": repo.default_branch}
            )
        if file := re.fullmatch(r"/repository/files/([^/]+)/raw", rest):
            ref = repo.ref_of(query["ref"])
            if ref is None:
                return web.json_response({"message": "404 Commit Not Found"}, status=404)
            return file_answer(request, repo.refs[ref].get(unquote(file[1])))
        if rest == "/repository/commits":
            ref = repo.ref_of(query["ref_name"])
            if ref is None:
                return web.json_response([])
            if query.get("path") and not repo.files_under(ref, query["path"]):
                return web.json_response([])
            return web.json_response([{"id": repo.sha(ref)}])
        if rest == "/repository/archive":
            ref = repo.ref_of(query["sha"])
            assert ref is not None
            assert query["sha"] == repo.sha(ref)
            path = query.get("path", "")
            top = f"{repo.name}-{query['sha']}" + (f"-{path.replace('/', '-')}" if path else "")
            return web.Response(body=repo_tar(repo.files_under(ref, path), top=top))
        if kind := re.fullmatch(r"/repository/(branches|tags)", rest):
            search = query["search"].removeprefix("^")
            names = [
                name
                for name in repo.refs
                if name.startswith(search) and ((name in repo.tags) == (kind[1] == "tags"))
            ]
            return web.json_response([{"name": name} for name in names])
        if artifact := re.fullmatch(r"/jobs/artifacts/(.+)/raw/(.+)", rest):
            key = (project_id, unquote(artifact[1]), unquote(artifact[2]), query.get("job", ""))
            content = state.artifacts.get(key)
            return web.Response(body=content) if content is not None else web.Response(status=404)
        return web.json_response({"message": "404 Not Found"}, status=404)

    return routes


@asynccontextmanager
async def fake_gitlab(state: GitlabState) -> AsyncIterator[LocalServer]:
    async with serve(gitlab_routes(state)) as server:
        yield server
