"""The plain fetch reader: backend.reading.allow, redirects re-checked, conditional requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from backstage_runtime.api.errors import (
    ConfigError,
    InputError,
    NotAllowedError,
    NotFoundError,
    NotImplementedYetError,
    NotModifiedError,
)
from backstage_runtime.api.services.url_reader import UrlReaderError
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, FetchUrlReader
from backstage_runtime.defaults.url_reader.fetch import parse_allowed_target

from ._forge import LAST_MODIFIED, file_answer
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

TOKEN = "fetch-secret-token"


@pytest.mark.parametrize(
    ("host", "paths", "url", "allowed"),
    [
        ("example.com", None, "https://example.com/a", True),
        ("example.com", None, "https://sub.example.com/a", False),
        ("example.com", None, "https://example.com:8443/a", False),
        ("example.com", None, "https://example.com:443/a", True),  # the default port is no port
        ("*.example.com", None, "https://a.b.example.com/x", True),
        ("*.example.com", None, "https://example.com/x", False),
        ("*.example.com", None, "https://badexample.com/x", False),
        ("example.com:8080", None, "http://example.com:8080/x", True),
        ("example.com:8080", None, "http://example.com/x", False),
        ("example.com:80", None, "http://example.com/x", True),
        ("example.com:443", None, "https://example.com/x", True),
        ("example.com:8000-8100", None, "http://example.com:8050/x", True),
        ("example.com:8000-8100", None, "http://example.com:8101/x", False),
        ("example.com", ["/docs"], "https://example.com/docs", True),
        ("example.com", ["/docs"], "https://example.com/docs/a.md", True),
        ("example.com", ["/docs"], "https://example.com/docs-private/a.md", False),
        ("example.com", ["/docs/"], "https://example.com/docs/a.md", True),
        ("example.com", ["/docs"], "https://example.com/docs/../secret", False),
        ("example.com", ["/docs"], "https://example.com/docs/%2e%2e/secret", False),
        ("example.com", ["/docs"], "https://example.com/other/../docs/a", True),
    ],
)
def test_allow_list_matching(host: str, paths: list[str] | None, url: str, allowed: bool) -> None:
    assert parse_allowed_target(host, paths).matches(urlsplit(url)) is allowed


@pytest.mark.parametrize(
    "host", ["example.com:0-5", "example.com:9-2", "example.com:x", "prod.*.example.com"]
)
def test_invalid_allow_entries_name_their_key(host: str) -> None:
    from backstage_runtime.defaults.root_config import create_config_from_data
    from backstage_runtime.defaults.url_reader.fetch import read_allow_list

    with pytest.raises(ConfigError, match=r"backend\.reading\.allow\[0\]"):
        read_allow_list(
            create_config_from_data(
                {"backend": {"reading": {"allow": [{"host": host}]}}}, context="t"
            )
        )


def files_app(target: list[str]) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/file.yaml")
    async def file(request: web.Request) -> web.Response:
        return file_answer(request, b"kind: Location")

    @routes.get("/missing.yaml")
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    @routes.get("/broken")
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    @routes.get("/hop/{count}")
    async def hop(request: web.Request) -> web.Response:
        count = int(request.match_info["count"])
        raise web.HTTPFound(f"/hop/{count + 1}" if count < 10 else "/file.yaml")

    @routes.get("/redirect")
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(target[0])

    return routes


@pytest.fixture
async def servers() -> AsyncIterator[tuple[LocalServer, LocalServer, list[str]]]:
    target: list[str] = [""]
    async with serve(files_app(target)) as allowed, serve(files_app(target)) as other:
        yield allowed, other, target


def allow(*servers: LocalServer) -> dict[str, object]:
    return {"backend": {"reading": {"allow": [{"host": f"127.0.0.1:{s.port}"} for s in servers]}}}


async def test_reads_an_allowed_url_with_conditional_headers(
    servers: tuple[LocalServer, LocalServer, list[str]],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    allowed, _, _ = servers
    reader = reader_from_config(allow(allowed), session, trees)
    response = await reader.read_url(f"{allowed.base}/file.yaml", token=TOKEN)
    assert await response.buffer() == b"kind: Location"
    assert response.last_modified_at == datetime(2023, 11, 15, 10, tzinfo=UTC)
    assert allowed.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(NotModifiedError):
        await reader.read_url(f"{allowed.base}/file.yaml", etag=response.etag)
    assert allowed.requests[-1].headers["If-None-Match"] == response.etag
    with pytest.raises(NotModifiedError):
        await reader.read_url(
            f"{allowed.base}/file.yaml", last_modified_after=datetime(2023, 11, 15, 10, tzinfo=UTC)
        )
    assert allowed.requests[-1].headers["If-Modified-Since"] == LAST_MODIFIED


async def test_streaming_a_body(
    servers: tuple[LocalServer, LocalServer, list[str]],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    allowed, _, _ = servers
    reader = reader_from_config(allow(allowed), session, trees)
    async with await reader.read_url(f"{allowed.base}/file.yaml") as response:
        assert b"".join([c async for c in response.stream()]) == b"kind: Location"


async def test_errors(
    servers: tuple[LocalServer, LocalServer, list[str]],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    allowed, _, _ = servers
    reader = reader_from_config(allow(allowed), session, trees)
    with pytest.raises(
        NotFoundError, match=rf"could not read {allowed.base}/missing.yaml, 404 Not Found"
    ):
        await reader.read_url(f"{allowed.base}/missing.yaml")
    with pytest.raises(UrlReaderError, match="500 Internal Server Error") as caught:
        await reader.read_url(f"{allowed.base}/broken", token=TOKEN)
    assert TOKEN not in str(caught.value)
    with pytest.raises(UrlReaderError, match=r"Too many redirects \(max 5\)"):
        await reader.read_url(f"{allowed.base}/hop/0")
    with pytest.raises(NotImplementedYetError, match="does not implement readTree"):
        await reader.read_tree(f"{allowed.base}/file.yaml")


async def test_hosts_outside_the_allow_list_are_refused(
    servers: tuple[LocalServer, LocalServer, list[str]],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    allowed, other, _ = servers
    reader = reader_from_config(allow(allowed), session, trees)
    url = f"{other.base}/file.yaml"
    with pytest.raises(NotAllowedError) as caught:
        await reader.read_url(url)
    assert str(caught.value) == (
        f"Reading from '{url}' is not allowed. You may need to configure an integration for the "
        "target host, or add it to the configured list of allowed hosts at "
        "'backend.reading.allow'"
    )
    assert other.requests == []
    # Without any backend.reading.allow the fetch reader matches nothing at all.
    with pytest.raises(NotAllowedError):
        await reader_from_config({}, session, trees).read_url(f"{allowed.base}/file.yaml")


async def test_redirect_to_a_disallowed_host_is_refused(
    servers: tuple[LocalServer, LocalServer, list[str]],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    allowed, other, target = servers
    target[0] = f"{other.base}/file.yaml"
    reader = reader_from_config(allow(allowed), session, trees)
    with pytest.raises(
        NotAllowedError, match=rf"Reading from '{other.base}/file.yaml' is not allowed"
    ) as caught:
        await reader.read_url(f"{allowed.base}/redirect")
    assert f"redirected from '{allowed.base}/redirect'" in str(caught.value)
    assert other.requests == []


async def test_redirect_between_allowed_hosts_drops_the_token(
    servers: tuple[LocalServer, LocalServer, list[str]],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    allowed, other, target = servers
    target[0] = f"{other.base}/file.yaml"
    reader = reader_from_config(allow(allowed, other), session, trees)
    response = await reader.read_url(f"{allowed.base}/redirect", token=TOKEN)
    assert await response.buffer() == b"kind: Location"
    assert allowed.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in other.requests[-1].headers


async def test_search_reads_literal_urls_only(
    servers: tuple[LocalServer, LocalServer, list[str]],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    allowed, _, _ = servers
    reader = reader_from_config(allow(allowed), session, trees)
    found = await reader.search(f"{allowed.base}/file.yaml")
    assert [(f.url, await f.content()) for f in found.files] == [
        (f"{allowed.base}/file.yaml", b"kind: Location")
    ]
    assert found.etag
    assert (await reader.search(f"{allowed.base}/missing.yaml")).files == []
    with pytest.raises(InputError, match="only literal URLs"):
        await reader.search(f"{allowed.base}/*.yaml")


async def test_credentials_in_urls_never_reach_messages(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = FetchUrlReader(session=session, allow=[parse_allowed_target("127.0.0.1:1")])
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url("http://user:hunter2@127.0.0.1:1/file?token=abc&x=1")
    message = str(caught.value)
    assert "hunter2" not in message
    assert "abc" not in message
    assert "Unable to read http://***@127.0.0.1:1/file?token=***&x=1" in message
