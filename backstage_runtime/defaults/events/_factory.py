"""The default ``events.service`` factory builder."""

from __future__ import annotations

from typing import Any

from ...api import (
    Config,
    LifecycleService,
    LoggerService,
    PluginMetadataService,
    RootLifecycleService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api._events_service_ref import events_service_ref
from ...api.services.events import EventsService
from ._bus import LocalEventBus
from ._events import PluginEventsService, bus_mode_warning, read_event_bus_mode

__all__ = ["events_service_factory"]


def events_service_factory() -> ServiceFactory[EventsService]:
    """The default ``events.service`` factory: one in-process bus per backend.

    Publishing is refused from the backend's first shutdown step (the root before-shutdown
    hooks); each plugin's shutdown then waits for the deliveries still running.
    """

    def create_root_context(
        *,
        root_logger: LoggerService,
        root_config: Config,
        root_lifecycle: RootLifecycleService,
        **_root_deps: Any,
    ) -> LocalEventBus:
        warning = bus_mode_warning(read_event_bus_mode(root_config))
        if warning is not None:
            root_logger.warn(warning)
        bus = LocalEventBus(root_logger)
        root_lifecycle.add_before_shutdown_hook(bus.close)
        return bus

    def factory(
        bus: LocalEventBus,
        *,
        plugin_metadata: PluginMetadataService,
        lifecycle: LifecycleService,
        **_root_deps: Any,
    ) -> PluginEventsService:
        service = PluginEventsService(plugin_id=plugin_metadata.get_id(), bus=bus)
        lifecycle.add_shutdown_hook(service.shutdown)
        return service

    return create_service_factory(
        service=events_service_ref,
        deps={
            "root_logger": core_services.root_logger,
            "root_config": core_services.root_config,
            "root_lifecycle": core_services.root_lifecycle,
            "plugin_metadata": core_services.plugin_metadata,
            "lifecycle": core_services.lifecycle,
        },
        create_root_context=create_root_context,
        factory=factory,
        # Built at every plugin's start, so a bad events.useEventBus stops the start, and its
        # warning shows at start rather than at the first publish.
        initialization="always",
    )
