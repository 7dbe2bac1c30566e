"""Whether a configuration keeps state inside one process, which workers would silently split."""

from __future__ import annotations

from ..api import Config

__all__ = ["per_process_state"]

_SQLITE_CLIENTS = ("better-sqlite3", "sqlite3")


def _sqlite_in_memory(client: object, connection: object) -> bool:
    if client not in _SQLITE_CLIENTS:
        return False
    if connection is None or connection == ":memory:":
        return True
    if isinstance(connection, dict):
        # A directory gives each plugin a file every process opens; a filename alone is the
        # same file for all; only an explicit ':memory:' filename stays in the process.
        return connection.get("filename") == ":memory:" and "directory" not in connection
    return False


def per_process_state(config: Config) -> list[str]:
    """What in ``config`` lives in one process's memory: each entry names the config key and
    why, for the error that refuses several workers. Empty when every store is shared.
    """
    reasons: list[str] = []
    database = config.get_optional("backend.database")
    if not isinstance(database, dict) or database.get("client") is None:
        reasons.append(
            "backend.database is not configured, so every plugin gets an in-memory SQLite "
            "database (plugin data, scheduler leases and the keys that sign plugin tokens)"
        )
    elif _sqlite_in_memory(database.get("client"), database.get("connection")):
        reasons.append("backend.database.connection is an in-memory SQLite database")
    plugins = database.get("plugin") if isinstance(database, dict) else None
    if isinstance(plugins, dict):
        for plugin_id, section in sorted(plugins.items()):
            if isinstance(section, dict) and _sqlite_in_memory(
                section.get("client"), section.get("connection", ":memory:")
            ):
                reasons.append(
                    f"backend.database.plugin.{plugin_id} is an in-memory SQLite database"
                )
    store = config.get_optional("backend.cache.store")
    if store is None or store == "memory":
        reasons.append("backend.cache.store is the in-memory cache")
    return reasons
