"""GitHub reader against a local fake of GitHub's REST API (contents, tarball, trees, refs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from backstage_runtime.api.errors import InputError, NotFoundError, NotModifiedError
from backstage_runtime.api.services.url_reader import UnsafeArchiveError, UrlReaderError
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, GithubUrlReader
from backstage_runtime.defaults.url_reader.github import parse_github_url

from ._archives import Entry, children, tar_bytes
from ._fake_github import GithubState, codeload_routes, fake_github
from ._forge import FakeRepo
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

TOKEN = "ghp_secret-token-value"
HOST = "ghe.example.com"

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: service",
    "docs/index.md": b"# docs",
    "docs/guide/setup.md": b"setup steps",
    "apis/orders.yaml": b"kind: API",
    ".github/workflow.yaml": b"on: push",
}
FEATURE = {
    "catalog-info.yaml": b"kind: Component\nname: feature",
    "docs/index.md": b"# feature docs",
}


def repo() -> FakeRepo:
    return FakeRepo(
        "org",
        "service",
        refs={"main": MAIN, "feature/new-ui": FEATURE, "v1.0": {"catalog-info.yaml": b"old"}},
        tags={"v1.0"},
    )


@pytest.fixture
async def github() -> AsyncIterator[tuple[GithubState, LocalServer]]:
    state = GithubState(repos={"org/service": repo()}, token=TOKEN)
    async with fake_github(state) as server:
        yield state, server


def config(server: LocalServer, **extra: object) -> dict[str, object]:
    entry = {"host": HOST, "apiBaseUrl": server.base, "token": TOKEN, **extra}
    return {"integrations": {"github": [entry]}}


def blob(path: str, ref: str = "main") -> str:
    return f"https://{HOST}/org/service/blob/{ref}/{path}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://github.com/org/repo/blob/main/catalog-info.yaml",
            ("blob", ("main", "catalog-info.yaml"), None),
        ),
        ("https://github.com/org/repo/tree/main/docs", ("tree", ("main", "docs"), None)),
        ("https://github.com/org/repo/raw/v1.0/a%20b.yaml", ("raw", ("v1.0", "a b.yaml"), None)),
        ("https://github.com/org/repo.git", ("", (), None)),
        (
            "https://github.com/org/repo/tree/feature/x?path=docs/",
            ("tree", ("feature", "x"), "docs"),
        ),
    ],
)
def test_github_url_forms(url: str, expected: tuple[object, ...]) -> None:
    parsed = parse_github_url(url)
    assert parsed.full_name in ("org/repo",)
    assert (parsed.kind, parsed.rest, parsed.query_path) == expected


def test_github_url_without_repository_is_refused() -> None:
    with pytest.raises(InputError, match="Invalid GitHub URL"):
        parse_github_url("https://github.com/org")
    with pytest.raises(InputError, match="Invalid GitHub URL"):
        parse_github_url("https://github.com/org/repo/pulls/1")


async def test_read_url_through_the_contents_api(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(blob("catalog-info.yaml"))
    assert await response.buffer() == MAIN["catalog-info.yaml"]
    assert response.etag
    assert response.etag.startswith('"')
    assert response.last_modified_at == datetime(2023, 11, 15, 10, tzinfo=UTC)
    seen = server.requests[-1]
    assert seen.path == "/repos/org/service/contents/catalog-info.yaml"
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_etag_round_trip_raises_not_modified(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    first = await reader.read_url(blob("docs/index.md"))
    await first.buffer()
    with pytest.raises(NotModifiedError):
        await reader.read_url(blob("docs/index.md"), etag=first.etag)
    assert server.requests[-1].headers["If-None-Match"] == first.etag
    with pytest.raises(NotModifiedError):
        await reader.read_url(blob("docs/index.md"), last_modified_after=first.last_modified_at)


async def test_missing_file_is_not_found_without_the_token_in_the_message(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(blob("nope.yaml"))
    assert str(caught.value).startswith(
        f"Request failed for {server.base}/repos/org/service/contents/nope.yaml"
    )
    assert "404" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_branch_with_slashes_in_blob_and_tree_urls(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    tmp_path: Path,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(blob("catalog-info.yaml", ref="feature/new-ui"))
    assert await response.buffer() == FEATURE["catalog-info.yaml"]
    tree = await reader.read_tree(f"https://{HOST}/org/service/tree/feature/new-ui/docs")
    files = await tree.files()
    assert [(f.path, await f.content()) for f in files] == [("index.md", b"# feature docs")]
    assert tree.etag == repo().sha("feature/new-ui")


async def test_tags_are_refs_too(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    assert await (await reader.read_url(blob("catalog-info.yaml", ref="v1.0"))).buffer() == b"old"


async def test_raw_endpoint_without_a_token(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = github
    state.token = None
    data = {
        "integrations": {
            "github": [
                {"host": HOST, "apiBaseUrl": server.base, "rawBaseUrl": f"{server.base}/raw"}
            ]
        }
    }
    reader = reader_from_config(data, session, trees)
    response = await reader.read_url(
        blob("docs/guide/setup.md", ref="feature/new-ui").replace("feature/new-ui", "main")
    )
    assert await response.buffer() == b"setup steps"
    assert server.requests[-1].path == "/raw/org/service/main/docs/guide/setup.md"
    assert "Authorization" not in server.requests[-1].headers
    with pytest.raises(NotModifiedError):
        await reader.read_url(blob("docs/guide/setup.md"), etag=response.etag)


async def test_read_tree_with_filter_etag_and_dir(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    tmp_path: Path,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(
        f"https://{HOST}/org/service/tree/main/docs", filter=lambda path, info: path.endswith(".md")
    )
    assert tree.etag == repo().sha("main")
    target = await tree.dir(target_dir=tmp_path / "docs")
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*.md")) == [
        "guide/setup.md",
        "index.md",
    ]
    with pytest.raises(NotModifiedError):
        await reader.read_tree(f"https://{HOST}/org/service/tree/main/docs", etag=tree.etag)


async def test_read_tree_of_a_repository_uses_its_default_branch(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(f"https://{HOST}/org/service")
    assert {f.path for f in await tree.files()} == set(MAIN)
    assert "/repos/org/service" in server.paths()


async def test_read_tree_of_a_missing_repository(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(NotFoundError):
        await reader.read_tree(f"https://{HOST}/org/missing/tree/main")
    with pytest.raises(NotFoundError):
        await reader.read_tree(f"https://{HOST}/org/service/tree/no-such-branch/docs")


async def test_tarball_redirect_to_another_origin_drops_credentials(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = github
    async with serve(codeload_routes(state)) as codeload:
        state.codeload = codeload
        reader = reader_from_config(config(server), session, trees)
        tree = await reader.read_tree(f"https://{HOST}/org/service/tree/main")
        assert len(await tree.files()) == len(MAIN)
    assert len(codeload.requests) == 1
    assert "Authorization" not in codeload.requests[0].headers


async def test_search_with_a_glob(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    result = await reader.search(blob("**/*.yaml"))
    found = {f.url: await f.content() for f in result.files}
    assert found == {
        blob("catalog-info.yaml"): MAIN["catalog-info.yaml"],
        blob("apis/orders.yaml"): MAIN["apis/orders.yaml"],
    }
    assert result.etag == repo().sha("main")
    with pytest.raises(NotModifiedError):
        await reader.search(blob("**/*.yaml"), etag=result.etag)


async def test_search_falls_back_to_the_tarball_when_the_tree_is_truncated(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = github
    state.truncate_trees = True
    reader = reader_from_config(config(server), session, trees)
    result = await reader.search(blob("docs/**/*.md", ref="feature/new-ui"))
    assert [(f.url, await f.content()) for f in result.files] == [
        (blob("docs/index.md", ref="feature/new-ui"), b"# feature docs")
    ]
    assert any(path.endswith("/tarball/" + repo().sha("feature/new-ui")) for path in server.paths())


async def test_search_for_a_literal_path(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = github
    reader = reader_from_config(config(server), session, trees)
    found = await reader.search(blob("catalog-info.yaml"))
    assert [await f.content() for f in found.files] == [MAIN["catalog-info.yaml"]]
    assert (await reader.search(blob("missing.yaml"))).files == []


async def test_rate_limit_is_named(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = github
    state.rate_limited = True
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(UrlReaderError, match=r"403 Forbidden \(rate limit exceeded\)") as caught:
        await reader.read_url(blob("catalog-info.yaml"))
    assert caught.value.rate_limited
    assert caught.value.status == 403


async def test_token_option_replaces_the_integration_token(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = github
    state.token = "user-token"
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(blob("catalog-info.yaml"), token="user-token")
    assert await response.buffer() == MAIN["catalog-info.yaml"]
    with pytest.raises(UrlReaderError, match="401") as caught:
        await reader.read_url(blob("catalog-info.yaml"))
    assert TOKEN not in str(caught.value)


async def test_github_com_is_readable_without_configuration(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config({}, session, trees)
    chosen = reader.reader_for("https://github.com/backstage/backstage/blob/master/README.md")
    assert isinstance(chosen, GithubUrlReader)
    assert chosen.integration.api_base_url == "https://api.github.com"
    assert str(chosen) == "github{host=github.com,authed=False}"


async def test_enterprise_host_needs_a_base_url(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    from backstage_runtime.api.errors import ConfigError

    with pytest.raises(ConfigError, match="must configure an explicit apiBaseUrl or rawBaseUrl"):
        reader_from_config({"integrations": {"github": [{"host": HOST}]}}, session, trees)
    with pytest.raises(ConfigError, match=r"integrations\.github\[0\]\.host"):
        reader_from_config(
            {"integrations": {"github": [{"host": "https://x.com"}]}}, session, trees
        )


async def test_hostile_tarball_is_refused_end_to_end(
    github: tuple[GithubState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    workdir: Path,
    tmp_path: Path,
) -> None:
    state, server = github
    state.archive_override = tar_bytes(
        [Entry("org-service-abc/", kind="dir"), Entry("org-service-abc/../../../escaped.txt", b"x")]
    )
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(f"https://{HOST}/org/service/tree/main")
    with pytest.raises(UnsafeArchiveError, match="would escape the target directory"):
        await tree.dir()
    assert children(workdir) == []
    # work/backstage-x/../../../escaped.txt would have landed next to tmp_path.
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()
