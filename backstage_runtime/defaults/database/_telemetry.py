"""Spans for the statements of every plugin's engine, and its pool and statement metrics.

SQLAlchemy's engine events see every statement, whether it came through
:class:`PluginDatabase`, the raw engine, or Alembic; they are registered only when the backend
records spans or metrics, so a backend without telemetry runs no hook at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from ...api.services.telemetry import TelemetryService

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Observation

__all__ = ["INSTRUMENTATION_SCOPE", "DatabaseTelemetry"]

#: The meter and tracer of the database instruments.
INSTRUMENTATION_SCOPE = "backstage-service-database"

# OpenTelemetry's names for the dialects we support (db.system.name).
_SYSTEMS = {"postgresql": "postgresql", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mariadb"}
# The conventions' advice for db.client.operation.duration, in seconds.
_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)
# Where a statement's span and start time wait for its end, on SQLAlchemy's execution context.
_SPAN = "_backstage_span"
_STARTED = "_backstage_started"


def _operation(statement: str) -> str:
    # The statement's first keyword (SELECT, INSERT, ...), the conventions' db.operation.name.
    word = statement.lstrip().split(None, 1)
    return word[0].upper() if word else ""


class DatabaseTelemetry:
    """Instruments the engines of one backend.

    Spans (``CLIENT``, named after the operation: ``SELECT``, ``INSERT``...) carry
    ``db.system.name``, ``db.namespace``, ``db.operation.name``, ``db.query.text`` (the SQL
    with placeholders, never the parameters) and ``backstage.plugin.id``. Metrics:
    ``db.client.operation.duration`` (histogram, seconds) and ``db.client.connection.count``
    (connections per ``db.client.connection.state``, ``idle`` or ``used``, and
    ``db.client.connection.pool.name``, the plugin id).
    """

    def __init__(self, telemetry: TelemetryService) -> None:
        self._engines: dict[str, AsyncEngine] = {}
        self._tracer = (
            telemetry.tracer_provider.get_tracer(INSTRUMENTATION_SCOPE)
            if telemetry.tracing_enabled
            else None
        )
        self._duration: Any = None
        if telemetry.metrics_enabled:
            meter = telemetry.meter_provider.get_meter(INSTRUMENTATION_SCOPE)
            self._duration = meter.create_histogram(
                "db.client.operation.duration",
                unit="s",
                description="Duration of database client operations.",
                explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
            )
            meter.create_observable_up_down_counter(
                "db.client.connection.count",
                [self._observe_pools],
                unit="{connection}",
                description="The number of connections that are currently in the given state.",
            )

    @property
    def enabled(self) -> bool:
        """Whether there is anything to record."""
        return self._tracer is not None or self._duration is not None

    def instrument(self, engine: AsyncEngine, plugin_id: str, *, pool: bool = True) -> None:
        """Record the statements (and with ``pool``, the pool) of ``engine``, an engine of
        ``plugin_id``."""
        if not self.enabled:
            return
        if pool:
            self._engines[plugin_id] = engine
        sync_engine = engine.sync_engine
        dialect = sync_engine.dialect.name
        base: dict[str, Any] = {
            "db.system.name": _SYSTEMS.get(dialect, dialect),
            "backstage.plugin.id": plugin_id,
        }
        database = sync_engine.url.database
        if database:
            base["db.namespace"] = database
        tracer = self._tracer
        duration = self._duration

        def before(
            _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
        ) -> None:
            if context is None:
                return
            operation = _operation(statement)
            if tracer is not None:
                attributes = {**base, "db.operation.name": operation, "db.query.text": statement}
                setattr(
                    context,
                    _SPAN,
                    tracer.start_span(
                        operation or "SQL", kind=SpanKind.CLIENT, attributes=attributes
                    ),
                )
            setattr(context, _STARTED, time.perf_counter())

        def after(
            _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
        ) -> None:
            _finish(context, statement, None)

        def on_error(exception_context: ExceptionContext) -> None:
            context = exception_context.execution_context
            statement = exception_context.statement or ""
            _finish(context, statement, exception_context.original_exception)

        def _finish(context: Any, statement: str, error: BaseException | None) -> None:
            if context is None:
                return
            span = getattr(context, _SPAN, None)
            if span is not None:
                setattr(context, _SPAN, None)
                if error is not None:
                    span.record_exception(error)
                    span.set_attribute("error.type", type(error).__name__)
                    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.end()
            started = getattr(context, _STARTED, None)
            if started is not None and duration is not None:
                setattr(context, _STARTED, None)
                attributes = {**base, "db.operation.name": _operation(statement)}
                if error is not None:
                    attributes["error.type"] = type(error).__name__
                duration.record(time.perf_counter() - started, attributes)

        event.listen(sync_engine, "before_cursor_execute", before)
        event.listen(sync_engine, "after_cursor_execute", after)
        event.listen(sync_engine, "handle_error", on_error)

    def _observe_pools(self, _options: CallbackOptions) -> Iterable[Observation]:
        from opentelemetry.metrics import Observation

        for plugin_id, engine in list(self._engines.items()):
            # Read each time: engine.dispose() replaces the pool.
            pool = engine.sync_engine.pool
            checked_out = getattr(pool, "checkedout", None)
            checked_in = getattr(pool, "checkedin", None)
            if checked_out is None or checked_in is None:
                continue  # a pool that does not count (SQLite's static one)
            name = {"db.client.connection.pool.name": plugin_id}
            yield Observation(checked_out(), {**name, "db.client.connection.state": "used"})
            yield Observation(checked_in(), {**name, "db.client.connection.state": "idle"})
