"""A backend with the real auth services, a fake auth backend for user tokens, and helpers."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from _support.http import plugin_with_routes
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from quart import Blueprint, request

from backstage_runtime.api import core_services, create_backend_plugin
from backstage_runtime.defaults.auth import auth_service_factory
from backstage_runtime.defaults.http_auth import http_auth_service_factory
from backstage_runtime.testing import TestBackend, start_test_backend

USER_KEY = ECKey.generate_key("P-256", parameters={"kid": str(uuid.uuid4()), "alg": "ES256"})


def user_token(
    sub: str = "user:default/jane",
    *,
    typ: str | None = "vnd.backstage.user",
    key: ECKey = USER_KEY,
    lifetime: int = 3600,
    extra: dict[str, Any] | None = None,
    with_proof: bool = True,
) -> str:
    """A user token as auth-backend signs it (with the ``uip`` proof of its limited token)."""
    now = int(time.time())
    header: dict[str, Any] = {"alg": "ES256", "kid": key.kid}
    if typ is not None:
        header = {"typ": typ, **header}
    claims: dict[str, Any] = {
        "iss": "http://localhost/api/auth",
        "sub": sub,
        "ent": [sub],
        "aud": "backstage",
        "iat": now,
        "exp": now + lifetime,
    }
    if with_proof:
        limited = jwt.encode(
            {"typ": "vnd.backstage.limited-user", "alg": "ES256", "kid": key.kid},
            {"sub": sub, "iat": now, "exp": now + lifetime},
            key,
        )
        claims["uip"] = limited.rsplit(".", 1)[1]
    claims.update(extra or {})
    return jwt.encode(header, claims, key)


def fake_auth_backend(keys: Sequence[ECKey] = (USER_KEY,)) -> Any:
    """A plugin ``auth`` publishing the user-token JWKS at ``/.well-known/jwks.json``."""
    routes = Blueprint("fake_auth", __name__)

    @routes.get("/.well-known/jwks.json")
    async def jwks() -> Any:
        return KeySet(list(keys)).as_dict(private=False)

    return plugin_with_routes("auth", routes, policies=[("/.well-known", "unauthenticated")])


def whoami_plugin(plugin_id: str) -> Any:
    """A plugin with ``GET /whoami`` (guarded) answering the caller's principal, and
    ``GET /call/<target>`` (public) that calls ``<target>``'s ``/whoami`` with a plugin token.
    """
    import aiohttp

    def register(env: Any) -> None:
        async def init(http: Any, http_auth: Any, auth: Any, discovery: Any) -> None:
            routes = Blueprint(f"{plugin_id}_whoami", __name__)

            @routes.get("/whoami")
            async def whoami() -> Any:
                credentials = await http_auth.credentials(request)
                return {"principal": credentials.principal.to_json()}

            @routes.get("/service-only")
            async def service_only() -> Any:
                credentials = await http_auth.credentials(request, allow=["service"])
                return {"principal": credentials.principal.to_json()}

            @routes.get("/call/<target>")
            async def call(target: str) -> Any:
                token = await auth.get_plugin_request_token(
                    on_behalf_of=await auth.get_own_service_credentials(),
                    target_plugin_id=target,
                )
                url = f"{await discovery.get_base_url(target)}/whoami"
                async with (
                    aiohttp.ClientSession() as session,
                    session.get(url, headers={"Authorization": f"Bearer {token.token}"}) as reply,
                ):
                    return {"status": reply.status, "body": await reply.json()}

            http.use(routes)
            http.add_auth_policy(path="/call", allow="unauthenticated")

        env.register_init(
            deps={
                "http": core_services.http_router,
                "http_auth": core_services.http_auth,
                "auth": core_services.auth,
                "discovery": core_services.discovery,
            },
            init=init,
        )

    return create_backend_plugin(plugin_id=plugin_id, register=register)


@asynccontextmanager
async def real_auth_backend(
    features: Sequence[Any], config: dict[str, Any] | None = None
) -> AsyncIterator[TestBackend]:
    """A test backend whose auth and httpAuth are the real ones (no mock tokens)."""
    all_features = [*features, auth_service_factory(), http_auth_service_factory()]
    async with start_test_backend(features=all_features, config=config) as test:
        yield test
