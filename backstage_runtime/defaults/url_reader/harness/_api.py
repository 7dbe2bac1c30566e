"""The Harness Code REST API URLs the reader calls (Backstage's ``getHarness*Url`` in
``packages/integration/src/harness/core.ts``), below ``<baseUrl>/gateway/code/api/v1``.

Every call names the account in ``routingId``, which the Harness gateway routes on.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ._config import HarnessIntegrationConfig
from ._urls import HarnessUrl

__all__ = ["archive_url", "git_ref", "latest_commit_url", "raw_url"]

_COMMIT_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def git_ref(ref: str) -> str:
    """The ``git_ref`` query value for a ref of a URL.

    A branch name becomes ``refs/heads/<name>`` as in Backstage; the Harness UI writes tags as
    ``refs/tags/<name>`` and commits as their SHA, which are passed as they are.
    """
    if ref.startswith("refs/") or _COMMIT_SHA.fullmatch(ref):
        return ref
    return f"refs/heads/{ref}"


def raw_url(config: HarnessIntegrationConfig, parsed: HarnessUrl) -> str:
    """``.../+/raw/<path>``: the file's bytes (``ETag`` is the blob SHA, and a matching
    ``If-None-Match`` is answered with 304).
    """
    return (
        f"{_repo_api(config, parsed)}/+/raw/{quote(parsed.path)}"
        f"?routingId={_query(parsed.account_id)}&git_ref={_query(git_ref(parsed.ref))}"
    )


def latest_commit_url(config: HarnessIntegrationConfig, parsed: HarnessUrl) -> str:
    """``.../+/content?include_commit=true``: the repository root with its latest commit
    (``latest_commit.sha``); without a ref Harness answers for the default branch.
    """
    url = f"{_repo_api(config, parsed)}/+/content?routingId={_query(parsed.account_id)}"
    url += "&include_commit=true"
    if parsed.ref:
        url += f"&git_ref={_query(git_ref(parsed.ref))}"
    return url


def archive_url(config: HarnessIntegrationConfig, parsed: HarnessUrl, commit: str) -> str:
    """``.../+/archive/<commit>.zip``: the tree at ``commit`` as a zip whose paths start at the
    repository root (Harness adds no top folder unless asked for a ``prefix``).
    """
    return (
        f"{_repo_api(config, parsed)}/+/archive/{quote(commit, safe='')}.zip"
        f"?routingId={_query(parsed.account_id)}"
    )


def _repo_api(config: HarnessIntegrationConfig, parsed: HarnessUrl) -> str:
    scope = "/".join(quote(part, safe="") for part in (*parsed.scope, parsed.repo))
    return f"{config.api_base_url}/repos/{scope}"


def _query(value: str) -> str:
    # Slashes stay readable in refs (``refs/heads/feature/x``); everything else is escaped.
    return quote(value, safe="/")
