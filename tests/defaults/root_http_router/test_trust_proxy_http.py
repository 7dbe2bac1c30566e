"""``backend.trustProxy`` on a real socket: the client behind trusted proxies is the address
plugins (``request.remote_addr``), the request log and audit events see.
"""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import plugin_with_routes, request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime.api import core_services, create_backend_plugin
from backstage_runtime.defaults.root_http_router import (
    ListenOptions,
    root_http_router_service_factory,
)
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


def whoami() -> Any:
    routes = Blueprint("whoami", __name__)

    @routes.get("/ip")
    async def ip() -> dict[str, Any]:
        return {"ip": quart_request.remote_addr}

    return plugin_with_routes("whoami", routes)


def audited() -> Any:
    def register(env: Any) -> None:
        def init(http: Any, auditor: Any) -> None:
            routes = Blueprint("audited", __name__)

            @routes.post("/act")
            async def act() -> dict[str, bool]:
                event = await auditor.create_event("act", request=quart_request)
                await event.success()
                return {"done": True}

            http.use(routes)

        env.register_init(
            deps={"http": core_services.http_router, "auditor": core_services.auditor}, init=init
        )

    return create_backend_plugin(plugin_id="audited", register=register)


async def serve_and_ask(trust_proxy: Any, forwarded_for: str) -> tuple[str, Any, Any]:
    config = {"backend": {"trustProxy": trust_proxy}} if trust_proxy is not None else {}
    features = [
        whoami(),
        audited(),
        root_http_router_service_factory(default_listen=ListenOptions("127.0.0.1", 0)),
    ]
    async with start_test_backend(features=features, config=config) as test:
        headers = {"X-Forwarded-For": forwarded_for}
        seen = await request("GET", await test.url("/api/whoami/ip"), headers=headers)
        await request("POST", await test.url("/api/audited/act"), headers=headers)
        [logged] = [
            e.fields.get("ip")
            for e in test.logger.entries
            if e.fields.get("type") == "incomingRequest" and e.fields["url"] == "/api/whoami/ip"
        ]
        audited_ips = {
            e.fields["actor"].get("ip")
            for e in test.logger.entries
            if e.fields.get("isAuditEvent") is True
        }
    return seen.json()["ip"], logged, audited_ips


async def test_behind_a_trusted_proxy_the_forwarded_client_is_the_address_everywhere() -> None:
    # The test client connects from 127.0.0.1, a proxy in `loopback`.
    ip, logged, audited_ips = await serve_and_ask("loopback", "198.51.100.9, 127.0.0.1")
    assert ip == logged == "198.51.100.9"
    assert audited_ips == {"198.51.100.9"}


async def test_a_hop_count_trusts_only_the_nearest_proxies() -> None:
    ip, logged, _ = await serve_and_ask(1, "198.51.100.9, 192.0.2.1")
    assert ip == logged == "192.0.2.1"


async def test_without_trust_proxy_forwarded_headers_are_ignored() -> None:
    ip, logged, audited_ips = await serve_and_ask(None, "198.51.100.9")
    assert ip == logged == "127.0.0.1"
    assert audited_ips == {"127.0.0.1"}
