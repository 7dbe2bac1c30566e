"""The default ``core.rootConfig``: Backstage's config loader and reader in Python.

An ``app-config.yaml`` resolves here to what Backstage's own loader makes of it: files merged in
order, ``${VAR}`` substitution, the ``$env``/``$file``/``$include`` directives, ``APP_CONFIG_*``
overrides, and a reader with Backstage's getters and error texts (plus the file and line of the
offending key).
"""

from ._factory import create_config_from_data, load_config, root_config_service_factory
from ._reader import ConfigReader
from ._service import RootConfig
from ._source import ConfigSourceData

__all__ = [
    "ConfigReader",
    "ConfigSourceData",
    "RootConfig",
    "create_config_from_data",
    "load_config",
    "root_config_service_factory",
]
