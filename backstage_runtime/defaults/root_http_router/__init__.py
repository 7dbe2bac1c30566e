"""Default ``core.rootHttpRouter``: one Hypercorn server, Backstage's middleware, health routes.

Usage from a root-scoped service or an embedding application::

    router.use("/my-root-route", blueprint)        # a Quart Blueprint, Quart app or ASGI app

The pipeline in front of every route is assembled by
``root_http_router_service_factory(configure=...)`` (see :class:`RootHttpRouterConfigureContext`).

The server listens while the root services start (``backend.listen``, default port 7007,
``backend.https``) and stops without cutting requests: on shutdown readiness turns 503, the
server keeps serving for ``backend.lifecycle.serverShutdownDelay``, then refuses new connections
and waits for every request in progress before any plugin shuts down.
"""

from ...http_toolkit import DEFAULT_PORT, ListenOptions, listen_override, read_listen_options
from ._app import HEALTH_PATHS
from ._configure import ConfigureRootHttpRouter, RootHttpRouterConfigureContext, UnknownPieceError
from ._cors import CorsPolicy, read_cors_policy
from ._factory import root_http_router_service_factory
from ._router import RootHttpRouter
from ._routes import DEFAULT_INDEX_PATH, RouteConflictError
from ._security_headers import content_security_policy
from ._tls import dev_certificate_path

__all__ = [
    "DEFAULT_INDEX_PATH",
    "DEFAULT_PORT",
    "HEALTH_PATHS",
    "ConfigureRootHttpRouter",
    "CorsPolicy",
    "ListenOptions",
    "RootHttpRouter",
    "RootHttpRouterConfigureContext",
    "RouteConflictError",
    "UnknownPieceError",
    "content_security_policy",
    "dev_certificate_path",
    "listen_override",
    "read_cors_policy",
    "read_listen_options",
    "root_http_router_service_factory",
]
