"""GitHub URLs as catalog locations write them.

``https://github.com/<owner>/<repo>/blob/<ref>/<path>`` (also ``tree`` and ``raw``), a bare
``https://github.com/<owner>/<repo>`` for a whole repository, and Backstage's
``.../tree/<ref-part>?path=<path>`` form where the query names the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from ....api.errors import InputError
from .._git import path_segments
from .._urls import redact_url, split_url

__all__ = ["GithubUrl", "parse_github_url"]

_KINDS = ("blob", "tree", "raw", "edit")


@dataclass(frozen=True)
class GithubUrl:
    """``rest`` holds the segments after ``kind``: the ref, then the path (ambiguous when the
    ref has slashes). ``query_path`` is the ``?path=`` value when given.
    """

    owner: str
    repo: str
    kind: str
    rest: tuple[str, ...]
    query_path: str | None

    @property
    def full_name(self) -> str:
        """``owner/repo``."""
        return f"{self.owner}/{self.repo}"


def parse_github_url(url: str) -> GithubUrl:
    """Split a GitHub URL; raises :class:`InputError` when it names no repository."""
    parts = split_url(url)
    segments = path_segments(parts)
    if len(segments) < 2:
        raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitHub URL or file path")
    owner, repo = segments[0], segments[1].removesuffix(".git")
    kind = ""
    rest: tuple[str, ...] = ()
    if len(segments) > 2:
        if segments[2] not in _KINDS:
            raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitHub URL or file path")
        kind, rest = segments[2], tuple(segments[3:])
    query_path = parse_qs(parts.query).get("path", [None])[0]
    return GithubUrl(owner, repo, kind, rest, query_path.strip("/") if query_path else None)
