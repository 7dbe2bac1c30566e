"""Short-lived access tokens that readers obtain from a provider (GitHub App installation
tokens, Bitbucket Cloud OAuth tokens): kept until shortly before they expire, fetched once for
all concurrent callers, with requests whose every failure is a :class:`UrlReaderError`.

A token endpoint answering 404 must not become a :class:`NotFoundError`: callers treat that as
"the file does not exist" (``search`` then returns no files) and would hide a broken credential.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp
import anyio
from multidict import CIMultiDictProxy

from ...api.services.url_reader import UrlReaderError
from ._http import describe_client_error
from ._urls import redact_url

__all__ = ["JsonAnswer", "TokenCache", "request_json"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    valid_until: float


class _Flight(Generic[V]):
    """One fetch under way; its waiters read the outcome once ``done`` is set."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: V | None = None
        self.succeeded = False
        self.error: Exception | None = None


class TokenCache(Generic[K, V]):
    """Values keyed by ``K`` that expire: :meth:`get` returns the cached value while
    ``clock() < expires_at - margin`` and otherwise calls ``fetch`` for a new one.

    Concurrent callers for one key share one fetch: the first fetches while the others wait,
    then they all get its value, or its error (so that a failing endpoint is not asked again by
    every waiter in turn). ``clock`` (epoch seconds) can be replaced in tests.
    """

    def __init__(self, *, margin: float, clock: Callable[[], float] = time.time) -> None:
        self.margin = margin
        self.clock = clock
        self._entries: dict[K, _Entry[V]] = {}
        self._flights: dict[K, _Flight[V]] = {}

    async def get(self, key: K, fetch: Callable[[], Awaitable[tuple[V, float]]]) -> V:
        """The value for ``key``; ``fetch`` returns a new value and its expiry (epoch seconds)."""
        while True:
            entry = self._entries.get(key)
            if entry is not None and self.clock() < entry.valid_until:
                return entry.value
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, fetch)
            await flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.succeeded:
                return flight.value  # type: ignore[return-value]  # set with succeeded
            # The fetching caller was cancelled: the next waiter to get here fetches instead.

    async def _lead(self, key: K, fetch: Callable[[], Awaitable[tuple[V, float]]]) -> V:
        flight: _Flight[V] = _Flight()
        self._flights[key] = flight
        try:
            value, expires_at = await fetch()
            self._entries[key] = _Entry(value, expires_at - self.margin)
            flight.value, flight.succeeded = value, True
            return value
        except Exception as error:
            flight.error = error
            raise
        finally:
            self._flights.pop(key, None)
            flight.done.set()


@dataclass(frozen=True)
class JsonAnswer:
    """A decoded JSON body with the response headers (for ``Link`` pagination)."""

    body: Any
    headers: CIMultiDictProxy[str]


async def request_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    message: str,
    data: Mapping[str, str] | None = None,
    rate_limited: Callable[[aiohttp.ClientResponse], bool] | None = None,
) -> JsonAnswer:
    """``method`` ``url`` and decode its JSON body; redirects are not followed (credentials
    stay with the endpoint they were meant for).

    Any failure raises :class:`UrlReaderError` with ``message`` first, then the status (and
    ``(rate limit exceeded)`` when ``rate_limited(response)``, default: status 429). Neither
    ``headers`` nor ``data`` appear in messages: they carry the secrets.
    """
    try:
        response = await session.request(
            method, url, headers=dict(headers), data=data, allow_redirects=False
        )
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise UrlReaderError(f"{message}, {describe_client_error(error)}") from None
    try:
        if response.status >= 300:
            limited = rate_limited(response) if rate_limited is not None else response.status == 429
            text = f"{message}, {response.status} {response.reason or ''}".rstrip()
            if limited:
                text += " (rate limit exceeded)"
            raise UrlReaderError(text, status=response.status, rate_limited=limited)
        try:
            body = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as error:
            raise UrlReaderError(
                f"Invalid response from {redact_url(url)}, {describe_client_error(error)}"
            ) from None
        return JsonAnswer(body, response.headers)
    finally:
        response.release()
