"""A plugin that touches every instrumented service, and a backend that records telemetry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from quart import Blueprint

from backstage_runtime import BackendPlugin, core_services, create_backend_plugin, runtime_services
from backstage_runtime.defaults.scheduler import scheduler_service_factory
from backstage_runtime.defaults.telemetry import BackendTelemetry, telemetry_service_factory
from backstage_runtime.testing import TestBackend, start_test_backend

#: A caller's W3C trace context: trace 0af7...319c, parent span b7ad...3331, sampled.
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"

POSTGRES = {"client": "pg", "connection": {"host": "127.0.0.1", "port": 5432, "user": "postgres"}}


class Upstream:
    """Where the plugin's outgoing call goes (set by a test that serves one)."""

    url: str | None = None


def busy_plugin(
    upstream: Upstream | None = None, *, ticks: list[int] | None = None
) -> BackendPlugin:
    """Plugin ``todo``: ``GET /api/todo/items/<item_id>`` runs a statement, reads and writes the
    cache, logs a line and (with an upstream URL) calls out; a local task ``tick`` runs every
    50 ms and appends to ``ticks``."""

    def register(env: Any) -> None:
        async def init(
            *,
            http_router: Any,
            database: Any,
            cache: Any,
            logger: Any,
            http_client: Any,
            scheduler: Any,
        ) -> None:
            blueprint = Blueprint("todo", __name__)

            @blueprint.get("/items/<item_id>")
            async def item(item_id: str) -> dict[str, Any]:
                engine = await database.get_client()
                async with engine.connect() as connection:
                    value = (await connection.execute(sa.text("SELECT 1"))).scalar()
                cached = await cache.get(f"item-{item_id}")
                await cache.set(f"item-{item_id}", {"id": item_id})
                logger.info(f"served item {item_id}")
                upstream_status = None
                if upstream is not None and upstream.url is not None:
                    async with http_client.get(upstream.url) as response:
                        upstream_status = response.status
                return {"value": value, "cached": cached, "upstream": upstream_status}

            http_router.use(blueprint)
            http_router.add_auth_policy(path="/", allow="unauthenticated")

            if ticks is not None:

                async def tick() -> None:
                    ticks.append(len(ticks))

                await scheduler.schedule_task(
                    id="tick",
                    frequency={"milliseconds": 50},
                    timeout={"seconds": 5},
                    scope="local",
                    fn=tick,
                )

        env.register_init(
            deps={
                "http_router": core_services.http_router,
                "database": core_services.database,
                "cache": core_services.cache,
                "logger": core_services.logger,
                "http_client": runtime_services.http_client,
                "scheduler": core_services.scheduler,
            },
            init=init,
        )

    return create_backend_plugin(plugin_id="todo", register=register)


@asynccontextmanager
async def telemetry_backend(
    features: Sequence[object] = (),
    *,
    config: Mapping[str, Any] | None = None,
    span_processors: Sequence[Any] = (),
    metric_readers: Sequence[Any] = (),
) -> AsyncIterator[tuple[TestBackend, BackendTelemetry]]:
    """A test backend with the real scheduler and the default telemetry factory."""
    async with start_test_backend(
        features=[
            scheduler_service_factory(janitor_interval=0.2, max_poll_interval=1.0),
            telemetry_service_factory(
                span_processors=span_processors, metric_readers=metric_readers
            ),
            *features,
        ],
        config=dict(config or {}),
    ) as backend:
        telemetry = await backend.backend.get_service(runtime_services.telemetry)
        assert isinstance(telemetry, BackendTelemetry)
        yield backend, telemetry
