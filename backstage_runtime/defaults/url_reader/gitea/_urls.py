"""Gitea URLs: ``https://<host>/<owner>/<repo>/src/branch/<ref>/<path>``.

``src/tag/<tag>/...`` and ``src/commit/<sha>/...`` name other refs, ``raw`` works like ``src``,
the older ``src/<ref>/<path>`` form is accepted, and a bare repository URL names its default
branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ....api.errors import InputError
from .._git import path_segments
from .._urls import redact_url, split_url

__all__ = ["GiteaUrl", "parse_gitea_url"]

_REF_KINDS = ("branch", "tag", "commit")


@dataclass(frozen=True)
class GiteaUrl:
    """``ref_kind`` is ``branch``, ``tag``, ``commit`` or ``""`` (not said); ``rest`` holds
    the ref and the path segments.
    """

    owner: str
    repo: str
    kind: str
    ref_kind: str
    rest: tuple[str, ...]


def parse_gitea_url(url: str, relative_path: str = "") -> GiteaUrl:
    """Split a Gitea URL below the instance's ``relative_path``."""
    segments = path_segments(split_url(url), strip_prefix=relative_path)
    if len(segments) < 2 or (len(segments) > 2 and segments[2] not in ("src", "raw")):
        raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid Gitea URL or file path")
    owner, repo = segments[0], segments[1].removesuffix(".git")
    if len(segments) == 2:
        return GiteaUrl(owner, repo, "", "", ())
    rest = segments[3:]
    ref_kind = ""
    if rest and rest[0] in _REF_KINDS:
        ref_kind, rest = rest[0], rest[1:]
    return GiteaUrl(owner, repo, segments[2], ref_kind, tuple(rest))
