"""GitLab reader against a local fake of GitLab's REST API v4."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from backstage_runtime.api.errors import NotFoundError, NotModifiedError
from backstage_runtime.api.services.url_reader import UrlReaderError
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader.gitlab import GitlabUrlReader, parse_gitlab_url

from ._fake_gitlab import GitlabState, fake_gitlab
from ._forge import FakeRepo
from ._server import LocalServer
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

TOKEN = "glpat-secret-token"
HOST = "gitlab.example.com"
PROJECT = "platform/backend/orders"

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: orders",
    "docs/index.md": b"# orders",
    "docs/api/reference.md": b"reference",
    "services/a/catalog-info.yaml": b"kind: Component\nname: a",
}
RELEASE = {"catalog-info.yaml": b"kind: Component\nname: release", "docs/index.md": b"# release"}


def repo() -> FakeRepo:
    return FakeRepo("platform/backend", "orders", refs={"main": MAIN, "release/2024.1": RELEASE})


@pytest.fixture
async def gitlab() -> AsyncIterator[tuple[GitlabState, LocalServer]]:
    state = GitlabState(projects={PROJECT: repo()}, token=TOKEN)
    async with fake_gitlab(state) as server:
        yield state, server


def config(server: LocalServer) -> dict[str, object]:
    return {
        "integrations": {
            "gitlab": [{"host": HOST, "apiBaseUrl": f"{server.base}/api/v4", "token": TOKEN}]
        }
    }


def blob(path: str, ref: str = "main") -> str:
    return f"https://{HOST}/{PROJECT}/-/blob/{ref}/{path}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://gitlab.com/group/sub/project/-/blob/main/catalog-info.yaml",
            ("group/sub/project", "blob", ("main", "catalog-info.yaml"), True),
        ),
        (
            "https://gitlab.com/group/project/blob/main/a/b.yaml",
            ("group/project", "blob", ("main", "a", "b.yaml"), False),
        ),
        (
            "https://gitlab.com/group/project/-/tree/main/docs",
            ("group/project", "tree", ("main", "docs"), True),
        ),
        (
            "https://gitlab.com/group/project/-/raw/main/x.yaml",
            ("group/project", "raw", ("main", "x.yaml"), True),
        ),
        ("https://gitlab.com/group/sub/project", ("group/sub/project", "", (), False)),
        (
            "https://example.com/gitlab/group/project/-/blob/main/x.yaml",
            ("group/project", "blob", ("main", "x.yaml"), True),
        ),
    ],
)
def test_gitlab_url_forms(url: str, expected: tuple[object, ...]) -> None:
    parsed = parse_gitlab_url(url, "/gitlab" if "/gitlab/" in url else "")
    assert (parsed.project, parsed.kind, parsed.rest, parsed.dashed) == expected


async def test_read_url_etag_and_not_found(
    gitlab: tuple[GitlabState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gitlab
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(blob("docs/api/reference.md"))
    assert await response.buffer() == b"reference"
    seen = server.requests[-1]
    assert seen.raw_path == (
        "/api/v4/projects/platform%2Fbackend%2Forders/repository/files/docs%2Fapi%2Freference.md/raw?ref=main"
    )
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(NotModifiedError):
        await reader.read_url(blob("docs/api/reference.md"), etag=response.etag)
    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(blob("missing.yaml"))
    assert str(caught.value).startswith(
        f"{blob('missing.yaml')} could not be read as {server.base}/api/v4/projects/"
    )
    assert TOKEN not in str(caught.value)


async def test_branch_with_slashes(
    gitlab: tuple[GitlabState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gitlab
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(blob("catalog-info.yaml", ref="release/2024.1"))
    assert await response.buffer() == RELEASE["catalog-info.yaml"]
    tree = await reader.read_tree(f"https://{HOST}/{PROJECT}/-/tree/release/2024.1/docs")
    assert [(f.path, await f.content()) for f in await tree.files()] == [("index.md", b"# release")]


async def test_read_tree_filter_dir_and_etag(
    gitlab: tuple[GitlabState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    tmp_path: Path,
) -> None:
    _, server = gitlab
    reader = reader_from_config(config(server), session, trees)
    url = f"https://{HOST}/{PROJECT}/-/tree/main/docs"
    tree = await reader.read_tree(url, filter=lambda path, info: path.startswith("api/"))
    assert tree.etag == repo().sha("main")
    directory = await tree.dir(target_dir=tmp_path / "docs")
    assert [str(p.relative_to(directory)) for p in sorted(directory.rglob("*")) if p.is_file()] == [
        "api/reference.md"
    ]
    with pytest.raises(NotModifiedError):
        await reader.read_tree(url, etag=tree.etag)
    whole = await reader.read_tree(f"https://{HOST}/{PROJECT}")
    assert {f.path for f in await whole.files()} == set(MAIN)
    with pytest.raises(NotFoundError):
        await reader.read_tree(f"https://{HOST}/{PROJECT}/-/tree/main/nothing-here")


async def test_search_with_a_glob(
    gitlab: tuple[GitlabState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gitlab
    reader = reader_from_config(config(server), session, trees)
    result = await reader.search(blob("services/**/catalog-info.yaml"))
    assert [(f.url, await f.content()) for f in result.files] == [
        (blob("services/a/catalog-info.yaml"), MAIN["services/a/catalog-info.yaml"])
    ]
    assert result.etag == repo().sha("main")
    everything = await reader.search(blob("**/*.yaml"))
    assert {f.url for f in everything.files} == {
        blob("catalog-info.yaml"),
        blob("services/a/catalog-info.yaml"),
    }
    with pytest.raises(NotModifiedError):
        await reader.search(blob("**/*.yaml"), etag=result.etag)
    assert (await reader.search(blob("nope.yaml"))).files == []


async def test_job_artifacts(
    gitlab: tuple[GitlabState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = gitlab
    state.artifacts[(PROJECT, "main", "out/catalog.yaml", "build")] = b"artifact"
    reader = reader_from_config(config(server), session, trees)
    url = f"https://{HOST}/{PROJECT}/-/jobs/artifacts/main/raw/out/catalog.yaml?job=build"
    assert await (await reader.read_url(url)).buffer() == b"artifact"


async def test_rate_limit_and_defaults(
    gitlab: tuple[GitlabState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = gitlab
    state.rate_limited = True
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(UrlReaderError, match=r"429 Too Many Requests \(rate limit exceeded\)"):
        await reader.read_url(blob("catalog-info.yaml"))
    public = reader_from_config({}, session, trees).reader_for(
        "https://gitlab.com/a/b/-/blob/main/c.yaml"
    )
    assert isinstance(public, GitlabUrlReader)
    assert public.integration.api_base_url == "https://gitlab.com/api/v4"
