"""The default ``core.auth`` factory builder, and the state all plugins of a backend share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...api import (
    Config,
    Deferred,
    DiscoveryService,
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api.errors import ConfigError
from ...api.services.auth import AuthService
from ...api.services.database import DatabaseService
from ...api.services.telemetry import TelemetryService
from ._key_duration import KEY_DURATION_SECONDS

if TYPE_CHECKING:
    import aiohttp

    from ._auth_service import DefaultAuthService
    from ._key_sources import PluginKeySource, StaticPluginKeySource

__all__ = ["auth_service_factory"]


class _AuthRoot:
    """What all plugins of a backend share: one JWKS cache and the parsed config."""

    def __init__(
        self,
        config: Config,
        logger: LoggerService,
        session: Deferred[aiohttp.ClientSession],
        telemetry: TelemetryService,
    ):
        # joserfc and the token handlers load with the first plugin's auth service.
        from ...jose import JwksClient
        from ._external import read_external_handlers
        from ._key_sources import StaticPluginKeySource
        from ._telemetry import AuthTelemetry

        self.config = config
        self.telemetry = AuthTelemetry(telemetry)
        self.jwks = JwksClient(session, on_fetch=self.telemetry.jwks_observer())
        self.logger = logger
        self.external = read_external_handlers(config, self.jwks, logger)
        self.disabled = bool(
            config.get_optional_boolean("backend.auth.dangerouslyDisableDefaultAuthPolicy")
        )
        self.key_store_type = (
            config.get_optional_string("backend.auth.pluginKeyStore.type") or "database"
        )
        if self.key_store_type not in ("database", "static"):
            raise ConfigError(
                f"Unsupported backend.auth.pluginKeyStore.type '{self.key_store_type}', "
                "expected 'database' or 'static'"
            )
        self.static_keys: StaticPluginKeySource | None = (
            StaticPluginKeySource.from_config(config) if self.key_store_type == "static" else None
        )


def auth_service_factory(
    *, key_duration: float = KEY_DURATION_SECONDS
) -> ServiceFactory[AuthService]:
    """The default ``core.auth`` factory. ``key_duration`` (seconds) is the signing key's and a
    plugin token's lifetime (Backstage: one hour).
    """

    def create_root_context(
        *,
        config: Config,
        root_logger: LoggerService,
        http_client: Deferred[aiohttp.ClientSession],
        telemetry: TelemetryService,
    ) -> _AuthRoot:
        return _AuthRoot(config, root_logger.child({"service": "auth"}), http_client, telemetry)

    def factory(
        root: _AuthRoot,
        *,
        plugin_metadata: PluginMetadataService,
        logger: LoggerService,
        discovery: DiscoveryService,
        database: DatabaseService,
        **_root_deps: Any,
    ) -> DefaultAuthService:
        from ._auth_service import DefaultAuthService
        from ._key_sources import DatabasePluginKeySource
        from ._key_store import DatabaseKeyStore
        from ._plugin_tokens import PluginTokenHandler
        from ._user_tokens import UserTokenHandler

        plugin_id = plugin_metadata.get_id()
        keys: PluginKeySource = root.static_keys or DatabasePluginKeySource(
            DatabaseKeyStore(database), logger, key_duration=key_duration
        )
        return DefaultAuthService(
            plugin_id=plugin_id,
            plugin_tokens=PluginTokenHandler(
                plugin_id=plugin_id,
                keys=keys,
                discovery=discovery,
                jwks=root.jwks,
                logger=logger,
                key_duration=key_duration,
            ),
            user_tokens=UserTokenHandler(discovery=discovery, jwks=root.jwks, logger=logger),
            external=root.external,
            keys=keys,
            disable_default_auth_policy=root.disabled,
            record_verification=root.telemetry.verification_recorder(plugin_id),
        )

    return create_service_factory(
        service=core_services.auth,
        deps={
            "config": core_services.root_config,
            "root_logger": core_services.root_logger,
            "http_client": runtime_services.http_client,
            "telemetry": runtime_services.telemetry,
            "plugin_metadata": core_services.plugin_metadata,
            "logger": core_services.logger,
            "discovery": core_services.discovery,
            "database": core_services.database,
        },
        create_root_context=create_root_context,
        factory=factory,
        # Only a JWKS fetch needs the session: aiohttp (and the CA certificates it loads) stays
        # out of the start of every backend whose plugins never verify a foreign token.
        deferred=("http_client",),
    )
