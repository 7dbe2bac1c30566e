"""The ``user-settings`` plugin: the store on the plugin's database, the routes, the signals."""

from __future__ import annotations

from typing import Final

from backstage_runtime import (
    BackendPlugin,
    DatabaseService,
    HttpAuthService,
    HttpRouterService,
    PluginRegistrationPoints,
    core_services,
    create_backend_plugin,
)

from ._router import create_router
from ._signals import SignalsService, signals_service_ref
from ._store import DatabaseUserSettingsStore


def _register(env: PluginRegistrationPoints) -> None:
    async def init(
        *,
        database: DatabaseService,
        http_auth: HttpAuthService,
        http_router: HttpRouterService,
        signals: SignalsService,
    ) -> None:
        store = await DatabaseUserSettingsStore.create(database)
        # No auth policy: every route needs credentials, and the routes accept users only.
        http_router.use(
            create_router(http_auth=http_auth, user_settings_store=store, signals=signals)
        )

    env.register_init(
        deps={
            "database": core_services.database,
            "http_auth": core_services.http_auth,
            "http_router": core_services.http_router,
            "signals": signals_service_ref,
        },
        init=init,
    )


#: The ``user-settings`` plugin; the distribution advertises it as the ``user-settings`` entry
#: point.
user_settings_plugin: Final[BackendPlugin] = create_backend_plugin(
    plugin_id="user-settings", register=_register
)
