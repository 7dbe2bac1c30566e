"""Remote JSON Web Key Sets, fetched once and refetched only for a key id not seen yet."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Any

import aiohttp
import anyio
from joserfc.jwk import KeySet

__all__ = ["JwksClient", "JwksUnavailableError"]

_MAX_URLS = 100
_FORCED_REFETCHES = 10
_FORCED_WINDOW_SECONDS = 60.0
_FETCH_TIMEOUT_SECONDS = 10.0


class JwksUnavailableError(Exception):
    """The key set could not be fetched (down, slow, not JSON); ``status`` when it answered."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"Could not fetch the JWKS at {url}: {reason}")
        self.status = status


class JwksClient:
    """Caches key sets per URL (at most 100 URLs, least recently used dropped).

    A token whose ``kid`` is not in the cached set triggers one refetch; such forced refetches
    are limited to 10 per minute across all URLs (as Backstage's JwksClient), so a stream of
    tokens with made-up key ids cannot turn into a stream of requests.
    """

    def __init__(self, session: aiohttp.ClientSession, *, timeout: float = _FETCH_TIMEOUT_SECONDS):
        self._session = session
        self._timeout = timeout
        self._sets: OrderedDict[str, KeySet] = OrderedDict()
        self._forced: deque[float] = deque()
        self._locks: dict[str, anyio.Lock] = {}

    async def key_set(self, url: str, kid: str | None) -> KeySet:
        """The key set at ``url``, fresh enough to contain ``kid`` if the issuer has it."""
        cached = self._sets.get(url)
        if cached is not None and (kid is None or _has_kid(cached, kid)):
            self._sets.move_to_end(url)
            return cached
        lock = self._locks.setdefault(url, anyio.Lock())
        async with lock:
            cached = self._sets.get(url)
            if cached is not None and (kid is None or _has_kid(cached, kid)):
                return cached
            if cached is not None and not self._may_force():
                return cached
            fetched = await self._fetch(url)
            self._sets[url] = fetched
            self._sets.move_to_end(url)
            while len(self._sets) > _MAX_URLS:
                self._sets.popitem(last=False)
            return fetched

    def _may_force(self) -> bool:
        now = time.monotonic()
        while self._forced and now - self._forced[0] > _FORCED_WINDOW_SECONDS:
            self._forced.popleft()
        if len(self._forced) >= _FORCED_REFETCHES:
            return False
        self._forced.append(now)
        return True

    async def fetch_status(self, url: str) -> int:
        """The HTTP status of ``url`` (for probing whether a plugin publishes a JWKS)."""
        try:
            with anyio.fail_after(self._timeout):
                async with self._session.get(url) as response:
                    return response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise JwksUnavailableError(url, f"{type(error).__name__}: {error}") from error

    async def _fetch(self, url: str) -> KeySet:
        try:
            with anyio.fail_after(self._timeout):
                async with self._session.get(url) as response:
                    if response.status != 200:
                        raise JwksUnavailableError(
                            url, f"status {response.status}", response.status
                        )
                    body: Any = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as error:
            raise JwksUnavailableError(url, f"{type(error).__name__}: {error}") from error
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list):
            raise JwksUnavailableError(url, "the response has no 'keys' list")
        usable = [
            key for key in keys if isinstance(key, dict) and key.get("kty") in ("EC", "RSA", "OKP")
        ]
        try:
            return KeySet.import_key_set({"keys": usable})
        except Exception as error:  # joserfc raises several types for malformed keys
            raise JwksUnavailableError(url, f"invalid key: {error}") from error


def _has_kid(key_set: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in key_set.keys)
