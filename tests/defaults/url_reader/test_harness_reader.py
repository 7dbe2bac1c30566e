"""Harness Code reader against a local fake of the Harness Code REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from backstage_runtime.api.errors import (
    AuthenticationError,
    ConfigError,
    InputError,
    NotAllowedError,
    NotFoundError,
    NotModifiedError,
)
from backstage_runtime.api.services.url_reader import UrlReaderError
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader.harness import (
    HarnessIntegrationConfig,
    HarnessUrlReader,
    parse_harness_url,
)
from backstage_runtime.defaults.url_reader.harness._api import (
    archive_url,
    latest_commit_url,
    raw_url,
)

from ._archives import children
from ._fake_harness import API, HarnessState, blob_sha, harness_routes, zip_answer
from ._forge import FakeRepo
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

HOST = "harness.example.com"
TOKEN = "harness-pat-secret"
API_KEY = "harness-api-key-secret"
UI = f"https://{HOST}/ng/account/acc1/module/code"

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: svc",
    "docs/index.md": b"# svc",
    "docs/guide/setup.md": b"setup",
    "templates/a/template.yaml": b"kind: Template",
    "templates/b/notes.txt": b"notes",
}
FEATURE = {"catalog-info.yaml": b"name: feature", "docs/index.md": b"# feature"}


def project_repo() -> FakeRepo:
    return FakeRepo(
        "acc1/org1/proj1",
        "svc",
        refs={"main": MAIN, "feature/new-ui": FEATURE, "v1.0": MAIN},
        tags={"v1.0"},
    )


def org_repo() -> FakeRepo:
    return FakeRepo("acc1/org1", "shared", refs={"develop": FEATURE}, default_branch="develop")


def account_repo() -> FakeRepo:
    return FakeRepo("acc1", "platform", refs={"main": {"catalog-info.yaml": b"kind: System"}})


def state() -> HarnessState:
    return HarnessState(
        repos={
            "acc1/org1/proj1/svc": project_repo(),
            "acc1/org1/shared": org_repo(),
            "acc1/platform": account_repo(),
        },
        accepted=[("Authorization", f"Bearer {TOKEN}")],
    )


@pytest.fixture
async def harness() -> AsyncIterator[tuple[HarnessState, LocalServer]]:
    fake = state()
    async with serve(harness_routes(fake)) as server:
        yield fake, server


def config(server: LocalServer, **credentials: str) -> dict[str, object]:
    entry = {"host": HOST, "baseUrl": server.base, **(credentials or {"token": TOKEN})}
    return {"integrations": {"harness": [entry]}}


def files_url(path: str = "", ref: str = "main", scope: str = "orgs/org1/projects/proj1") -> str:
    repo = {"orgs/org1/projects/proj1": "svc", "orgs/org1": "shared", "": "platform"}[scope]
    base = f"{UI}/{scope}/repos/{repo}" if scope else f"{UI}/repos/{repo}"
    return f"{base}/files/{ref}/~/{path}" if path or ref else base


def repo_api(scope: str = "acc1/org1/proj1/svc") -> str:
    return f"{API}/repos/{scope}/+"


# -- URL forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # The form the Harness UI shows for a file of a project's repository.
        (
            f"{UI}/orgs/org1/projects/proj1/repos/svc/files/main/~/catalog-info.yaml",
            ("acc1", "org1", "proj1", "svc", "main", "catalog-info.yaml"),
        ),
        # Organisation-level and account-level repositories.
        (
            f"{UI}/orgs/org1/repos/shared/files/develop/~/docs/index.md",
            ("acc1", "org1", "", "shared", "develop", "docs/index.md"),
        ),
        (
            f"{UI}/repos/platform/files/main/~/catalog-info.yaml",
            ("acc1", "", "", "platform", "main", "catalog-info.yaml"),
        ),
        # Branches with slashes end at ``~``; a later ``~`` belongs to the path.
        (
            f"{UI}/orgs/org1/projects/proj1/repos/svc/files/feature/new-ui/~/a/~b/c.yaml",
            ("acc1", "org1", "proj1", "svc", "feature/new-ui", "a/~b/c.yaml"),
        ),
        # ``edit`` links, tags as the UI writes them, percent-encoded paths.
        (
            f"{UI}/orgs/org1/projects/proj1/repos/svc/edit/refs/tags/v1.0/~/my%20file.yaml",
            ("acc1", "org1", "proj1", "svc", "refs/tags/v1.0", "my file.yaml"),
        ),
        # The unified navigation puts ``module/code`` after the project.
        (
            f"https://{HOST}/ng/account/acc1/all/orgs/org1/projects/proj1/module/code/repos/svc"
            "/files/main/~/catalog-info.yaml",
            ("acc1", "org1", "proj1", "svc", "main", "catalog-info.yaml"),
        ),
        # Tree URLs: a branch without ``~``, a folder, the repository (its default branch).
        (
            f"{UI}/orgs/org1/projects/proj1/repos/svc/files/feature/new-ui",
            ("acc1", "org1", "proj1", "svc", "feature/new-ui", ""),
        ),
        (
            f"{UI}/orgs/org1/projects/proj1/repos/svc/files/main/~/docs/",
            ("acc1", "org1", "proj1", "svc", "main", "docs"),
        ),
        (f"{UI}/orgs/org1/projects/proj1/repos/svc", ("acc1", "org1", "proj1", "svc", "", "")),
        # A repository called ``projects`` is a name, not a keyword.
        (
            f"{UI}/orgs/org1/repos/projects/files/main/~/a.yaml",
            ("acc1", "org1", "", "projects", "main", "a.yaml"),
        ),
    ],
)
def test_harness_url_forms(url: str, expected: tuple[str, ...]) -> None:
    parsed = parse_harness_url(url)
    assert (
        parsed.account_id,
        parsed.org,
        parsed.project,
        parsed.repo,
        parsed.ref,
        parsed.path,
    ) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"https://{HOST}/org1/proj1/svc/blob/main/a.yaml", "no account"),
        (f"{UI}/orgs/org1/projects/proj1", "no repository"),
        (f"{UI}/projects/proj1/repos/svc/files/main/~/a.yaml", "'projects' out of place"),
        (f"{UI}/orgs/org1/projects/proj1/repos/svc/pulls/3", "'pulls' after the repository"),
        (f"{UI}/orgs/org1/projects/proj1/repos/svc/files/~/a.yaml", "no branch"),
        (f"{UI}/orgs/org1/projects/proj1/repos/svc/files", "no branch"),
    ],
)
def test_bad_harness_urls_are_rejected_naming_the_url(url: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_harness_url(url)
    assert url in str(caught.value)
    assert reason in str(caught.value)


def test_api_urls_are_backstages() -> None:
    # The URLs of packages/integration/src/harness/core.test.ts.
    app = HarnessIntegrationConfig(host="app.harness.io", base_url="https://app.harness.io")
    ui = "https://app.harness.io/ng/account/accountId/module/code/orgs/orgName/projects"
    file = parse_harness_url(f"{ui}/projName/repos/repoName/files/refMain/~/all-apis.yaml")
    assert raw_url(app, file) == (
        "https://app.harness.io/gateway/code/api/v1/repos/accountId/orgName/projName/repoName"
        "/+/raw/all-apis.yaml?routingId=accountId&git_ref=refs/heads/refMain"
    )
    branch = parse_harness_url(f"{ui}/projectName/repos/repoName/files/branchName")
    assert latest_commit_url(app, branch) == (
        "https://app.harness.io/gateway/code/api/v1/repos/accountId/orgName/projectName/repoName"
        "/+/content?routingId=accountId&include_commit=true&git_ref=refs/heads/branchName"
    )
    # Backstage downloads the branch's archive; we download the commit we compared.
    assert archive_url(app, branch, "abc123") == (
        "https://app.harness.io/gateway/code/api/v1/repos/accountId/orgName/projectName/repoName"
        "/+/archive/abc123.zip?routingId=accountId"
    )


# -- read_url -------------------------------------------------------------------------------


async def test_read_url_buffer_stream_etag_and_missing(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = harness
    reader = reader_from_config(config(server), session, trees)
    response = await reader.read_url(files_url("docs/index.md"))
    assert await response.buffer() == b"# svc"
    assert response.etag == blob_sha(b"# svc")
    seen = server.requests[-1]
    assert seen.path == f"{repo_api()}/raw/docs/index.md"
    assert "routingId=acc1&git_ref=refs/heads/main" in seen.raw_path
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "x-api-key" not in {name.lower() for name in seen.headers}

    streamed = await reader.read_url(files_url("catalog-info.yaml"))
    assert b"".join([chunk async for chunk in streamed.stream()]) == MAIN["catalog-info.yaml"]

    with pytest.raises(NotModifiedError):
        await reader.read_url(files_url("docs/index.md"), etag=response.etag)
    assert server.requests[-1].headers["If-None-Match"] == blob_sha(b"# svc")
    # Another version of the file is read again.
    other = await reader.read_url(files_url("docs/index.md", ref="feature/new-ui"))
    assert await other.buffer() == b"# feature"

    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(files_url("missing.yaml"))
    assert files_url("missing.yaml") in str(caught.value)
    assert "404" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_read_url_branch_with_slashes_tags_and_repo_scopes(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = harness
    reader = reader_from_config(config(server), session, trees)
    feature = await reader.read_url(files_url("catalog-info.yaml", ref="feature/new-ui"))
    assert await feature.buffer() == b"name: feature"
    assert "git_ref=refs/heads/feature/new-ui" in server.requests[-1].raw_path

    tag = await reader.read_url(files_url("docs/index.md", ref="refs/tags/v1.0"))
    assert await tag.buffer() == b"# svc"
    assert "git_ref=refs/tags/v1.0" in server.requests[-1].raw_path

    sha = project_repo().sha("feature/new-ui")
    pinned = await reader.read_url(files_url("docs/index.md", ref=sha))
    assert await pinned.buffer() == b"# feature"
    assert f"git_ref={sha}" in server.requests[-1].raw_path

    org = await reader.read_url(files_url("docs/index.md", ref="develop", scope="orgs/org1"))
    assert await org.buffer() == b"# feature"
    assert server.requests[-1].path == f"{repo_api('acc1/org1/shared')}/raw/docs/index.md"

    account = await reader.read_url(files_url("catalog-info.yaml", scope=""))
    assert await account.buffer() == b"kind: System"
    assert server.requests[-1].path == f"{repo_api('acc1/platform')}/raw/catalog-info.yaml"

    with pytest.raises(InputError, match="Invalid Harness Code URL or file path"):
        await reader.read_url(files_url(ref="main"))


# -- read_tree ------------------------------------------------------------------------------


async def test_read_tree_filter_files_dir_and_etag(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = harness
    reader = reader_from_config(config(server), session, trees)
    docs = files_url("docs")
    tree = await reader.read_tree(docs, filter=lambda path, info: path.endswith(".md"))
    assert tree.etag == project_repo().sha("main")
    assert sorted([(f.path, await f.content()) for f in await tree.files()]) == [
        ("guide/setup.md", b"setup"),
        ("index.md", b"# svc"),
    ]
    commit, archive = server.requests[-2:]
    assert commit.path == f"{repo_api()}/content"
    assert "include_commit=true&git_ref=refs/heads/main" in commit.raw_path
    assert archive.path == f"{repo_api()}/archive/{tree.etag}.zip"
    assert archive.headers["Authorization"] == f"Bearer {TOKEN}"

    count = len(server.requests)
    with pytest.raises(NotModifiedError):
        await reader.read_tree(docs, etag=tree.etag)
    # Only the commit was asked for: nothing was downloaded.
    assert [seen.path for seen in server.requests[count:]] == [f"{repo_api()}/content"]

    again = await reader.read_tree(docs, filter=lambda path, info: "/" not in path)
    directory = await again.dir()
    assert "index.md" in children(directory)
    assert (directory / "index.md").read_bytes() == b"# svc"
    assert not (directory / "guide" / "setup.md").exists()

    feature = await reader.read_tree(files_url(ref="feature/new-ui"))
    assert sorted(f.path for f in await feature.files()) == sorted(FEATURE)
    assert feature.etag == project_repo().sha("feature/new-ui")


async def test_read_tree_of_a_repository_reads_its_default_branch(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = harness
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(f"{UI}/orgs/org1/repos/shared")
    assert tree.etag == org_repo().sha("develop")
    assert sorted(f.path for f in await tree.files()) == sorted(FEATURE)
    assert "git_ref" not in server.requests[-2].raw_path

    with pytest.raises(NotFoundError) as caught:
        await reader.read_tree(f"{UI}/orgs/org1/repos/missing/files/main")
    assert "Failed to retrieve latest commit information" in str(caught.value)


# -- search ---------------------------------------------------------------------------------


async def test_search_with_a_glob_and_literal(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = harness
    reader = reader_from_config(config(server), session, trees)
    found = await reader.search(files_url("templates/**/*.yaml"))
    assert [(f.url, await f.content()) for f in found.files] == [
        (files_url("templates/a/template.yaml"), b"kind: Template")
    ]
    assert found.etag == project_repo().sha("main")
    with pytest.raises(NotModifiedError):
        await reader.search(files_url("templates/**/*.yaml"), etag=found.etag)

    everywhere = await reader.search(files_url("**/*.yaml", ref="feature/new-ui"))
    assert [f.url for f in everywhere.files] == [
        files_url("catalog-info.yaml", ref="feature/new-ui")
    ]

    literal = await reader.search(files_url("docs/index.md"))
    assert [(f.url, await f.content()) for f in literal.files] == [
        (files_url("docs/index.md"), b"# svc")
    ]
    assert literal.etag == blob_sha(b"# svc")
    nothing = await reader.search(files_url("missing.yaml"))
    assert (nothing.files, nothing.etag) == ([], "")


# -- errors ---------------------------------------------------------------------------------


async def test_rate_limit_and_forbidden(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = harness
    reader = reader_from_config(config(server), session, trees)
    fake.statuses = {"raw": 429, "content": 429}
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(files_url("docs/index.md"))
    assert (caught.value.status, caught.value.rate_limited) == (429, True)
    assert "rate limit exceeded" in str(caught.value)
    with pytest.raises(UrlReaderError) as tree_error:
        await reader.read_tree(files_url("docs"))
    assert tree_error.value.rate_limited

    fake.statuses = {"archive": 429}
    with pytest.raises(UrlReaderError) as archive_error:
        await reader.read_tree(files_url("docs"))
    assert archive_error.value.rate_limited

    # Backstage's Harness reader answers 403 with an AuthenticationError.
    fake.statuses = {"raw": 403}
    with pytest.raises(AuthenticationError) as forbidden:
        await reader.read_url(files_url("docs/index.md"))
    assert TOKEN not in str(forbidden.value)

    fake.statuses = {"raw": 500}
    with pytest.raises(UrlReaderError) as failed:
        await reader.read_url(files_url("docs/index.md"))
    assert failed.value.status == 500
    assert not failed.value.rate_limited


# -- credentials ----------------------------------------------------------------------------


async def test_api_key_and_token_override(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = harness
    fake.accepted = [("x-api-key", API_KEY), ("Authorization", "Bearer caller-token")]
    # The API key wins over the token, as in Backstage.
    reader = reader_from_config(config(server, apiKey=API_KEY, token=TOKEN), session, trees)
    response = await reader.read_url(files_url("docs/index.md"))
    assert await response.buffer() == b"# svc"
    headers = {name.lower(): value for name, value in server.requests[-1].headers.items()}
    assert headers["x-api-key"] == API_KEY
    assert "authorization" not in headers

    overridden = await reader.read_url(files_url("docs/index.md"), token="caller-token")
    assert await overridden.buffer() == b"# svc"
    headers = {name.lower(): value for name, value in server.requests[-1].headers.items()}
    assert headers["authorization"] == "Bearer caller-token"
    assert "x-api-key" not in headers
    tree = await reader.read_tree(files_url("docs"), token="caller-token")
    assert tree.etag == project_repo().sha("main")
    assert all(
        seen.headers.get("Authorization") == "Bearer caller-token" for seen in server.requests[-2:]
    )

    fake.accepted = [("Authorization", f"Bearer {TOKEN}")]
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(files_url("docs/index.md"), token="wrong-token")
    assert caught.value.status == 401
    assert "wrong-token" not in str(caught.value)


async def test_credentials_stay_with_their_host(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = harness
    fake.accepted = []
    other_host = "other-harness.example.com"
    entries = [
        {"host": HOST, "baseUrl": server.base, "token": TOKEN},
        {"host": other_host, "baseUrl": server.base},
    ]
    reader = reader_from_config({"integrations": {"harness": entries}}, session, trees)
    other = files_url("docs/index.md").replace(HOST, other_host)
    assert await (await reader.read_url(other)).buffer() == b"# svc"
    assert "Authorization" not in server.requests[-1].headers

    count = len(server.requests)
    with pytest.raises(NotAllowedError):
        await reader.read_url(files_url("docs/index.md").replace(HOST, "unknown.example.com"))
    assert len(server.requests) == count


async def test_a_redirect_to_another_origin_drops_the_credentials(
    harness: tuple[HarnessState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = harness
    fake.accepted = []
    storage_routes = web.RouteTableDef()

    @storage_routes.get("/blobs/archive.zip")
    async def blob(_request: web.Request) -> web.Response:
        return zip_answer({"docs/index.md": b"# stored"})

    async with serve(storage_routes) as storage:
        # ``localhost`` and ``127.0.0.1`` are two origins on the same machine.
        storage_base = storage.base.replace("127.0.0.1", "localhost")
        fake.archive_redirect = f"{storage_base}/blobs/archive.zip"
        reader = reader_from_config(config(server, apiKey=API_KEY, token=TOKEN), session, trees)
        tree = await reader.read_tree(files_url("docs"))
        assert [(f.path, await f.content()) for f in await tree.files()] == [
            ("index.md", b"# stored")
        ]
        assert server.requests[-1].headers["x-api-key"] == API_KEY
        headers = {name.lower() for name in storage.requests[-1].headers}
        assert not headers & {"x-api-key", "authorization"}


# -- config ---------------------------------------------------------------------------------


async def test_config_keys_defaults_and_secrets(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    assert not any(
        isinstance(t.reader, HarnessUrlReader)
        for t in reader_from_config({}, session, trees).readers
    )
    mux = reader_from_config(
        {"integrations": {"harness": [{"host": "app.harness.io", "apiKey": API_KEY}]}},
        session,
        trees,
    )
    reader = mux.reader_for("https://app.harness.io/ng/account/a/module/code/repos/r")
    assert isinstance(reader, HarnessUrlReader)
    assert reader.integration.base_url == "https://app.harness.io"
    assert reader.integration.api_base_url == "https://app.harness.io/gateway/code/api/v1"
    assert str(reader) == "harness{host=app.harness.io,authed=True}"
    assert API_KEY not in repr(reader.integration)
    assert TOKEN not in repr(HarnessIntegrationConfig("h", "https://h", token=TOKEN))
    # The predicate compares the host with its port, as Backstage's ``url.host``.
    with pytest.raises(NotAllowedError):
        mux.reader_for("https://app.harness.io:8443/ng/account/a/module/code/repos/r")

    with pytest.raises(ConfigError, match=r"integrations\.harness\[1\]\.host"):
        reader_from_config(
            {"integrations": {"harness": [{"host": "a.io"}, {"host": "https://b.io"}]}},
            session,
            trees,
        )
    with pytest.raises(ConfigError, match=r"host"):
        reader_from_config({"integrations": {"harness": [{"token": TOKEN}]}}, session, trees)
    with pytest.raises(ConfigError, match=r"integrations\.harness\[0\]\.baseUrl"):
        reader_from_config(
            {"integrations": {"harness": [{"host": "a.io", "baseUrl": "ftp://a.io"}]}},
            session,
            trees,
        )
