"""The default ``core.database`` service: a database per plugin (Backstage's
``databaseServiceFactory``), on SQLAlchemy's async engine over asyncpg, aiomysql or aiosqlite.

Configured by ``backend.database`` exactly as in Backstage (``client``, ``connection``,
``prefix``, ``pluginDivisionMode``, ``ensureExists``, ``role``, ``knexConfig.pool``,
``skipMigrations``, ``plugin.<pluginId>.*`` overrides); without it every plugin gets a private
in-memory SQLite database.
"""

from ._availability import DatabaseUnavailableError
from ._factory import database_service_factory
from ._manager import DatabaseManager, DatabaseShutDownError
from ._plugin_database import PluginDatabase
from ._settings import (
    MysqlSettings,
    PgSettings,
    PluginDatabaseSettings,
    PoolSettings,
    SqliteSettings,
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
