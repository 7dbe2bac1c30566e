"""``backend.rateLimit``: Backstage's rate limits (express-rate-limit as Backstage configures it),
counted in a ``limits`` storage: in memory, or in Redis shared by every instance.

Each client address (``backend.trustProxy`` decides which) gets ``incomingRequestLimit``
requests per ``window``, the window starting at its first request; the request after that is
answered ``429`` with Backstage's error body and ``Retry-After``. Every response through the
limiter carries express-rate-limit's ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (Backstage leaves its legacy headers on and the standard ones off).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from ..api import Config, LoggerService, read_duration_from_config
from ..api.errors import ConfigError
from ._asgi import ASGIApp, Message, Receive, Scope, Send, send_json
from ._trust_proxy import client_address, peer_address

__all__ = [
    "RATE_LIMITED_BODY",
    "RateLimitMiddleware",
    "RateLimitPolicy",
    "RateLimitStore",
    "RateLimiter",
    "open_rate_limit_store",
    "read_global_rate_limit",
    "read_plugin_rate_limit",
]

_KEY = "backend.rateLimit"
_REDIS_TIMEOUT = 5.0  # seconds

#: Never limited unless ``ipAllowList`` says otherwise (Backstage's default).
DEFAULT_IP_ALLOW_LIST = ("127.0.0.1", "0:0:0:0:0:0:0:1", "::1")

#: The body of a ``429``, Backstage's.
RATE_LIMITED_BODY = {
    "error": {"name": "Error", "message": "Too many requests, please try again later"},
    "response": {"statusCode": 429},
}


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """One limiter's settings (express-rate-limit's defaults: 5 requests a minute)."""

    #: ``window`` in seconds.
    window: float = 60.0
    #: ``incomingRequestLimit``: requests allowed per window and client.
    limit: int = 5
    #: ``ipAllowList``: client or socket addresses that are never limited.
    ip_allow_list: tuple[str, ...] = DEFAULT_IP_ALLOW_LIST
    #: ``skipSuccessfulRequests``: responses below 400 do not count.
    skip_successful_requests: bool = False
    #: ``skipFailedRequests``: responses of 400 and above (and cut requests) do not count.
    skip_failed_requests: bool = False
    #: ``passOnStoreError``: serve the request unlimited when the store fails (else 500).
    pass_on_store_error: bool = False

    @property
    def window_seconds(self) -> int:
        """The window as stored: whole seconds (Redis expiries are), at least one."""
        return max(1, math.ceil(self.window))


def _read_policy(config: Config, key: str) -> RateLimitPolicy:
    # Read from the root config with whole keys, so that errors name them whole.
    values: dict[str, Any] = {}
    if config.has(f"{key}.window"):
        values["window"] = read_duration_from_config(
            config, f"{key}.window", allow_milliseconds=True
        ).total_seconds()
        if values["window"] <= 0:
            raise ConfigError(f"Invalid config at '{key}.window': must be longer than 0")
    limit = config.get_optional(f"{key}.incomingRequestLimit")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0:
            raise ConfigError(
                f"Invalid config at '{key}.incomingRequestLimit': expected a whole number, "
                "0 or more"
            )
        values["limit"] = int(limit)
    allow = config.get_optional_string_array(f"{key}.ipAllowList")
    if allow is not None:
        values["ip_allow_list"] = tuple(allow)
    for name, field in (
        ("skipSuccessfulRequests", "skip_successful_requests"),
        ("skipFailedRequests", "skip_failed_requests"),
        ("passOnStoreError", "pass_on_store_error"),
    ):
        flag = config.get_optional_boolean(f"{key}.{name}")
        if flag is not None:
            values[field] = flag
    return RateLimitPolicy(**values)


def read_global_rate_limit(config: Config) -> RateLimitPolicy | None:
    """The limiter in front of every request: ``backend.rateLimit: true`` (the defaults) or an
    object; None without the key, with ``false``, or with ``global: false``.
    """
    value = config.get_optional(_KEY)
    if value is None or value is False:
        return None
    if value is True:
        return RateLimitPolicy()
    if config.get_optional_boolean(f"{_KEY}.global") is False:
        return None
    return _read_policy(config, _KEY)


def read_plugin_rate_limit(config: Config, plugin_id: str) -> RateLimitPolicy | None:
    """The limiter in front of one plugin: ``backend.rateLimit.plugin.<pluginId>``, or None."""
    if not isinstance(config.get_optional(_KEY), dict):
        return None
    key = f"{_KEY}.plugin.{plugin_id}"
    if config.get_optional_config(key) is None:
        return None
    return _read_policy(config, key)


class RateLimitStore:
    """Hit counters by key in a ``limits`` async storage (memory or Redis)."""

    def __init__(self, storage: Any, close: Callable[[], Awaitable[None]] | None = None) -> None:
        self._storage = storage
        self._close = close

    async def hit(self, key: str, window: int) -> tuple[int, float]:
        """Count one request for ``key``: the hits in its window so far, and when the window
        ends (epoch seconds).
        """
        count = int(await self._storage.incr(key, window))
        reset = float(await self._storage.get_expiry(key))
        return count, reset

    async def undo(self, key: str, window: int) -> None:
        """Take one hit back (``skipSuccessfulRequests`` / ``skipFailedRequests``)."""
        # limits' storages all take a negative increment; only the memory one has a decr.
        await self._storage.incr(key, window, amount=-1)

    async def aclose(self) -> None:
        """Release the storage's connections."""
        if self._close is not None:
            await self._close()


def open_rate_limit_store(config: Config, *, prefix: str) -> RateLimitStore:
    """The store ``backend.rateLimit.store`` names: ``{type: memory}`` (the default) or
    ``{type: redis, connection: redis://…}``; ``prefix`` starts every Redis key. Raises
    :class:`ConfigError` for another type or a missing connection.
    """
    key = f"{_KEY}.store"
    store_type = "memory"
    if isinstance(config.get_optional(_KEY), dict) and config.has(key):
        store_type = config.get_string(f"{key}.type")
    if store_type == "memory":
        from limits.aio.storage import MemoryStorage

        return RateLimitStore(MemoryStorage())
    if store_type != "redis":
        raise ConfigError(
            f"Invalid config at '{key}.type': unknown rate limit store '{store_type}', "
            "expected 'memory' or 'redis'"
        )
    connection = config.get_string(f"{key}.connection")
    from limits.aio.storage import RedisStorage
    from redis.asyncio import ConnectionPool

    # Our own pool (limits takes one), so that shutdown can close it. Bounded waits, as
    # node-redis's 5 s connect timeout: an unreachable store must not hold every request.
    pool = ConnectionPool.from_url(
        connection, socket_connect_timeout=_REDIS_TIMEOUT, socket_timeout=_REDIS_TIMEOUT
    )
    storage = RedisStorage(
        f"async+{connection}",
        implementation="redispy",
        key_prefix=prefix,
        connection_pool=pool,  # type: ignore[arg-type]
    )
    return RateLimitStore(storage, pool.aclose)


@dataclass(frozen=True, slots=True)
class RateLimiter:
    """A policy, its store and the key namespace (empty for the global limiter, the plugin id
    for a plugin's), ready to wrap an app (:meth:`wrap`).
    """

    policy: RateLimitPolicy
    store: RateLimitStore
    logger: LoggerService
    namespace: str = ""

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind this limiter."""
        return RateLimitMiddleware(app, self)


class RateLimitMiddleware:
    """Counts each HTTP request of a client, answers ``429`` past the limit, and adds
    express-rate-limit's headers to every response.
    """

    __slots__ = ("_limiter", "app")

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Limit one request."""
        limiter = self._limiter
        policy = limiter.policy
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ip = client_address(scope) or ""
        if ip in policy.ip_allow_list or peer_address(scope) in policy.ip_allow_list:
            await self.app(scope, receive, send)
            return
        key = f"{limiter.namespace}{ip}"
        window = policy.window_seconds
        try:
            count, reset = await limiter.store.hit(key, window)
        except Exception as error:
            if not policy.pass_on_store_error:
                raise
            limiter.logger.error(
                "Rate limit store failed, allowing the request without rate limiting", error
            )
            await self.app(scope, receive, send)
            return
        headers = [
            (b"x-ratelimit-limit", str(policy.limit).encode()),
            (b"x-ratelimit-remaining", str(max(policy.limit - count, 0)).encode()),
            (b"x-ratelimit-reset", str(math.ceil(reset)).encode()),
        ]
        status: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                own = {name.lower() for name, _ in message.get("headers", [])}
                added = [header for header in headers if header[0] not in own]
                message = {**message, "headers": [*added, *message.get("headers", [])]}
            await send(message)

        try:
            if count > policy.limit:
                retry_after = max(0, math.ceil(reset - time.time()))
                await send_json(
                    sending, 429, RATE_LIMITED_BODY, [(b"retry-after", str(retry_after).encode())]
                )
            else:
                await self.app(scope, receive, sending)
        finally:
            await self._maybe_undo(key, reset, status[0] if status else None)

    async def _maybe_undo(self, key: str, reset: float, status: int | None) -> None:
        policy = self._limiter.policy
        # A request that raised or was cut has failed, as a closed Node response has.
        failed = status is None or status >= 400
        if not (
            (failed and policy.skip_failed_requests)
            or (not failed and policy.skip_successful_requests)
        ):
            return
        if time.time() >= reset:
            return  # the window this hit counted in is over already
        with anyio.CancelScope(shield=True):
            try:
                await self._limiter.store.undo(key, policy.window_seconds)
            except Exception as error:
                self._limiter.logger.warn("Could not take back a rate limit hit", error)
