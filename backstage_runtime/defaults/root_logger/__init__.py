"""The default ``core.rootLogger``: structured JSON or pretty lines, level overrides, redaction.

Backstage's ``rootLoggerServiceFactory`` (winston based) in Python. Plugin authors normally get a
logger through ``core_services.logger``; this package is for building backends and the CLI (tests
use :class:`backstage_runtime.testing.MockRootLogger`).
"""

from ...stdlib_logging import StdlibLoggingBridge, install_stdlib_bridge
from ._factory import create_root_logger, root_logger_service_factory
from ._formats import JsonFormatter, LogFormat, PrettyFormatter
from ._levels import LEVELS, LogLevel, level_value
from ._logger import BackstageLogger
from ._overrides import LevelOverride, read_level_overrides
from ._redaction import REDACTED, Redactor
from ._settings import LoggerSettings, read_logger_settings

__all__ = [
    "LEVELS",
    "REDACTED",
    "BackstageLogger",
    "JsonFormatter",
    "LevelOverride",
    "LogFormat",
    "LogLevel",
    "LoggerSettings",
    "PrettyFormatter",
    "Redactor",
    "StdlibLoggingBridge",
    "create_root_logger",
    "install_stdlib_bridge",
    "level_value",
    "read_level_overrides",
    "read_logger_settings",
    "root_logger_service_factory",
]
