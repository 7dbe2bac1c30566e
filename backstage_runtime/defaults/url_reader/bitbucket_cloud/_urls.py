"""Bitbucket Cloud URLs: ``https://bitbucket.org/<workspace>/<repo>/src/<ref>/<path>``.

``raw`` works like ``src``; a bare ``https://bitbucket.org/<workspace>/<repo>`` names the whole
repository at its main branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ....api.errors import InputError
from .._git import path_segments
from .._urls import redact_url, split_url
from ._config import BITBUCKET_CLOUD_HOST

__all__ = ["BitbucketCloudUrl", "parse_bitbucket_cloud_url", "web_origin"]


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


def web_origin(url: str, api_base_url: str) -> str:
    """``<scheme>://<host>`` of the web host that serves ``url``'s archives.

    The scheme is never taken from ``url``: credentials go with the archive request, and an
    ``http://bitbucket.org/...`` location would otherwise send them in cleartext (Backstage
    uses the URL's scheme). bitbucket.org is always https; another configured host (a proxy
    or a test server) speaks what the configured ``apiBaseUrl`` speaks. User-info is dropped.
    """
    parts = split_url(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if (parts.hostname or "") == BITBUCKET_CLOUD_HOST:
        return f"https://{host}"
    return f"{urlsplit(api_base_url).scheme or 'https'}://{host}"
