"""Bitbucket Cloud (``integrations.bitbucketCloud``), with OAuth consumer credentials."""

from ._auth import BitbucketCloudAuth
from ._config import BitbucketCloudIntegrationConfig, read_bitbucket_cloud_integration_configs
from ._reader import BitbucketCloudUrlReader
from ._urls import BitbucketCloudUrl, parse_bitbucket_cloud_url

__all__ = [
    "BitbucketCloudAuth",
    "BitbucketCloudIntegrationConfig",
    "BitbucketCloudUrl",
    "BitbucketCloudUrlReader",
    "parse_bitbucket_cloud_url",
    "read_bitbucket_cloud_integration_configs",
]
