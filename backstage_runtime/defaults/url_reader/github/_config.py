"""``integrations.github``: one entry per GitHub host (github.com is added when missing),
with its token and GitHub Apps (``apps[]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....api.errors import ConfigError
from ....api.services.config import Config
from .._integration_config import read_base_url, read_host
from ._app_config import GithubAppConfig, read_github_app_configs

__all__ = [
    "GITHUB_API_BASE_URL",
    "GITHUB_HOST",
    "GITHUB_RAW_BASE_URL",
    "GithubIntegrationConfig",
    "read_github_integration_configs",
]

GITHUB_HOST = "github.com"
GITHUB_API_BASE_URL = "https://api.github.com"
GITHUB_RAW_BASE_URL = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class GithubIntegrationConfig:
    """One GitHub (or GitHub Enterprise) host.

    ``api_base_url`` and ``raw_base_url`` default to github.com's for ``github.com``; a
    GitHub Enterprise host needs at least one of them (``https://ghe.example.com/api/v3``).
    ``apps`` are GitHub Apps whose installation tokens are preferred over ``token`` (see
    :class:`SingleInstanceGithubCredentialsProvider`).
    """

    host: str
    api_base_url: str | None = None
    raw_base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    apps: tuple[GithubAppConfig, ...] = ()


def read_github_integration_config(config: Config, key: str) -> GithubIntegrationConfig:
    """One entry of ``integrations.github``."""
    host = read_host(config, key, provider="GitHub", default=GITHUB_HOST)
    api_base_url = read_base_url(config, "apiBaseUrl", key, provider="GitHub")
    raw_base_url = read_base_url(config, "rawBaseUrl", key, provider="GitHub")
    if host == GITHUB_HOST:
        api_base_url = api_base_url or GITHUB_API_BASE_URL
        raw_base_url = raw_base_url or GITHUB_RAW_BASE_URL
    apps = read_github_app_configs(config, key)
    if apps and not api_base_url:
        # Backstage would send this host's app credentials to api.github.com instead.
        raise ConfigError(
            f"Invalid GitHub integration config at '{key}', GitHub Apps ('{key}.apps') need "
            f"'{key}.apiBaseUrl'"
        )
    return GithubIntegrationConfig(
        host=host,
        api_base_url=api_base_url,
        raw_base_url=raw_base_url,
        token=config.get_optional_string("token"),
        apps=apps,
    )


def read_github_integration_configs(config: Config) -> list[GithubIntegrationConfig]:
    """Every ``integrations.github`` entry, plus an anonymous github.com one if none names it."""
    entries = config.get_optional_config_array("integrations.github") or []
    result = [
        read_github_integration_config(entry, f"integrations.github[{index}]")
        for index, entry in enumerate(entries)
    ]
    if not any(item.host == GITHUB_HOST for item in result):
        result.append(
            GithubIntegrationConfig(
                host=GITHUB_HOST,
                api_base_url=GITHUB_API_BASE_URL,
                raw_base_url=GITHUB_RAW_BASE_URL,
            )
        )
    return result
