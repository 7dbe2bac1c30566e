"""GitLab URLs as catalog locations write them.

``https://gitlab.com/<group>/<subgroup>/<project>/-/blob/<ref>/<path>`` (also ``tree`` and
``raw``; the older form without ``/-/`` too), a bare project URL for a whole repository, and
job artifacts: ``.../<project>/-/jobs/artifacts/<ref>/raw/<path>?job=<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ....api.errors import InputError
from .._git import path_segments
from .._urls import redact_url, split_url

__all__ = ["GitlabUrl", "parse_gitlab_url"]

_KINDS = ("blob", "tree", "raw", "edit")


@dataclass(frozen=True)
class GitlabUrl:
    """``project`` is the full path (``group/subgroup/project``); ``rest`` holds the segments
    after ``kind`` (ref, then path). ``artifact`` is the part after ``/-/jobs/artifacts/``
    (still percent-encoded) for artifact URLs.
    """

    project: str
    kind: str
    rest: tuple[str, ...]
    dashed: bool
    artifact: str | None = None


def parse_gitlab_url(url: str, relative_path: str = "") -> GitlabUrl:
    """Split a GitLab URL (below the instance's ``relative_path``)."""
    parts = split_url(url)
    marker = "/-/jobs/artifacts/"
    if marker in parts.path:
        project_path, artifact = parts.path.split(marker, 1)
        project = "/".join(
            path_segments(parts._replace(path=project_path), strip_prefix=relative_path)
        )
        return GitlabUrl(project, "artifact", (), True, artifact)
    segments = path_segments(parts, strip_prefix=relative_path)
    if "-" in segments[2:]:
        dash = segments.index("-", 2)
        if len(segments) < dash + 2 or segments[dash + 1] not in _KINDS:
            raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitLab URL or file path")
        return GitlabUrl(
            "/".join(segments[:dash]), segments[dash + 1], tuple(segments[dash + 2 :]), True
        )
    for index in range(2, len(segments)):
        if segments[index] in _KINDS:
            return GitlabUrl(
                "/".join(segments[:index]), segments[index], tuple(segments[index + 1 :]), False
            )
    if len(segments) < 2:
        raise InputError(f"Incorrect URL: {redact_url(url)}, Invalid GitLab URL or file path")
    return GitlabUrl("/".join(segments).removesuffix(".git"), "", (), False)
