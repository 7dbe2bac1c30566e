"""What gets mounted for a handler given to ``use()``: Quart blueprints get a Quart app of their
own, with Backstage's error handler; any other ASGI application is mounted as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from quart import Blueprint, Quart, Response, request
from quart.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, NotFound

from ..api.errors import BackstageError, NotFoundError
from ._asgi import ASGIApp, Scope, json_bytes, request_url
from ._error_responder import ErrorResponder
from ._quart_app import MountedQuart
from ._quart_cancel import CancellableHTTPConnection
from ._quart_request import BackstageRequest

__all__ = ["ExpressJsonProvider", "build_quart_app", "is_blueprint", "mount_handler"]


class ExpressJsonProvider(DefaultJSONProvider):
    """JSON responses as Express writes them: keys in insertion order, UTF-8 unescaped, compact,
    no trailing newline, ``application/json; charset=utf-8``.
    """

    sort_keys = False
    ensure_ascii = False

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        # What ``dumps(value, separators=(",", ":"))`` builds for every response, built once.
        self._compact = json.JSONEncoder(
            ensure_ascii=self.ensure_ascii,
            sort_keys=self.sort_keys,
            separators=(",", ":"),
            default=self.default,
        )

    def response(self, *args: Any, **kwargs: Any) -> Any:
        """A response whose body is ``args``/``kwargs`` as JSON."""
        value = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(
            self._compact.encode(value), content_type="application/json; charset=utf-8"
        )


def is_blueprint(handler: object) -> bool:
    """Whether ``handler`` is a Quart blueprint."""
    return isinstance(handler, Blueprint)


def build_quart_app(
    name: str, blueprints: Sequence[Blueprint], responder: ErrorResponder, *, relative_urls: bool
) -> MountedQuart:
    """A Quart app (a :class:`MountedQuart`, whose request cycle skips the signals and hooks
    nobody registered) named ``name`` serving ``blueprints``, errors rendered as Backstage JSON.

    JSON keeps the order handlers put keys in and writes UTF-8 as is, as Express does (Quart's
    defaults sort keys and escape non-ASCII). Routing is an Express router's: ``/hello``
    answers ``/hello/`` too and ``/dir/`` answers ``/dir`` (non-strict, no redirect), doubled
    slashes are not merged into a redirect, and there is no ``/static/<path>`` route (Quart
    would add one serving the working directory's ``static/`` folder, a route no plugin
    declared). Matching stays case-sensitive, as Quart's is. Request bodies are parsed as JSON
    strictly (:class:`BackstageRequest`): a malformed one is a 400, never a 500.
    """
    app = MountedQuart(name, static_folder=None)
    app.request_class = BackstageRequest
    # Before any blueprint is registered: a rule takes these from the map when it is added.
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.json = ExpressJsonProvider(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    install_error_handler(app, responder, relative_urls=relative_urls)
    # A request cut at shutdown must not leave its handler running in a task of its own.
    app.asgi_http_class = CancellableHTTPConnection
    return app


def install_error_handler(app: Quart, responder: ErrorResponder, *, relative_urls: bool) -> None:
    """Render every error ``app`` does not handle itself as Backstage's error JSON."""

    async def handle(error: Exception) -> Response | HTTPException:
        if isinstance(error, HTTPException) and error.code is not None and error.code < 400:
            return error  # redirects and the like are responses, not failures
        url = request_url(cast(Scope, request.scope), relative=relative_urls)
        if isinstance(error, NotFound) and not isinstance(error, BackstageError):
            # Same words as an unmatched path outside any app (werkzeug's text is about URLs
            # typed by hand).
            error = NotFoundError(f"No route for {request.method} {url}")
        status, body = responder.respond(error, method=request.method, url=url)
        response = Response(json_bytes(body), status=status)
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        return response

    app.register_error_handler(Exception, handle)


def _handles_exceptions(app: Quart) -> bool:
    handlers = app.error_handler_spec.get(None, {})
    return any(Exception in by_class or HTTPException in by_class for by_class in handlers.values())


def mount_handler(
    handler: Any, name: str, responder: ErrorResponder, *, relative_urls: bool
) -> ASGIApp:
    """The ASGI app to mount for ``handler``: a blueprint (or a list of them) gets a Quart app;
    a Quart app without an error handler of its own gets Backstage's; other ASGI apps are
    mounted unchanged. Raises :class:`TypeError` for anything else.
    """
    if is_blueprint(handler):
        return cast(
            ASGIApp, build_quart_app(name, [handler], responder, relative_urls=relative_urls)
        )
    if isinstance(handler, list | tuple) and handler and all(is_blueprint(h) for h in handler):
        return cast(ASGIApp, build_quart_app(name, handler, responder, relative_urls=relative_urls))
    if isinstance(handler, Quart):
        if not _handles_exceptions(handler):
            install_error_handler(handler, responder, relative_urls=relative_urls)
        return cast(ASGIApp, handler)
    if callable(handler):
        return cast(ASGIApp, handler)
    raise TypeError(
        f"Expected a Quart Blueprint, a Quart app or an ASGI application, got {handler!r}"
    )
