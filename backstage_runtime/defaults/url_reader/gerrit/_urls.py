"""Gitiles URLs, the form Gerrit locations take (Backstage's ``parseGitilesUrlRef``).

``<gitilesBaseUrl>/<project>/+/refs/heads/<branch>/<path>``, ``+/refs/tags/<tag>/<path>``,
``+/<40-hex commit>/<path>`` and ``+/HEAD/<path>``; the project may contain slashes, and so may
a branch or tag (the reader asks Gerrit where the name ends). Gerrit's ``/a/`` prefix for
authenticated access is accepted in front of the path, and the Gitiles base path may be left
out, as Backstage tolerates both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

from ....api.errors import InputError
from .._urls import redact_url, split_url

__all__ = ["GitilesUrl", "RefType", "parse_gitiles_url"]

#: ``branch`` and ``tag`` (``refs/heads|tags/<name>``), ``sha`` (a commit) or ``head`` (HEAD).
RefType = Literal["branch", "tag", "sha", "head"]

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_FORMS = (
    "expected <project>/+/refs/heads/<branch>/<path>, <project>/+/refs/tags/<tag>/<path>, "
    "<project>/+/<commit sha>/<path> or <project>/+/HEAD/<path>"
)


@dataclass(frozen=True)
class GitilesUrl:
    """A parsed Gitiles URL.

    For ``branch`` and ``tag``, ``rest`` holds the ref name and then the path (where the name
    ends is not known yet) and ``ref`` is empty; for ``sha`` and ``head`` ``ref`` is the commit
    or ``HEAD`` and ``rest`` is the path. ``prefix`` is the URL as given up to ``/+``.
    """

    project: str
    ref_type: RefType
    ref: str
    rest: tuple[str, ...]
    prefix: str

    def to_url(self, ref: str, path: str) -> str:
        """The Gitiles URL of ``path`` at ``ref``, in this URL's form (host, ``/a/``, ref kind)."""
        if self.ref_type == "branch":
            spec = f"refs/heads/{quote(ref, safe='/')}"
        elif self.ref_type == "tag":
            spec = f"refs/tags/{quote(ref, safe='/')}"
        else:
            spec = ref
        return f"{self.prefix}/{spec}/{quote(path.strip('/'))}"


def parse_gitiles_url(url: str, gitiles_path: str = "") -> GitilesUrl:
    """Split a Gitiles URL of a Gitiles served below ``gitiles_path`` (``/plugins/gitiles``).

    Raises :class:`InputError` naming the URL when it is not one of the forms above.
    """
    parts = split_url(url)
    path = parts.path
    auth_prefix = ""
    if path.startswith("/a/"):
        auth_prefix, path = "/a", path[2:]
    base = gitiles_path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :]
    else:
        base = ""
    raw = [segment for segment in path.split("/") if segment]
    if "+" not in raw or raw.index("+") == 0:
        raise InputError(f"Unable to parse Gitiles URL '{redact_url(url)}', {_FORMS}")
    plus = raw.index("+")
    project = "/".join(unquote(segment) for segment in raw[:plus])
    rest = [unquote(segment) for segment in raw[plus + 1 :]]
    prefix = f"{parts.scheme}://{parts.netloc}{auth_prefix}{base}/{'/'.join(raw[: plus + 1])}"
    if rest and rest[0] == "HEAD":
        return GitilesUrl(project, "head", "HEAD", tuple(rest[1:]), prefix)
    if rest and _SHA.fullmatch(rest[0]):
        return GitilesUrl(project, "sha", rest[0].lower(), tuple(rest[1:]), prefix)
    if len(rest) >= 3 and rest[0] == "refs" and rest[1] in ("heads", "tags"):
        kind: RefType = "branch" if rest[1] == "heads" else "tag"
        return GitilesUrl(project, kind, "", tuple(rest[2:]), prefix)
    raise InputError(f"Unable to parse Gitiles URL '{redact_url(url)}', {_FORMS}")
