"""The ``core.httpRouter`` implementation: one plugin's pipeline under ``/api/<pluginId>``."""

from __future__ import annotations

from typing import Any

from ...api.services.http import AuthPolicyAllow
from ...http_toolkit import (
    BodyLimits,
    ErrorResponder,
    RateLimiter,
    Receive,
    Scope,
    Send,
    build_pipeline,
    get_request_info,
)
from ._auth_policies import AuthPolicies, CookieHandler, CredentialsBarrier, PublicKeys
from ._cookie_endpoint import COOKIE_PATH
from ._lifecycle_gate import LifecycleGate
from ._pipeline import default_pipeline
from ._plugin_dispatch import PluginDispatch

__all__ = ["PluginHttpRouter"]


class PluginHttpRouter:
    """A plugin's router: requests pass the :func:`default_pipeline` (the JWKS endpoint, the
    lifecycle gate, the credentials barrier honouring the plugin's auth policies, the cookie
    endpoint, the body limit), then reach the plugin's handlers (:class:`PluginDispatch`); errors
    become Backstage's error JSON with the URL relative to the plugin mount.

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
        cookie_endpoint: CookieHandler | None = None,
        body_limits: BodyLimits | None = None,
        rate_limiter: RateLimiter | None = None,
        note_routes: bool = False,
    ) -> None:
        self._plugin_id = plugin_id
        self._policies = policies
        if cookie_endpoint is not None:
            # The cookie refreshes itself: the endpoint accepts the cookie it issued.
            policies.add(COOKIE_PATH, "user-cookie")
        self._dispatch = PluginDispatch(plugin_id, errors, note_routes=note_routes)
        self._pipeline = build_pipeline(
            default_pipeline(
                gate=gate,
                policies=policies,
                errors=errors,
                credentials_barrier=credentials_barrier,
                public_keys=public_keys,
                cookie_handler=cookie_endpoint,
                body_limits=body_limits,
                rate_limiter=rate_limiter,
            ),
            self._dispatch,
        )

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
        self._dispatch.use(handler)

    def add_auth_policy(self, *, path: str, allow: AuthPolicyAllow) -> None:
        """Let requests under ``path`` (relative to the plugin mount, a prefix) in without
        credentials (``unauthenticated``) or with the user cookie (``user-cookie``).
        """
        self._policies.add(path, allow)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request: note the plugin on the request's info (for the request log), then
        run the pipeline.
        """
        info = get_request_info(scope)
        if info is not None:
            info.plugin_id = self._plugin_id
        await self._pipeline(scope, receive, send)
