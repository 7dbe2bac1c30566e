"""The default ``core.httpRouter`` factory builder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ...api import (
    Config,
    LifecycleService,
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
    read_duration_from_config,
)
from ...api._telemetry import telemetry_service_ref
from ...api.errors import NotFoundError
from ...api.services.auth import AuthService, HttpAuthService
from ...api.services.http import HttpRouterService, RootHttpRouterService
from ...api.services.telemetry import TelemetryService
from ...http_toolkit import (
    ErrorResponder,
    RateLimiter,
    development_mode,
    open_rate_limit_store,
    read_plugin_rate_limit,
    send_json,
)
from ._auth_policies import AuthPolicies
from ._body_limits import read_body_limits
from ._lifecycle_gate import LifecycleGate
from ._router import PluginHttpRouter

__all__ = ["http_router_service_factory"]

_PAUSE_KEY = "backend.lifecycle.startupRequestPauseTimeout"
_DEFAULT_PAUSE = timedelta(seconds=5)


def http_router_service_factory() -> ServiceFactory[HttpRouterService]:
    """The default ``core.httpRouter`` factory; built for every plugin at its start
    (``initialization="always"``), so every plugin answers under ``/api/<pluginId>``.
    """

    def factory(
        *,
        config: Config,
        logger: LoggerService,
        lifecycle: LifecycleService,
        root_router: RootHttpRouterService,
        plugin_metadata: PluginMetadataService,
        auth: AuthService,
        http_auth: HttpAuthService,
        telemetry: TelemetryService,
    ) -> PluginHttpRouter:
        plugin_id = plugin_metadata.get_id()
        pause = (
            read_duration_from_config(config, _PAUSE_KEY)
            if config.has(_PAUSE_KEY)
            else _DEFAULT_PAUSE
        )
        gate = LifecycleGate(pause.total_seconds())
        lifecycle.add_startup_hook(gate.open)
        lifecycle.add_shutdown_hook(gate.close)
        disabled = bool(
            config.get_optional_boolean("backend.auth.dangerouslyDisableDefaultAuthPolicy")
        )

        async def barrier(scope: Any, allow_limited_access: bool) -> None:
            await http_auth.credentials(
                scope, allow=["user", "service"], allow_limited_access=allow_limited_access
            )

        async def cookie_endpoint(scope: Any, send: Any) -> None:
            headers: list[tuple[bytes, bytes]] = []
            if scope["method"] == "DELETE":
                await http_auth.issue_user_cookie(
                    headers, credentials=await auth.get_none_credentials()
                )
                await send({"type": "http.response.start", "status": 204, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
            if scope["method"] != "GET":
                raise NotFoundError(f"No route for {scope['method']} /.backstage/auth/v1/cookie")
            credentials = await http_auth.credentials(
                scope, allow=["user"], allow_limited_access=True
            )
            expires = await http_auth.issue_user_cookie(
                headers, credentials=credentials, request=scope
            )
            moment = datetime.fromtimestamp(expires, UTC).isoformat(timespec="milliseconds")
            await send_json(send, 200, {"expiresAt": moment.replace("+00:00", "Z")}, headers)

        rate_limiter: RateLimiter | None = None
        rate_limit = read_plugin_rate_limit(config, plugin_id)
        if rate_limit is not None:
            # Backstage prefixes a plugin's Redis counters with the plugin id.
            store = open_rate_limit_store(config, prefix=f"rl:{plugin_id}")
            rate_limiter = RateLimiter(rate_limit, store, logger.child({"type": "rateLimit"}))
            lifecycle.add_shutdown_hook(store.aclose)
        router = PluginHttpRouter(
            plugin_id,
            gate=gate,
            policies=AuthPolicies(disabled=disabled),
            errors=ErrorResponder(
                logger.child({"type": "errorHandler"}), include_stack=development_mode()
            ),
            credentials_barrier=barrier,
            public_keys=auth.list_public_service_keys,
            cookie_endpoint=cookie_endpoint,
            body_limits=read_body_limits(config, plugin_id),
            rate_limiter=rate_limiter,
            # The route template is for the request's metrics and span: without them, no hook.
            note_routes=telemetry.metrics_enabled or telemetry.tracing_enabled,
        )
        root_router.use(f"/api/{plugin_id}", router)
        return router

    return create_service_factory(
        service=core_services.http_router,
        deps={
            "config": core_services.root_config,
            "logger": core_services.logger,
            "lifecycle": core_services.lifecycle,
            "root_router": core_services.root_http_router,
            "plugin_metadata": core_services.plugin_metadata,
            "auth": core_services.auth,
            "http_auth": core_services.http_auth,
            "telemetry": telemetry_service_ref,
        },
        factory=factory,
        initialization="always",
    )
