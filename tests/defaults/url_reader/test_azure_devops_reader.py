"""Azure DevOps reader against a local fake of the Git REST API (items and commits)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from backstage_runtime.api.errors import (
    ConfigError,
    InputError,
    NotAllowedError,
    NotFoundError,
    NotModifiedError,
)
from backstage_runtime.api.services.url_reader import UrlReaderError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory
from backstage_runtime.defaults.url_reader.azure_devops import (
    parse_azure_url,
    read_azure_integration_configs,
)
from backstage_runtime.defaults.url_reader.azure_devops._credentials import organizations_of

from ._fake_azure_devops import AzureState, azure_routes
from ._forge import LAST_MODIFIED, FakeRepo, etag_of
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

PAT = "team-personal-access-token"
OTHER_PAT = "default-personal-access-token"

MAIN = {
    "catalog-info.yaml": b"kind: Component\nname: tool",
    "docs/index.md": b"# tool",
    "docs/guide/setup.md": b"setup",
    "templates/a/template.yaml": b"kind: Template",
    "templates/b/template.yaml": b"kind: Template\nname: b",
}
NEXT = {"catalog-info.yaml": b"name: next", "docs/index.md": b"# next"}
V1 = {"catalog-info.yaml": b"name: v1"}


def basic(pat: str) -> str:
    return "Basic " + base64.b64encode(f":{pat}".encode()).decode()


def tool_repo(owner: str = "team") -> FakeRepo:
    return FakeRepo(
        owner, "tool", refs={"main": MAIN, "feature/new/docs": NEXT, "v1": V1}, tags={"v1"}
    )


@pytest.fixture
async def azure() -> AsyncIterator[tuple[AzureState, LocalServer]]:
    state = AzureState(
        repos={
            "team/platform/tool": tool_repo(),
            "team/tool/tool": tool_repo(),
            "other/platform/tool": tool_repo("other"),
            "tfs/collection/platform/tool": tool_repo("collection"),
        },
        authorization={"team": basic(PAT)},
    )
    async with serve(azure_routes(state)) as server:
        yield state, server


def host(server: LocalServer) -> str:
    return f"127.0.0.1:{server.port}"


def config(server: LocalServer, **entry: Any) -> dict[str, Any]:
    credentials = entry.pop(
        "credentials",
        [
            {"organizations": ["team"], "personalAccessToken": PAT},
            {"personalAccessToken": OTHER_PAT},
        ],
    )
    return {"integrations": {"azure": [{"host": host(server), "credentials": credentials}]}}


def repo_url(
    server: LocalServer,
    path: str | None = None,
    version: str | None = None,
    org: str = "team",
    project: str = "platform",
) -> str:
    url = f"{server.base}/{org}/{project}/_git/tool"
    query = []
    if path is not None:
        query.append(f"path={path}")
    if version is not None:
        query.append(f"version={version}")
    return url + ("?" + "&".join(query) if query else "")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# -- URL forms --------------------------------------------------------------------------------


def test_url_forms_catalog_locations_use() -> None:
    long = parse_azure_url(
        "https://dev.azure.com/my-org/my-project/_git/my-repo"
        "?path=/catalog-info.yaml&version=GBfeature/with/slashes"
    )
    assert (long.owner, long.project, long.repo, long.path, long.ref, long.ref_kind) == (
        "my-org",
        "my-project",
        "my-repo",
        "/catalog-info.yaml",
        "feature/with/slashes",
        "branch",
    )
    assert long.file_url("6.0") == (
        "https://dev.azure.com/my-org/my-project/_apis/git/repositories/my-repo/items"
        "?api-version=6.0&path=%2Fcatalog-info.yaml&version=feature%2Fwith%2Fslashes"
    )
    encoded = parse_azure_url(
        "https://dev.azure.com/my-org/my-project/_git/my-repo"
        "?path=%2Fcatalog-info.yaml&version=GBfeature%2Fx&_a=contents"
    )
    assert (encoded.path, encoded.ref) == ("/catalog-info.yaml", "feature/x")

    # project == repository shorthand, as in Backstage's AzureUrl tests.
    short = parse_azure_url(
        "https://dev.azure.com/my-org/_git/my-project?path=%2Ftest.yaml&version=GBtest-branch"
    )
    assert (short.owner, short.project, short.repo) == ("my-org", "my-project", "my-project")
    assert short.file_url("6.0") == (
        "https://dev.azure.com/my-org/my-project/_apis/git/repositories/my-project/items"
        "?api-version=6.0&path=%2Ftest.yaml&version=test-branch"
    )
    assert short.archive_url("6.0", "abc") == (
        "https://dev.azure.com/my-org/my-project/_apis/git/repositories/my-project/items"
        "?recursionLevel=full&download=true&api-version=6.0&scopePath=%2Ftest.yaml"
        "&versionDescriptor.version=abc&versionDescriptor.versionType=commit"
    )
    assert short.commits_url("6.0") == (
        "https://dev.azure.com/my-org/my-project/_apis/git/repositories/my-project/commits"
        "?api-version=6.0&searchCriteria.%24top=1"
        "&searchCriteria.itemVersion.version=test-branch"
    )

    # No version: the default branch; no path: the whole repository.
    bare = parse_azure_url("https://dev.azure.com/my-org/my-project/_git/my-repo")
    assert (bare.path, bare.ref) == (None, None)
    assert "itemVersion" not in bare.commits_url("6.0")

    tag = parse_azure_url("https://dev.azure.com/o/p/_git/r?path=/a.yaml&version=GTv1.0")
    assert (tag.ref, tag.ref_kind) == ("v1.0", "tag")
    assert query_of(tag.file_url("6.0"))["versionDescriptor.versionType"] == "tag"
    commit = parse_azure_url(
        "https://dev.azure.com/o/p/_git/r?path=/a.yaml&version=GC6eead79870d998a3befd4bc7c72cc89e446f2970"
    )
    assert (commit.ref_kind, commit.ref) == ("commit", "6eead79870d998a3befd4bc7c72cc89e446f2970")

    # Azure DevOps Server: a collection, with or without the old /tfs prefix.
    tfs = parse_azure_url(
        "http://my-host/tfs/projects/my-project/_git/my-repo?path=%2Ffolder&version=GBtest-branch"
    )
    assert (tfs.owner, tfs.project, tfs.repo, tfs.ref, tfs.path) == (
        "tfs/projects",
        "my-project",
        "my-repo",
        "test-branch",
        "/folder",
    )
    assert tfs.repository_api() == (
        "http://my-host/tfs/projects/my-project/_apis/git/repositories/my-repo"
    )
    server = parse_azure_url("https://my-host:8443/my-collection/my-project/_git/my-repo")
    assert server.repository_api() == (
        "https://my-host:8443/my-collection/my-project/_apis/git/repositories/my-repo"
    )

    # The old <org>.visualstudio.com host names the organization.
    vs = parse_azure_url(
        "https://my-org.visualstudio.com/my-project/_git/my-repo?path=%2Ftest.yaml"
    )
    assert (vs.owner, vs.project, vs.repo) == ("my-org", "my-project", "my-repo")
    assert vs.file_url("6.0") == (
        "https://my-org.visualstudio.com/my-project/_apis/git/repositories/my-repo/items"
        "?api-version=6.0&path=%2Ftest.yaml"
    )

    # User-info never reaches API URLs or repr.
    with_userinfo = parse_azure_url("https://me:hunter2@dev.azure.com/o/p/_git/r?path=/a")
    assert "hunter2" not in repr(with_userinfo) + with_userinfo.file_url("6.0")

    # Names with spaces are decoded, and encoded again in API URLs.
    spaced = parse_azure_url("https://dev.azure.com/org/My%20Project/_git/My%20Repo?path=/a b")
    assert (spaced.project, spaced.repo, spaced.path) == ("My Project", "My Repo", "/a b")
    assert spaced.file_url("6.0").startswith(
        "https://dev.azure.com/org/My%20Project/_apis/git/repositories/My%20Repo/items?"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://dev.azure.com/my-org/_git", "must point to a git repository"),
        ("https://dev.azure.com/my-org/_git/", "must point to a git repository"),
        ("https://dev.azure.com/my-org/my-project/", "must point to a git repository"),
        ("https://dev.azure.com/my-org/my-project/_not-git", "must point to a git repository"),
        ("https://dev.azure.com/my-org/my-project/_not-git/r", "must point to a git repository"),
        ("https://dev.azure.com/my-org/_workitems/recentlyupdated/", "must point to a git"),
        ("https://api.com/a/b/blob/master/path/to/c.yaml", "must point to a git repository"),
        ("https://dev.azure.com/o/p/_git/r?path=/a.yaml&version=GXnope", "version must point"),
        ("com/a/b/blob/master/path/to/c.yaml", "expected an absolute http"),
    ],
)
def test_bad_urls_are_rejected_naming_the_url(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_azure_url(url)
    assert url.split("?")[0] in str(caught.value)


def test_organizations_are_read_from_each_url_form() -> None:
    def orgs(url: str) -> list[str]:
        return organizations_of(urlsplit(url))

    assert orgs("https://dev.azure.com/team/p/_git/r") == ["team"]
    assert orgs("https://tfs.example.com/tfs/coll/p/_git/r") == ["coll"]
    assert orgs("https://tfs.example.com/coll/p/_git/r") == ["coll"]
    assert orgs("https://team.visualstudio.com/p/_git/r") == ["p", "team"]


# -- config -----------------------------------------------------------------------------------


def read(entries: list[dict[str, Any]]) -> list[Any]:
    data = {"integrations": {"azure": entries}}
    return read_azure_integration_configs(create_config_from_data(data, context="test"))


def test_config_keys_and_defaults() -> None:
    assert [(c.host, c.api_version, c.credentials) for c in read([])] == [
        ("dev.azure.com", "6.0", ())
    ]
    [server, default] = read([{"host": "TFS.example.com", "apiVersion": "7.1", "token": " t "}])
    assert (server.host, server.api_version) == ("tfs.example.com", "7.1")
    assert [(c.personal_access_token, c.organizations) for c in server.credentials] == [("t", ())]
    assert default.host == "dev.azure.com"
    [configured] = read(
        [{"credentials": [{"organizations": ["a", "b"], "personalAccessToken": "secret-pat"}]}]
    )
    assert configured.host == "dev.azure.com"
    assert configured.credentials[0].organizations == ("a", "b")
    assert "secret-pat" not in repr(configured)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"host": "https://dev.azure.com"}, r"integrations.azure\[0\].host"),
        (
            {"token": "t", "credentials": [{"personalAccessToken": "secret-value-p"}]},
            "cannot be used together",
        ),
        ({"credential": {"clientId": "c"}, "credentials": []}, "cannot be used together"),
        ({"credential": {"clientId": "c"}}, r"integrations.azure\[0\].credential'.*deprecated"),
        (
            {"credentials": [{"clientId": "c", "clientSecret": "secret-value-s", "tenantId": "t"}]},
            r"credentials\[0\].clientId': Entra ID client secret credentials are not supported",
        ),
        (
            {"credentials": [{"clientId": "c"}]},
            r"credentials\[0\].clientId': Entra ID managed identity credentials are not supported",
        ),
        (
            {"credentials": [{"personalAccessToken": "secret-value-p", "clientId": "c"}]},
            r"credentials\[0\]': not a valid credential",
        ),
        ({"credentials": [{"organizations": ["a"]}]}, "not a valid credential"),
        (
            {
                "credentials": [
                    {"organizations": ["a"], "personalAccessToken": "secret-value-p"},
                    {"organizations": ["b", "a"], "personalAccessToken": "secret-value-q"},
                ]
            },
            "organization a is specified multiple times in credentials at positions 1 and 2",
        ),
        (
            {
                "credentials": [
                    {"personalAccessToken": "secret-value-p"},
                    {"personalAccessToken": "secret-value-q"},
                ]
            },
            "multiple credentials without organizations",
        ),
        ({"credentials": [{"personalAccessToken": "  "}]}, "personalAccessToken': it is blank"),
    ],
)
def test_bad_config_is_refused_naming_the_key(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        read([{"host": "dev.azure.com", **entry}] if "host" not in entry else [entry])
    assert "secret-value" not in str(caught.value)


async def test_unsupported_credentials_fail_at_startup(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    data = {
        "integrations": {
            "azure": [
                {
                    "credentials": [
                        {"clientId": "c", "clientSecret": "secret-value-s", "tenantId": "t"}
                    ]
                }
            ]
        }
    }
    with pytest.raises(ConfigError, match="not supported yet"):
        reader_from_config(data, session, trees)


async def test_predicates_pick_the_configured_hosts(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(
        {
            "integrations": {
                "azure": [
                    {"host": "dev.azure.com", "token": "secret-token"},
                    {"host": "my-org.visualstudio.com"},
                ]
            }
        },
        session,
        trees,
    )
    chosen = reader.reader_for("https://dev.azure.com/o/p/_git/r?path=/a.yaml")
    assert str(chosen) == "azure{host=dev.azure.com,authed=True}"
    assert "secret-token" not in repr(chosen) + str(reader)
    assert str(reader.reader_for("https://my-org.visualstudio.com/p/_git/r")) == (
        "azure{host=my-org.visualstudio.com,authed=False}"
    )
    with pytest.raises(NotAllowedError):
        reader.reader_for("https://other-org.visualstudio.com/p/_git/r")
    # With no config at all, dev.azure.com is still read anonymously.
    anonymous = reader_from_config({}, session, trees)
    assert str(anonymous.reader_for("https://dev.azure.com/o/p/_git/r")) == (
        "azure{host=dev.azure.com,authed=False}"
    )


# -- read_url ---------------------------------------------------------------------------------


async def test_read_url_sends_the_organizations_credential_and_honours_etags(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    url = repo_url(server, "/catalog-info.yaml", "GBmain")
    response = await reader.read_url(url)
    assert await response.buffer() == MAIN["catalog-info.yaml"]
    assert response.etag == etag_of(MAIN["catalog-info.yaml"])
    assert response.last_modified_at is not None
    seen = server.requests[-1]
    assert seen.path == "/team/platform/_apis/git/repositories/tool/items"
    assert query_of(seen.raw_path) == {
        "api-version": "6.0",
        "path": "/catalog-info.yaml",
        "version": "main",
    }
    assert seen.headers["Authorization"] == basic(PAT)

    with pytest.raises(NotModifiedError):
        await reader.read_url(url, etag=response.etag)
    assert server.requests[-1].headers["If-None-Match"] == response.etag

    streamed = await reader.read_url(repo_url(server, "/docs/index.md"))
    assert b"".join([chunk async for chunk in streamed.stream()]) == b"# tool"


async def test_read_url_refs_branch_with_slashes_tag_commit_and_project_shorthand(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)

    async def text(url: str) -> bytes:
        return await (await reader.read_url(url)).buffer()

    assert await text(repo_url(server, "/docs/index.md", "GBfeature/new/docs")) == b"# next"
    assert await text(repo_url(server, "/catalog-info.yaml", "GTv1")) == b"name: v1"
    sha = tool_repo().sha("feature/new/docs")
    assert await text(repo_url(server, "/catalog-info.yaml", f"GC{sha}")) == b"name: next"
    assert await text(f"{server.base}/team/_git/tool?path=/docs/index.md") == b"# tool"
    assert server.requests[-1].path == "/team/tool/_apis/git/repositories/tool/items"
    # A tag is not a branch.
    with pytest.raises(NotFoundError):
        await reader.read_url(repo_url(server, "/catalog-info.yaml", "GBv1"))


async def test_read_url_on_azure_devops_server_collections(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = azure
    state.authorization["collection"] = basic("collection-pat")
    reader = reader_from_config(
        config(
            server,
            credentials=[
                {"organizations": ["collection"], "personalAccessToken": "collection-pat"}
            ],
        ),
        session,
        trees,
    )
    url = f"{server.base}/tfs/collection/platform/_git/tool?path=/docs/index.md&version=GBmain"
    assert await (await reader.read_url(url)).buffer() == b"# tool"
    assert server.requests[-1].path == "/tfs/collection/platform/_apis/git/repositories/tool/items"
    assert server.requests[-1].headers["Authorization"] == basic("collection-pat")


async def test_missing_files_and_repositories_are_not_found(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(repo_url(server, "/missing.yaml"))
    assert "/team/platform/_git/tool" in str(caught.value)
    assert PAT not in str(caught.value)
    with pytest.raises(NotFoundError):
        await reader.read_url(repo_url(server, "/a.yaml", project="nope"))
    with pytest.raises(NotFoundError):
        await reader.read_tree(repo_url(server, project="nope"))
    with pytest.raises(InputError, match="must point to a specific path") as bad:
        await reader.read_url(repo_url(server))
    assert repo_url(server) in str(bad.value)


async def test_credentials_per_organization_and_none_for_other_hosts(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    await reader.read_url(repo_url(server, "/catalog-info.yaml", org="other"))
    assert server.requests[-1].headers["Authorization"] == basic(OTHER_PAT)

    only_team = reader_from_config(
        config(server, credentials=[{"organizations": ["team"], "personalAccessToken": PAT}]),
        session,
        trees,
    )
    await only_team.read_url(repo_url(server, "/catalog-info.yaml", org="other"))
    assert "Authorization" not in server.requests[-1].headers

    # The same server reached under another host name is another integration: no credentials.
    both = config(server)
    both["integrations"]["azure"].append({"host": f"localhost:{server.port}"})
    reader = reader_from_config(both, session, trees)
    await reader.read_url(
        f"http://localhost:{server.port}/other/platform/_git/tool?path=/catalog-info.yaml"
    )
    assert "Authorization" not in server.requests[-1].headers


async def test_token_override(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = azure
    reader = reader_from_config(config(server), session, trees)
    state.authorization["team"] = basic("user-pat")
    url = repo_url(server, "/catalog-info.yaml")
    assert (
        await (await reader.read_url(url, token="user-pat")).buffer()
        == b"kind: Component\nname: tool"
    )
    assert server.requests[-1].headers["Authorization"] == basic("user-pat")

    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
    state.authorization["team"] = f"Bearer {jwt}"
    tree = await reader.read_tree(repo_url(server, "/docs"), token=jwt)
    assert {f.path for f in await tree.files()} == {"index.md", "guide/setup.md"}
    assert {seen.headers["Authorization"] for seen in server.requests[-2:]} == {f"Bearer {jwt}"}


async def test_rejected_credentials_rate_limits_and_failures(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    state, server = azure
    reader = reader_from_config(config(server), session, trees)
    url = repo_url(server, "/catalog-info.yaml")

    with pytest.raises(UrlReaderError, match="203 Non-Authoritative") as rejected:
        await reader.read_url(url, token="wrong-token")
    assert rejected.value.status == 203
    assert "wrong-token" not in str(rejected.value)
    with pytest.raises(UrlReaderError, match="203"):
        await reader.read_tree(repo_url(server), token="wrong-token")

    state.rate_limited = True
    with pytest.raises(
        UrlReaderError, match=r"429 Too Many Requests \(rate limit exceeded\)"
    ) as caught:
        await reader.read_url(url)
    assert caught.value.rate_limited
    assert caught.value.status == 429
    with pytest.raises(UrlReaderError, match="rate limit exceeded") as tree_caught:
        await reader.read_tree(repo_url(server))
    assert tree_caught.value.rate_limited
    assert PAT not in str(caught.value) + str(tree_caught.value)

    state.rate_limited = False
    state.failing = True
    with pytest.raises(UrlReaderError, match="500") as failed:
        await reader.search(repo_url(server, "/**/*.yaml"))
    assert not failed.value.rate_limited


# -- read_tree --------------------------------------------------------------------------------


async def test_read_tree_files_dir_filter_and_etag(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    tmp_path: Path,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    url = repo_url(server, version="GBmain")
    tree = await reader.read_tree(url, filter=lambda path, _: path.endswith(".yaml"))
    assert tree.etag == tool_repo().sha("main")
    assert {f.path: await f.content() for f in await tree.files()} == {
        path: content for path, content in MAIN.items() if path.endswith(".yaml")
    }
    commits, archive = server.requests[-2:]
    assert commits.path.endswith("/commits")
    assert query_of(commits.raw_path)["searchCriteria.itemVersion.version"] == "main"
    # The zip is read at the commit that became the ETag, not at the moving branch.
    assert query_of(archive.raw_path)["versionDescriptor.version"] == tree.etag
    assert archive.headers["Accept"] == "application/zip"
    assert archive.headers["Authorization"] == basic(PAT)

    folder = await reader.read_tree(repo_url(server, "/docs", "GBfeature/new/docs"))
    target = await folder.dir(target_dir=tmp_path / "docs")
    assert (target / "index.md").read_bytes() == b"# next"
    assert sorted(p.name for p in target.iterdir()) == ["index.md"]

    nested = await reader.read_tree(repo_url(server, "/docs/guide"))
    assert [(f.path, await f.content()) for f in await nested.files()] == [("setup.md", b"setup")]

    requests = len(server.requests)
    with pytest.raises(NotModifiedError):
        await reader.read_tree(url, etag=tree.etag)
    # Only the commit was asked for: an unchanged tree is not downloaded.
    assert [seen.path.rsplit("/", 1)[-1] for seen in server.requests[requests:]] == ["commits"]


async def test_read_tree_of_a_tag(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    tree = await reader.read_tree(repo_url(server, version="GTv1"))
    assert tree.etag == tool_repo().sha("v1")
    assert [(f.path, await f.content()) for f in await tree.files()] == [
        ("catalog-info.yaml", b"name: v1")
    ]
    commits = next(seen for seen in server.requests if seen.path.endswith("/commits"))
    assert query_of(commits.raw_path)["searchCriteria.itemVersion.versionType"] == "tag"


# -- search -----------------------------------------------------------------------------------


async def test_search_with_a_glob(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    url = repo_url(server, "%2Ftemplates%2F**%2F*.yaml", "GBmain")
    found = await reader.search(url)
    assert found.etag == tool_repo().sha("main")
    base = f"{server.base}/team/platform/_git/tool"
    assert [(f.url, await f.content()) for f in found.files] == [
        (f"{base}?path=%2Ftemplates%2Fa%2Ftemplate.yaml&version=GBmain", b"kind: Template"),
        (
            f"{base}?path=%2Ftemplates%2Fb%2Ftemplate.yaml&version=GBmain",
            b"kind: Template\nname: b",
        ),
    ]
    # Only the glob's literal folder was downloaded.
    archive = server.requests[-1]
    assert query_of(archive.raw_path)["scopePath"] == "/templates"
    with pytest.raises(NotModifiedError):
        await reader.search(url, etag=found.etag)

    everywhere = await reader.search(repo_url(server, "**/catalog-info.yaml"))
    assert [f.url for f in everywhere.files] == [f"{base}?path=%2Fcatalog-info.yaml"]

    nowhere = await reader.search(repo_url(server, "/missing/**/*.yaml"))
    assert (nowhere.files, nowhere.etag) == ([], tool_repo().sha("main"))


async def test_search_without_a_glob_reads_the_one_file(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    url = repo_url(server, "/catalog-info.yaml", "GBmain")
    found = await reader.search(url)
    assert [(f.url, await f.content()) for f in found.files] == [
        (url, b"kind: Component\nname: tool")
    ]
    assert found.etag == etag_of(MAIN["catalog-info.yaml"])
    missing = await reader.search(repo_url(server, "/missing.yaml"))
    assert (missing.files, missing.etag) == ([], "")


async def test_last_modified_after(
    azure: tuple[AzureState, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    from backstage_runtime.defaults.url_reader._http import parse_last_modified

    _, server = azure
    reader = reader_from_config(config(server), session, trees)
    since = parse_last_modified(LAST_MODIFIED)
    assert since is not None
    with pytest.raises(NotModifiedError):
        await reader.read_url(repo_url(server, "/catalog-info.yaml"), last_modified_after=since)


# -- transport security -----------------------------------------------------------------------


class _Stopped(Exception):
    """Raised before a request leaves, so that nothing reaches the network."""


@pytest.fixture
async def trapped() -> AsyncIterator[tuple[aiohttp.ClientSession, list[tuple[str, str | None]]]]:
    """A session that records each request's URL and Authorization header, then stops it."""
    seen: list[tuple[str, str | None]] = []

    async def stop(
        _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        seen.append((str(params.url), params.headers.get("Authorization")))
        raise _Stopped

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(stop)
    async with aiohttp.ClientSession(trace_configs=[trace]) as client:
        yield client, seen


@pytest.mark.parametrize(
    ("url", "api"),
    [
        (
            "http://dev.azure.com/org/proj/_git/repo?path=/catalog-info.yaml",
            "https://dev.azure.com/org/proj/_apis/git/repositories/repo/items?",
        ),
        (
            "http://my-org.visualstudio.com/proj/_git/repo?path=/catalog-info.yaml",
            "https://my-org.visualstudio.com/proj/_apis/git/repositories/repo/items?",
        ),
    ],
)
async def test_http_urls_of_the_cloud_hosts_send_credentials_over_https_only(
    trapped: tuple[aiohttp.ClientSession, list[tuple[str, str | None]]],
    trees: DefaultReadTreeResponseFactory,
    url: str,
    api: str,
) -> None:
    session, seen = trapped
    host = urlsplit(url).hostname
    entry = {"host": host, "credentials": [{"personalAccessToken": PAT}]}
    reader = reader_from_config({"integrations": {"azure": [entry]}}, session, trees)
    with pytest.raises(_Stopped):
        await reader.read_url(url)
    with pytest.raises(_Stopped):
        await reader.read_tree(url.replace("?path=/catalog-info.yaml", ""))
    assert [(sent.startswith("https://"), auth) for sent, auth in seen] == [(True, basic(PAT))] * 2
    assert seen[0][0].startswith(api)


def test_on_premises_servers_keep_the_scheme_of_the_url() -> None:
    # Azure DevOps Server often serves plain http on an internal network (as in Backstage).
    parsed = parse_azure_url("http://tfs.internal:8080/tfs/coll/proj/_git/repo?path=/a.yaml")
    assert parsed.file_url("6.0").startswith(
        "http://tfs.internal:8080/tfs/coll/proj/_apis/git/repositories/repo/items?"
    )
    cloud = parse_azure_url("http://user:pw@dev.azure.com/org/proj/_git/repo?path=/a.yaml")
    assert cloud.origin == "https://dev.azure.com"
