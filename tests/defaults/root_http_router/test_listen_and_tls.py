"""backend.listen parsing, a clear error for a taken port, and HTTPS from config."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from _support.features import plugin_with_init

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_http_router import (
    ListenOptions,
    dev_certificate_path,
    read_listen_options,
)
from backstage_runtime.testing import mock_services, start_test_backend


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        (None, ListenOptions("", 7007)),
        ("7010", ListenOptions("", 7010)),
        ("127.0.0.1:7011", ListenOptions("127.0.0.1", 7011)),
        (7012, ListenOptions("", 7012)),
        ({"host": "0.0.0.0"}, ListenOptions("0.0.0.0", 7007)),
        ({"port": "7013"}, ListenOptions("", 7013)),
    ],
)
def test_listen_forms(listen: Any, expected: ListenOptions) -> None:
    data = {"backend": {"listen": listen}} if listen is not None else {}
    assert read_listen_options(mock_services.root_config(data)) == expected


@pytest.mark.parametrize("listen", ["a:b:c", "localhost:http", {"port": 70000}])
def test_bad_listen_values_name_the_key(listen: Any) -> None:
    with pytest.raises(ConfigError, match=r"backend\.listen"):
        read_listen_options(mock_services.root_config({"backend": {"listen": listen}}))


@pytest.mark.anyio
async def test_a_taken_port_fails_the_start_naming_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = {"backend": {"listen": {"host": "127.0.0.1", "port": port}}}
        with pytest.raises(ConfigError) as caught:
            async with start_test_backend(config=config):
                pass
    assert str(caught.value) == (
        f"Unable to listen on 127.0.0.1:{port} (backend.listen): address already in use"
    )


@pytest.mark.anyio
async def test_https_with_a_generated_development_certificate(tmp_path: Path) -> None:
    from backstage_runtime.defaults.root_http_router import root_http_router_service_factory

    config = {"backend": {"baseUrl": "https://localhost:7007", "https": True}}
    factory = root_http_router_service_factory(
        default_listen=ListenOptions("127.0.0.1", 0), certificate_cache_dir=tmp_path
    )
    async with start_test_backend(features=[plugin_with_init("p"), factory], config=config) as test:
        url = (await test.url("/.backstage/health/v1/liveness")).replace("http:", "https:")
        pem = dev_certificate_path(tmp_path).read_text()
        context = ssl.create_default_context(cadata=pem.split("-----BEGIN PRIVATE KEY-----")[0])
        async with aiohttp.ClientSession() as session, session.get(url, ssl=context) as response:
            status, body = response.status, await response.json()
    assert (status, body) == (200, {"status": "ok"})
    assert (dev_certificate_path(tmp_path).stat().st_mode & 0o777) == 0o600


@pytest.mark.anyio
async def test_https_certificate_from_config(tmp_path: Path) -> None:
    from backstage_runtime.defaults.root_http_router import root_http_router_service_factory

    # Generate a certificate once through the development path, then hand it over as PEM text.
    pem = _generated_pem(tmp_path)
    cert, key = pem.split("-----BEGIN PRIVATE KEY-----")
    config = {
        "backend": {
            "baseUrl": "https://localhost:7007",
            "https": {"certificate": {"cert": cert, "key": "-----BEGIN PRIVATE KEY-----" + key}},
        }
    }
    factory = root_http_router_service_factory(default_listen=ListenOptions("127.0.0.1", 0))
    async with start_test_backend(features=[factory], config=config) as test:
        url = (await test.url("/.backstage/health/v1/readiness")).replace("http:", "https:")
        context = ssl.create_default_context(cadata=cert)
        async with aiohttp.ClientSession() as session, session.get(url, ssl=context) as response:
            assert response.status == 200


def test_a_bad_certificate_names_the_key() -> None:
    from backstage_runtime.defaults.root_http_router._tls import read_tls_context

    config = mock_services.root_config(
        {"backend": {"https": {"certificate": {"cert": "nope", "key": "nope"}}}}
    )
    with pytest.raises(ConfigError, match=r"backend\.https\.certificate"):
        read_tls_context(config)


def _generated_pem(tmp_path: Path) -> str:
    from backstage_runtime.defaults.root_http_router._tls import read_tls_context

    config = mock_services.root_config({"backend": {"baseUrl": "https://localhost", "https": True}})
    read_tls_context(config, cache_dir=tmp_path)
    return dev_certificate_path(tmp_path).read_text()
