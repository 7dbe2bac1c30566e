"""The default order of a plugin's pipeline, assembled in one place."""

from __future__ import annotations

from ...http_toolkit import (
    ASGIApp,
    BodyLimitMiddleware,
    BodyLimits,
    ErrorResponder,
    Piece,
    RateLimiter,
)
from ._auth_policies import AuthPolicies, CookieHandler, CredentialsBarrier, PublicKeys
from ._cookie_endpoint import CookieEndpoint
from ._credentials_barrier import CredentialsBarrierMiddleware
from ._jwks_endpoint import JwksEndpoint
from ._lifecycle_gate import LifecycleGate
from ._lifecycle_gate_middleware import LifecycleGateMiddleware

__all__ = ["default_pipeline"]


def default_pipeline(
    *,
    gate: LifecycleGate,
    policies: AuthPolicies,
    errors: ErrorResponder,
    credentials_barrier: CredentialsBarrier | None = None,
    public_keys: PublicKeys | None = None,
    cookie_handler: CookieHandler | None = None,
    body_limits: BodyLimits | None = None,
    rate_limiter: RateLimiter | None = None,
) -> list[Piece]:
    """The pieces before a plugin's handlers, outermost first: ``rate_limit`` (the plugin's
    ``backend.rateLimit.plugin.<pluginId>``), ``jwks`` (public, before the rest),
    ``lifecycle_gate``, ``credentials_barrier``, ``cookie``, ``body_limit`` (where a Backstage
    plugin's router has its ``express.json()``).

    A piece that would do nothing is left out rather than asked on every request: ``jwks``
    without ``public_keys``, the barrier without ``credentials_barrier`` or with the policies
    disabled, ``cookie`` without ``cookie_handler``, ``body_limit`` without ``body_limits``,
    ``rate_limit`` without ``rate_limiter``.
    """
    pieces: list[Piece] = []
    if rate_limiter is not None:
        pieces.append(Piece("rate_limit", rate_limiter.wrap))
    if public_keys is not None:
        keys = public_keys

        def jwks(app: ASGIApp) -> ASGIApp:
            return JwksEndpoint(app, keys)

        pieces.append(Piece("jwks", jwks))

    def lifecycle_gate(app: ASGIApp) -> ASGIApp:
        return LifecycleGateMiddleware(app, gate, errors)

    pieces.append(Piece("lifecycle_gate", lifecycle_gate))
    if credentials_barrier is not None and not policies.disabled:
        barrier = credentials_barrier

        def credentials(app: ASGIApp) -> ASGIApp:
            return CredentialsBarrierMiddleware(app, barrier, policies, errors)

        pieces.append(Piece("credentials_barrier", credentials))
    if cookie_handler is not None:
        handler = cookie_handler

        def cookie(app: ASGIApp) -> ASGIApp:
            return CookieEndpoint(app, handler, errors)

        pieces.append(Piece("cookie", cookie))
    if body_limits is not None:
        limits = body_limits

        def body_limit(app: ASGIApp) -> ASGIApp:
            return BodyLimitMiddleware(app, limits, errors)

        pieces.append(Piece("body_limit", body_limit))
    return pieces
