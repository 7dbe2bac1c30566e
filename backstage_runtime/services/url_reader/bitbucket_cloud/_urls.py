"""Bitbucket Cloud URLs: ``https://bitbucket.org/<workspace>/<repo>/src/<ref>/<path>``.

``raw`` works like ``src``; a bare ``https://bitbucket.org/<workspace>/<repo>`` names the whole
repository at its main branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ....api.errors import InputError
from .._git import path_segments
from .._urls import redact_url, split_url

__all__ = ["BitbucketCloudUrl", "parse_bitbucket_cloud_url"]


@dataclass(frozen=True)
class BitbucketCloudUrl:
    """``rest`` holds the segments after ``kind``: the ref, then the path."""

    workspace: str
    repo: str
    kind: str
    rest: tuple[str, ...]


def parse_bitbucket_cloud_url(url: str) -> BitbucketCloudUrl:
    """Split a Bitbucket Cloud URL; raises :class:`InputError` when it names no repository."""
    segments = path_segments(split_url(url))
    if len(segments) < 2 or (len(segments) > 2 and segments[2] not in ("src", "raw")):
        raise InputError(
            f"Incorrect URL: {redact_url(url)}, Invalid Bitbucket Cloud URL or file path"
        )
    kind = segments[2] if len(segments) > 2 else ""
    return BitbucketCloudUrl(
        segments[0], segments[1].removesuffix(".git"), kind, tuple(segments[3:])
    )
