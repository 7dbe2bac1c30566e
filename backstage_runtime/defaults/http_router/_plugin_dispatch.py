"""The end of a plugin's pipeline: its Quart blueprints and its one ASGI application."""

from __future__ import annotations

from typing import Any, cast

from quart import Blueprint

from ...api.errors import NotFoundError
from ...http_toolkit import (
    ASGIApp,
    ErrorResponder,
    Receive,
    Scope,
    Send,
    is_blueprint,
    mount_handler,
    request_url,
)
from ...http_toolkit._quart_app import MountedQuart
from ...http_toolkit._quart_mount import build_quart_app
from ...http_toolkit._route_probe import RouteProbe
from ._plugin_errors import send_plugin_error

__all__ = ["PluginDispatch"]


class PluginDispatch:
    """Hands a request to the plugin's handlers: Quart blueprints (all served by one Quart app
    of the plugin's own, so their routes combine) and at most one ASGI application. With both,
    a request that a blueprint route matches (path and method) goes to the blueprints and every
    other one to the application, as an Express router falls through to the next handler.
    With neither, HTTP requests get a ``NotFoundError`` body. With ``note_routes`` the
    blueprints tell the request's info which route template matched.
    """

    __slots__ = ("_app", "_errors", "_note_routes", "_plugin_id", "_probe", "_quart")

    def __init__(
        self, plugin_id: str, errors: ErrorResponder, *, note_routes: bool = False
    ) -> None:
        self._plugin_id = plugin_id
        self._note_routes = note_routes
        self._errors = errors
        self._quart: MountedQuart | None = None
        self._app: ASGIApp | None = None
        self._probe: RouteProbe | None = None

    def use(self, handler: Any) -> None:
        """Add ``handler``: a blueprint or a non-empty list (tuple) of blueprints, or the one
        ASGI application. Raises :class:`ValueError` for a second ASGI application,
        :class:`TypeError` for anything else (both name the plugin).
        """
        name = f"backstage-plugin-{self._plugin_id}"
        blueprints = _blueprints_in(handler)
        if blueprints is not None:
            if self._quart is None:
                self._quart = build_quart_app(name, [], self._errors, relative_urls=True)
                # The pipeline's body limit bounds every body; Quart's own 16 MB limit would
                # refuse a larger configured one, under a name Backstage clients do not know.
                self._quart.config["MAX_CONTENT_LENGTH"] = None
                self._quart.notes_routes = self._note_routes
            for blueprint in blueprints:
                self._quart.register_blueprint(blueprint)
            self._share_matches()
            return
        if isinstance(handler, list | tuple):
            raise TypeError(
                f"Plugin '{self._plugin_id}' http_router.use() takes a list of Quart blueprints "
                f"only, got {handler!r}"
            )
        if self._app is not None:
            raise ValueError(
                f"Plugin '{self._plugin_id}' already uses an ASGI application: its http_router "
                "takes Quart blueprints (any number) and at most one ASGI application"
            )
        self._app = mount_handler(handler, name, self._errors, relative_urls=True)
        self._share_matches()

    def _share_matches(self) -> None:
        # With both, each request is matched to choose between them; the blueprints' app then
        # takes that match rather than matching again.
        if self._quart is not None and self._app is not None and self._probe is None:
            self._probe = RouteProbe(self._quart.url_map)
            self._quart.reuses_probed_matches = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with the handler that takes it."""
        app = self._handler_for(scope)
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "http":
            method = scope["method"]
            url = request_url(scope, relative=True)
            await send_plugin_error(
                self._errors, scope, send, NotFoundError(f"No route for {method} {url}")
            )

    def _handler_for(self, scope: Scope) -> ASGIApp | None:
        if self._quart is None:
            return self._app
        if self._probe is None or (scope["type"] == "http" and self._probe.takes(scope)):
            # What calling the app awaits, without that one more coroutine per request.
            return self._quart.asgi_app  # type: ignore[return-value]
        return self._app


def _blueprints_in(handler: Any) -> list[Blueprint] | None:
    """The blueprints ``handler`` is (one, or a non-empty list or tuple of them), else None."""
    if is_blueprint(handler):
        return [cast(Blueprint, handler)]
    if isinstance(handler, list | tuple) and handler and all(is_blueprint(h) for h in handler):
        return list(handler)
    return None
