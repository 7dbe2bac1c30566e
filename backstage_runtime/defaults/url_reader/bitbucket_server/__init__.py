"""Bitbucket Server / Data Center (``integrations.bitbucketServer``)."""

from ._config import BitbucketServerIntegrationConfig, read_bitbucket_server_integration_configs
from ._reader import BitbucketServerUrlReader
from ._urls import BitbucketServerUrl, parse_bitbucket_server_url

__all__ = [
    "BitbucketServerIntegrationConfig",
    "BitbucketServerUrl",
    "BitbucketServerUrlReader",
    "parse_bitbucket_server_url",
    "read_bitbucket_server_integration_configs",
]
