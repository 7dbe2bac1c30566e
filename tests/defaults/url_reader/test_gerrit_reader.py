"""Gerrit reader against a local fake of Gerrit's REST API and its Gitiles."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backstage_runtime.api.errors import (
    ConfigError,
    InputError,
    NotAllowedError,
    NotFoundError,
    NotModifiedError,
)
from backstage_runtime.api.services.url_reader import SearchResponse, UrlReaderError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader._responses import BytesReadUrlResponse
from backstage_runtime.defaults.url_reader.gerrit import (
    GerritUrlReader,
    parse_gitiles_url,
    read_gerrit_integration_configs,
)
from backstage_runtime.defaults.url_reader.gerrit._base64 import Base64ReadUrlResponse

from ._fake_gerrit import GITILES, GerritState, gerrit_routes, tag_object
from ._forge import FakeRepo
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

HOST = "gerrit.example.com"
USER = "backstage-bot"
PASSWORD = "gerrit-http-password"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SHA = "f775f9119c313c7ffc890d7908a45997273434d5"

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: web",
    "docs/index.md": b"# web",
    "docs/guide/setup.md": b"setup",
    "services/api/catalog-info.yaml": b"kind: API",
    "services/worker/catalog-info.yaml": b"kind: Component\nname: worker",
    "mkdocs.yml": b"site_name: web",
}
NEXT = {"catalog-info.yaml": b"name: next", "docs/index.md": b"# next"}
PROJECT = "platform/apps/web"


def repo() -> FakeRepo:
    return FakeRepo(
        "platform/apps",
        "web",
        refs={"main": MAIN, "release/2024/next": NEXT, "v1.0": MAIN},
        tags={"v1.0"},
    )


@pytest.fixture
async def gerrit() -> AsyncIterator[tuple[GerritState, LocalServer]]:
    state = GerritState(projects={PROJECT: repo()}, authorization=BASIC)
    async with serve(gerrit_routes(state)) as server:
        yield state, server


def entry(server: LocalServer, **extra: Any) -> dict[str, Any]:
    return {
        "host": HOST,
        "baseUrl": server.base,
        "gitilesBaseUrl": server.base + GITILES,
        "username": USER,
        "password": PASSWORD,
        **extra,
    }


def config(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"integrations": {"gerrit": list(entries)}}


def gitiles(server: LocalServer, rest: str, *, project: str = PROJECT) -> str:
    return f"{server.base}{GITILES}/{project}/+/{rest}"


def branch(server: LocalServer, path: str, ref: str = "main") -> str:
    return gitiles(server, f"refs/heads/{ref}/{path}")


# -- URL forms and config ------------------------------------------------------------------------


def test_gitiles_url_forms() -> None:
    base = "https://gerrit.example.com/plugins/gitiles"
    parsed = parse_gitiles_url(
        f"{base}/platform/apps/web/+/refs/heads/release/2024/next/docs/index.md", "/plugins/gitiles"
    )
    assert (parsed.project, parsed.ref_type, parsed.ref, parsed.rest) == (
        "platform/apps/web",
        "branch",
        "",
        ("release", "2024", "next", "docs", "index.md"),
    )
    assert parsed.prefix == f"{base}/platform/apps/web/+"
    assert parsed.to_url("release/2024/next", "docs/index.md") == (
        f"{base}/platform/apps/web/+/refs/heads/release/2024/next/docs/index.md"
    )

    tag = parse_gitiles_url(f"{base}/web/+/refs/tags/v1.0/catalog-info.yaml", "/plugins/gitiles")
    assert (tag.project, tag.ref_type, tag.rest) == ("web", "tag", ("v1.0", "catalog-info.yaml"))

    sha = parse_gitiles_url(f"{base}/web/project/+/{SHA}/LICENSE", "/plugins/gitiles")
    assert (sha.project, sha.ref_type, sha.ref, sha.rest) == (
        "web/project",
        "sha",
        SHA,
        ("LICENSE",),
    )

    head = parse_gitiles_url(f"{base}/web/+/HEAD/docs/", "/plugins/gitiles")
    assert (head.ref_type, head.ref, head.rest) == ("head", "HEAD", ("docs",))

    # Gerrit's authenticated prefix, kept in URLs built from it.
    authed = parse_gitiles_url(
        "https://gerrit.example.com/a/plugins/gitiles/web/+/refs/heads/main/x.yaml",
        "/plugins/gitiles",
    )
    assert (authed.project, authed.rest) == ("web", ("main", "x.yaml"))
    assert authed.prefix == "https://gerrit.example.com/a/plugins/gitiles/web/+"

    # Gitiles at the root, and a URL without the configured base path (Backstage accepts it).
    root = parse_gitiles_url("https://g.example.com/web/project/+/refs/heads/master/")
    assert (root.project, root.rest) == ("web/project", ("master",))
    bare = parse_gitiles_url(
        "https://gerrit.example.com/web/project/+/refs/heads/master/LICENSE", "/gitiles"
    )
    assert (bare.project, bare.rest) == ("web/project", ("master", "LICENSE"))

    # An encoded project name (slashes as %2F) means the same project.
    encoded = parse_gitiles_url("https://g.example.com/web%2Fproject/+/refs/heads/master/a.md")
    assert encoded.project == "web/project"


@pytest.mark.parametrize(
    "url",
    [
        "https://g.example.com/web/project/refs/heads/master/a.yaml",  # no /+/
        "https://g.example.com/+/refs/heads/master/a.yaml",  # no project
        "https://g.example.com/web/+/master/a.yaml",  # short form: Backstage rejects it too
        "https://g.example.com/web/+/refs/heads",  # no branch
        "https://g.example.com/web/+/refs/changes/12/3412/1/a.yaml",
        "https://g.example.com/web/+log/refs/heads/master",
        "https://g.example.com/web/+/abc123/a.yaml",  # not a full commit SHA
    ],
)
def test_bad_gitiles_urls_are_rejected(url: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_gitiles_url(url)
    assert url in str(caught.value)


def read_configs(data: dict[str, Any]) -> Any:
    return read_gerrit_integration_configs(create_config_from_data(data, context="test"))


def test_config_defaults_validation_and_secrets() -> None:
    [integration] = read_configs(
        config({"host": HOST, "gitilesBaseUrl": f"https://{HOST}/gitiles/", "password": " pw "})
    )
    assert integration.base_url == f"https://{HOST}"
    assert integration.clone_url == f"https://{HOST}"
    assert integration.gitiles_base_url == f"https://{HOST}/gitiles"
    assert integration.password == "pw"
    assert "pw" not in repr(integration)
    [custom] = read_configs(
        config(
            {
                "host": HOST,
                "baseUrl": f"https://{HOST}/gerrit/",
                "cloneUrl": f"https://clone.{HOST}/",
                "gitilesBaseUrl": f"https://{HOST}/gerrit/plugins/gitiles",
            }
        )
    )
    assert (custom.base_url, custom.clone_url) == (
        f"https://{HOST}/gerrit",
        f"https://clone.{HOST}",
    )
    assert read_configs({}) == []

    with pytest.raises(ConfigError, match=r"integrations\.gerrit\[0\]\.gitilesBaseUrl"):
        read_configs(config({"host": HOST}))
    with pytest.raises(ConfigError, match=r"integrations\.gerrit\[1\]\.baseUrl"):
        read_configs(
            config(
                {"host": HOST, "gitilesBaseUrl": f"https://{HOST}"},
                {
                    "host": "b.example.com",
                    "gitilesBaseUrl": "https://b.example.com",
                    "baseUrl": "x",
                },
            )
        )
    with pytest.raises(ConfigError, match=r"integrations\.gerrit\[0\]\.gitilesBaseUrl"):
        read_configs(config({"host": HOST, "gitilesBaseUrl": "not a url"}))
    with pytest.raises(ConfigError, match=r"integrations\.gerrit\[0\]\.host"):
        read_configs(config({"host": "https://gerrit.example.com", "gitilesBaseUrl": "https://g"}))
    with pytest.raises(ConfigError, match=r"integrations\.gerrit\[0\]\.host"):
        read_configs(config({"gitilesBaseUrl": f"https://{HOST}"}))


async def test_predicate_uses_the_gitiles_host(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(
        config({"host": "review.example.com", "gitilesBaseUrl": "https://git.example.com/g"}),
        session,
        trees,
    )
    picked = reader.reader_for("https://git.example.com/g/web/+/refs/heads/main/a.yaml")
    assert isinstance(picked, GerritUrlReader)
    assert str(picked) == "gerrit{host=review.example.com,authed=False}"
    # The API host is not a location host (Backstage's predicate compares the Gitiles host).
    with pytest.raises(NotAllowedError):
        reader.reader_for("https://review.example.com/g/web/+/refs/heads/main/a.yaml")
    # No gerrit integration is configured by default.
    empty = reader_from_config({}, session, trees)
    with pytest.raises(NotAllowedError):
        empty.reader_for("https://gerrit.googlesource.com/gerrit/+/refs/heads/master/README.md")


# -- read_url ------------------------------------------------------------------------------------


async def test_read_url_branch_etag_and_credentials(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gerrit
    reader = reader_from_config(config(entry(server)), session, trees)
    response = await reader.read_url(branch(server, "docs/index.md"))
    assert await response.buffer() == b"# web"
    assert response.etag == repo().sha("main")
    branch_call, content_call = server.requests[-2:]
    assert branch_call.raw_path == "/a/projects/platform%2Fapps%2Fweb/branches/main"
    assert content_call.raw_path == (
        "/a/projects/platform%2Fapps%2Fweb/branches/main/files/docs%2Findex.md/content"
    )
    assert {branch_call.headers["Authorization"], content_call.headers["Authorization"]} == {BASIC}

    count = len(server.requests)
    with pytest.raises(NotModifiedError):
        await reader.read_url(branch(server, "docs/index.md"), etag=response.etag)
    assert len(server.requests) == count + 1  # the branch state only, not the file

    streamed = await reader.read_url(branch(server, "catalog-info.yaml"))
    assert b"".join([chunk async for chunk in streamed.stream()]) == MAIN["catalog-info.yaml"]


async def test_read_url_other_refs(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gerrit
    reader = reader_from_config(config(entry(server)), session, trees)
    slashed = await reader.read_url(branch(server, "docs/index.md", ref="release/2024/next"))
    assert (await slashed.buffer(), slashed.etag) == (b"# next", repo().sha("release/2024/next"))
    assert server.requests[-1].raw_path == (
        "/a/projects/platform%2Fapps%2Fweb/branches/release%2F2024%2Fnext"
        "/files/docs%2Findex.md/content"
    )

    tagged = await reader.read_url(gitiles(server, "refs/tags/v1.0/mkdocs.yml"))
    assert await tagged.buffer() == b"site_name: web"
    # The tag's commit (not the annotated tag object) is the ETag and what is read.
    assert tagged.etag == repo().sha("v1.0") != tag_object(repo(), "v1.0")
    assert f"/commits/{repo().sha('v1.0')}/files/mkdocs.yml/content" in server.requests[-1].raw_path

    sha = repo().sha("main")
    at_commit = await reader.read_url(gitiles(server, f"{sha}/docs/guide/setup.md"))
    assert (await at_commit.buffer(), at_commit.etag) == (b"setup", sha)
    count = len(server.requests)
    with pytest.raises(NotModifiedError):
        await reader.read_url(gitiles(server, f"{sha}/docs/guide/setup.md"), etag=sha)
    assert len(server.requests) == count  # a commit never changes: no call at all

    head = await reader.read_url(gitiles(server, "HEAD/catalog-info.yaml"))
    assert (await head.buffer(), head.etag) == (MAIN["catalog-info.yaml"], repo().sha("main"))

    # The authenticated /a/ form of a location reads the same file.
    authed_url = branch(server, "docs/index.md").replace(GITILES, "/a" + GITILES)
    assert await (await reader.read_url(authed_url)).buffer() == b"# web"


async def test_read_url_missing_and_bad_urls(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gerrit
    reader = reader_from_config(config(entry(server)), session, trees)
    missing = branch(server, "missing.yaml")
    with pytest.raises(NotFoundError, match="not found") as caught:
        await reader.read_url(missing)
    assert missing in str(caught.value)
    assert PASSWORD not in str(caught.value)
    with pytest.raises(NotFoundError):
        await reader.read_url(branch(server, "catalog-info.yaml", ref="nope"))
    with pytest.raises(NotFoundError):
        await reader.read_url(gitiles(server, "refs/heads/main/a.yaml", project="platform/other"))
    with pytest.raises(InputError, match="names no file"):
        await reader.read_url(gitiles(server, "refs/heads/main"))
    bad = f"{server.base}{GITILES}/platform/apps/web/+/main/catalog-info.yaml"
    with pytest.raises(InputError) as rejected:
        await reader.read_url(bad)
    assert bad in str(rejected.value)


# -- read_tree -----------------------------------------------------------------------------------


async def test_read_tree_with_filter_files_and_dir(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    tmp_path: Path,
) -> None:
    _, server = gerrit
    reader = reader_from_config(config(entry(server)), session, trees)
    url = gitiles(server, "refs/heads/main/")
    tree = await reader.read_tree(url, filter=lambda path, info: path.endswith(".yaml"))
    assert tree.etag == repo().sha("main")
    assert sorted([(f.path, await f.content()) for f in await tree.files()]) == [
        ("catalog-info.yaml", MAIN["catalog-info.yaml"]),
        ("services/api/catalog-info.yaml", b"kind: API"),
        ("services/worker/catalog-info.yaml", MAIN["services/worker/catalog-info.yaml"]),
    ]
    assert server.requests[-1].raw_path == (
        f"/a{GITILES}/platform/apps/web/+archive/refs/heads/main.tar.gz"
    )
    assert server.requests[-1].headers["Authorization"] == BASIC

    with pytest.raises(NotModifiedError):
        await reader.read_tree(url, etag=tree.etag)

    docs = await reader.read_tree(gitiles(server, "refs/heads/release/2024/next/docs"))
    target = tmp_path / "out"
    directory = await docs.dir(target_dir=target)
    assert directory == target
    assert sorted(p.name for p in directory.iterdir()) == ["index.md"]
    assert (directory / "index.md").read_bytes() == b"# next"
    assert docs.etag == repo().sha("release/2024/next")
    assert server.requests[-1].raw_path == (
        f"/a{GITILES}/platform/apps/web/+archive/refs/heads/release/2024/next/docs.tar.gz"
    )

    sha = repo().sha("main")
    pinned = await reader.read_tree(gitiles(server, f"{sha}/docs"))
    assert pinned.etag == sha
    assert sorted(f.path for f in await pinned.files()) == ["guide/setup.md", "index.md"]
    with pytest.raises(NotModifiedError):
        await reader.read_tree(gitiles(server, f"{sha}/docs"), etag=sha)

    tagged = await reader.read_tree(gitiles(server, "refs/tags/v1.0/docs/guide"))
    assert [f.path for f in await tagged.files()] == ["setup.md"]

    with pytest.raises(NotFoundError):
        await reader.read_tree(gitiles(server, "refs/heads/main/no-such-folder"))
    with pytest.raises(NotFoundError):
        await reader.read_tree(gitiles(server, "refs/heads/gone/"))


# -- search --------------------------------------------------------------------------------------


async def test_search_glob_literal_and_etag(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = gerrit
    reader = reader_from_config(config(entry(server)), session, trees)
    found = await reader.search(branch(server, "**/catalog-info.yaml"))
    assert found.etag == repo().sha("main")
    assert [f.url for f in found.files] == [
        branch(server, "catalog-info.yaml"),
        branch(server, "services/api/catalog-info.yaml"),
        branch(server, "services/worker/catalog-info.yaml"),
    ]
    assert server.requests[-1].raw_path == (
        f"/a{GITILES}/platform/apps/web/+/refs/heads/main/?format=JSON&recursive"
    )
    assert state.contents_read == []  # contents are read when asked for
    assert await found.files[1].content() == b"kind: API"
    assert state.contents_read == ["services/api/catalog-info.yaml"]
    with pytest.raises(NotModifiedError):
        await reader.search(branch(server, "**/catalog-info.yaml"), etag=found.etag)

    # The static folder is listed, on a branch with slashes.
    next_docs = await reader.search(branch(server, "docs/*.md", ref="release/2024/next"))
    assert [(f.url, await f.content()) for f in next_docs.files] == [
        (branch(server, "docs/index.md", ref="release/2024/next"), b"# next")
    ]
    assert await reader.search(branch(server, "nowhere/**/*.yaml")) == SearchResponse(
        [], found.etag
    )

    at_head = await reader.search(gitiles(server, "HEAD/services/*/catalog-info.yaml"))
    assert [f.url for f in at_head.files] == [
        gitiles(server, "HEAD/services/api/catalog-info.yaml"),
        gitiles(server, "HEAD/services/worker/catalog-info.yaml"),
    ]
    assert at_head.etag == repo().sha("main")

    literal = await reader.search(branch(server, "mkdocs.yml"))
    assert [(f.url, await f.content()) for f in literal.files] == [
        (branch(server, "mkdocs.yml"), b"site_name: web")
    ]
    assert (await reader.search(branch(server, "missing.yml"))).files == []


# -- errors, credentials, secrets ----------------------------------------------------------------


async def test_rate_limit_and_server_errors(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = gerrit
    reader = reader_from_config(config(entry(server)), session, trees)
    state.status = 429
    for call in (
        reader.read_url(branch(server, "catalog-info.yaml")),
        reader.read_tree(gitiles(server, "refs/heads/main")),
        reader.search(branch(server, "**/*.yaml")),
    ):
        with pytest.raises(UrlReaderError) as caught:
            await call
        assert caught.value.rate_limited
        assert caught.value.status == 429
        assert "rate limit exceeded" in str(caught.value)
        assert PASSWORD not in str(caught.value)
    state.status = 500
    with pytest.raises(UrlReaderError) as failed:
        await reader.read_url(branch(server, "catalog-info.yaml"))
    assert not failed.value.rate_limited
    assert failed.value.status == 500


async def test_credentials_go_to_their_host_only_and_token_override(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = gerrit
    public_state = GerritState(projects={"public/site": repo()})
    async with serve(gerrit_routes(public_state)) as public:
        reader = reader_from_config(
            config(
                entry(server),
                {
                    "host": "public.example.com",
                    "baseUrl": public.base,
                    "gitilesBaseUrl": public.base + GITILES,
                },
            ),
            session,
            trees,
        )
        url = gitiles(public, "refs/heads/main/docs/index.md", project="public/site")
        assert await (await reader.read_url(url)).buffer() == b"# web"
        tree = await reader.read_tree(
            gitiles(public, "refs/heads/main/docs", project="public/site")
        )
        assert len(await tree.files()) == 2
        assert public.requests
        for seen in public.requests:
            assert "Authorization" not in seen.headers
            assert not seen.raw_path.startswith("/a/")

    # A call's token replaces the configured password (with the configured username).
    token = "per-call-token"
    state.authorization = "Basic " + base64.b64encode(f"{USER}:{token}".encode()).decode()
    reader = reader_from_config(config(entry(server)), session, trees)
    for refused in (None, "wrong"):  # neither the configured password nor another token
        with pytest.raises(UrlReaderError) as caught:
            await reader.read_url(branch(server, "catalog-info.yaml"), token=refused)
        assert caught.value.status == 401
    response = await reader.read_url(branch(server, "catalog-info.yaml"), token=token)
    assert await response.buffer() == MAIN["catalog-info.yaml"]
    assert server.requests[-1].headers["Authorization"] == state.authorization

    # Without a username a token is sent as a Bearer token, below /a/.
    state.authorization = f"Bearer {token}"
    no_user = {k: v for k, v in entry(server).items() if k not in ("username", "password")}
    anonymous_user = reader_from_config(config(no_user), session, trees)
    assert (
        await (
            await anonymous_user.read_url(branch(server, "catalog-info.yaml"), token=token)
        ).buffer()
        == MAIN["catalog-info.yaml"]
    )
    assert server.requests[-1].raw_path.startswith("/a/projects/")


async def test_secrets_stay_out_of_messages(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = gerrit
    reader = reader_from_config(config(entry(server)), session, trees)
    gerrit_reader = reader.reader_for(branch(server, "x"))
    assert PASSWORD not in str(gerrit_reader)
    assert PASSWORD not in repr(gerrit_reader)
    assert str(gerrit_reader) == f"gerrit{{host={HOST},authed=True}}"
    state.authorization = "Basic other"
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(branch(server, "catalog-info.yaml"))
    assert caught.value.status == 401
    assert PASSWORD not in str(caught.value)
    assert BASIC not in str(caught.value)


async def test_authenticated_gitiles_must_be_below_base_url(
    gerrit: tuple[GerritState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gerrit
    # Gitiles on another origin than Gerrit: Gerrit's /a/ prefix cannot reach it.
    gitiles_base = f"http://localhost:{server.port}{GITILES}"
    reader = reader_from_config(config(entry(server, gitilesBaseUrl=gitiles_base)), session, trees)
    location = f"{gitiles_base}/{PROJECT}/+/refs/heads/main/catalog-info.yaml"
    count = len(server.requests)
    for call in (reader.read_tree(location), reader.search(location.replace("catalog", "*"))):
        with pytest.raises(
            ConfigError, match=r"integrations\.gerrit\[0\]\.gitilesBaseUrl"
        ) as caught:
            await call
        assert PASSWORD not in str(caught.value)
    assert len(server.requests) == count  # refused before any call
    # Files come from Gerrit's own API, so they can still be read (as in Backstage).
    assert await (await reader.read_url(location)).buffer() == MAIN["catalog-info.yaml"]


# -- base64 decoding -----------------------------------------------------------------------------


class _Chunks(BytesReadUrlResponse):
    def __init__(self, data: bytes, size: int) -> None:
        super().__init__(data)
        self._size = size

    async def stream(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self._data), self._size):
            yield self._data[start : start + self._size]


@pytest.mark.parametrize("size", [1, 3, 5, 7, 4096])
async def test_base64_stream_decodes_across_chunk_boundaries(size: int) -> None:
    content = bytes(range(256)) * 40 + b"tail"
    encoded = base64.encodebytes(content)  # with line breaks, which are skipped
    response = Base64ReadUrlResponse(_Chunks(encoded, size), source="file", etag="e")
    assert b"".join([chunk async for chunk in response.stream()]) == content
    assert await Base64ReadUrlResponse(_Chunks(encoded, size), source="f", etag=None).buffer() == (
        content
    )
    with pytest.raises(UrlReaderError, match="Invalid base64 content from file"):
        await Base64ReadUrlResponse(
            _Chunks(b"not base64!", size), source="file", etag=None
        ).buffer()
