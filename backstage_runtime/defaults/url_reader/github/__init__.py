"""GitHub and GitHub Enterprise (``integrations.github``), with GitHub App credentials."""

from ._app_config import GithubAppConfig
from ._config import GithubIntegrationConfig, read_github_integration_configs
from ._credentials import (
    GithubAppCredentialsMux,
    GithubCredentials,
    GithubCredentialsProvider,
    SingleInstanceGithubCredentialsProvider,
)
from ._rate_limit import github_rate_limited
from ._reader import GithubUrlReader
from ._urls import GithubUrl, parse_github_url

__all__ = [
    "GithubAppConfig",
    "GithubAppCredentialsMux",
    "GithubCredentials",
    "GithubCredentialsProvider",
    "GithubIntegrationConfig",
    "GithubUrl",
    "GithubUrlReader",
    "SingleInstanceGithubCredentialsProvider",
    "github_rate_limited",
    "parse_github_url",
    "read_github_integration_configs",
]
