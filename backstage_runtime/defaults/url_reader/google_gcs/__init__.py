"""Google Cloud Storage (``integrations.googleGcs``); needs the optional ``gcs`` extra
(gcloud-aio-storage) to read, not to be configured.
"""

from ._config import (
    GOOGLE_GCS_HOST,
    GoogleGcsIntegrationConfig,
    read_google_gcs_integration_config,
)
from ._reader import GoogleGcsUrlReader
from ._urls import GcsLocation, gcs_predicate, parse_gcs_url

__all__ = [
    "GOOGLE_GCS_HOST",
    "GcsLocation",
    "GoogleGcsIntegrationConfig",
    "GoogleGcsUrlReader",
    "gcs_predicate",
    "parse_gcs_url",
    "read_google_gcs_integration_config",
]
