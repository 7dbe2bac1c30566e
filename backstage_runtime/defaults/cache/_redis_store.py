"""Redis (and Valkey) behind the cache service: aiocache's ``RedisCache`` on our redis-py pool."""

from __future__ import annotations

from typing import Any

from aiocache import RedisCache  # type: ignore[import-untyped]
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ...api.errors import ConfigError
from ._codec import KeyvJsonSerializer
from ._config import RedisSettings
from ._store import CacheStore
from ._warnings import install_warning_filters

__all__ = ["RedisStore"]

install_warning_filters()


class RedisStore(CacheStore):
    """Redis (or Valkey) through aiocache's ``RedisCache`` on a redis-py pool we own.

    The pool is built from the connection URL (aiocache only takes host/port/password), with
    socket timeouts so a hung server cannot hold requests, and one immediate retry on a broken
    connection so an idle pool recovers silently after a Redis restart.
    """

    errors = (RedisError, OSError)

    def __init__(self, name: str, settings: RedisSettings) -> None:
        options: dict[str, Any] = {
            "decode_responses": False,
            "socket_connect_timeout": settings.connect_timeout,
            "socket_timeout": settings.socket_timeout,
            "retry": Retry(NoBackoff(), 1, (RedisConnectionError,)),
        }
        if not settings.url.startswith("unix:"):
            options["socket_keepalive"] = settings.keep_alive
        options.update(settings.client_options)
        try:
            pool = ConnectionPool.from_url(settings.url, **options)
        except ValueError:
            # redis-py's message may quote the URL, which holds the password: do not chain it.
            raise ConfigError(
                "Invalid Redis connection URL at 'backend.cache.connection'"
            ) from None
        self._pool = pool
        super().__init__(
            name,
            RedisCache(
                serializer=KeyvJsonSerializer(),
                # redis-py's socket timeouts bound each command; aiocache's own timeout would
                # wrap every call in asyncio.wait_for (a task per call on Python 3.11).
                timeout=None,
                connection_pool_class=lambda **_: pool,
            ),
        )
        self._use_unlink = settings.use_unlink

    @property
    def client(self) -> Redis:
        """The redis-py client aiocache drives."""
        client: Redis = self.backend.client
        return client

    async def delete(self, key: str) -> None:
        """``UNLINK`` (Keyv's default, ``useUnlink``) or ``DEL`` the key."""
        if self._use_unlink:
            await self.backend.raw("unlink", key)
        else:
            await self.backend.delete(key)

    def is_outage(self, error: BaseException) -> bool:
        """Connection and timeout errors; a Redis error reply (e.g. WRONGTYPE) is per command."""
        return isinstance(error, RedisConnectionError | RedisTimeoutError | OSError)

    async def close(self) -> None:
        """Close the client and its pool (``aclose``: aiocache's ``close`` is deprecated)."""
        await self.client.aclose(close_connection_pool=True)
