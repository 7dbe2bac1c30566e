"""A repository model shared by the fake forges: refs, commits, conditional file answers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from aiohttp import web

LAST_MODIFIED = "Wed, 15 Nov 2023 10:00:00 GMT"


@dataclass
class FakeRepo:
    """``refs`` maps branch (or tag) names to their files; names may contain slashes."""

    owner: str
    name: str
    refs: dict[str, dict[str, bytes]]
    default_branch: str = "main"
    tags: set[str] = field(default_factory=set)

    def sha(self, ref: str) -> str:
        digest = hashlib.sha1(f"{self.owner}/{self.name}@{ref}".encode())
        for path, content in sorted(self.refs[ref].items()):
            digest.update(path.encode() + hashlib.sha1(content).digest())
        return digest.hexdigest()

    def ref_of(self, name_or_sha: str) -> str | None:
        """The ref a branch/tag name or a (possibly short) commit SHA designates."""
        name_or_sha = name_or_sha.removeprefix("refs/heads/").removeprefix("refs/tags/")
        if name_or_sha in self.refs:
            return name_or_sha
        for ref in self.refs:
            if len(name_or_sha) >= 7 and self.sha(ref).startswith(name_or_sha):
                return ref
        return None

    def split(self, segments: list[str]) -> tuple[str, str] | None:
        """Resolve ``ref/with/slashes/path`` the way forges do: the longest ref that fits."""
        for count in range(len(segments), 0, -1):
            ref = "/".join(segments[:count])
            if ref in self.refs:
                return ref, "/".join(segments[count:])
        return None

    def files_under(self, ref: str, path: str) -> dict[str, bytes]:
        prefix = path.strip("/")
        files = self.refs[ref]
        if not prefix:
            return dict(files)
        return {p: c for p, c in files.items() if p == prefix or p.startswith(prefix + "/")}


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha1(content).hexdigest() + '"'


def file_answer(request: web.Request, content: bytes | None) -> web.Response:
    """200 with ETag/Last-Modified, 304 when ``If-None-Match`` matches, 404 when missing."""
    if content is None:
        return web.json_response({"message": "Not Found"}, status=404)
    etag = etag_of(content)
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304)
    if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
        return web.Response(status=304)
    return web.Response(body=content, headers={"ETag": etag, "Last-Modified": LAST_MODIFIED})
