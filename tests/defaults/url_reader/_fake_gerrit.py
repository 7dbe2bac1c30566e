"""A fake Gerrit REST API with a Gitiles below it (``/plugins/gitiles``), over FakeRepo objects.

Answers as Gerrit does: JSON behind the ``)]}'`` XSSI prefix, file contents as base64 text,
authenticated calls below ``/a/`` (anonymous callers do not see private projects: 404),
Gitiles archives holding a folder's files at their root.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from ._archives import Entry, tar_bytes
from ._forge import FakeRepo

GITILES = "/plugins/gitiles"


@dataclass
class GerritState:
    """``projects`` maps project names (with slashes) to repos. With ``authorization`` set,
    projects are private: ``/a/`` calls must carry it, anonymous ones get 404. ``status``
    makes every call fail with it (429 for rate limiting).
    """

    projects: dict[str, FakeRepo]
    authorization: str | None = None
    status: int | None = None
    contents_read: list[str] = field(default_factory=list)


def xssi_json(value: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=")]}'\n" + json.dumps(value),
        content_type="application/json",
    )


def tag_object(repo: FakeRepo, tag: str) -> str:
    """The SHA of the (annotated) tag object, distinct from the commit it points to."""
    return hashlib.sha1(f"tag {tag} {repo.sha(tag)}".encode()).hexdigest()


def gerrit_routes(state: GerritState) -> list[web.RouteDef]:
    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        if path.startswith("/a/"):
            path = path[2:]
            if request.headers.get("Authorization") != state.authorization:
                return web.Response(status=401, text="Unauthorized")
        elif state.authorization:
            return web.Response(status=404, text="Not found")
        if state.status is not None:
            return web.Response(status=state.status, text="Too many requests")
        if path.startswith(GITILES + "/"):
            return gitiles(request, path[len(GITILES) :])
        if path.startswith("/projects/"):
            return rest_api(request, path.removeprefix("/projects/").split("/"))
        return web.Response(status=404, text="Not found")

    def rest_api(request: web.Request, segments: list[str]) -> web.Response:
        repo = state.projects.get(unquote(segments[0]))
        if repo is None:
            return web.Response(status=404, text=f"Not found: {unquote(segments[0])}")
        match [unquote(segment) for segment in segments[1:]]:
            case ["HEAD"]:
                return xssi_json(f"refs/heads/{repo.default_branch}")
            case ["branches" | "tags" as kind, ""]:
                wanted = request.query.get("m", "")
                names = sorted(
                    name
                    for name in repo.refs
                    if (name in repo.tags) == (kind == "tags") and wanted in name
                )
                prefix = "refs/tags/" if kind == "tags" else "refs/heads/"
                return xssi_json([{"ref": prefix + name} for name in names])
            case ["branches", branch]:
                if branch.removeprefix("refs/heads/") not in _branches(repo):
                    return web.Response(status=404, text=f"Not found: {branch}")
                name = branch.removeprefix("refs/heads/")
                return xssi_json({"ref": f"refs/heads/{name}", "revision": repo.sha(name)})
            case ["tags", tag]:
                if tag not in repo.tags:
                    return web.Response(status=404, text=f"Not found: {tag}")
                return xssi_json(
                    {
                        "ref": f"refs/tags/{tag}",
                        "revision": tag_object(repo, tag),
                        "object": repo.sha(tag),
                    }
                )
            case ["branches", branch, "files", file, "content"]:
                ref = branch if branch in _branches(repo) else None
                return content(repo, ref, file)
            case ["commits", sha, "files", file, "content"]:
                return content(repo, repo.ref_of(sha) if len(sha) == 40 else None, file)
        return web.Response(status=404, text="Not found")

    def content(repo: FakeRepo, ref: str | None, file: str) -> web.Response:
        data = repo.refs[ref].get(file) if ref is not None else None
        if data is None:
            return web.Response(status=404, text=f"Not found: {file}")
        state.contents_read.append(file)
        return web.Response(
            body=base64.b64encode(data),
            content_type="text/plain",
            headers={"X-FYI-Content-Encoding": "base64"},
        )

    def gitiles(request: web.Request, path: str) -> web.Response:
        for marker in ("/+archive/", "/+/"):
            if marker in path:
                project, spec = path.split(marker, 1)
                break
        else:
            return web.Response(status=404, text="Not found")
        repo = state.projects.get(unquote(project.strip("/")))
        if repo is None:
            return web.Response(status=404, text="Not found")
        if marker == "/+archive/":
            if not spec.endswith(".tar.gz"):
                return web.Response(status=404, text="Not found")
            spec = spec.removesuffix(".tar.gz")
        found = _resolve(repo, [unquote(s) for s in spec.split("/") if s])
        if found is None:
            return web.Response(status=404, text="Not found")
        ref, folder = found
        files = repo.files_under(ref, folder)
        if folder and not files:
            return web.Response(status=404, text="Not found")
        relative = {
            name[len(folder) + 1 :] if folder else name: data for name, data in files.items()
        }
        if marker == "/+archive/":
            body = tar_bytes([Entry(name, data) for name, data in sorted(relative.items())])
            return web.Response(body=body, content_type="application/x-gzip")
        if request.query.get("format") != "JSON" or "recursive" not in request.query:
            return web.Response(status=400, text="Bad request")
        entries = [
            {
                "mode": 33188,
                "type": "blob",
                "id": hashlib.sha1(data).hexdigest(),
                "name": name,
            }
            for name, data in sorted(relative.items())
        ]
        return xssi_json({"id": repo.sha(ref), "entries": entries})

    return [web.get("/{tail:.*}", handle)]


def _branches(repo: FakeRepo) -> set[str]:
    return {name for name in repo.refs if name not in repo.tags}


def _resolve(repo: FakeRepo, segments: list[str]) -> tuple[str, str] | None:
    """``refs/heads/<b>/<path>``, ``refs/tags/<t>/<path>`` or ``<sha>/<path>`` → (ref, path)."""
    if len(segments) >= 3 and segments[0] == "refs" and segments[1] in ("heads", "tags"):
        return repo.split(segments[2:])
    if segments and len(segments[0]) == 40:
        ref = repo.ref_of(segments[0])
        return (ref, "/".join(segments[1:])) if ref is not None else None
    return None
