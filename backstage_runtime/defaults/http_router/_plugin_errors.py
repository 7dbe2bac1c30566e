"""Errors a plugin's pipeline raises itself, rendered as Backstage's JSON with the plugin's URL."""

from __future__ import annotations

from ...http_toolkit import ErrorResponder, Scope, Send, request_url, send_json

__all__ = ["send_plugin_error"]


async def send_plugin_error(
    errors: ErrorResponder, scope: Scope, send: Send, error: BaseException
) -> None:
    """Answer with ``error``'s status and body; the URL is relative to the plugin mount, as
    Backstage reports it from inside a plugin router (``/entities``, not
    ``/api/catalog/entities``).
    """
    status, body = errors.respond(
        error, method=scope["method"], url=request_url(scope, relative=True)
    )
    await send_json(send, status, body)
