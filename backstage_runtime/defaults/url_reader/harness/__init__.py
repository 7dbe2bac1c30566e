"""Harness Code (``integrations.harness``)."""

from ._config import HarnessIntegrationConfig, read_harness_integration_configs
from ._reader import HarnessUrlReader
from ._urls import HarnessUrl, parse_harness_url

__all__ = [
    "HarnessIntegrationConfig",
    "HarnessUrl",
    "HarnessUrlReader",
    "parse_harness_url",
    "read_harness_integration_configs",
]
