"""Bitbucket Server reader against a local fake of its REST API 1.0."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest

from backstage_runtime.api.errors import InputError, NotFoundError, NotModifiedError
from backstage_runtime.api.services.url_reader import UrlReaderError
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader.bitbucket_server import parse_bitbucket_server_url

from ._fake_bitbucket import BitbucketState, bitbucket_server_routes
from ._forge import FakeRepo
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

HOST = "bitbucket.example.com"
PASSWORD = "bbs-secret-password"
BASIC = "Basic " + base64.b64encode(f"svc:{PASSWORD}".encode()).decode()

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: payments",
    "docs/index.md": b"# payments",
    "components/a/catalog-info.yaml": b"name: a",
    "components/b/catalog-info.yaml": b"name: b",
}
FEATURE = {"catalog-info.yaml": b"name: feature", "docs/index.md": b"# feature"}


def repo() -> FakeRepo:
    return FakeRepo(
        "PAY", "payments", refs={"main": MAIN, "feature/retry": FEATURE, "v2": MAIN}, tags={"v2"}
    )


@pytest.fixture
async def bitbucket() -> AsyncIterator[tuple[BitbucketState, LocalServer]]:
    state = BitbucketState(
        repos={"PAY/payments": repo(), "~alice/notes": repo()}, authorization=BASIC
    )
    async with serve(bitbucket_server_routes(state)) as server:
        yield state, server


def config(server: LocalServer) -> dict[str, object]:
    entry = {
        "host": HOST,
        "apiBaseUrl": f"{server.base}/rest/api/1.0",
        "username": "svc",
        "password": PASSWORD,
    }
    return {"integrations": {"bitbucketServer": [entry]}}


def browse(path: str, at: str | None = "refs/heads/main") -> str:
    url = f"https://{HOST}/projects/PAY/repos/payments/browse/{path}"
    return url + (f"?at={at}" if at else "")


def test_bitbucket_server_url_forms() -> None:
    parsed = parse_bitbucket_server_url(browse("docs/index.md", at="refs/heads/feature/retry"))
    assert (parsed.project, parsed.repo, parsed.kind, parsed.path, parsed.at) == (
        "PAY",
        "payments",
        "browse",
        "docs/index.md",
        "refs/heads/feature/retry",
    )
    personal = parse_bitbucket_server_url(f"https://{HOST}/users/alice/repos/notes/raw/a.yaml")
    assert (personal.project, personal.kind, personal.at) == ("~alice", "raw", "")
    with pytest.raises(InputError):
        parse_bitbucket_server_url(f"https://{HOST}/dashboard")


async def test_read_url_etag_and_missing(
    bitbucket: tuple[BitbucketState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = bitbucket
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(browse("catalog-info.yaml", at="refs/heads/feature/retry"))
    assert await response.buffer() == FEATURE["catalog-info.yaml"]
    assert (
        server.requests[-1].path
        == "/rest/api/1.0/projects/PAY/repos/payments/raw/catalog-info.yaml"
    )
    with pytest.raises(NotModifiedError):
        await reader.read_url(
            browse("catalog-info.yaml", at="refs/heads/feature/retry"), etag=response.etag
        )
    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(browse("nope.yaml"))
    assert PASSWORD not in str(caught.value)
    assert "could not be read as" in str(caught.value)
    personal = await reader.read_url(f"https://{HOST}/users/alice/repos/notes/browse/docs/index.md")
    assert await personal.buffer() == MAIN["docs/index.md"]


async def test_read_tree_for_branch_default_and_tag(
    bitbucket: tuple[BitbucketState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = bitbucket
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(
        browse("components", at="refs/heads/main"), filter=lambda path, info: path.startswith("a/")
    )
    assert [(f.path, await f.content()) for f in await tree.files()] == [
        ("a/catalog-info.yaml", b"name: a")
    ]
    assert tree.etag == repo().sha("main")[:12]
    with pytest.raises(NotModifiedError):
        await reader.read_tree(browse("components"), etag=tree.etag)
    default = await reader.read_tree(f"https://{HOST}/projects/PAY/repos/payments")
    assert {f.path for f in await default.files()} == set(MAIN)
    tagged = await reader.read_tree(browse("docs", at="refs/tags/v2"))
    assert [f.path for f in await tagged.files()] == ["index.md"]
    with pytest.raises(NotFoundError):
        await reader.read_tree(browse("docs", at="refs/heads/gone"))


async def test_search_with_a_glob(
    bitbucket: tuple[BitbucketState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = bitbucket
    reader = reader_from_config(config(server), session, trees)
    result = await reader.search(browse("components/*/catalog-info.yaml"))
    assert sorted([(f.url, await f.content()) for f in result.files]) == [
        (browse("components/a/catalog-info.yaml"), b"name: a"),
        (browse("components/b/catalog-info.yaml"), b"name: b"),
    ]
    with pytest.raises(NotModifiedError):
        await reader.search(browse("components/*/catalog-info.yaml"), etag=result.etag)
    assert (await reader.search(browse("missing.yaml"))).files == []


async def test_wrong_credentials_and_rate_limits(
    bitbucket: tuple[BitbucketState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = bitbucket
    state.authorization = "Bearer personal-token"
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(UrlReaderError, match="401 Unauthorized"):
        await reader.read_url(browse("catalog-info.yaml"))
    assert await (
        await reader.read_url(browse("catalog-info.yaml"), token="personal-token")
    ).buffer()
    state.rate_limited = True
    with pytest.raises(UrlReaderError, match=r"\(rate limit exceeded\)"):
        await reader.read_url(browse("catalog-info.yaml"), token="personal-token")
