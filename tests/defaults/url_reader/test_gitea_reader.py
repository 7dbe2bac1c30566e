"""Gitea reader against a local fake of Gitea's REST API v1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from backstage_runtime.api.errors import NotFoundError, NotModifiedError
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader.gitea import parse_gitea_url

from ._fake_gitea import GiteaState, gitea_routes
from ._forge import FakeRepo
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

HOST = "gitea.example.com"
TOKEN = "gitea-access-token"

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: tool",
    "docs/index.md": b"# tool",
    "templates/a/template.yaml": b"kind: Template",
}
NEXT = {"catalog-info.yaml": b"name: next", "docs/index.md": b"# next"}


def repo() -> FakeRepo:
    return FakeRepo(
        "team", "tool", refs={"main": MAIN, "release/next": NEXT, "v1": MAIN}, tags={"v1"}
    )


@pytest.fixture
async def gitea() -> AsyncIterator[tuple[GiteaState, LocalServer]]:
    state = GiteaState(repos={"team/tool": repo()}, authorization=f"token {TOKEN}")
    async with serve(gitea_routes(state)) as server:
        yield state, server


def config(server: LocalServer) -> dict[str, object]:
    return {"integrations": {"gitea": [{"host": HOST, "baseUrl": server.base, "password": TOKEN}]}}


def src(path: str, ref: str = "main", kind: str = "branch") -> str:
    return f"https://{HOST}/team/tool/src/{kind}/{ref}/{path}"


def test_gitea_url_forms() -> None:
    parsed = parse_gitea_url(src("docs/index.md", ref="release/next"))
    assert (parsed.owner, parsed.repo, parsed.kind, parsed.ref_kind, parsed.rest) == (
        "team",
        "tool",
        "src",
        "branch",
        ("release", "next", "docs", "index.md"),
    )
    assert parse_gitea_url(f"https://{HOST}/team/tool/src/main/a.yaml").ref_kind == ""
    assert parse_gitea_url(f"https://{HOST}/team/tool").rest == ()


async def test_read_url_etag_slash_branch_tag_and_missing(
    gitea: tuple[GiteaState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gitea
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(src("docs/index.md"))
    assert await response.buffer() == b"# tool"
    assert server.requests[-1].path == "/api/v1/repos/team/tool/raw/docs/index.md"
    with pytest.raises(NotModifiedError):
        await reader.read_url(src("docs/index.md"), etag=response.etag)
    assert (
        await (await reader.read_url(src("catalog-info.yaml", ref="release/next"))).buffer()
        == b"name: next"
    )
    assert (
        await (await reader.read_url(src("docs/index.md", ref="v1", kind="tag"))).buffer()
        == b"# tool"
    )
    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(src("missing.yaml"))
    assert TOKEN not in str(caught.value)


async def test_read_tree_and_search(
    gitea: tuple[GiteaState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gitea
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(f"https://{HOST}/team/tool/src/branch/release/next/docs")
    assert [(f.path, await f.content()) for f in await tree.files()] == [("index.md", b"# next")]
    assert tree.etag == repo().sha("release/next")
    with pytest.raises(NotModifiedError):
        await reader.read_tree(
            f"https://{HOST}/team/tool/src/branch/release/next/docs", etag=tree.etag
        )
    whole = await reader.read_tree(
        f"https://{HOST}/team/tool", filter=lambda p, i: p.endswith(".yaml")
    )
    assert {f.path for f in await whole.files()} == {
        "catalog-info.yaml",
        "templates/a/template.yaml",
    }

    found = await reader.search(src("templates/**/*.yaml"))
    assert [(f.url, await f.content()) for f in found.files] == [
        (src("templates/a/template.yaml"), b"kind: Template")
    ]
    with pytest.raises(NotModifiedError):
        await reader.search(src("templates/**/*.yaml"), etag=found.etag)
