"""The default ``core.logger``: the root logger's child carrying ``plugin=<pluginId>``."""

from ._factory import logger_service_factory

__all__ = ["logger_service_factory"]
