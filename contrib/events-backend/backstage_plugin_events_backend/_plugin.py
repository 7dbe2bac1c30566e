"""The ``events`` plugin (Node's ``eventsPlugin`` of ``@backstage/plugin-events-backend``)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from backstage_runtime import (
    Config,
    ConfigError,
    DatabaseService,
    EventsService,
    HttpAuthService,
    HttpRouterService,
    LifecycleService,
    LoggerService,
    PluginRegistrationPoints,
    RootLifecycleService,
    SchedulerService,
    core_services,
    create_backend_plugin,
    events_service_ref,
)

from ._bus_routes import DEFAULT_NOTIFY_TIMEOUT_MS, create_bus_routes
from ._database_store import DatabaseEventBusStore
from ._extension_point import HttpBodyParser, RequestValidator, events_extension_point
from ._ingress import create_ingress_routes, ingress_topics
from ._memory_store import MemoryEventBusStore
from ._pg_listener import KEEPALIVE_INTERVAL
from ._store import EventBusStore

__all__ = ["NOTIFY_TIMEOUT_KEY", "events_plugin"]

#: How long (ms) a poll with nothing to read is held open (Node's ``events.notifyTimeoutMs``).
NOTIFY_TIMEOUT_KEY: Final = "events.notifyTimeoutMs"

_MIGRATIONS: Final = Path(__file__).parent / "migrations"


class _EventsExtensionPoint:
    """What modules add through ``events_extension_point``, read once the plugin starts."""

    def __init__(self) -> None:
        self.ingresses: dict[str, RequestValidator | None] = {}
        self.body_parsers: dict[str, HttpBodyParser] = {}

    def add_http_post_ingress(self, topic: str, validator: RequestValidator | None = None) -> None:
        """Serve ``POST /api/events/http/<topic>`` (a later call for a topic replaces it)."""
        if not topic or "/" in topic:
            raise ValueError(f"Invalid HTTP ingress topic '{topic}'")
        self.ingresses[topic] = validator

    def add_http_body_parser(self, content_type: str, parser: HttpBodyParser) -> None:
        """Read ingress bodies of ``content_type`` with ``parser``."""
        self.body_parsers[content_type.lower()] = parser


def _notify_timeout_ms(config: Config) -> int:
    value = config.get_optional_number(NOTIFY_TIMEOUT_KEY)
    if value is None:
        return DEFAULT_NOTIFY_TIMEOUT_MS
    if value < 0:
        raise ConfigError(f"Invalid {NOTIFY_TIMEOUT_KEY} config, must be >= 0, got {value}")
    return int(value)


async def _create_store(
    database: DatabaseService, scheduler: SchedulerService, logger: LoggerService
) -> EventBusStore:
    """The database store on PostgreSQL; elsewhere, as Node does, the memory store."""
    engine = await database.get_client()
    if engine.dialect.name != "postgresql":
        logger.info("Database is not PostgreSQL, using memory store")
        return MemoryEventBusStore()
    logger.info("Database is PostgreSQL, using database store")
    await database.migrate(_MIGRATIONS)
    store = DatabaseEventBusStore(engine, logger)
    await scheduler.schedule_task(
        id="event-bus-cleanup",
        frequency={"seconds": 10},
        timeout={"minutes": 1},
        initial_delay={"seconds": 10},
        fn=store.cleanup,
    )
    # Each instance checks its own listening connection.
    await scheduler.schedule_task(
        id="event-bus-listener-keepalive",
        frequency=KEEPALIVE_INTERVAL,
        timeout={"seconds": 30},
        initial_delay=KEEPALIVE_INTERVAL,
        scope="local",
        fn=store.keepalive,
    )
    return store


def _register(env: PluginRegistrationPoints) -> None:
    extension_point = _EventsExtensionPoint()
    env.register_extension_point(events_extension_point, extension_point)

    async def init(
        *,
        config: Config,
        events: EventsService,
        database: DatabaseService,
        logger: LoggerService,
        scheduler: SchedulerService,
        lifecycle: LifecycleService,
        root_lifecycle: RootLifecycleService,
        http_auth: HttpAuthService,
        http: HttpRouterService,
    ) -> None:
        ingress = create_ingress_routes(
            topics=ingress_topics(config, extension_point.ingresses),
            events=events,
            logger=logger,
            body_parsers=extension_point.body_parsers,
        )
        http.use(ingress)
        bus_logger = logger.child({"type": "EventBus"})
        store = await _create_store(database, scheduler, bus_logger)
        http.use(
            create_bus_routes(
                store=store,
                http_auth=http_auth,
                logger=bus_logger,
                notify_timeout_ms=_notify_timeout_ms(config),
            )
        )
        # Webhooks come from outside: their validators (if any) check them, not the barrier.
        http.add_auth_policy(path="/http", allow="unauthenticated")
        # Before the server drains its requests: the polls held open end now (their clients
        # read again elsewhere) instead of holding the stop for their whole timeout.
        root_lifecycle.add_before_shutdown_hook(store.close)
        lifecycle.add_shutdown_hook(store.close)

    env.register_init(
        deps={
            "config": core_services.root_config,
            "events": events_service_ref,
            "database": core_services.database,
            "logger": core_services.logger,
            "scheduler": core_services.scheduler,
            "lifecycle": core_services.lifecycle,
            "root_lifecycle": core_services.root_lifecycle,
            "http_auth": core_services.http_auth,
            "http": core_services.http_router,
        },
        init=init,
    )


#: The ``events`` plugin: the event bus between backend instances under ``/api/events/bus/v1``
#: and HTTP ingress for webhooks under ``/api/events/http/<topic>``.
events_plugin = create_backend_plugin(plugin_id="events", register=_register)
