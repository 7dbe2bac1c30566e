"""Default ``runtime.httpClient``: one ``aiohttp.ClientSession`` per backend, built on first use.

Usage in a service or plugin::

    deps={"http": runtime_services.http_client}
    ...
    async with http.get(url) as response:
        data = await response.json()

Reusing one session keeps connections pooled across every caller; it is closed after the root
shutdown hooks, so plugins can still use it in their own shutdown hooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from ...api import ServiceFactory, create_service_factory, runtime_services

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "http_client_service_factory"]

#: The total time one request may take unless the caller passes its own ``timeout``.
DEFAULT_TIMEOUT_SECONDS = 60.0


def http_client_service_factory(
    *, timeout: float = DEFAULT_TIMEOUT_SECONDS, user_agent: str | None = None
) -> ServiceFactory[Any]:
    """The default ``runtime.httpClient`` factory (lazy: built only when something needs it)."""

    async def factory() -> AsyncIterator[aiohttp.ClientSession]:
        from ... import __version__

        headers = {"User-Agent": user_agent or f"backstage-runtime/{__version__}"}
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout), headers=headers
        )
        try:
            yield session
        finally:
            await session.close()

    return create_service_factory(
        service=runtime_services.http_client, factory=factory, initialization="lazy"
    )
