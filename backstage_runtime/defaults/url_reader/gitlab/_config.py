"""``integrations.gitlab``: one entry per GitLab host (gitlab.com is added when missing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ....api.services.config import Config
from .._integration_config import read_base_url, read_host

__all__ = [
    "GITLAB_API_BASE_URL",
    "GITLAB_HOST",
    "GitlabIntegrationConfig",
    "read_gitlab_integration_configs",
]

GITLAB_HOST = "gitlab.com"
GITLAB_API_BASE_URL = "https://gitlab.com/api/v4"


@dataclass(frozen=True)
class GitlabIntegrationConfig:
    """One GitLab host. ``base_url`` is the web address (``https://<host>`` by default, or
    ``https://example.com/gitlab`` for an instance under a sub-path); ``api_base_url`` defaults
    to ``<base_url>/api/v4``.
    """

    host: str
    api_base_url: str
    base_url: str
    token: str | None = field(default=None, repr=False)

    @property
    def relative_path(self) -> str:
        """The sub-path GitLab is served under (``/gitlab``), or ``""``."""
        return urlsplit(self.base_url).path.rstrip("/")


def read_gitlab_integration_config(config: Config, key: str) -> GitlabIntegrationConfig:
    """One entry of ``integrations.gitlab``."""
    host = read_host(config, key, provider="GitLab")
    base_url = read_base_url(config, "baseUrl", key, provider="GitLab") or f"https://{host}"
    api_base_url = read_base_url(config, "apiBaseUrl", key, provider="GitLab") or (
        GITLAB_API_BASE_URL if host == GITLAB_HOST else f"{base_url}/api/v4"
    )
    return GitlabIntegrationConfig(
        host=host,
        api_base_url=api_base_url,
        base_url=base_url,
        token=config.get_optional_string("token"),
    )


def read_gitlab_integration_configs(config: Config) -> list[GitlabIntegrationConfig]:
    """Every ``integrations.gitlab`` entry, plus an anonymous gitlab.com one if none names it."""
    entries = config.get_optional_config_array("integrations.gitlab") or []
    result = [
        read_gitlab_integration_config(entry, f"integrations.gitlab[{index}]")
        for index, entry in enumerate(entries)
    ]
    if not any(item.host == GITLAB_HOST for item in result):
        result.append(
            GitlabIntegrationConfig(
                host=GITLAB_HOST,
                api_base_url=GITLAB_API_BASE_URL,
                base_url=f"https://{GITLAB_HOST}",
            )
        )
    return result
