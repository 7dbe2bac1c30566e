"""Each piece of a plugin's pipeline on its own, called with a scope (no socket, no backend)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from _support.asgi import Recorder, http_scope, nothing, ok_app

from backstage_runtime.api.errors import AuthenticationError
from backstage_runtime.defaults.http_router import AuthPolicies, LifecycleGate
from backstage_runtime.defaults.http_router._cookie_endpoint import CookieEndpoint
from backstage_runtime.defaults.http_router._credentials_barrier import (
    CredentialsBarrierMiddleware,
)
from backstage_runtime.defaults.http_router._jwks_endpoint import JwksEndpoint
from backstage_runtime.defaults.http_router._lifecycle_gate_middleware import (
    LifecycleGateMiddleware,
)
from backstage_runtime.defaults.http_router._pipeline import default_pipeline
from backstage_runtime.defaults.http_router._plugin_dispatch import PluginDispatch
from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio

ROOT = "/api/p"


def errors() -> ErrorResponder:
    return ErrorResponder(MockRootLogger(), include_stack=False)


async def call(app: Any, scope: dict[str, Any]) -> Recorder:
    send = Recorder()
    await app(scope, nothing, send)
    return send


async def test_jwks_endpoint_answers_only_its_path() -> None:
    async def keys() -> list[Any]:
        return [{"kid": "k1"}]

    piece = JwksEndpoint(ok_app, keys)
    served = await call(piece, http_scope(f"{ROOT}/.backstage/auth/v1/jwks.json", root_path=ROOT))
    other = http_scope(f"{ROOT}/x/.backstage/auth/v1/jwks.json", root_path=ROOT)
    passed = await call(piece, other)
    posted = await call(
        piece, http_scope(f"{ROOT}/.backstage/auth/v1/jwks.json", method="POST", root_path=ROOT)
    )

    assert (served.status, json.loads(served.body)) == (200, {"keys": [{"kid": "k1"}]})
    assert (passed.body, other["calls"], posted.body) == (b"ok", 1, b"ok")


async def test_lifecycle_gate_refuses_with_the_plugin_relative_url_once_closed() -> None:
    gate = LifecycleGate(5)
    piece = LifecycleGateMiddleware(ok_app, gate, errors())
    gate.open()
    before = await call(piece, http_scope(f"{ROOT}/items", root_path=ROOT))
    gate.close()
    after = await call(piece, http_scope(f"{ROOT}/items", root_path=ROOT))

    assert before.body == b"ok"
    assert after.status == 503
    assert json.loads(after.body)["error"]["message"] == "Service is shutting down"
    assert json.loads(after.body)["request"] == {"method": "GET", "url": "/items"}


async def test_lifecycle_gate_holds_a_request_until_the_plugin_starts() -> None:
    gate = LifecycleGate(5)
    piece = LifecycleGateMiddleware(ok_app, gate, errors())
    replies: list[Recorder] = []

    async def one() -> None:
        replies.append(await call(piece, http_scope(f"{ROOT}/items", root_path=ROOT)))

    async with anyio.create_task_group() as group:
        group.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        assert replies == []
        gate.open()

    assert replies[0].body == b"ok"


async def test_credentials_barrier_asks_what_the_policies_require() -> None:
    asked: list[tuple[str, bool]] = []

    async def barrier(scope: Any, limited: bool) -> None:
        asked.append((scope["path"], limited))
        if scope["path"].endswith("/private"):
            raise AuthenticationError("Missing credentials")

    policies = AuthPolicies()
    policies.add("/open", "unauthenticated")
    policies.add("/cookie", "user-cookie")
    piece = CredentialsBarrierMiddleware(ok_app, barrier, policies, errors())
    replies = [
        await call(piece, http_scope(f"{ROOT}/{name}", root_path=ROOT))
        for name in ("open", "cookie", "private")
    ]

    assert [r.status for r in replies] == [200, 200, 401]
    assert asked == [(f"{ROOT}/cookie", True), (f"{ROOT}/private", False)]
    assert json.loads(replies[2].body)["request"]["url"] == "/private"


async def test_cookie_endpoint_takes_its_path_and_renders_the_handlers_error() -> None:
    async def handler(scope: Any, send: Any) -> None:
        raise AuthenticationError("no user")

    piece = CookieEndpoint(ok_app, handler, errors())
    cookie = await call(piece, http_scope(f"{ROOT}/.backstage/auth/v1/cookie", root_path=ROOT))
    other = await call(piece, http_scope(f"{ROOT}/items", root_path=ROOT))

    assert cookie.status == 401
    assert json.loads(cookie.body)["error"]["message"] == "no user"
    assert other.body == b"ok"


async def test_plugin_dispatch_without_handlers_is_a_not_found_naming_the_route() -> None:
    reply = await call(PluginDispatch("p", errors()), http_scope(f"{ROOT}/x", root_path=ROOT))

    assert reply.status == 404
    assert json.loads(reply.body)["error"]["message"] == "No route for GET /x"


def test_the_default_pipeline_leaves_out_what_has_nothing_to_do() -> None:
    async def keys() -> list[Any]:
        return []

    async def barrier(scope: Any, limited: bool) -> None:
        return None

    async def handler(scope: Any, send: Any) -> None:
        return None

    gate = LifecycleGate(5)
    full = default_pipeline(
        gate=gate,
        policies=AuthPolicies(),
        errors=errors(),
        credentials_barrier=barrier,
        public_keys=keys,
        cookie_handler=handler,
    )
    bare = default_pipeline(
        gate=gate,
        policies=AuthPolicies(disabled=True),
        errors=errors(),
        credentials_barrier=barrier,
    )

    assert [p.name for p in full] == ["jwks", "lifecycle_gate", "credentials_barrier", "cookie"]
    assert [p.name for p in bare] == ["lifecycle_gate"]
