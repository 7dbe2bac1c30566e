"""Default ``core.auth``: Backstage-compatible plugin, user and external tokens.

Usage in a plugin::

    @... register_init(deps={"auth": core_services.auth, "discovery": core_services.discovery,
                             "http": runtime_services.http_client})
    async def init(auth, discovery, http):
        token = await auth.get_plugin_request_token(
            on_behalf_of=await auth.get_own_service_credentials(), target_plugin_id="catalog"
        )
        url = await discovery.get_base_url("catalog")
        async with http.get(f"{url}/entities", headers={"Authorization": f"Bearer {token.token}"}):
            ...
"""

from __future__ import annotations

from typing import Any

import aiohttp

from ...api import (
    Config,
    DiscoveryService,
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api.errors import ConfigError
from ...api.services.database import DatabaseService
from ._auth_service import DefaultAuthService
from ._external import read_external_handlers
from ._jose import unverified_header, unverified_payload
from ._jwks_client import JwksClient
from ._key_sources import (
    KEY_DURATION_SECONDS,
    DatabasePluginKeySource,
    PluginKeySource,
    StaticPluginKeySource,
)
from ._key_store import DatabaseKeyStore
from ._plugin_tokens import PLUGIN_TOKEN_TYPE, PluginTokenHandler
from ._user_tokens import LIMITED_USER_TOKEN_TYPE, USER_TOKEN_TYPE, UserTokenHandler

__all__ = [
    "KEY_DURATION_SECONDS",
    "LIMITED_USER_TOKEN_TYPE",
    "PLUGIN_TOKEN_TYPE",
    "USER_TOKEN_TYPE",
    "DefaultAuthService",
    "JwksClient",
    "auth_service_factory",
    "unverified_header",
    "unverified_payload",
]


class _AuthRoot:
    """What all plugins of a backend share: one JWKS cache and the parsed config."""

    def __init__(self, config: Config, logger: LoggerService, session: aiohttp.ClientSession):
        self.config = config
        self.jwks = JwksClient(session)
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
        self.static_keys = (
            StaticPluginKeySource.from_config(config) if self.key_store_type == "static" else None
        )


def auth_service_factory(*, key_duration: float = KEY_DURATION_SECONDS) -> ServiceFactory[Any]:
    """The default ``core.auth`` factory. ``key_duration`` (seconds) is the signing key's and a
    plugin token's lifetime (Backstage: one hour).
    """

    def create_root_context(
        *, config: Config, root_logger: LoggerService, http_client: aiohttp.ClientSession
    ) -> _AuthRoot:
        return _AuthRoot(config, root_logger.child({"service": "auth"}), http_client)

    def factory(
        root: _AuthRoot,
        *,
        plugin_metadata: PluginMetadataService,
        logger: LoggerService,
        discovery: DiscoveryService,
        database: DatabaseService,
        **_root_deps: Any,
    ) -> DefaultAuthService:
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
        )

    return create_service_factory(
        service=core_services.auth,
        deps={
            "config": core_services.root_config,
            "root_logger": core_services.root_logger,
            "http_client": runtime_services.http_client,
            "plugin_metadata": core_services.plugin_metadata,
            "logger": core_services.logger,
            "discovery": core_services.discovery,
            "database": core_services.database,
        },
        create_root_context=create_root_context,
        factory=factory,
    )
