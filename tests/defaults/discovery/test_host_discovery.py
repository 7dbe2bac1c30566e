"""HostDiscovery: fallbacks from backend.baseUrl/backend.listen, and discovery.endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime.api import core_services
from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.discovery import HostDiscovery
from backstage_runtime.testing import mock_services, start_test_backend

pytestmark = pytest.mark.anyio


def discovery(config: dict[str, Any]) -> HostDiscovery:
    return HostDiscovery.from_config(mock_services.root_config(config))


async def test_fallbacks_use_the_listen_address_and_the_base_url() -> None:
    subject = discovery({"backend": {"baseUrl": "https://portal.example.com/", "listen": 7008}})
    assert await subject.get_base_url("catalog") == "http://localhost:7008/api/catalog"
    assert (
        await subject.get_external_base_url("catalog") == "https://portal.example.com/api/catalog"
    )


@pytest.mark.parametrize(
    ("listen", "internal"),
    [
        ({"host": "0.0.0.0", "port": 80}, "http://127.0.0.1:80/api/x"),
        ({"host": "::", "port": 80}, "http://localhost:80/api/x"),
        ({"host": "::1"}, "http://[::1]:7007/api/x"),
        ("10.0.0.5:9000", "http://10.0.0.5:9000/api/x"),
        (None, "http://localhost:7007/api/x"),
    ],
)
async def test_internal_host_rules(listen: Any, internal: str) -> None:
    backend: dict[str, Any] = {"baseUrl": "http://localhost:7007"}
    if listen is not None:
        backend["listen"] = listen
    assert await discovery({"backend": backend}).get_base_url("x") == internal


async def test_https_switches_the_internal_scheme() -> None:
    subject = discovery({"backend": {"baseUrl": "https://b", "https": True}})
    assert await subject.get_base_url("x") == "https://localhost:7007/api/x"


async def test_endpoints_exact_ids_beat_wildcards_and_later_entries_win() -> None:
    subject = discovery(
        {
            "backend": {"baseUrl": "http://localhost:7007"},
            "discovery": {
                "endpoints": [
                    {"target": "http://first/{{pluginId}}", "plugins": ["catalog"]},
                    {"target": "http://all/api/{{ pluginId }}", "plugins": ["*"]},
                    {
                        "target": {
                            "internal": "http://catalog.internal/api/catalog",
                            "external": "https://catalog.example.com/api/catalog",
                        },
                        "plugins": ["catalog"],
                    },
                    {"target": {"external": "https://ext/{{pluginId}}"}, "plugins": ["search"]},
                ]
            },
        }
    )
    assert await subject.get_base_url("catalog") == "http://catalog.internal/api/catalog"
    assert (
        await subject.get_external_base_url("catalog") == "https://catalog.example.com/api/catalog"
    )
    assert await subject.get_base_url("scaffolder") == "http://all/api/scaffolder"
    assert await subject.get_base_url("a b") == "http://all/api/a%20b"
    # An entry without an internal target leaves the internal URL to the next rule.
    assert await subject.get_base_url("search") == "http://all/api/search"
    assert await subject.get_external_base_url("search") == "https://ext/search"


async def test_srv_targets_are_refused_with_the_key() -> None:
    with pytest.raises(ConfigError, match=r"discovery.endpoints\[0\].target"):
        discovery(
            {
                "backend": {"baseUrl": "http://x"},
                "discovery": {"endpoints": [{"target": "http+srv://db/x", "plugins": ["*"]}]},
            }
        )


async def test_the_service_uses_the_port_the_server_really_bound() -> None:
    seen: dict[str, str] = {}

    async def init(discovery: Any) -> None:
        seen["internal"] = await discovery.get_base_url("catalog")
        seen["external"] = await discovery.get_external_base_url("catalog")

    plugin = plugin_with_init("p", {"discovery": core_services.discovery}, init)
    async with start_test_backend(
        features=[plugin], config={"backend": {"baseUrl": "http://portal"}}
    ) as test:
        url = await test.url()
    port = url.rsplit(":", 1)[1]
    assert seen == {
        "internal": f"http://localhost:{port}/api/catalog",
        "external": "http://portal/api/catalog",
    }
