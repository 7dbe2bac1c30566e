"""Outgoing requests of the readers: redirects followed by hand, errors mapped as Backstage does.

Every reader goes through :func:`open_url` so that redirects are bounded (5 hops, as the fetch
reader in Backstage), each hop can be checked (the fetch reader's allow-list), credentials are
never sent to another origin, and no error message carries a secret.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from ...api.errors import NotFoundError, NotModifiedError
from ...api.services.url_reader import UrlReaderError
from ._urls import redact_url

__all__ = [
    "ARCHIVE_TIMEOUT",
    "MAX_REDIRECTS",
    "ResponseBody",
    "conditional_headers",
    "describe_client_error",
    "format_http_date",
    "get_json",
    "iter_body",
    "open_url",
    "parse_last_modified",
    "raise_for_status",
]

#: Redirects followed before giving up, as Backstage's fetch reader.
MAX_REDIRECTS = 5

#: Archives may take longer than the shared session's total timeout; bound stalls instead.
ARCHIVE_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials: dropped when a redirect leaves the origin they were meant for.
_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "private-token", "cookie", "proxy-authorization", "x-api-key"}
)
_USERINFO = re.compile(r"//[^/@\s]+@")


def describe_client_error(error: BaseException) -> str:
    """``<Type>: <message>`` for a transport error, with any user-info in URLs masked."""
    text = _USERINFO.sub("//***@", str(error))
    if isinstance(error, asyncio.TimeoutError | TimeoutError) and not text:
        text = "timed out"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def open_url(
    session: aiohttp.ClientSession,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    check_hop: Callable[[str], None] | None = None,
    timeout: aiohttp.ClientTimeout | None = None,
) -> aiohttp.ClientResponse:
    """GET ``url`` and follow up to :data:`MAX_REDIRECTS` redirects; the caller releases the
    returned response.

    ``check_hop(next_url)`` runs before each redirect is followed and may raise to refuse it.
    Transport failures raise :class:`UrlReaderError` (``Unable to read <url>, <cause>``).
    """
    current = url
    request_headers = dict(headers or {})
    options: dict[str, Any] = {"allow_redirects": False}
    if timeout is not None:
        options["timeout"] = timeout
    for hop in range(MAX_REDIRECTS + 1):
        try:
            response = await session.get(current, headers=request_headers, **options)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise UrlReaderError(
                f"Unable to read {redact_url(url)}, {describe_client_error(error)}"
            ) from None
        location = response.headers.get("Location")
        if response.status not in _REDIRECT_STATUSES or not location:
            return response
        response.release()
        if hop == MAX_REDIRECTS:
            raise UrlReaderError(
                f"Too many redirects (max {MAX_REDIRECTS}) while reading {redact_url(url)}"
            )
        next_url = urljoin(current, location)
        if check_hop is not None:
            check_hop(next_url)
        if _origin(next_url) != _origin(current):
            request_headers = {
                name: value
                for name, value in request_headers.items()
                if name.lower() not in _CREDENTIAL_HEADERS
            }
        current = next_url
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def raise_for_status(
    response: aiohttp.ClientResponse, message: str, *, rate_limited: bool | None = None
) -> None:
    """Raise unless ``response`` succeeded, releasing it first.

    304 → :class:`NotModifiedError`; 404 → :class:`NotFoundError`; anything else →
    :class:`UrlReaderError`. ``message`` gets ``, <status> <reason>`` appended, and
    `` (rate limit exceeded)`` when ``rate_limited`` (default: status 429).
    """
    if response.status < 300:
        return
    response.release()
    if response.status == 304:
        raise NotModifiedError()
    full = f"{message}, {response.status} {response.reason or ''}".rstrip()
    if response.status == 404:
        raise NotFoundError(full)
    limited = response.status == 429 if rate_limited is None else rate_limited
    if limited:
        full += " (rate limit exceeded)"
    raise UrlReaderError(full, status=response.status, rate_limited=limited)


async def get_json(
    session: aiohttp.ClientSession,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    message: str | None = None,
    rate_limited: Callable[[aiohttp.ClientResponse], bool] | None = None,
) -> Any:
    """GET ``url`` and decode its JSON body; errors as :func:`raise_for_status` (``message``
    defaults to ``Request failed for <url>``).
    """
    response = await open_url(session, url, headers=headers)
    try:
        raise_for_status(
            response,
            message or f"Request failed for {redact_url(url)}",
            rate_limited=rate_limited(response) if rate_limited is not None else None,
        )
        try:
            return await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as error:
            raise UrlReaderError(
                f"Invalid response from {redact_url(url)}, {describe_client_error(error)}"
            ) from None
    finally:
        response.release()


class ResponseBody:
    """The body of ``response`` as an async iterator of chunks. The connection is released at
    the end of the body, on a transport error, or by :meth:`aclose` (also when never iterated,
    which an async generator could not do).
    """

    def __init__(
        self, response: aiohttp.ClientResponse, *, source: str, chunk_size: int = 64 * 1024
    ) -> None:
        self._response = response
        self._source = source
        self._chunk_size = chunk_size

    def __aiter__(self) -> ResponseBody:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._response.content.read(self._chunk_size)
        except (aiohttp.ClientError, TimeoutError) as error:
            self._response.release()
            raise UrlReaderError(
                f"Unable to read {self._source}, {describe_client_error(error)}"
            ) from None
        if not chunk:
            self._response.release()
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Release the connection; the rest of the body is discarded."""
        self._response.release()


def iter_body(response: aiohttp.ClientResponse, *, source: str) -> ResponseBody:
    """:class:`ResponseBody` over ``response`` (``source`` names it in errors)."""
    return ResponseBody(response, source=source)


def conditional_headers(etag: str | None, last_modified_after: datetime | None) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` for the caller's ``etag`` and date."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified_after is not None:
        headers["If-Modified-Since"] = format_http_date(last_modified_after)
    return headers


def parse_last_modified(value: str | None) -> datetime | None:
    """A ``Last-Modified`` header as an aware datetime, or None when absent or invalid."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_http_date(value: datetime) -> str:
    """``value`` as an HTTP date (``If-Modified-Since``); naive datetimes are taken as UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return format_datetime(aware.astimezone(UTC), usegmt=True)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.rsplit("@", 1)[-1].lower()
