"""The ``core.httpRouter`` implementation: one plugin's pipeline under ``/api/<pluginId>``."""

from __future__ import annotations

from typing import Any, cast

from quart import Blueprint, Quart
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ...api.errors import BackstageError, NotFoundError
from ...api.services.http import AuthPolicyAllow
from ...http_toolkit import (
    ASGIApp,
    ErrorResponder,
    Receive,
    Scope,
    Send,
    is_blueprint,
    mount_handler,
    request_url,
    send_json,
)
from ...http_toolkit._quart_mount import build_quart_app
from ._auth_policies import AuthPolicies, CookieEndpoint, CredentialsBarrier, PublicKeys
from ._lifecycle_gate import LifecycleGate

__all__ = ["PluginHttpRouter"]


class PluginHttpRouter:
    """A plugin's router: requests pass the lifecycle gate, then the credentials barrier (when
    one is installed, honouring the plugin's auth policies), then reach the plugin's handlers;
    errors become Backstage's error JSON with the URL relative to the plugin mount.

    ``use`` takes Quart blueprints (all served by one Quart app of the plugin's own, so their
    routes combine) and at most one ASGI application; with both, a request that a blueprint
    route matches (path and method) goes to the blueprints and every other one to the
    application, as an Express router falls through to the next handler.
    """

    def __init__(
        self,
        plugin_id: str,
        *,
        gate: LifecycleGate,
        policies: AuthPolicies,
        errors: ErrorResponder,
        credentials_barrier: CredentialsBarrier | None = None,
        public_keys: PublicKeys | None = None,
        cookie_endpoint: CookieEndpoint | None = None,
    ) -> None:
        self._plugin_id = plugin_id
        self._gate = gate
        self._policies = policies
        self._errors = errors
        self._barrier = credentials_barrier
        self._public_keys = public_keys
        self._cookie_endpoint = cookie_endpoint
        if cookie_endpoint is not None:
            # The cookie refreshes itself: the endpoint accepts the cookie it issued.
            policies.add(_COOKIE_PATH, "user-cookie")
        self._quart: Quart | None = None
        self._app: ASGIApp | None = None

    @property
    def plugin_id(self) -> str:
        """The plugin this router serves."""
        return self._plugin_id

    @property
    def auth_policies(self) -> AuthPolicies:
        """The auth policies added so far."""
        return self._policies

    def use(self, handler: Any) -> None:
        """Serve ``handler`` under ``/api/<pluginId>``: a Quart ``Blueprint`` or a list (tuple)
        of them (call again for more), or one ASGI application (a Quart app, Starlette, ...);
        the two can be combined.

        Raises :class:`ValueError` for a second ASGI application, :class:`TypeError` for
        anything that is neither.
        """
        name = f"backstage-plugin-{self._plugin_id}"
        blueprints = _blueprints_in(handler)
        if blueprints is not None:
            if self._quart is None:
                self._quart = build_quart_app(name, [], self._errors, relative_urls=True)
            for blueprint in blueprints:
                self._quart.register_blueprint(blueprint)
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

    def add_auth_policy(self, *, path: str, allow: AuthPolicyAllow) -> None:
        """Let requests under ``path`` (relative to the plugin mount, a prefix) in without
        credentials (``unauthenticated``) or with the user cookie (``user-cookie``).
        """
        self._policies.add(path, allow)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        info = scope.get("backstage")
        if info is not None:
            info.plugin_id = self._plugin_id
        if scope["type"] == "http":
            if self._public_keys is not None and _is_jwks_request(scope):
                # Before the gate and the barrier: other backends must always be able to verify
                # this plugin's tokens.
                await send_json(send, 200, {"keys": list(await self._public_keys())})
                return
            try:
                await self._gate.pass_through()
                if self._barrier is not None:
                    await self._check_credentials(scope)
                if self._cookie_endpoint is not None and _relative(scope) == _COOKIE_PATH:
                    await self._cookie_endpoint(scope, send)
                    return
            except BackstageError as error:
                await self._send_error(scope, send, error)
                return
        app = self._handler_for(scope)
        if app is None:
            if scope["type"] == "http":
                method = scope["method"]
                url = request_url(scope, relative=True)
                await self._send_error(scope, send, NotFoundError(f"No route for {method} {url}"))
            return
        await app(scope, receive, send)

    def _handler_for(self, scope: Scope) -> ASGIApp | None:
        if self._quart is None:
            return self._app
        if self._app is None or _matches_a_route(self._quart, scope):
            return cast(ASGIApp, self._quart)
        return self._app

    async def _check_credentials(self, scope: Scope) -> None:
        assert self._barrier is not None
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        requirement = self._policies.requirement(path)
        if requirement != "none":
            await self._barrier(scope, requirement == "limited")

    async def _send_error(self, scope: Scope, send: Send, error: BaseException) -> None:
        status, body = self._errors.respond(
            error, method=scope["method"], url=request_url(scope, relative=True)
        )
        await send_json(send, status, body)


def _blueprints_in(handler: Any) -> list[Blueprint] | None:
    """The blueprints ``handler`` is (one, or a non-empty list or tuple of them), else None."""
    if is_blueprint(handler):
        return [cast(Blueprint, handler)]
    if isinstance(handler, list | tuple) and handler and all(is_blueprint(h) for h in handler):
        return list(handler)
    return None


_JWKS_PATH = "/.backstage/auth/v1/jwks.json"
_COOKIE_PATH = "/.backstage/auth/v1/cookie"


def _relative(scope: Scope) -> str:
    path: str = scope["path"]
    return path[len(scope.get("root_path", "")) :] or "/"


def _matches_a_route(quart: Quart, scope: Scope) -> bool:
    """Whether a blueprint route takes this request's path and method (a route that only
    answers other methods does not: the request falls through, as in Express).
    """
    if scope["type"] != "http":
        return False
    adapter = quart.url_map.bind("localhost")
    try:
        adapter.match(_relative(scope), method=scope["method"])
    except RequestRedirect:
        return True  # the blueprints answer with the redirect (a missing trailing slash)
    except HTTPException:
        return False
    return True


def _is_jwks_request(scope: Scope) -> bool:
    path: str = scope["path"]
    return (
        scope["method"] in ("GET", "HEAD")
        and path.endswith(_JWKS_PATH)
        and (path[len(scope.get("root_path", "")) :] == _JWKS_PATH)
    )
