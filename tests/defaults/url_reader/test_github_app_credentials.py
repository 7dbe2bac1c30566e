"""GitHub App credentials (``integrations.github[].apps``) against a fake GitHub that verifies
the app JWTs with the app's public key and authorises repository calls by installation token.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import anyio
import pytest

from backstage_runtime.api.errors import ConfigError, NotFoundError
from backstage_runtime.api.services.url_reader import UrlReaderError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, GithubUrlReader
from backstage_runtime.defaults.url_reader._tokens import TokenCache
from backstage_runtime.defaults.url_reader.github import (
    SingleInstanceGithubCredentialsProvider,
    read_github_integration_configs,
)
from backstage_runtime.testing import MockRootLogger

from ._fake_github import GithubState, codeload_routes, fake_github
from ._fake_github_apps import (
    PREVIEW_ACCEPT,
    AppsState,
    FakeApp,
    FakeInstallation,
    fake_github_with_apps,
    rsa_key_pair,
)
from ._forge import FakeRepo
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

HOST = "ghe.example.com"
APP_ID = 4242
OTHER_APP_ID = 5151
PEM, PUBLIC_KEY = rsa_key_pair()
OTHER_PEM, OTHER_PUBLIC_KEY = rsa_key_pair()
CLIENT_SECRET = "app-client-secret-value"
WEBHOOK_SECRET = "app-webhook-secret-value"
PAT = "ghp_personal-fallback-token"

FILES = {"catalog-info.yaml": b"kind: Component", "docs/index.md": b"# docs", "a/b.yaml": b"b"}


def repos() -> dict[str, FakeRepo]:
    names = ("org/service", "org/private", "other/lib", "public/docs", "oss/tools")
    return {
        f"{owner}/{name}": FakeRepo(owner, name, refs={"main": dict(FILES)})
        for owner, name in (full.split("/") for full in names)
    }


@dataclass
class Fake:
    github: GithubState
    apps: AppsState
    server: LocalServer


def app_entry(app_id: int = APP_ID, pem: str = PEM, **extra: Any) -> dict[str, Any]:
    return {
        "appId": app_id,
        "privateKey": pem,
        "clientId": f"Iv1.client{app_id}",
        "clientSecret": CLIENT_SECRET,
        "webhookSecret": WEBHOOK_SECRET,
        **extra,
    }


def config(server: LocalServer, *apps: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"host": HOST, "apiBaseUrl": server.base, "apps": list(apps)}
    if token:
        entry["token"] = token
    return {"integrations": {"github": [entry]}}


def blob(owner_repo: str, path: str = "catalog-info.yaml") -> str:
    return f"https://{HOST}/{owner_repo}/blob/main/{path}"


def auth_of(fake: Fake, path_prefix: str) -> list[str | None]:
    """The Authorization header of every request whose path starts with ``path_prefix``."""
    return [
        seen.headers.get("Authorization")
        for seen in fake.server.requests
        if seen.path.startswith(path_prefix)
    ]


@pytest.fixture
def apps_state() -> AppsState:
    return AppsState(
        apps=[
            FakeApp(
                APP_ID,
                PUBLIC_KEY,
                [FakeInstallation(11, "org"), FakeInstallation(12, "other")],
            )
        ],
        static_tokens={PAT},
        public_owners={"public", "oss"},
    )


@pytest.fixture
async def fake(apps_state: AppsState) -> AsyncIterator[Fake]:
    github = GithubState(repos=repos())
    async with fake_github_with_apps(github, apps_state) as server:
        yield Fake(github, apps_state, server)


# -- configuration ---------------------------------------------------------------------------


def test_app_config_keys_defaults_and_secrets() -> None:
    data = {
        "integrations": {
            "github": [
                {
                    "host": HOST,
                    "apiBaseUrl": "https://ghe.example.com/api/v3",
                    "apps": [
                        app_entry(
                            app_id="4242",  # type: ignore[arg-type]  # strings from $env work
                            pem=PEM.replace("\n", "\\n"),  # one-line env var form
                            allowedInstallationOwners=["org"],
                            publicAccess=True,
                        ),
                        {
                            "appId": OTHER_APP_ID,
                            "privateKey": OTHER_PEM,
                            "clientId": "Iv1.x",
                            "clientSecret": CLIENT_SECRET,
                        },
                    ],
                }
            ]
        }
    }
    integration = read_github_integration_configs(create_config_from_data(data, context="t"))[0]
    first, second = integration.apps
    assert (first.app_id, first.client_id, first.allowed_installation_owners) == (
        APP_ID,
        "Iv1.client4242",
        ("org",),
    )
    assert first.public_access is True
    assert first.private_key == PEM
    assert (second.webhook_secret, second.allowed_installation_owners) == (None, None)
    assert second.public_access is False
    text = repr(integration)
    for secret in (CLIENT_SECRET, WEBHOOK_SECRET, "PRIVATE KEY", PEM[40:80]):
        assert secret not in text


@pytest.mark.parametrize(
    ("app", "culprit"),
    [
        ({"privateKey": PEM, "clientId": "x", "clientSecret": "s"}, r"apps\[0\]\.appId"),
        (
            {"appId": "not-a-number", "privateKey": PEM, "clientId": "x", "clientSecret": "s"},
            r"apps\[0\]\.appId",
        ),
        (
            {"appId": 1.5, "privateKey": PEM, "clientId": "x", "clientSecret": "s"},
            r"apps\[0\]\.appId', expected a positive integer",
        ),
        ({"appId": 1, "privateKey": PEM, "clientSecret": "s"}, r"apps\[0\]\.clientId"),
        ({"appId": 1, "privateKey": PEM, "clientId": "x"}, r"apps\[0\]\.clientSecret"),
        ({"appId": 1, "clientId": "x", "clientSecret": "s"}, r"apps\[0\]\.privateKey"),
        (
            {
                "appId": 1,
                "privateKey": "-----not a key SECRETBYTES",
                "clientId": "x",
                "clientSecret": "s",
            },
            r"apps\[0\]\.privateKey', expected an unencrypted PEM-encoded RSA private key",
        ),
        (
            {
                "appId": 1,
                "privateKey": PEM,
                "clientId": "x",
                "clientSecret": "s",
                "allowedInstallationOwners": "org",
            },
            r"apps\[0\]\.allowedInstallationOwners",
        ),
    ],
)
def test_app_config_errors_name_the_key_and_not_the_secret(
    app: dict[str, Any], culprit: str
) -> None:
    data = {
        "integrations": {"github": [{"host": HOST, "apiBaseUrl": "https://x/api", "apps": [app]}]}
    }
    with pytest.raises(ConfigError, match=rf"integrations\.github\[0\]\.{culprit}") as caught:
        read_github_integration_configs(create_config_from_data(data, context="t"))
    assert "SECRETBYTES" not in str(caught.value)
    assert PEM[40:80] not in str(caught.value)


def test_apps_need_an_api_base_url() -> None:
    data = {
        "integrations": {
            "github": [
                {"host": HOST, "rawBaseUrl": "https://raw.example.com", "apps": [app_entry()]}
            ]
        }
    }
    with pytest.raises(ConfigError, match=r"'integrations\.github\[0\]\.apiBaseUrl'"):
        read_github_integration_configs(create_config_from_data(data, context="t"))


# -- installation tokens ---------------------------------------------------------------------


async def test_reads_use_one_installation_token_signed_in_with_a_valid_app_jwt(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(config(fake.server, app_entry(), token=PAT), session, trees)
    before = int(time.time())
    response = await reader.read_url(blob("org/service"))
    assert await response.buffer() == FILES["catalog-info.yaml"]
    [token] = fake.apps.tokens_for("org")
    assert auth_of(fake, "/repos/org/service/contents/") == [f"Bearer {token}"]

    # The fake verified the RS256 signature with the app's public key; check the claims too.
    [claims] = fake.apps.jwt_claims[:1]
    assert claims["iss"] == APP_ID
    assert before - 62 <= claims["iat"] <= before - 58
    assert claims["exp"] - claims["iat"] <= 600
    assert set(fake.apps.accept_headers) == {PREVIEW_ACCEPT}

    tree = await reader.read_tree(f"https://{HOST}/org/service/tree/main/docs")
    assert [f.path for f in await tree.files()] == ["index.md"]
    found = await reader.search(blob("org/service", "**/*.yaml"))
    assert sorted(f.url for f in found.files) == [
        blob("org/service", "a/b.yaml"),
        blob("org/service", "catalog-info.yaml"),
    ]
    assert [await f.content() for f in found.files if f.url.endswith("b.yaml")] == [b"b"]
    # One listing and one token for all of it; the configured token was never used.
    assert fake.apps.listings == [APP_ID]
    assert fake.apps.token_requests == [(APP_ID, 11)]
    repo_calls = auth_of(fake, "/repos/")
    assert repo_calls
    assert set(repo_calls) == {f"Bearer {token}"}


async def test_each_owner_gets_the_token_of_its_installation(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(config(fake.server, app_entry()), session, trees)
    assert await (await reader.read_url(blob("org/service"))).buffer()
    assert await (await reader.read_url(blob("other/lib"))).buffer()
    assert await (await reader.read_url(blob("org/private"))).buffer()
    assert fake.apps.token_requests == [(APP_ID, 11), (APP_ID, 12)]
    [org_token], [other_token] = fake.apps.tokens_for("org"), fake.apps.tokens_for("other")
    assert auth_of(fake, "/repos/org/") == [f"Bearer {org_token}"] * 2
    assert auth_of(fake, "/repos/other/") == [f"Bearer {other_token}"]


async def test_concurrent_reads_for_one_owner_create_one_token(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(config(fake.server, app_entry()), session, trees)
    contents: list[bytes] = []

    async def read(path: str) -> None:
        contents.append(await (await reader.read_url(blob("org/service", path))).buffer())

    async with anyio.create_task_group() as group:
        for index in range(25):
            group.start_soon(read, ("catalog-info.yaml", "docs/index.md", "a/b.yaml")[index % 3])
    assert len(contents) == 25
    assert fake.apps.listings == [APP_ID]
    assert fake.apps.token_requests == [(APP_ID, 11)]


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_the_token_is_renewed_ten_minutes_before_it_expires(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    clock = Clock()
    fake.apps.clock = clock  # GitHub's clock runs with ours: JWT dates and token expiry
    integration = read_github_integration_configs(
        create_config_from_data(config(fake.server, app_entry()), context="t")
    )[0]
    reader = GithubUrlReader(
        integration,
        session=session,
        tree_response_factory=trees,
        credentials_provider=SingleInstanceGithubCredentialsProvider(
            integration, session=session, clock=clock
        ),
    )
    await (await reader.read_url(blob("org/service"))).buffer()
    clock.now += 49 * 60  # the token lives an hour; still more than 10 minutes left
    await (await reader.read_url(blob("org/service"))).buffer()
    assert len(fake.apps.token_requests) == 1
    clock.now += 2 * 60  # 9 minutes left: renewed
    await (await reader.read_url(blob("org/service"))).buffer()
    first, second = fake.apps.tokens_for("org")
    assert auth_of(fake, "/repos/org/service/contents/") == [
        f"Bearer {first}",
        f"Bearer {first}",
        f"Bearer {second}",
    ]
    assert len(fake.apps.jwt_claims) == 4  # two listings and two token creations
    assert fake.apps.jwt_claims[-1]["iat"] == int(clock.now) - 60


async def test_tokens_expiring_within_the_margin_are_not_reused(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    fake.apps.token_lifetime = 5 * 60
    reader = reader_from_config(config(fake.server, app_entry()), session, trees)
    await (await reader.read_url(blob("org/service"))).buffer()
    await (await reader.read_url(blob("org/service"))).buffer()
    assert fake.apps.token_requests == [(APP_ID, 11), (APP_ID, 11)]


async def test_owner_outside_allowed_installation_owners_falls_back_to_the_token(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    app = app_entry(allowedInstallationOwners=["Other"])
    reader = reader_from_config(config(fake.server, app, token=PAT), session, trees)
    assert await (await reader.read_url(blob("org/service"))).buffer()
    assert auth_of(fake, "/repos/org/") == [f"Bearer {PAT}"]
    assert fake.apps.listings == []  # not even looked up
    assert await (await reader.read_url(blob("other/lib"))).buffer()
    [other_token] = fake.apps.tokens_for("other")
    assert auth_of(fake, "/repos/other/") == [f"Bearer {other_token}"]


async def test_owner_without_installation_falls_back_to_the_token(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(config(fake.server, app_entry(), token=PAT), session, trees)
    assert await (await reader.read_url(blob("public/docs"))).buffer()
    assert auth_of(fake, "/repos/public/") == [f"Bearer {PAT}"]
    assert fake.apps.listings == [APP_ID]
    assert fake.apps.token_requests == []


async def test_owner_without_installation_and_no_token_reads_anonymously(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(config(fake.server, app_entry()), session, trees)
    assert await (await reader.read_url(blob("public/docs"))).buffer()
    assert auth_of(fake, "/repos/public/") == [None]
    with pytest.raises(UrlReaderError, match="401"):
        # A private repository of an owner without installation is not readable anonymously.
        await reader.read_url(blob("nobody/service"))


async def test_public_access_app_reads_public_repositories_of_any_owner(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    app = app_entry(publicAccess=True, allowedInstallationOwners=["other"])
    reader = reader_from_config(config(fake.server, app, token=PAT), session, trees)
    assert await (await reader.read_url(blob("public/docs"))).buffer()
    assert await (await reader.read_url(blob("oss/tools"))).buffer()
    # The token of the one allowed installation ("other"), created once for both owners.
    assert fake.apps.token_requests == [(APP_ID, 12)]
    [token] = fake.apps.tokens_for("other")
    assert auth_of(fake, "/repos/public/") == [f"Bearer {token}"]
    assert auth_of(fake, "/repos/oss/") == [f"Bearer {token}"]


async def test_the_first_app_with_an_installation_wins(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    fake.apps.apps = [
        FakeApp(OTHER_APP_ID, OTHER_PUBLIC_KEY, [FakeInstallation(21, "other")]),
        FakeApp(APP_ID, PUBLIC_KEY, [FakeInstallation(11, "org")]),
    ]
    reader = reader_from_config(
        config(fake.server, app_entry(OTHER_APP_ID, OTHER_PEM), app_entry()), session, trees
    )
    assert await (await reader.read_url(blob("org/service"))).buffer()
    assert sorted(fake.apps.listings) == [APP_ID, OTHER_APP_ID]
    assert fake.apps.token_requests == [(APP_ID, 11)]


async def test_installation_pages_are_followed(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    fake.apps.page_size = 1
    fake.apps.apps[0].installations = [
        FakeInstallation(31, "a"),
        FakeInstallation(32, "b"),
        FakeInstallation(33, "ORG"),  # logins compare case-insensitively
    ]
    reader = reader_from_config(config(fake.server, app_entry()), session, trees)
    assert await (await reader.read_url(blob("org/service"))).buffer()
    assert fake.apps.listings == [APP_ID] * 3
    assert fake.apps.token_requests == [(APP_ID, 33)]


async def test_selected_repositories_limit_the_token(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    fake.apps.page_size = 1
    fake.apps.apps[0].installations = [FakeInstallation(11, "org", repositories=["x", "service"])]
    reader = reader_from_config(config(fake.server, app_entry(), token=PAT), session, trees)
    assert await (await reader.read_url(blob("org/service"))).buffer()
    with pytest.raises(
        UrlReaderError,
        match="used in the org organization does not have access to a repository with the name "
        "private",
    ) as caught:
        await reader.read_url(blob("org/private"))
    assert not isinstance(caught.value, NotFoundError)
    assert fake.apps.token_requests == [(APP_ID, 11)]
    # Two pages when the token was created, two more when the miss listed them again.
    assert [p for p in fake.server.paths() if p == "/installation/repositories"] == [
        "/installation/repositories"
    ] * 4


async def test_a_repository_selected_after_the_token_was_created_is_readable(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    installation = FakeInstallation(11, "org", repositories=["service"])
    fake.apps.apps[0].installations = [installation]
    reader = reader_from_config(config(fake.server, app_entry()), session, trees)
    assert await (await reader.read_url(blob("org/service"))).buffer()
    installation.repositories = ["service", "private"]

    async def read_private() -> None:
        assert (
            await (await reader.read_url(blob("org/private"))).buffer()
            == FILES["catalog-info.yaml"]
        )

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(read_private)
    assert await (await reader.read_url(blob("org/private"))).buffer()

    # The still-valid token is kept; concurrent misses shared one listing, later hits none.
    assert fake.apps.token_requests == [(APP_ID, 11)]
    listings = [p for p in fake.server.paths() if p == "/installation/repositories"]
    assert len(listings) == 2
    assert set(auth_of(fake, "/repos/org/private/")) == {auth_of(fake, "/repos/org/service/")[0]}
    with pytest.raises(UrlReaderError, match="does not have access to a repository"):
        await reader.read_url(blob("org/unknown"))


async def test_suspended_installation_is_an_error(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    fake.apps.apps[0].installations = [FakeInstallation(11, "org", suspended=True)]
    reader = reader_from_config(config(fake.server, app_entry(), token=PAT), session, trees)
    with pytest.raises(UrlReaderError, match="The GitHub application for org is suspended"):
        await reader.read_url(blob("org/service"))
    assert fake.apps.token_requests == []


async def test_token_option_bypasses_the_apps(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(config(fake.server, app_entry()), session, trees)
    assert await (await reader.read_url(blob("org/service"), token=PAT)).buffer()
    tree = await reader.read_tree(f"https://{HOST}/org/service", token=PAT)
    assert len(await tree.files()) == len(FILES)
    assert fake.apps.listings == []
    assert set(auth_of(fake, "/repos/")) == {f"Bearer {PAT}"}


async def test_rate_limited_app_api_is_a_rate_limited_error(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    fake.apps.rate_limited = True
    reader = reader_from_config(config(fake.server, app_entry(), token=PAT), session, trees)
    with pytest.raises(UrlReaderError, match=r"403 Forbidden \(rate limit exceeded\)") as caught:
        await reader.read_url(blob("org/service"))
    assert caught.value.rate_limited
    assert caught.value.status == 403
    assert f"{fake.server.base}/app/installations" in str(caught.value)
    # search of a literal path turns NotFoundError into "no files": this must stay an error.
    with pytest.raises(UrlReaderError):
        await reader.search(blob("org/service"))


async def test_a_jwt_signed_with_the_wrong_key_is_refused_without_leaking_secrets(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    logger = MockRootLogger(level="debug")
    reader = reader_from_config(
        config(fake.server, app_entry(pem=OTHER_PEM), token=PAT), session, trees, logger
    )
    with pytest.raises(
        UrlReaderError, match=r"GitHub App 4242 could not list its installations.*401"
    ) as caught:
        await reader.read_url(blob("org/service"))
    assert fake.apps.jwt_claims == []
    texts = [str(caught.value), repr(caught.value), str(reader), repr(logger.entries)]
    texts.append(repr(reader.reader_for(blob("org/service"))))
    for text in texts:
        for secret in (OTHER_PEM[40:80], CLIENT_SECRET, WEBHOOK_SECRET, PAT, "eyJ"):
            assert secret not in text


async def test_app_credentials_stay_on_their_host(
    fake: Fake, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    plain = GithubState(repos=repos())
    async with fake_github(plain) as other, serve(codeload_routes(fake.github)) as codeload:
        data = config(fake.server, app_entry())
        data["integrations"]["github"].append(
            {"host": "other.example.com", "apiBaseUrl": other.base}
        )
        reader = reader_from_config(data, session, trees)
        response = await reader.read_url("https://other.example.com/org/service/blob/main/a/b.yaml")
        assert await response.buffer() == b"b"
        assert [seen.headers.get("Authorization") for seen in other.requests] == [None]
        assert fake.apps.listings == []
        # Tarballs redirected to another origin do not get the installation token either.
        fake.github.codeload = codeload
        tree = await reader.read_tree(f"https://{HOST}/org/service/tree/main")
        assert len(await tree.files()) == len(FILES)
        assert [seen.headers.get("Authorization") for seen in codeload.requests] == [None]


# -- the token cache the installation tokens live in -------------------------------------------


async def test_token_cache_shares_one_failure_with_waiters_and_retries_later() -> None:
    cache: TokenCache[str, str] = TokenCache(margin=600)
    calls = 0
    release = anyio.Event()

    async def failing() -> tuple[str, float]:
        nonlocal calls
        calls += 1
        await release.wait()
        raise UrlReaderError("token endpoint down")

    errors: list[Exception] = []

    async def get() -> None:
        try:
            await cache.get("owner", failing)
        except UrlReaderError as error:
            errors.append(error)

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(get)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert (calls, len(errors)) == (1, 5)

    async def working() -> tuple[str, float]:
        return "fresh", time.time() + 3600

    assert await cache.get("owner", working) == "fresh"


async def test_token_cache_waiter_fetches_when_the_fetching_caller_is_cancelled() -> None:
    cache: TokenCache[str, str] = TokenCache(margin=600)
    calls = 0

    async def fetch() -> tuple[str, float]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await anyio.sleep_forever()
        return "second", time.time() + 3600

    leader_scope = anyio.CancelScope()
    results: list[str] = []

    async def leader() -> None:
        with leader_scope:
            await cache.get("owner", fetch)

    async def waiter() -> None:
        results.append(await cache.get("owner", fetch))

    async with anyio.create_task_group() as group:
        group.start_soon(leader)
        await anyio.wait_all_tasks_blocked()
        group.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        leader_scope.cancel()
    assert (calls, results) == (2, ["second"])
