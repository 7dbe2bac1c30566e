"""Services the runtime itself provides beyond Backstage's core set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._refs import ServiceRef, create_service_ref
from ._telemetry import telemetry_service_ref
from .services.telemetry import TelemetryService

if TYPE_CHECKING:
    # Only for the annotation: the API layer does not import aiohttp.
    from aiohttp import ClientSession

__all__ = ["BackgroundTasksService", "runtime_services"]


class BackgroundTasksService(Protocol):
    """Runs long-lived tasks (servers, pollers) in the backend's own task group.

    Tasks start immediately and are cancelled when the backend stops, after the root shutdown
    hooks ran. A task that raises is logged and does not bring the backend down.
    """

    def start_soon(self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str) -> None:
        """Start ``fn(*args)`` as a background task called ``name``."""


class _RuntimeServices:
    """Refs to services that exist because Python needs them (Backstage has no equivalent)."""

    __slots__ = ()

    background_tasks: Final[ServiceRef[BackgroundTasksService]] = create_service_ref(
        id="runtime.backgroundTasks", scope="root"
    )
    #: The backend's one outgoing HTTP client (an ``aiohttp.ClientSession``), shared by every
    #: service that calls out (JWKS, the permission backend, URL readers); closed at shutdown.
    http_client: Final[ServiceRef[ClientSession]] = create_service_ref(
        id="runtime.httpClient", scope="root"
    )
    #: The backend's OpenTelemetry providers (``runtime.telemetry``), which the core services
    #: instrument themselves with; without a factory, the global (by default no-op) providers.
    telemetry: Final[ServiceRef[TelemetryService]] = telemetry_service_ref


#: Runtime-provided service refs.
runtime_services: Final = _RuntimeServices()
