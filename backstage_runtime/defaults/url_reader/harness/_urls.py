"""Harness Code URLs, as the Harness UI shows them and Backstage's ``parseHarnessUrl`` reads them.

``https://app.harness.io/ng/account/<account>/module/code/orgs/<org>/projects/<project>/repos/
<repo>/files/<ref>/~/<path>``: the repository lives in a project, an organisation
(``.../orgs/<org>/repos/<repo>``) or the account (``.../repos/<repo>``); other segments before
``repos`` (``module/code``, ``all``, ...) are ignored as Backstage does. ``edit`` may replace
``files``. The ``~`` segment ends the ref, so branches with slashes are unambiguous
(``files/feature/x/~/catalog-info.yaml``); without ``~`` everything after ``files`` is the ref
(a tree URL), and a URL ending at the repository names its default branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from ....api.errors import InputError
from .._urls import redact_url, split_url

__all__ = ["HarnessUrl", "parse_harness_url"]

_KINDS = ("files", "edit")
# Which scope keyword may follow which: account, then optionally orgs, projects, then repos.
_NEXT_KEYWORDS = {
    "": ("account",),
    "account": ("orgs", "repos"),
    "orgs": ("projects", "repos"),
    "projects": ("repos",),
}
_SCOPE_KEYWORDS = frozenset({"orgs", "projects"})
_PATH_MARKER = "~"


@dataclass(frozen=True)
class HarnessUrl:
    """A parsed Harness Code URL.

    ``org`` and ``project`` are ``""`` for repositories above them; ``ref`` is ``""`` when the
    URL names the repository only (its default branch); ``path`` is the file or folder after
    ``~`` (``""`` for the whole tree). ``file_prefix`` is the URL up to and including ``~``,
    kept as written, to build the URLs of files found by a search.
    """

    account_id: str
    org: str
    project: str
    repo: str
    ref: str
    path: str
    file_prefix: str

    @property
    def scope(self) -> tuple[str, ...]:
        """The repository's path in the API: account, then org and project when present."""
        return tuple(part for part in (self.account_id, self.org, self.project) if part)


def parse_harness_url(url: str) -> HarnessUrl:
    """Split a Harness Code URL; anything else raises :class:`InputError` naming the URL."""
    parts = split_url(url)
    raw = [segment for segment in parts.path.split("/") if segment]
    segments = [unquote(segment) for segment in raw]

    def fail(reason: str) -> InputError:
        return InputError(
            f"Incorrect URL: {redact_url(url)}, not a Harness Code repository URL ({reason}; "
            "expected .../account/<account>/[orgs/<org>/[projects/<project>/]]repos/<repo>"
            "/files/<branch>/~/<path>)"
        )

    # Scope keywords are read in order, skipping what lies between them (``module/code``,
    # ``all``): a repository named ``projects`` or an org named ``repos`` stays a name.
    found: dict[str, int] = {}
    index = 0
    while index < len(segments) - 1 and "repos" not in found:
        keyword = segments[index]
        expected = _NEXT_KEYWORDS[next(reversed(found), "")]
        if keyword in expected:
            found[keyword] = index + 1
            index += 2
        elif keyword in _SCOPE_KEYWORDS and found:
            raise fail(f"'{keyword}' out of place")
        else:
            index += 1
    if "account" not in found:
        raise fail("no account")
    if "repos" not in found:
        raise fail("no repository")
    repo_index = found["repos"]
    org_index, project_index = found.get("orgs"), found.get("projects")

    rest = segments[repo_index + 1 :]
    if rest and rest[0] not in _KINDS:
        raise fail(f"'{rest[0]}' after the repository name")
    ref_and_path = rest[1:]
    marker = ref_and_path.index(_PATH_MARKER) if _PATH_MARKER in ref_and_path else None
    ref_segments = ref_and_path if marker is None else ref_and_path[:marker]
    if rest and not ref_segments:
        raise fail("no branch")
    path = "/".join(ref_and_path[marker + 1 :]) if marker is not None else ""
    prefix_end = repo_index + 2 + marker + 1 if marker is not None else len(raw)
    return HarnessUrl(
        account_id=segments[found["account"]],
        org=segments[org_index] if org_index is not None else "",
        project=segments[project_index] if project_index is not None else "",
        repo=segments[repo_index],
        ref="/".join(ref_segments),
        path=path,
        file_prefix=f"{parts.scheme}://{parts.netloc}/" + "/".join(raw[:prefix_end]),
    )
