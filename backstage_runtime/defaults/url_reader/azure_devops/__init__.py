"""Azure DevOps Services and Server (``integrations.azure``)."""

from ._config import (
    AzureDevOpsCredential,
    AzureDevOpsIntegrationConfig,
    read_azure_integration_configs,
)
from ._reader import AzureDevOpsUrlReader
from ._urls import AzureUrl, parse_azure_url

__all__ = [
    "AzureDevOpsCredential",
    "AzureDevOpsIntegrationConfig",
    "AzureDevOpsUrlReader",
    "AzureUrl",
    "parse_azure_url",
    "read_azure_integration_configs",
]
