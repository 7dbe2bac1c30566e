"""``PluginCache``: the cache service one plugin gets (Backstage's ``DefaultCacheClient``)."""

from __future__ import annotations

import time

from ...api.services._json import JsonValue
from ...api.services.cache import CacheTtl
from ._codec import CacheEntry, encode_entry
from ._guard import CacheMetrics, StoreGuard
from ._keys import normalize_key
from ._store import CacheStore
from ._telemetry import CacheTelemetry
from ._ttl import ttl_to_milliseconds

__all__ = ["PluginCache"]


class PluginCache:
    """A plugin's view of the shared store: keys under ``<namespace><pluginId><sep>``.

    Store failures never reach the caller: a failed or skipped read is a miss, a failed or
    skipped write is dropped (see :class:`StoreGuard`). Programming errors (a non-string key, a
    value that is not JSON, a bad TTL) do raise.
    """

    __slots__ = (
        "_default_ttl_ms",
        "_guard",
        "_outage",
        "_plugin_id",
        "_prefix",
        "_store",
        "_telemetry",
    )

    def __init__(
        self,
        *,
        plugin_id: str,
        prefix: str,
        store: CacheStore,
        guard: StoreGuard,
        default_ttl_ms: int | None,
        telemetry: CacheTelemetry | None = None,
    ) -> None:
        self._plugin_id = plugin_id
        self._telemetry = telemetry
        self._prefix = prefix
        self._store = store
        self._guard = guard
        self._outage = store.is_outage
        self._default_ttl_ms = default_ttl_ms

    @property
    def plugin_id(self) -> str:
        """The plugin this cache belongs to."""
        return self._plugin_id

    @property
    def default_ttl_ms(self) -> int | None:
        """The TTL of :meth:`set` without ``ttl``, in milliseconds (None: no expiry)."""
        return self._default_ttl_ms

    @property
    def metrics(self) -> CacheMetrics:
        """The store's counters (shared by every plugin of the backend)."""
        return self._guard.metrics

    def stored_key(self, key: str) -> str:
        """The key ``key`` is stored under: ``<prefix><base64 key or its SHA-256>``."""
        return self._prefix + normalize_key(key)

    async def get(self, key: str) -> JsonValue | None:
        """The value at ``key``; None on a miss, an expired entry or a store failure."""
        telemetry = self._telemetry
        if telemetry is None:
            return (await self._get(key))[0]
        with telemetry.call("get", self._plugin_id) as call:
            value, call.result = await self._get(key)
        return value

    async def set(self, key: str, value: JsonValue, *, ttl: CacheTtl | None = None) -> None:
        """Store ``value`` at ``key``; dropped (not raised) when the store fails."""
        telemetry = self._telemetry
        if telemetry is None:
            await self._set(key, value, ttl)
            return
        with telemetry.call("set", self._plugin_id) as call:
            call.result = await self._set(key, value, ttl)

    async def delete(self, key: str) -> None:
        """Remove ``key``; dropped (not raised) when the store fails."""
        telemetry = self._telemetry
        if telemetry is None:
            await self._delete(key)
            return
        with telemetry.call("delete", self._plugin_id) as call:
            call.result = await self._delete(key)

    async def _get(self, key: str) -> tuple[JsonValue | None, str]:
        stored = self._prefix + normalize_key(key)
        guard = self._guard
        if guard.down and not guard.may_try():
            return None, "skipped"
        try:
            entry = await self._store.get(stored)
        except self._store.errors as error:
            guard.failed("get", error, outage=self._outage(error))
            return None, "error"
        if guard.down:
            guard.succeeded()
        if entry is None or entry.expired(time.time() * 1000):
            return None, "miss"
        return entry.value, "hit"

    async def _set(self, key: str, value: JsonValue, ttl: CacheTtl | None) -> str:
        stored = self._prefix + normalize_key(key)
        ttl_ms = self._default_ttl_ms if ttl is None else ttl_to_milliseconds(ttl)
        expires = None if ttl_ms is None else int(time.time() * 1000) + ttl_ms
        # Encoded before touching the store, so a bad value raises even while the store is down.
        text = encode_entry(CacheEntry(value, expires))
        guard = self._guard
        if guard.down and not guard.may_try():
            return "skipped"
        try:
            await self._store.set(stored, text, ttl_ms)
        except self._store.errors as error:
            guard.failed("set", error, outage=self._outage(error))
            return "error"
        if guard.down:
            guard.succeeded()
        return "ok"

    async def _delete(self, key: str) -> str:
        stored = self._prefix + normalize_key(key)
        guard = self._guard
        if guard.down and not guard.may_try():
            return "skipped"
        try:
            await self._store.delete(stored)
        except self._store.errors as error:
            guard.failed("delete", error, outage=self._outage(error))
            return "error"
        if guard.down:
            guard.succeeded()
        return "ok"

    def with_options(self, *, default_ttl: CacheTtl | None = None) -> PluginCache:
        """A cache over the same keys; ``default_ttl`` (when given) replaces the default TTL."""
        default_ttl_ms = (
            self._default_ttl_ms
            if default_ttl is None
            else ttl_to_milliseconds(default_ttl, name="default_ttl")
        )
        return PluginCache(
            plugin_id=self._plugin_id,
            prefix=self._prefix,
            store=self._store,
            guard=self._guard,
            default_ttl_ms=default_ttl_ms,
            telemetry=self._telemetry,
        )

    def __repr__(self) -> str:
        return f"PluginCache(plugin_id={self._plugin_id!r}, store={self._store.name!r})"
