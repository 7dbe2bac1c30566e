"""Gitea and Forgejo (``integrations.gitea``)."""

from ._config import GiteaIntegrationConfig, read_gitea_integration_configs
from ._reader import GiteaUrlReader
from ._urls import GiteaUrl, parse_gitea_url

__all__ = [
    "GiteaIntegrationConfig",
    "GiteaUrl",
    "GiteaUrlReader",
    "parse_gitea_url",
    "read_gitea_integration_configs",
]
