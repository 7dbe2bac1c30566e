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

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import auth_service_factory
from ._key_duration import KEY_DURATION_SECONDS

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._auth_service import DefaultAuthService
    from ._plugin_tokens import PLUGIN_TOKEN_TYPE
    from ._user_tokens import LIMITED_USER_TOKEN_TYPE, USER_TOKEN_TYPE
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "DefaultAuthService": "._auth_service",
            "PLUGIN_TOKEN_TYPE": "._plugin_tokens",
            "LIMITED_USER_TOKEN_TYPE": "._user_tokens",
            "USER_TOKEN_TYPE": "._user_tokens",
        },
    )

__all__ = [
    "KEY_DURATION_SECONDS",
    "LIMITED_USER_TOKEN_TYPE",
    "PLUGIN_TOKEN_TYPE",
    "USER_TOKEN_TYPE",
    "DefaultAuthService",
    "auth_service_factory",
]
