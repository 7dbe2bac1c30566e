"""The ``core.rootHttpRouter`` implementation: mounts on one ASGI app, optionally served."""

from __future__ import annotations

from typing import Any

from ...http_toolkit import ASGIApp, ErrorResponder, mount_handler
from ._app import RootHttpApp
from ._routes import RouteTable
from ._server import HttpServer

__all__ = ["RootHttpRouter"]


class RootHttpRouter:
    """Backstage's root HTTP router: ``use(path, handler)`` mounts a handler at ``path``.

    Handlers are Quart blueprints (served by a Quart app of their own), Quart apps or any ASGI
    application. Paths are prefixes matched case-insensitively on segment boundaries and may not
    overlap (:class:`~backstage_runtime.defaults.root_http_router.RouteConflictError`).
    """

    def __init__(
        self,
        app: RootHttpApp,
        routes: RouteTable,
        errors: ErrorResponder,
        server: HttpServer | None,
    ) -> None:
        self._app = app
        self._routes = routes
        self._errors = errors
        self._server = server

    def use(self, path: str, handler: Any) -> None:
        """Mount ``handler`` at ``path``."""
        app = mount_handler(handler, f"root{path}", self._errors, relative_urls=False)
        self._routes.add(path, app)

    @property
    def asgi_app(self) -> ASGIApp:
        """The ASGI application serving everything mounted here, with Backstage's middleware.

        Give it to another ASGI server when the backend was created with ``serve_http=False``.
        """
        return self._app

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """The host and port the server listens on, or None when this router does not serve."""
        return self._server.address if self._server is not None else None

    @property
    def scheme(self) -> str | None:
        """``https`` or ``http`` when serving, else None."""
        if self._server is None:
            return None
        return "https" if self._server.tls else "http"
