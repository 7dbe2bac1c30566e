"""Bitbucket Server URLs: ``https://<host>/projects/<KEY>/repos/<slug>/browse/<path>?at=<ref>``.

Personal repositories use ``/users/<name>/repos/...`` (the API calls their project ``~name``);
``raw`` works like ``browse``; the ref sits in ``?at=`` (``refs/heads/main``, ``main``, a tag
or a commit), so branches with slashes are not ambiguous here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from ....api.errors import InputError
from .._git import path_segments
from .._urls import redact_url, split_url

__all__ = ["BitbucketServerUrl", "parse_bitbucket_server_url"]


@dataclass(frozen=True)
class BitbucketServerUrl:
    """``web_base`` is the URL up to the repository slug (for building file URLs)."""

    project: str
    repo: str
    kind: str
    path: str
    at: str
    web_base: str


def parse_bitbucket_server_url(url: str) -> BitbucketServerUrl:
    """Split a Bitbucket Server URL; raises :class:`InputError` when it names no repository."""
    parts = split_url(url)
    segments = path_segments(parts)
    for index in range(len(segments) - 3):
        if segments[index] in ("projects", "users") and segments[index + 2] == "repos":
            owner = segments[index + 1]
            project = f"~{owner}" if segments[index] == "users" else owner
            tail = segments[index + 4 :]
            kind = tail[0] if tail else ""
            prefix = "/".join(quote(s) for s in segments[: index + 4])
            return BitbucketServerUrl(
                project=project,
                repo=segments[index + 3],
                kind=kind,
                path="/".join(tail[1:]),
                at=parse_qs(parts.query).get("at", [""])[0],
                web_base=f"{parts.scheme}://{parts.netloc}/{prefix}",
            )
    raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid Bitbucket Server URL or file path")
