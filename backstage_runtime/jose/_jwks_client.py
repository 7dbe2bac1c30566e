"""Remote JSON Web Key Sets: cached per URL, refetched for a key id not seen yet, at a bounded
rate per URL, one fetch shared by everyone waiting for it.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    import aiohttp
    from joserfc.jwk import KeySet

__all__ = ["JwksClient", "JwksUnavailableError"]

_MAX_URLS = 100
_MAX_UNKNOWN_KIDS = 64
# Longer "key ids" are not worth remembering (real ones are UUIDs or thumbprints), and storing
# them would let a caller spend this cache's memory with a few huge headers.
_MAX_REMEMBERED_KID_LENGTH = 128
_REFETCH_INTERVAL_SECONDS = 0.5
_NEGATIVE_TTL_SECONDS = 5.0
_FETCH_TIMEOUT_SECONDS = 10.0


class JwksUnavailableError(Exception):
    """The key set could not be fetched (down, slow, not JSON); ``status`` when it answered."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"Could not fetch the JWKS at {url}: {reason}")
        self.url = url
        self.status = status


class _Fetch:
    """One request for a URL's key set, awaited by every caller that needs it."""

    __slots__ = ("done", "error", "started")

    def __init__(self) -> None:
        self.done = anyio.Event()
        # Set when the request is sent: a caller that arrived later needs a newer fetch.
        self.started = math.inf
        self.error: JwksUnavailableError | None = None


class _Issuer:
    """What is known about one JWKS URL."""

    __slots__ = ("failed_at", "failure", "inflight", "keys", "last", "last_started", "unknown")

    def __init__(self) -> None:
        self.keys: KeySet | None = None
        self.inflight: _Fetch | None = None
        self.last: _Fetch | None = None  # the last fetch that completed
        self.last_started = -math.inf
        self.failure: JwksUnavailableError | None = None
        self.failed_at = -math.inf
        # Key ids missing from a fetch sent after they were asked for -> when that was found.
        self.unknown: OrderedDict[str, float] = OrderedDict()


class JwksClient:
    """Caches key sets per URL (at most ``max_urls``, least recently used dropped).

    A token whose ``kid`` is not in the cached set waits for a fetch sent after it arrived, so a
    key published before its first use is always found. Fetches of one URL are at least
    ``refetch_interval`` seconds apart and shared: however many tokens with unknown key ids
    arrive, a URL sees at most one request per interval, and a flood aimed at one issuer (or
    many) never delays another issuer's new key by more than one interval. Negative answers (the
    URL failed, or a key id was still missing after a fresh fetch) are remembered for
    ``negative_ttl`` seconds. Backstage instead allows 10 forced refetches a minute for the whole
    client, which a stream of made-up key ids uses up for everyone.

    ``session`` is the session to fetch with, or a coroutine function giving it on the first
    fetch (a deferred ``runtime.httpClient``: aiohttp then loads when a key set is first needed,
    not at the backend's start). ``clock`` (seconds, monotonic) drives intervals and expiry;
    tests pass a controllable one. ``on_fetch(url, succeeded)`` is told of every fetch that ended
    (the backend counts them).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | Callable[[], Awaitable[aiohttp.ClientSession]],
        *,
        timeout: float = _FETCH_TIMEOUT_SECONDS,
        max_urls: int = _MAX_URLS,
        refetch_interval: float = _REFETCH_INTERVAL_SECONDS,
        negative_ttl: float = _NEGATIVE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        on_fetch: Callable[[str, bool], None] | None = None,
    ):
        self._session = session
        self._on_fetch = on_fetch
        self._timeout = timeout
        self._max_urls = max_urls
        self._interval = refetch_interval
        self._negative_ttl = negative_ttl
        self._clock = clock
        self._issuers: OrderedDict[str, _Issuer] = OrderedDict()

    @property
    def cached_urls(self) -> int:
        """How many URLs the cache holds state for (never more than ``max_urls``)."""
        return len(self._issuers)

    async def key_set(self, url: str, kid: str | None) -> KeySet:
        """The key set at ``url``, fresh enough to contain ``kid`` if the issuer has it.

        Raises :class:`JwksUnavailableError` when the URL failed (now or within the negative
        TTL) and the cached set, if any, lacks ``kid``.
        """
        arrived = self._clock()
        issuer = self._issuer(url)
        while True:
            keys = issuer.keys
            if keys is not None and (kid is None or _has_kid(keys, kid)):
                return keys
            now = self._clock()
            if issuer.failure is not None and now - issuer.failed_at < self._negative_ttl:
                raise issuer.failure
            if keys is not None and kid is not None:
                missing_since = issuer.unknown.get(kid)
                if missing_since is not None and now - missing_since < self._negative_ttl:
                    return keys
            last = issuer.last
            if last is not None and last.started >= arrived:
                # A fetch sent after this caller arrived has answered: that is the freshest
                # answer there is, even when its negative memory has already expired.
                if last.error is not None:
                    raise last.error
                assert keys is not None
                if kid is not None:
                    self._remember_unknown(issuer, kid, now)
                return keys
            inflight = issuer.inflight
            if inflight is not None:
                await inflight.done.wait()
                continue
            await self._refetch(url, issuer)

    def _issuer(self, url: str) -> _Issuer:
        issuer = self._issuers.get(url)
        if issuer is None:
            issuer = self._issuers[url] = _Issuer()
            while len(self._issuers) > self._max_urls:
                # A caller still waiting on an evicted issuer keeps its own reference.
                self._issuers.popitem(last=False)
        else:
            self._issuers.move_to_end(url)
        return issuer

    def _remember_unknown(self, issuer: _Issuer, kid: str, now: float) -> None:
        if len(kid) > _MAX_REMEMBERED_KID_LENGTH:
            return
        issuer.unknown[kid] = now
        issuer.unknown.move_to_end(kid)
        while len(issuer.unknown) > _MAX_UNKNOWN_KIDS:
            issuer.unknown.popitem(last=False)

    async def _refetch(self, url: str, issuer: _Issuer) -> None:
        """Fetch ``url`` once the interval since the last fetch has passed; callers arriving
        meanwhile wait for this fetch instead of starting their own.
        """
        fetch = issuer.inflight = _Fetch()
        try:
            delay = issuer.last_started + self._interval - self._clock()
            if delay > 0:
                await anyio.sleep(delay)
            fetch.started = issuer.last_started = self._clock()
            try:
                keys = await self._fetch(url)
            except JwksUnavailableError as error:
                fetch.error = issuer.failure = error
                issuer.failed_at = self._clock()
                if self._on_fetch is not None:
                    self._on_fetch(url, False)
            else:
                issuer.keys = keys
                issuer.failure = None
                if self._on_fetch is not None:
                    self._on_fetch(url, True)
            issuer.last = fetch
        finally:
            # Also on cancellation: the waiters wake up, see no newer answer, and one of them
            # fetches instead.
            if issuer.inflight is fetch:
                issuer.inflight = None
            fetch.done.set()

    async def _fetch(self, url: str) -> KeySet:
        # Loaded with the first fetch rather than at start (aiohttp with the session).
        import aiohttp
        from joserfc.jwk import KeySet

        session = self._session
        if callable(session):
            session = await session()
        try:
            with anyio.fail_after(self._timeout):
                async with session.get(url) as response:
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
        except Exception as error:  # joserfc raises several types for a malformed key
            raise JwksUnavailableError(url, f"invalid key: {error}") from error


def _has_kid(key_set: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in key_set.keys)
