"""HTTP helpers shared by the root HTTP router, the plugin HTTP routers and the health endpoints.

Not a service: plain ASGI plumbing (JSON responses, the Backstage error responder, the Quart app a
mount gets, the bearer token of a request, where ``backend.listen`` says to listen) that several
services need and none owns.
"""

from ._asgi import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    json_bytes,
    mount_relative_path,
    request_url,
    send_json,
)
from ._bearer import bearer_token, header_value, scope_of
from ._body_limit import (
    DEFAULT_JSON_BODY_LIMIT,
    DEFAULT_OTHER_BODY_LIMIT,
    BodyLimitMiddleware,
    BodyLimits,
    PayloadTooLargeError,
)
from ._error_responder import ErrorResponder, development_mode
from ._listen import (
    DEFAULT_PORT,
    INHERITED_SOCKET_ENV,
    ListenOptions,
    bind_beside,
    bind_socket,
    inherited_listening_socket,
    listen_override,
    open_listening_socket,
    read_listen_options,
)
from ._pipeline import Piece, build_pipeline
from ._quart_mount import is_blueprint, mount_handler
from ._rate_limit import (
    RATE_LIMITED_BODY,
    RateLimiter,
    RateLimitMiddleware,
    RateLimitPolicy,
    RateLimitStore,
    open_rate_limit_store,
    read_global_rate_limit,
    read_plugin_rate_limit,
)
from ._request_info import RequestInfo, get_request_info, set_request_info
from ._task_cancel import TaskCancel, current_asyncio_task
from ._trust_proxy import (
    TrustProxy,
    TrustProxyMiddleware,
    client_address,
    compile_trust_proxy,
    peer_address,
    read_trust_proxy,
)

__all__ = [
    "DEFAULT_JSON_BODY_LIMIT",
    "DEFAULT_OTHER_BODY_LIMIT",
    "DEFAULT_PORT",
    "ASGIApp",
    "BodyLimitMiddleware",
    "BodyLimits",
    "ErrorResponder",
    "ListenOptions",
    "Message",
    "PayloadTooLargeError",
    "Piece",
    "RATE_LIMITED_BODY",
    "RateLimitMiddleware",
    "RateLimitPolicy",
    "RateLimitStore",
    "RateLimiter",
    "Receive",
    "RequestInfo",
    "Scope",
    "Send",
    "TaskCancel",
    "TrustProxy",
    "TrustProxyMiddleware",
    "bearer_token",
    "bind_beside",
    "bind_socket",
    "build_pipeline",
    "client_address",
    "compile_trust_proxy",
    "current_asyncio_task",
    "development_mode",
    "get_request_info",
    "header_value",
    "is_blueprint",
    "json_bytes",
    "listen_override",
    "mount_handler",
    "mount_relative_path",
    "open_listening_socket",
    "open_rate_limit_store",
    "peer_address",
    "INHERITED_SOCKET_ENV",
    "inherited_listening_socket",
    "read_global_rate_limit",
    "read_listen_options",
    "read_plugin_rate_limit",
    "read_trust_proxy",
    "request_url",
    "scope_of",
    "send_json",
    "set_request_info",
]
