"""Azure Blob Storage (``integrations.azureBlobStorage``); the Azure SDK is the optional
``azure`` extra, imported only when a reader talks to Azure.
"""

from ._config import (
    AadCredential,
    AzureBlobStorageIntegrationConfig,
    read_azure_blob_storage_integration_config,
    read_azure_blob_storage_integration_configs,
)
from ._reader import AzureBlobStorageUrlReader
from ._urls import BlobLocation, blob_url_predicate, parse_blob_url

__all__ = [
    "AadCredential",
    "AzureBlobStorageIntegrationConfig",
    "AzureBlobStorageUrlReader",
    "BlobLocation",
    "blob_url_predicate",
    "parse_blob_url",
    "read_azure_blob_storage_integration_config",
    "read_azure_blob_storage_integration_configs",
]
