"""Turning "the database does not answer" into a 503 that names the plugin.

Three places can wait on an unresponsive server: the pool's wait for a free connection, opening
a new connection, and a statement on an open one. Each has a timeout (see ``_config.py``); when
one expires, or the server is unreachable or drops the connection, the caller gets
:class:`DatabaseUnavailableError` (HTTP 503) instead of a driver error (HTTP 500), whether it
went through :class:`PluginDatabase` or the raw engine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

from ...api.errors import ServiceUnavailableError

__all__ = ["DatabaseUnavailableError", "PluginPool", "watch_availability"]

# Network failures that mean "the server is not there right now" (not a configuration mistake:
# TLS and DNS errors, also OSErrors, stay as they are).
_UNREACHABLE = (
    TimeoutError,
    ConnectionRefusedError,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)


class DatabaseUnavailableError(ServiceUnavailableError):
    """A plugin's database did not answer in time, or could not be reached (HTTP 503).

    The driver's error is the ``__cause__``; it is not serialised into responses, since its text
    can carry host names and SQL.
    """

    def __init__(self, plugin_id: str, problem: str) -> None:
        super().__init__(f"The database of plugin '{plugin_id}' is unavailable: {problem}")
        self.plugin_id = plugin_id


class PluginPool(AsyncAdaptedQueuePool):
    """The queue pool of one plugin's engine: a checkout that times out, or a connection that
    cannot be opened because the server is unreachable, raises :class:`DatabaseUnavailableError`.
    """

    plugin_id: str = "?"

    def connect(self) -> PoolProxiedConnection:
        """A pooled connection; see the class docstring for the errors."""
        try:
            return super().connect()
        except PoolTimeoutError as error:
            raise DatabaseUnavailableError(
                self.plugin_id,
                f"no free connection within {self._timeout:g} s (all {self.size()} in use)",
            ) from error
        except Exception as error:
            cause = _unreachable_cause(error)
            if cause is None:
                raise
            problem = (
                "timed out opening a connection"
                if isinstance(cause, TimeoutError)
                else "the server cannot be reached"
            )
            raise DatabaseUnavailableError(self.plugin_id, problem) from error

    def recreate(self) -> PluginPool:
        """A fresh pool like this one (``engine.dispose()`` swaps the pool for it)."""
        pool = super().recreate()
        assert isinstance(pool, PluginPool)
        pool.plugin_id = self.plugin_id
        return pool


def watch_availability(engine: AsyncEngine, plugin_id: str) -> None:
    """Name ``engine``'s pool after ``plugin_id`` and map statement timeouts and dropped
    connections to :class:`DatabaseUnavailableError`."""
    pool = engine.sync_engine.pool
    if isinstance(pool, PluginPool):
        pool.plugin_id = plugin_id

    def on_error(context: ExceptionContext) -> BaseException | None:
        original = context.original_exception
        if isinstance(original, TimeoutError):
            # The driver gave up waiting for an answer. The connection is beyond use: close it
            # at once, rather than wait for a goodbye a frozen server would never acknowledge.
            context.is_disconnect = True
            _terminate(context)
            return DatabaseUnavailableError(plugin_id, "a statement timed out")
        if context.is_disconnect:
            return DatabaseUnavailableError(plugin_id, "the connection to the server was lost")
        return None

    event.listen(engine.sync_engine, "handle_error", on_error)


def _terminate(context: ExceptionContext) -> None:
    connection = context.connection
    if connection is None or connection.closed or connection.invalidated:
        return
    driver: Any = connection.connection.driver_connection
    terminate = getattr(driver, "terminate", None)  # asyncpg has it; others close as usual
    if callable(terminate):
        terminate()


def _unreachable_cause(error: BaseException) -> BaseException | None:
    # Drivers wrap the socket error (aiomysql raises OperationalError 2003 from it): look along
    # the chain of causes.
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNREACHABLE):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
