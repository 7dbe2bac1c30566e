"""The default ``runtime.httpClient`` factory builder: one ``aiohttp.ClientSession`` per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..._version import __version__
from ...api import ServiceFactory, create_service_factory, runtime_services

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "http_client_service_factory"]

#: The total time one request may take unless the caller passes its own ``timeout``.
DEFAULT_TIMEOUT_SECONDS = 60.0


def http_client_service_factory(
    *, timeout: float = DEFAULT_TIMEOUT_SECONDS, user_agent: str | None = None
) -> ServiceFactory[aiohttp.ClientSession]:
    """The default ``runtime.httpClient`` factory (lazy: built only when something needs it)."""

    async def factory() -> AsyncIterator[aiohttp.ClientSession]:
        # aiohttp loads with the session, when something first needs outgoing HTTP.
        import aiohttp

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
