"""The default ``core.rootHttpRouter`` factory builder."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

from ...api import (
    BackgroundTasksService,
    Config,
    LoggerService,
    RootLifecycleService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api._telemetry import telemetry_service_ref
from ...api.errors import ConfigError
from ...api.services.http import RootHealthService, RootHttpRouterService
from ...api.services.lifecycle import read_shutdown_hook_timeout
from ...api.services.telemetry import TelemetryService
from ...http_toolkit import (
    ErrorResponder,
    ListenOptions,
    RateLimiter,
    development_mode,
    inherited_listening_socket,
    mount_handler,
    open_listening_socket,
    open_rate_limit_store,
    read_global_rate_limit,
    read_listen_options,
    read_trust_proxy,
)
from ._app import RootHttpApp
from ._configure import ConfigureRootHttpRouter, RootHttpRouterConfigureContext
from ._cors import read_cors_policy
from ._in_flight import InFlightRequests
from ._pipeline import default_pipeline
from ._router import RootHttpRouter
from ._routes import DEFAULT_INDEX_PATH, RouteTable
from ._security_headers import security_headers
from ._server import CUT_WRITE_SECONDS, HttpServer
from ._server_limits import read_server_limits
from ._settings import read_health_headers, read_keep_alive_timeout, read_server_shutdown_delay
from ._tls import read_tls_context

__all__ = ["root_http_router_service_factory"]


def root_http_router_service_factory(
    *,
    serve: bool = True,
    index_path: str | None = DEFAULT_INDEX_PATH,
    log_requests: bool = True,
    default_listen: ListenOptions | None = None,
    certificate_cache_dir: Path | None = None,
    configure: ConfigureRootHttpRouter | None = None,
) -> ServiceFactory[RootHttpRouterService]:
    """The default ``core.rootHttpRouter`` factory.

    ``serve=False`` skips the socket: mount :attr:`RootHttpRouter.asgi_app` (or
    ``backend.asgi_app``) in another ASGI server. ``index_path`` is the mount that also receives
    unmatched non-``/api/`` requests (None disables it). ``log_requests=False`` drops the
    per-request log line. ``default_listen`` replaces the default address (port 7007 on every
    interface) when ``backend.listen`` is not configured. ``certificate_cache_dir`` is where
    ``backend.https: true`` keeps its generated certificate (default ``~/.cache``).

    ``configure`` assembles the root pipeline, as Backstage's ``configure`` option: it gets a
    :class:`RootHttpRouterConfigureContext` (the default pieces, ``apply_defaults()``, ``use``,
    ``insert_before``/``insert_after``/``replace``/``remove`` by piece name, ``use_route``, the
    config, logger and lifecycle) and may be async. Without it the defaults are applied as they
    are.
    """

    async def factory(
        *,
        config: Config,
        logger: LoggerService,
        lifecycle: RootLifecycleService,
        health: RootHealthService,
        background_tasks: BackgroundTasksService,
        telemetry: TelemetryService,
    ) -> RootHttpRouter:
        http_logger = logger.child({"service": "rootHttpRouter"})
        errors = ErrorResponder(
            http_logger.child({"type": "errorHandler"}), include_stack=development_mode()
        )
        routes = RouteTable(index_path)
        in_flight = InFlightRequests()
        rate_limiter: RateLimiter | None = None
        policy = read_global_rate_limit(config)
        if policy is not None:
            # rate-limit-redis's default prefix: the global counters are keyed as Node's.
            store = open_rate_limit_store(config, prefix="rl")
            rate_limiter = RateLimiter(policy, store, http_logger.child({"type": "rateLimit"}))
            lifecycle.add_shutdown_hook(store.aclose)
        defaults = default_pipeline(
            in_flight=in_flight,
            errors=errors,
            health=health,
            health_headers=read_health_headers(config),
            security_headers=security_headers(config),
            cors=read_cors_policy(config),
            request_logger=http_logger if log_requests else None,
            trust_proxy=read_trust_proxy(config),
            rate_limiter=rate_limiter,
            telemetry=telemetry,
        )

        def mount(path: str, handler: Any) -> None:
            routes.add(path, mount_handler(handler, f"root{path}", errors, relative_urls=False))

        context = RootHttpRouterConfigureContext(
            config=config,
            logger=http_logger,
            lifecycle=lifecycle,
            defaults=defaults,
            mount=mount,
        )
        if configure is None:
            context.apply_defaults()
        else:
            outcome = configure(context)
            if inspect.isawaitable(outcome):
                await outcome
        app = RootHttpApp(routes=routes, pieces=context.pieces, in_flight=in_flight)
        server: HttpServer | None = None
        if serve:
            server = _start_server(
                app, config, http_logger, background_tasks, default_listen, certificate_cache_dir
            )
            grace = read_server_shutdown_delay(config)
            drain_timeout = read_shutdown_hook_timeout(config)
            running = server

            async def drain() -> None:
                await running.drain(grace, drain_timeout)

            async def close() -> None:
                await running.close(drain_timeout)

            # Before any plugin shuts down: nothing a request needs is gone while it runs. The
            # drain and the close share one budget (the close waits what the drain left).
            lifecycle.add_before_shutdown_hook(
                drain, timeout=grace + drain_timeout + CUT_WRITE_SECONDS + 1
            )
            lifecycle.add_shutdown_hook(close, timeout=drain_timeout + CUT_WRITE_SECONDS + 1)
        return RootHttpRouter(app, routes, errors, server)

    return create_service_factory(
        service=core_services.root_http_router,
        deps={
            "config": core_services.root_config,
            "logger": core_services.root_logger,
            "lifecycle": core_services.root_lifecycle,
            "health": core_services.root_health,
            "background_tasks": runtime_services.background_tasks,
            "telemetry": telemetry_service_ref,
        },
        factory=factory,
    )


def _start_server(
    app: RootHttpApp,
    config: Config,
    logger: LoggerService,
    background_tasks: BackgroundTasksService,
    default_listen: ListenOptions | None,
    certificate_cache_dir: Path | None,
) -> HttpServer:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise ConfigError(
            "The HTTP server (Hypercorn with Quart) needs asyncio, but the backend runs on "
            "another event loop; create the backend with serve_http=False to serve it yourself"
        ) from None
    if default_listen is not None and not config.has("backend.listen"):
        options = default_listen
    else:
        options = read_listen_options(config)
    tls = read_tls_context(config, cache_dir=certificate_cache_dir)
    # Under `serve --workers` every worker serves the supervisor's one socket.
    sock = inherited_listening_socket() or open_listening_socket(options)
    server = HttpServer(
        app,
        sock,
        tls=tls,
        logger=logger,
        keep_alive_timeout=read_keep_alive_timeout(config),
        limits=read_server_limits(config),
    )
    background_tasks.start_soon(server.serve, name="http-server")
    host, port = server.address
    shown = options.host if options.host else ""
    logger.info(
        f"Listening on {shown}:{port}", {"host": host, "port": port, "tls": tls is not None}
    )
    return server
