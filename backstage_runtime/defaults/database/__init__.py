"""The default ``core.database`` service: a database per plugin (Backstage's
``databaseServiceFactory``), on SQLAlchemy's async engine over asyncpg, aiomysql or aiosqlite.

Configured by ``backend.database`` exactly as in Backstage (``client``, ``connection``,
``prefix``, ``pluginDivisionMode``, ``ensureExists``, ``role``, ``knexConfig.pool``,
``skipMigrations``, ``plugin.<pluginId>.*`` overrides); without it every plugin gets a private
in-memory SQLite database.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import database_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds a database only for a plugin that asks for one.
if TYPE_CHECKING:
    from ._availability import DatabaseUnavailableError
    from ._manager import DatabaseManager, DatabaseShutDownError
    from ._plugin_database import PluginDatabase
    from ._settings import (
        MysqlSettings,
        PgSettings,
        PluginDatabaseSettings,
        PoolSettings,
        SqliteSettings,
    )
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "DatabaseUnavailableError": "._availability",
            "DatabaseManager": "._manager",
            "DatabaseShutDownError": "._manager",
            "PluginDatabase": "._plugin_database",
            "MysqlSettings": "._settings",
            "PgSettings": "._settings",
            "PluginDatabaseSettings": "._settings",
            "PoolSettings": "._settings",
            "SqliteSettings": "._settings",
        },
    )

__all__ = [
    "DatabaseManager",
    "DatabaseShutDownError",
    "DatabaseUnavailableError",
    "MysqlSettings",
    "PgSettings",
    "PluginDatabase",
    "PluginDatabaseSettings",
    "PoolSettings",
    "SqliteSettings",
    "database_service_factory",
]
