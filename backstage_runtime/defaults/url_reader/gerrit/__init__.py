"""Gerrit, read through its REST API and its Gitiles (``integrations.gerrit``)."""

from ._config import GerritIntegrationConfig, read_gerrit_integration_configs
from ._reader import GerritUrlReader
from ._urls import GitilesUrl, parse_gitiles_url

__all__ = [
    "GerritIntegrationConfig",
    "GerritUrlReader",
    "GitilesUrl",
    "parse_gitiles_url",
    "read_gerrit_integration_configs",
]
