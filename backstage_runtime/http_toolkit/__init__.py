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
    request_url,
    send_json,
)
from ._error_responder import ErrorResponder, development_mode
from ._quart_mount import is_blueprint, mount_handler

__all__ = [
    "ASGIApp",
    "ErrorResponder",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "development_mode",
    "is_blueprint",
    "json_bytes",
    "mount_handler",
    "request_url",
    "send_json",
]
