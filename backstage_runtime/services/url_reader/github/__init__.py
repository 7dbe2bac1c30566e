"""GitHub and GitHub Enterprise (``integrations.github``)."""

from ._config import GithubIntegrationConfig, read_github_integration_configs
from ._reader import GithubUrlReader, github_rate_limited
from ._urls import GithubUrl, parse_github_url

__all__ = [
    "GithubIntegrationConfig",
    "GithubUrl",
    "GithubUrlReader",
    "github_rate_limited",
    "parse_github_url",
    "read_github_integration_configs",
]
