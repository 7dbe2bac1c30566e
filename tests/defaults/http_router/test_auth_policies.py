"""Auth policy bookkeeping: path-to-regexp prefixes, unauthenticated before user-cookie."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init
from _support.http import request
from quart import Blueprint

from backstage_runtime.api import core_services
from backstage_runtime.api.errors import AuthenticationError
from backstage_runtime.defaults.http_router import (
    AuthPolicies,
    LifecycleGate,
    PluginHttpRouter,
    compile_policy_path,
)
from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.testing import MockRootLogger, start_test_backend


@pytest.mark.parametrize(
    ("policy", "path", "expected"),
    [
        ("/public", "/public", True),
        ("/public", "/public/deep/path", True),
        # Case-sensitive like the routes the barrier guards.
        ("/public", "/PUBLIC/x", False),
        ("/public", "/public/", True),
        ("/public", "/publicity", False),
        ("/items/:id", "/items/7", True),
        ("/items/:id", "/items/7/details", True),
        ("/items/:id", "/items", False),
        ("/files/*rest", "/files/a/b/c", True),
        ("/health{/live}", "/health", True),
        ("/health{/live}", "/health/live", True),
        ("/", "/anything", True),
        ("*", "/anything/at/all", True),
    ],
)
def test_policy_paths_are_prefix_matches(policy: str, path: str, expected: bool) -> None:
    assert compile_policy_path(policy)(path) is expected


def test_unauthenticated_wins_over_user_cookie() -> None:
    policies = AuthPolicies()
    policies.add("/static", "user-cookie")
    policies.add("/static/public", "unauthenticated")
    assert policies.requirement("/static/public/logo.png") == "none"
    assert policies.requirement("/static/app.js") == "limited"
    assert policies.requirement("/api") == "full"
    with pytest.raises(ValueError, match="Invalid auth policy allow='everyone'"):
        policies.add("/x", "everyone")  # type: ignore[arg-type]


def test_disabling_the_default_policy_lets_everything_in() -> None:
    policies = AuthPolicies(disabled=True)
    policies.add("/static", "user-cookie")
    assert policies.requirement("/anything") == "none"
    assert policies.declared == []


@pytest.mark.anyio
async def test_the_barrier_hook_sees_each_path_with_its_requirement() -> None:
    seen: list[tuple[str, bool]] = []

    async def barrier(scope: Any, allow_limited_access: bool) -> None:
        seen.append((scope["path"], allow_limited_access))
        if scope["path"].endswith("/private"):
            raise AuthenticationError("Missing credentials")

    routes = Blueprint("r", __name__)

    @routes.get("/<path:rest>")
    async def anything(rest: str) -> Any:
        return {"rest": rest}

    async def init(root: Any) -> None:
        gate = LifecycleGate(5)
        gate.open()
        router = PluginHttpRouter(
            "guarded",
            gate=gate,
            policies=AuthPolicies(),
            errors=ErrorResponder(MockRootLogger(), include_stack=False),
            credentials_barrier=barrier,
        )
        router.use(routes)
        router.add_auth_policy(path="/public", allow="unauthenticated")
        router.add_auth_policy(path="/cookie", allow="user-cookie")
        root.use("/api/guarded", router)

    plugin = plugin_with_init("p", {"root": core_services.root_http_router}, init)
    async with start_test_backend(features=[plugin]) as test:
        public = await request("GET", await test.url("/api/guarded/public/x"))
        cookie = await request("GET", await test.url("/api/guarded/cookie/x"))
        private = await request("GET", await test.url("/api/guarded/private"))

    assert public.status == cookie.status == 200
    assert seen == [("/api/guarded/cookie/x", True), ("/api/guarded/private", False)]
    assert private.status == 401
    assert private.json() == {
        "error": {"name": "AuthenticationError", "message": "Missing credentials"},
        "request": {"method": "GET", "url": "/private"},
        "response": {"statusCode": 401},
    }
