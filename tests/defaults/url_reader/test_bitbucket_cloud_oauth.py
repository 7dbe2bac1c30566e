"""Bitbucket Cloud OAuth consumer credentials (``clientId``/``clientSecret``) against a local
fake of the token endpoint and the REST API 2.0.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest

from backstage_runtime.api.errors import ConfigError, NotFoundError, NotModifiedError
from backstage_runtime.api.services.url_reader import UrlReaderError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader.bitbucket_cloud import (
    BitbucketCloudUrlReader,
    read_bitbucket_cloud_integration_configs,
)

from ._fake_bitbucket import BitbucketState
from ._fake_bitbucket_cloud_oauth import TOKEN_PATH, OAuthState, fake_bitbucket_cloud_with_oauth
from ._forge import FakeRepo
from ._server import LocalServer
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

CLIENT_ID = "consumer-key"
CLIENT_SECRET = "consumer-secret-value"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
FILES = {"catalog-info.yaml": b"kind: Component", "docs/index.md": b"# docs", "x/y.yaml": b"y"}


@pytest.fixture
async def oauth() -> AsyncIterator[tuple[OAuthState, LocalServer]]:
    bitbucket = BitbucketState(
        repos={"acme/web": FakeRepo("acme", "web", refs={"main": dict(FILES)})},
        authorization="Bearer nothing-issued-yet",
    )
    state = OAuthState(bitbucket, CLIENT_ID, CLIENT_SECRET)
    async with fake_bitbucket_cloud_with_oauth(state) as server:
        yield state, server


def entry(server: LocalServer, **extra: Any) -> dict[str, Any]:
    return {
        "host": f"127.0.0.1:{server.port}",
        "apiBaseUrl": f"{server.base}/2.0",
        "oauthTokenUrl": f"{server.base}{TOKEN_PATH}",
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        **extra,
    }


def config(server: LocalServer, **extra: Any) -> dict[str, Any]:
    return {"integrations": {"bitbucketCloud": [entry(server, **extra)]}}


def src(server: LocalServer, path: str) -> str:
    return f"{server.base}/acme/web/src/main/{path}"


def token_requests(server: LocalServer) -> list[dict[str, str]]:
    return [seen.headers for seen in server.requests if seen.path == TOKEN_PATH]


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def direct_reader(
    server: LocalServer,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    clock: Clock,
) -> BitbucketCloudUrlReader:
    [integration] = read_bitbucket_cloud_integration_configs(
        create_config_from_data(config(server), context="t")
    )
    return BitbucketCloudUrlReader(
        integration, session=session, tree_response_factory=trees, clock=clock
    )


async def test_one_oauth_token_serves_file_tree_and_search(
    oauth: tuple[OAuthState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = oauth
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(src(server, "catalog-info.yaml"))
    assert await response.buffer() == FILES["catalog-info.yaml"]
    with pytest.raises(NotModifiedError):
        await reader.read_url(src(server, "catalog-info.yaml"), etag=response.etag)
    tree = await reader.read_tree(src(server, "docs"), filter=lambda path, _: path.endswith(".md"))
    assert [(f.path, await f.content()) for f in await tree.files()] == [("index.md", b"# docs")]
    found = await reader.search(src(server, "**/*.yaml"))
    assert sorted(f.url for f in found.files) == [
        src(server, "catalog-info.yaml"),
        src(server, "x/y.yaml"),
    ]

    assert state.issued == ["bb-oauth-access-1"]
    [token_call] = token_requests(server)
    assert token_call["Authorization"] == BASIC
    assert state.forms == [{"grant_type": "client_credentials"}]
    others = [seen for seen in server.requests if seen.path != TOKEN_PATH]
    assert {seen.headers.get("Authorization") for seen in others} == {"Bearer bb-oauth-access-1"}


async def test_concurrent_reads_share_one_token_request(
    oauth: tuple[OAuthState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = oauth
    reader = reader_from_config(config(server), session, trees)
    contents: list[bytes] = []

    async def read() -> None:
        contents.append(await (await reader.read_url(src(server, "x/y.yaml"))).buffer())

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(read)
    assert contents == [b"y"] * 20
    assert state.issued == ["bb-oauth-access-1"]


@pytest.mark.parametrize(("expires_in", "lifetime"), [(7200, 7200), (None, 3600)])
async def test_the_token_is_renewed_ten_minutes_before_it_expires(
    oauth: tuple[OAuthState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    expires_in: int | None,
    lifetime: int,
) -> None:
    state, server = oauth
    state.expires_in = expires_in  # without one, an hour is assumed
    clock = Clock()
    reader = direct_reader(server, session, trees, clock)
    await (await reader.read_url(src(server, "x/y.yaml"))).buffer()
    clock.now += lifetime - 11 * 60
    await (await reader.read_url(src(server, "x/y.yaml"))).buffer()
    assert len(state.issued) == 1
    clock.now += 2 * 60
    # The fake now only accepts the new token: the read succeeds only if it was renewed.
    await (await reader.read_url(src(server, "x/y.yaml"))).buffer()
    assert state.issued == ["bb-oauth-access-1", "bb-oauth-access-2"]
    assert server.requests[-1].headers["Authorization"] == "Bearer bb-oauth-access-2"


@pytest.mark.parametrize(("status", "limited"), [(401, False), (404, False), (429, True)])
async def test_token_endpoint_failures_are_reader_errors_without_secrets(
    oauth: tuple[OAuthState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    status: int,
    limited: bool,
) -> None:
    state, server = oauth
    state.fail_with = status
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(src(server, "x/y.yaml"))
    error = caught.value
    assert not isinstance(error, NotFoundError)  # a broken credential is not a missing file
    assert str(error).startswith(
        f"Failed to fetch OAuth token for Bitbucket Cloud from {server.base}{TOKEN_PATH}, {status}"
    )
    assert (error.status, error.rate_limited) == (status, limited)
    for secret in (CLIENT_SECRET, BASIC.split()[1]):
        assert secret not in str(error)
        assert secret not in repr(reader)
    # A literal search turns NotFoundError into "no files"; this must stay an error.
    with pytest.raises(UrlReaderError):
        await reader.search(src(server, "x/y.yaml"))
    # Failures are not cached: once the endpoint recovers, reads work.
    state.fail_with = None
    assert await (await reader.read_url(src(server, "x/y.yaml"))).buffer() == b"y"


async def test_wrong_client_secret_and_missing_access_token(
    oauth: tuple[OAuthState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = oauth
    reader = reader_from_config(config(server, clientSecret="wrong-secret"), session, trees)
    with pytest.raises(UrlReaderError, match="401 Unauthorized") as caught:
        await reader.read_url(src(server, "x/y.yaml"))
    assert "wrong-secret" not in str(caught.value)
    state.omit_access_token = True
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(UrlReaderError, match="the response has no access_token"):
        await reader.read_url(src(server, "x/y.yaml"))


async def test_token_option_bypasses_oauth(
    oauth: tuple[OAuthState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = oauth
    state.bitbucket.authorization = "Bearer user-token"
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(src(server, "x/y.yaml"), token="user-token")
    assert await response.buffer() == b"y"
    assert token_requests(server) == []


async def test_rate_limited_api_is_a_rate_limited_error(
    oauth: tuple[OAuthState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = oauth
    reader = reader_from_config(config(server), session, trees)
    await (await reader.read_url(src(server, "x/y.yaml"))).buffer()
    state.bitbucket.rate_limited = True
    with pytest.raises(UrlReaderError, match=r"429 Too Many Requests \(rate limit exceeded\)") as e:
        await reader.read_url(src(server, "x/y.yaml"))
    assert e.value.rate_limited


async def test_oauth_config_defaults_and_str(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    data = {
        "integrations": {"bitbucketCloud": [{"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}]}
    }
    reader = reader_from_config(data, session, trees).reader_for(
        "https://bitbucket.org/acme/web/src/main/a.yaml"
    )
    assert isinstance(reader, BitbucketCloudUrlReader)
    integration = reader.integration
    assert integration.oauth_token_url == "https://bitbucket.org/site/oauth2/access_token"
    assert integration.api_base_url == "https://api.bitbucket.org/2.0"
    assert (integration.client_id, integration.oauth, integration.authed) == (CLIENT_ID, True, True)
    assert str(reader) == "bitbucketCloud{host=bitbucket.org,authed=True}"
    for text in (repr(integration), repr(reader.auth), str(reader)):
        assert CLIENT_SECRET not in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"clientId": "id"}, r"missing 'integrations\.bitbucketCloud\[0\]\.clientSecret'"),
        ({"clientSecret": "s3cr3t"}, r"missing 'integrations\.bitbucketCloud\[0\]\.clientId'"),
        (
            {"clientId": "id", "clientSecret": "s3cr3t", "username": "me", "token": "t0k3n"},
            r"at 'integrations\.bitbucketCloud\[0\]' must configure either OAuth",
        ),
        (
            {"clientId": "id", "clientSecret": "s3cr3t", "token": "t0k3n"},
            r"at 'integrations\.bitbucketCloud\[0\]' must configure either OAuth",
        ),
        ({"username": "me"}, r"missing a required token or appPassword"),
        (
            {"clientId": "id", "clientSecret": "s3cr3t", "oauthTokenUrl": "ftp://x"},
            r"'integrations\.bitbucketCloud\[0\]\.oauthTokenUrl'",
        ),
    ],
)
def test_credential_kinds_are_exclusive(extra: dict[str, str], message: str) -> None:
    data = {"integrations": {"bitbucketCloud": [extra]}}
    with pytest.raises(ConfigError, match=message) as caught:
        read_bitbucket_cloud_integration_configs(create_config_from_data(data, context="t"))
    for secret in ("s3cr3t", "t0k3n"):
        assert secret not in str(caught.value)
