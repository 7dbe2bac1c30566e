"""Default ``core.httpRouter``: every plugin's routes under ``/api/<pluginId>``.

Usage in a plugin::

    from quart import Blueprint

    blueprint = Blueprint("todo", __name__)

    @blueprint.get("/items")
    async def items(): return {"items": [...]}

    @plugin.register_init(deps={"http": core_services.http_router})
    async def init(http):
        http.use(blueprint)
        http.add_auth_policy(path="/items", allow="unauthenticated")

Requests that arrive before the plugin has started wait up to
``backend.lifecycle.startupRequestPauseTimeout`` (default 5 s), then get 503. Every route needs
user or service credentials (``core.httpAuth``) unless an auth policy opens its path; the
plugin's JWKS (``/.backstage/auth/v1/jwks.json``) is always public. Request bodies are limited
while they are read (``backend.bodyLimit``: JSON ``100kb``, others ``16mb``; per plugin under
``backend.bodyLimit.plugin.<pluginId>``): a larger one is answered 413.
"""

from ._auth_policies import AuthPolicies, CredentialsBarrier, compile_policy_path
from ._factory import http_router_service_factory
from ._lifecycle_gate import LifecycleGate
from ._router import PluginHttpRouter

__all__ = [
    "AuthPolicies",
    "CredentialsBarrier",
    "LifecycleGate",
    "PluginHttpRouter",
    "compile_policy_path",
    "http_router_service_factory",
]
