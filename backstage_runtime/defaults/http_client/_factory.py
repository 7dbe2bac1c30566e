"""The default ``runtime.httpClient`` factory builder: one ``aiohttp.ClientSession`` per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ...api import ServiceFactory, create_service_factory, runtime_services
from ...api.services.telemetry import TelemetryService

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "http_client_service_factory"]

#: The tracer of the outgoing requests' spans.
INSTRUMENTATION_SCOPE = "backstage-service-httpClient"

#: The total time one request may take unless the caller passes its own ``timeout``.
DEFAULT_TIMEOUT_SECONDS = 60.0


def http_client_service_factory(
    *, timeout: float = DEFAULT_TIMEOUT_SECONDS, user_agent: str | None = None
) -> ServiceFactory[aiohttp.ClientSession]:
    """The default ``runtime.httpClient`` factory (lazy: built only when something needs it).

    With tracing on (``runtime.telemetry``), each request is a client span whose context goes
    out as the W3C ``traceparent`` header.
    """

    async def factory(*, telemetry: TelemetryService) -> AsyncIterator[aiohttp.ClientSession]:
        # aiohttp loads with the session, when something first needs outgoing HTTP; so does the
        # version, read from the installed distribution's metadata.
        import aiohttp

        from ..._version import __version__

        headers = {"User-Agent": user_agent or f"backstage-runtime/{__version__}"}
        trace_configs = []
        if telemetry.tracing_enabled:
            from ._tracing import tracing_trace_config

            tracer = telemetry.tracer_provider.get_tracer(INSTRUMENTATION_SCOPE)
            trace_configs.append(tracing_trace_config(tracer))
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout),
            headers=headers,
            trace_configs=trace_configs or None,
        )
        try:
            yield session
        finally:
            await session.close()

    return create_service_factory(
        service=runtime_services.http_client,
        deps={"telemetry": runtime_services.telemetry},
        factory=factory,
        initialization="lazy",
    )
