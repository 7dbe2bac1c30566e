"""A fake Harness Code REST API (``/gateway/code/api/v1``) over :class:`FakeRepo` objects.

It answers as Harness does: ``/+/raw/<path>`` with the blob SHA as an unquoted ``ETag`` and
304 for a matching ``If-None-Match``; ``/+/content`` with ``latest_commit``; and
``/+/archive/<treeish>.zip`` with a zip whose paths start at the repository root.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field

from aiohttp import web

from ._forge import FakeRepo

API = "/gateway/code/api/v1"


@dataclass
class HarnessState:
    """``repos`` is keyed by ``account[/org[/project]]/repo``; ``accepted`` lists the
    ``(header, value)`` pairs that authenticate (empty: anonymous access); ``statuses`` forces
    an answer for an operation (``raw``, ``content``, ``archive``); ``archive_redirect`` sends
    archive requests elsewhere with a 302.
    """

    repos: dict[str, FakeRepo]
    accepted: list[tuple[str, str]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    archive_redirect: str | None = None


def blob_sha(content: bytes) -> str:
    """Git's blob id, which Harness sends as the raw file's ``ETag``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def repo_zip(files: dict[str, bytes]) -> bytes:
    """A ``git archive --format=zip`` style archive: folder entries, then files, no top folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        folders = sorted(
            {
                "/".join(path.split("/")[:depth])
                for path in files
                for depth in range(1, path.count("/") + 1)
            }
        )
        for folder in folders:
            archive.writestr(zipfile.ZipInfo(f"{folder}/", date_time=(2024, 1, 2, 3, 4, 6)), b"")
        for path, content in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 2, 3, 4, 6)), content)
    return buffer.getvalue()


def zip_answer(files: dict[str, bytes]) -> web.Response:
    """An archive download as Harness sends it."""
    return web.Response(
        body=repo_zip(files),
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": "attachment; filename=repo.zip",
        },
    )


def harness_routes(state: HarnessState) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get(API + "/repos/{rest:.+}")
    async def repos(request: web.Request) -> web.StreamResponse:
        repo_ref, marker, operation = request.match_info["rest"].partition("/+/")
        if not marker:
            operation = ""
        name, _, path = operation.partition("/")
        if request.query.get("routingId") != repo_ref.split("/")[0]:
            return web.json_response({"message": "missing or wrong routingId"}, status=400)
        if state.accepted and not any(
            request.headers.get(header) == value for header, value in state.accepted
        ):
            return web.json_response({"message": "Unauthorized"}, status=401)
        if name in state.statuses:
            return web.json_response({"message": "forced"}, status=state.statuses[name])
        repo = state.repos.get(repo_ref)
        if repo is None:
            return web.json_response({"message": "Repository not found"}, status=404)
        if name == "raw":
            return raw(request, repo, path)
        if name == "content" and request.query.get("include_commit") == "true":
            return content(request, repo)
        if name == "archive":
            return archive(repo, path)
        return web.json_response({"message": "not in the fake"}, status=400)

    def raw(request: web.Request, repo: FakeRepo, path: str) -> web.Response:
        ref = repo.ref_of(request.query.get("git_ref", repo.default_branch))
        data = repo.refs[ref].get(path) if ref is not None else None
        if data is None:
            return web.json_response({"message": "path not found"}, status=404)
        sha = blob_sha(data)
        if request.headers.get("If-None-Match") == sha:
            return web.Response(status=304)
        return web.Response(body=data, headers={"ETag": sha})

    def content(request: web.Request, repo: FakeRepo) -> web.Response:
        ref = repo.ref_of(request.query.get("git_ref", repo.default_branch))
        if ref is None:
            return web.json_response({"message": "Reference not found"}, status=404)
        return web.json_response(
            {
                "type": "dir",
                "path": "",
                "latest_commit": {"sha": repo.sha(ref), "title": f"head of {ref}"},
                "content": {"entries": []},
            }
        )

    def archive(repo: FakeRepo, treeish: str) -> web.Response:
        if state.archive_redirect is not None:
            raise web.HTTPFound(state.archive_redirect)
        ref = repo.ref_of(treeish.removesuffix(".zip"))
        if ref is None:
            return web.json_response({"message": "unknown revision"}, status=404)
        return zip_answer(repo.refs[ref])

    return routes
