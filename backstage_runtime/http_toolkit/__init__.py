"""HTTP helpers shared by the root HTTP router, the plugin HTTP routers and the health endpoints.

Not a service: plain ASGI plumbing (JSON responses, the Backstage error responder, the Quart app a
mount gets) that several services need and none owns.
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
from ._body_limit import (
    DEFAULT_JSON_BODY_LIMIT,
    DEFAULT_OTHER_BODY_LIMIT,
    BodyLimitMiddleware,
    BodyLimits,
    PayloadTooLargeError,
)
from ._error_responder import ErrorResponder, development_mode
from ._pipeline import Piece, build_pipeline
from ._quart_mount import is_blueprint, mount_handler
from ._request_info import RequestInfo, get_request_info, set_request_info

__all__ = [
    "DEFAULT_JSON_BODY_LIMIT",
    "DEFAULT_OTHER_BODY_LIMIT",
    "ASGIApp",
    "BodyLimitMiddleware",
    "BodyLimits",
    "ErrorResponder",
    "Message",
    "PayloadTooLargeError",
    "Piece",
    "Receive",
    "RequestInfo",
    "Scope",
    "Send",
    "build_pipeline",
    "development_mode",
    "get_request_info",
    "is_blueprint",
    "json_bytes",
    "mount_handler",
    "mount_relative_path",
    "request_url",
    "send_json",
    "set_request_info",
]
