"""Bitbucket Cloud reader against a local fake of its REST API 2.0 and archive downloads."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from backstage_runtime.api.errors import ConfigError, NotFoundError, NotModifiedError
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader.bitbucket_cloud import (
    BitbucketCloudUrlReader,
    parse_bitbucket_cloud_url,
)
from backstage_runtime.defaults.url_reader.bitbucket_cloud._urls import web_origin

from ._fake_bitbucket import BitbucketState, bitbucket_cloud_routes
from ._forge import FakeRepo
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

API_TOKEN = "bb-api-token-secret"
BASIC = "Basic " + base64.b64encode(f"me@example.com:{API_TOKEN}".encode()).decode()

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: web",
    "docs/index.md": b"# web",
    "docs/extra/more.md": b"more",
    "deploy/values.yaml": b"replicas: 2",
}
HOTFIX = {"catalog-info.yaml": b"name: hotfix", "docs/index.md": b"# hotfix"}


def repo() -> FakeRepo:
    return FakeRepo(
        "acme", "web", refs={"master": MAIN, "hotfix/login": HOTFIX}, default_branch="master"
    )


@pytest.fixture
async def bitbucket() -> AsyncIterator[tuple[BitbucketState, LocalServer]]:
    state = BitbucketState(repos={"acme/web": repo()}, authorization=BASIC)
    async with serve(bitbucket_cloud_routes(state)) as server:
        yield state, server


def config(server: LocalServer) -> dict[str, object]:
    # The web host is the local server too, so that archive downloads (built from the URL, as
    # in Backstage) reach it.
    entry = {
        "host": f"127.0.0.1:{server.port}",
        "apiBaseUrl": f"{server.base}/2.0",
        "username": "me@example.com",
        "token": API_TOKEN,
    }
    return {"integrations": {"bitbucketCloud": [entry]}}


def src(server: LocalServer, path: str, ref: str = "master") -> str:
    return f"{server.base}/acme/web/src/{ref}/{path}"


def test_bitbucket_cloud_url_forms() -> None:
    parsed = parse_bitbucket_cloud_url("https://bitbucket.org/acme/web/src/master/docs/index.md")
    assert (parsed.workspace, parsed.repo, parsed.kind, parsed.rest) == (
        "acme",
        "web",
        "src",
        ("master", "docs", "index.md"),
    )
    assert parse_bitbucket_cloud_url("https://bitbucket.org/acme/web.git").kind == ""


async def test_read_url_etag_branch_with_slash_and_missing(
    bitbucket: tuple[BitbucketState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = bitbucket
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(src(server, "docs/extra/more.md"))
    assert await response.buffer() == b"more"
    assert server.requests[-1].headers["Authorization"] == BASIC
    with pytest.raises(NotModifiedError):
        await reader.read_url(src(server, "docs/extra/more.md"), etag=response.etag)
    hotfix = await reader.read_url(src(server, "catalog-info.yaml", ref="hotfix/login"))
    assert await hotfix.buffer() == b"name: hotfix"
    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(src(server, "missing.yaml"))
    assert API_TOKEN not in str(caught.value)


async def test_read_tree_and_search(
    bitbucket: tuple[BitbucketState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = bitbucket
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(src(server, "docs"), filter=lambda path, info: "/" in path)
    assert [(f.path, await f.content()) for f in await tree.files()] == [("extra/more.md", b"more")]
    assert tree.etag == repo().sha("master")[:12]
    with pytest.raises(NotModifiedError):
        await reader.read_tree(src(server, "docs"), etag=tree.etag)
    whole = await reader.read_tree(f"{server.base}/acme/web")
    assert {f.path for f in await whole.files()} == set(MAIN)
    hotfix = await reader.read_tree(src(server, "docs", ref="hotfix/login"))
    assert [f.path for f in await hotfix.files()] == ["index.md"]

    found = await reader.search(src(server, "**/*.yaml"))
    assert sorted(f.url for f in found.files) == [
        src(server, "catalog-info.yaml"),
        src(server, "deploy/values.yaml"),
    ]
    with pytest.raises(NotModifiedError):
        await reader.search(src(server, "**/*.yaml"), etag=found.etag)


async def test_defaults_and_config_checks(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    public = reader_from_config({}, session, trees).reader_for(
        "https://bitbucket.org/acme/web/src/master/a.yaml"
    )
    assert isinstance(public, BitbucketCloudUrlReader)
    assert public.integration.api_base_url == "https://api.bitbucket.org/2.0"
    with pytest.raises(ConfigError, match="missing a required token or appPassword"):
        reader_from_config(
            {"integrations": {"bitbucketCloud": [{"username": "me"}]}}, session, trees
        )


class _Stopped(Exception):
    """Raised before a request to a host other than the local fake leaves."""


async def test_http_bitbucket_org_urls_download_archives_over_https_only(
    bitbucket: tuple[BitbucketState, LocalServer], trees: DefaultReadTreeResponseFactory
) -> None:
    _, server = bitbucket
    seen: list[tuple[str, str | None]] = []

    async def stop_remote(
        _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        seen.append((str(params.url), params.headers.get("Authorization")))
        if params.url.host != "127.0.0.1":
            raise _Stopped

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(stop_remote)
    # bitbucket.org (the default host) with the API on the local fake; the archive request,
    # the one built from the location's host, is stopped before it leaves.
    entry = {"apiBaseUrl": f"{server.base}/2.0", "username": "me@example.com", "token": API_TOKEN}
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        reader = reader_from_config({"integrations": {"bitbucketCloud": [entry]}}, session, trees)
        with pytest.raises(_Stopped):
            await reader.read_tree("http://bitbucket.org/acme/web/src/master/docs")
    archive_url, authorization = seen[-1]
    assert archive_url == f"https://bitbucket.org/acme/web/get/{repo().sha('master')}.tar.gz"
    assert authorization == BASIC


def test_archive_origin_never_comes_from_the_location_scheme() -> None:
    api = "https://api.bitbucket.org/2.0"
    assert web_origin("http://bitbucket.org/acme/web/src/master/", api) == "https://bitbucket.org"
    assert web_origin("http://u:p@bitbucket.org/acme/web", api) == "https://bitbucket.org"
    # Another configured host (a proxy, a test server) speaks what its API base speaks.
    assert web_origin("http://proxy.internal/acme/web", api) == "https://proxy.internal"
    assert web_origin("https://proxy:8080/a/b", "http://proxy:8080/2.0") == "http://proxy:8080"
