"""The default ``events.service`` factory builder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from ...api import (
    BackgroundTasksService,
    Config,
    Deferred,
    DiscoveryService,
    LifecycleService,
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api._events_service_ref import events_service_ref
from ...api.services.auth import AuthService
from ._mode import EventBusMode, read_event_bus_mode

if TYPE_CHECKING:
    import aiohttp

    from ...api.services.events import EventsService
    from ._bus import LocalEventBus
    from ._events import PluginEventsService
    from ._remote import Sleep

__all__ = ["events_service_factory"]


class _EventsRoot:
    """What every plugin's events service of one backend shares: the bus and the mode."""

    def __init__(self, bus: LocalEventBus, mode: EventBusMode) -> None:
        self.bus = bus
        self.mode = mode


def events_service_factory(*, sleep: Sleep | None = None) -> ServiceFactory[EventsService]:
    """The default ``events.service`` factory: one in-process bus per backend, plus the events
    backend between instances as ``events.useEventBus`` (``never``/``always``/``auto``, default
    ``auto``) says.

    Each plugin's publishing is refused from its shutdown on (as Backstage's, after the root
    before-shutdown hooks: during ``backend.lifecycle.serverShutdownDelay`` the server still
    serves, and requests that publish still work); that shutdown also stops its polls and
    waits for the deliveries still running. ``sleep`` waits out the poll backoff (default
    :func:`anyio.sleep`; tests pass one that records the delays).
    """

    def create_root_context(
        *,
        root_logger: LoggerService,
        root_config: Config,
        **_root_deps: Any,
    ) -> _EventsRoot:
        from ._bus import LocalEventBus

        mode = read_event_bus_mode(root_config) or "auto"
        return _EventsRoot(LocalEventBus(root_logger), mode)

    async def factory(
        root: _EventsRoot,
        *,
        plugin_metadata: PluginMetadataService,
        lifecycle: LifecycleService,
        logger: LoggerService,
        discovery: DiscoveryService,
        auth: AuthService,
        http_client: Deferred[aiohttp.ClientSession],
        background_tasks: BackgroundTasksService,
        **_root_deps: Any,
    ) -> PluginEventsService:
        from ._events import PluginEventsService

        remote = None
        if root.mode != "never":
            # The bus client, the shared session and aiohttp load with the first plugin's
            # events service that talks to the events backend; ``never`` needs none of them.
            from ._bus_client import EventBusClient
            from ._remote import RemoteBus

            client = EventBusClient(session=await http_client(), discovery=discovery, auth=auth)
            remote = RemoteBus(
                client=client, mode=root.mode, logger=logger, sleep=sleep or anyio.sleep
            )
        service = PluginEventsService(
            plugin_id=plugin_metadata.get_id(),
            bus=root.bus,
            remote=remote,
            background_tasks=background_tasks,
        )
        lifecycle.add_shutdown_hook(service.shutdown)
        return service

    return create_service_factory(
        service=events_service_ref,
        deps={
            "root_logger": core_services.root_logger,
            "root_config": core_services.root_config,
            "plugin_metadata": core_services.plugin_metadata,
            "lifecycle": core_services.lifecycle,
            "logger": core_services.logger,
            "discovery": core_services.discovery,
            "auth": core_services.auth,
            "http_client": runtime_services.http_client,
            "background_tasks": runtime_services.background_tasks,
        },
        create_root_context=create_root_context,
        factory=factory,
        deferred=("http_client",),
    )
