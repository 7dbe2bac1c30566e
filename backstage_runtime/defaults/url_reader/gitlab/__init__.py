"""GitLab (``integrations.gitlab``)."""

from ._config import GitlabIntegrationConfig, read_gitlab_integration_configs
from ._reader import GitlabUrlReader
from ._urls import GitlabUrl, parse_gitlab_url

__all__ = [
    "GitlabIntegrationConfig",
    "GitlabUrl",
    "GitlabUrlReader",
    "parse_gitlab_url",
    "read_gitlab_integration_configs",
]
