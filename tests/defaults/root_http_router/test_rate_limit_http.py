"""``backend.rateLimit`` on a real socket: global and per-plugin limits, in memory and in a real
Redis shared by two backends.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from _support.http import Reply, plugin_with_routes, request
from quart import Blueprint

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

REDIS = "redis://127.0.0.1:6379"
BODY = {
    "error": {"name": "Error", "message": "Too many requests, please try again later"},
    "response": {"statusCode": 429},
}


def a_client() -> str:
    """A client address of its own per test, so that counters in Redis never meet."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def routes_plugin(plugin_id: str) -> Any:
    routes = Blueprint(plugin_id, __name__)

    @routes.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    return plugin_with_routes(plugin_id, routes)


def config(rate_limit: Any, **backend: Any) -> dict[str, Any]:
    # The test client is 127.0.0.1, a trusted proxy: X-Forwarded-For names the client.
    return {"backend": {"trustProxy": "loopback", "rateLimit": rate_limit, **backend}}


async def ask(test: Any, path: str, client: str | None, times: int = 1) -> list[Reply]:
    headers: Mapping[str, str] = {"X-Forwarded-For": client} if client else {}
    return [await request("GET", await test.url(path), headers=headers) for _ in range(times)]


async def test_past_the_global_limit_a_client_gets_429_with_backstages_body_and_headers() -> None:
    client, other = a_client(), a_client()
    limit = {"incomingRequestLimit": 2, "window": "1m", "ipAllowList": []}
    features = [routes_plugin("alpha")]
    async with start_test_backend(features=features, config=config(limit)) as test:
        first, second, third = await ask(test, "/api/alpha/ok", client, 3)
        health = (await ask(test, "/.backstage/health/v1/liveness", client))[0]
        elsewhere = (await ask(test, "/api/alpha/ok", other))[0]

    assert (first.status, second.status, third.status) == (200, 200, 429)
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert second.headers["X-RateLimit-Remaining"] == "0"
    reset = int(first.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= math.ceil(time.time()) + 60
    assert third.json() == BODY
    assert third.headers["Content-Type"].startswith("application/json")
    assert 0 < int(third.headers["Retry-After"]) <= 60
    assert third.headers["X-RateLimit-Remaining"] == "0"
    assert "Content-Security-Policy" in third.headers  # answered inside the root pipeline
    assert health.status == 429  # the health endpoints are behind the global limiter
    assert elsewhere.status == 200


async def test_rate_limit_true_uses_the_defaults_and_never_limits_localhost() -> None:
    async with start_test_backend(
        features=[routes_plugin("alpha")], config={"backend": {"rateLimit": True}}
    ) as test:
        local = await ask(test, "/api/alpha/ok", None, 6)

    assert {reply.status for reply in local} == {200}
    assert "X-RateLimit-Limit" not in local[0].headers  # skipped: no headers, as express's


async def test_rate_limit_true_allows_five_requests_a_minute_to_others() -> None:
    client = a_client()
    # Behind a proxy the socket is the proxy's: an empty allow list limits its clients.
    async with start_test_backend(
        features=[routes_plugin("alpha")], config=config({"ipAllowList": []})
    ) as test:
        replies = await ask(test, "/api/alpha/ok", client, 6)

    assert [reply.status for reply in replies] == [200] * 5 + [429]
    assert replies[0].headers["X-RateLimit-Limit"] == "5"


async def test_a_plugin_limit_applies_to_that_plugin_only() -> None:
    client = a_client()
    limit = {
        "global": False,
        "plugin": {"alpha": {"incomingRequestLimit": 1, "ipAllowList": []}},
    }
    features = [routes_plugin("alpha"), routes_plugin("beta")]
    async with start_test_backend(features=features, config=config(limit)) as test:
        alpha = await ask(test, "/api/alpha/ok", client, 2)
        beta = await ask(test, "/api/beta/ok", client, 3)

    assert [reply.status for reply in alpha] == [200, 429]
    assert alpha[1].json() == BODY
    assert [reply.status for reply in beta] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in beta[0].headers


async def test_skip_successful_requests_counts_only_failures() -> None:
    client = a_client()
    limit = {"incomingRequestLimit": 2, "skipSuccessfulRequests": True, "ipAllowList": []}
    features = [routes_plugin("alpha")]
    async with start_test_backend(features=features, config=config(limit)) as test:
        fine = await ask(test, "/api/alpha/ok", client, 4)
        missing = await ask(test, "/api/alpha/missing", client, 3)

    assert [reply.status for reply in fine] == [200] * 4
    assert [reply.status for reply in missing] == [404, 404, 429]


async def test_skip_failed_requests_counts_only_successes() -> None:
    client = a_client()
    limit = {"incomingRequestLimit": 2, "skipFailedRequests": True, "ipAllowList": []}
    features = [routes_plugin("alpha")]
    async with start_test_backend(features=features, config=config(limit)) as test:
        missing = await ask(test, "/api/alpha/missing", client, 3)
        fine = await ask(test, "/api/alpha/ok", client, 3)

    assert [reply.status for reply in missing] == [404, 404, 404]
    assert [reply.status for reply in fine] == [200, 200, 429]


async def test_two_backends_sharing_a_redis_store_share_the_limit() -> None:
    client = a_client()
    limit = {
        "incomingRequestLimit": 3,
        "ipAllowList": [],
        "store": {"type": "redis", "connection": REDIS},
        "plugin": {"alpha": {"incomingRequestLimit": 1, "ipAllowList": []}},
    }
    features = [routes_plugin("alpha"), routes_plugin("beta")]
    async with (
        start_test_backend(features=features, config=config(limit)) as one,
        start_test_backend(features=features, config=config(limit)) as two,
    ):
        first = await ask(one, "/api/beta/ok", client, 2)
        second = await ask(two, "/api/beta/ok", client, 2)
        plugin_one = await ask(one, "/api/alpha/ok", a_client())
        other = a_client()
        plugin_two = await ask(one, "/api/alpha/ok", other) + await ask(two, "/api/alpha/ok", other)

    assert [reply.status for reply in first + second] == [200, 200, 200, 429]
    assert second[0].headers["X-RateLimit-Remaining"] == "0"
    assert plugin_one[0].status == 200
    # The plugin limiter (1) is shared too, and counts apart from the global one (3).
    assert [reply.status for reply in plugin_two] == [200, 429]


async def test_a_failing_store_passes_requests_with_pass_on_store_error() -> None:
    client = a_client()
    dead = {"type": "redis", "connection": "redis://127.0.0.1:1"}
    passing = {"ipAllowList": [], "store": dead, "passOnStoreError": True}
    failing = {"ipAllowList": [], "store": dead}
    features = [routes_plugin("alpha")]
    async with start_test_backend(features=features, config=config(passing)) as test:
        passed = await ask(test, "/api/alpha/ok", client)
        logged = [e.message for e in test.logger.entries if e.level == "error"]
    async with start_test_backend(features=features, config=config(failing)) as test:
        refused = await ask(test, "/api/alpha/ok", client)

    assert passed[0].status == 200
    assert any("Rate limit store failed" in message for message in logged)
    assert refused[0].status >= 500
    assert refused[0].json()["response"]["statusCode"] == refused[0].status


async def test_an_unknown_store_type_fails_the_start_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"backend\.rateLimit\.store\.type.*'disk'"):
        async with start_test_backend(config=config({"store": {"type": "disk"}})):
            pass
