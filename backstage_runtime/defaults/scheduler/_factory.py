"""The default ``core.scheduler`` service factory."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ...api import (
    BackgroundTasksService,
    HttpRouterService,
    LifecycleService,
    LoggerService,
    PluginMetadataService,
    RootLifecycleService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api._telemetry import telemetry_service_ref
from ...api.services.auditor import AuditorService
from ...api.services.database import DatabaseService
from ...api.services.telemetry import TelemetryService

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ...api.services.scheduler import SchedulerService
    from ._scheduler import PluginScheduler, SchedulerOptions

__all__ = ["scheduler_service_factory"]


class _SchedulerRoot:
    """Shared by the plugin schedulers of one backend: tells them when the backend begins to
    stop, so that no run starts after the root before-shutdown hooks."""

    def __init__(self, options: SchedulerOptions) -> None:
        self.options = options
        self._schedulers: list[PluginScheduler] = []
        self._stopping = False

    def add(self, scheduler: PluginScheduler) -> None:
        self._schedulers.append(scheduler)
        if self._stopping:
            scheduler.stop_accepting()

    def before_shutdown(self) -> None:
        self._stopping = True
        for scheduler in self._schedulers:
            scheduler.stop_accepting()


def scheduler_service_factory(
    *,
    janitor_interval: float | timedelta = 60.0,
    max_poll_interval: float | timedelta = 5.0,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
) -> ServiceFactory[SchedulerService]:
    """The default ``core.scheduler`` factory (Backstage's ``schedulerServiceFactory``).

    Global tasks are coordinated through each plugin's own database (``core.database``): SQLite
    for a single instance, PostgreSQL when several instances share it. The scheduler of a plugin
    exists only if the plugin depends on ``core.scheduler``; it then also serves Backstage's
    ``/.backstage/scheduler/v1/tasks`` endpoints on the plugin's router.

    ``janitor_interval`` (seconds, default one minute) is how often expired leases are freed;
    ``max_poll_interval`` (default 5 s) bounds how long an instance takes to notice a task
    triggered or released elsewhere. Metrics go to the plugin's meter and spans to the tracer
    ``backstage-service-scheduler`` of ``runtime.telemetry``, unless ``meter_provider`` /
    ``tracer_provider`` are given.
    """
    janitor_seconds = _seconds(janitor_interval)
    longest_poll_seconds = _seconds(max_poll_interval)

    def create_root_context(*, root_lifecycle: RootLifecycleService, **_: object) -> _SchedulerRoot:
        # The scheduler (SQLAlchemy, croniter, OpenTelemetry) loads when a plugin first asks for
        # one.
        root = _SchedulerRoot(_options(janitor_seconds, longest_poll_seconds))
        root_lifecycle.add_before_shutdown_hook(root.before_shutdown)
        return root

    def factory(
        root: _SchedulerRoot,
        *,
        database: DatabaseService,
        logger: LoggerService,
        lifecycle: LifecycleService,
        http_router: HttpRouterService,
        plugin_metadata: PluginMetadataService,
        background_tasks: BackgroundTasksService,
        auditor: AuditorService,
        telemetry: TelemetryService,
        **_: object,
    ) -> PluginScheduler:
        from ._metrics import TRACER_ID, TaskMetrics
        from ._scheduler import PluginScheduler

        plugin_id = plugin_metadata.get_id()
        metrics = TaskMetrics(
            telemetry.plugin_meter(plugin_id)
            if meter_provider is None
            else meter_provider.get_meter(f"backstage-plugin-{plugin_id}"),
            (tracer_provider or telemetry.tracer_provider).get_tracer(TRACER_ID),
        )
        scheduler = PluginScheduler(
            plugin_id,
            database=database,
            logger=logger,
            metrics=metrics,
            options=root.options,
        )
        root.add(scheduler)
        background_tasks.start_soon(scheduler.serve, name=f"scheduler {plugin_id}")
        lifecycle.add_shutdown_hook(scheduler.shutdown)
        _mount_after_init(scheduler, auditor, http_router, lifecycle)
        return scheduler

    return create_service_factory(
        service=core_services.scheduler,
        deps={
            "root_lifecycle": core_services.root_lifecycle,
            "background_tasks": runtime_services.background_tasks,
            "database": core_services.database,
            "logger": core_services.logger,
            "lifecycle": core_services.lifecycle,
            "http_router": core_services.http_router,
            "plugin_metadata": core_services.plugin_metadata,
            "auditor": core_services.auditor,
            "telemetry": telemetry_service_ref,
        },
        create_root_context=create_root_context,
        factory=factory,
    )


def _mount_after_init(
    scheduler: PluginScheduler,
    auditor: AuditorService,
    http_router: HttpRouterService,
    lifecycle: LifecycleService,
) -> None:
    # Mounted once the plugin's init has run, after the plugin's own handlers: its routes come
    # first, as in Backstage. Requests wait at the router's lifecycle gate until then.
    def mount() -> None:
        from ._routes import scheduler_blueprint

        http_router.use(scheduler_blueprint(scheduler, auditor))

    try:
        lifecycle.add_startup_hook(mount)
    except RuntimeError:
        mount()  # created after the plugin started (e.g. looked up by a test)


def _options(janitor_interval: float, longest_poll_interval: float) -> SchedulerOptions:
    from ._global import PollIntervals
    from ._scheduler import SchedulerOptions

    return SchedulerOptions(
        janitor_interval=janitor_interval,
        poll_intervals=PollIntervals(longest=longest_poll_interval),
    )


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
