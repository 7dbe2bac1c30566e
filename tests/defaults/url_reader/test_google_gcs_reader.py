"""Google Cloud Storage reader against a local fake of GCS's JSON API and token endpoint."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from backstage_runtime.api.errors import (
    ConfigError,
    InputError,
    NotAllowedError,
    NotFoundError,
    NotModifiedError,
)
from backstage_runtime.api.services.url_reader import ArchiveLimitError, UrlReaderError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import (
    DefaultReadTreeResponseFactory,
    TreeLimits,
    UrlReaderPredicateMux,
    create_url_reader,
)
from backstage_runtime.defaults.url_reader.google_gcs import (
    GcsLocation,
    GoogleGcsUrlReader,
    gcs_predicate,
    parse_gcs_url,
    read_google_gcs_integration_config,
)
from backstage_runtime.testing import MockRootLogger

from ._fake_gcs import UPDATED, FakeGcs
from ._server import LocalServer, serve
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

HOST = "storage.cloud.google.com"
BUCKET = "team-catalog"
EMAIL = "reader@project.iam.gserviceaccount.com"
READ_ONLY = "https://www.googleapis.com/auth/devstorage.read_only"

OBJECTS = {
    "catalog-info.yaml": b"kind: Component\nname: tool",
    "docs/index.md": b"# tool",
    "docs/guide/setup.md": b"## setup",
    "docs/guide/.hidden.yaml": b"hidden: true",
    "docs/a/../escape.md": b"never a tree file",
    "docs/folder/": b"",
    "docs-old/index.md": b"# old",
    "templates/a/template.yaml": b"kind: Template",
    "templates/b/template.yaml": b"kind: Template\nname: b",
    "templates/b/notes.txt": b"notes",
    "path/some-prefix-1.txt": b"one",
    "path/some-prefix-dir/2.txt": b"two",
    "path/other.txt": b"other",
    "my file.yaml": b"spaced",
}


def url(path: str, bucket: str = BUCKET) -> str:
    return f"https://{HOST}/{bucket}/{path}"


def media_requests(server: LocalServer) -> list[str]:
    return [seen.raw_path for seen in server.requests if "alt=media" in seen.raw_path]


def list_queries(server: LocalServer) -> list[dict[str, list[str]]]:
    return [
        parse_qs(urlsplit(seen.raw_path).query)
        for seen in server.requests
        if urlsplit(seen.raw_path).path.endswith("/o")
    ]


@pytest.fixture
async def gcs() -> AsyncIterator[tuple[FakeGcs, LocalServer]]:
    fake = FakeGcs(buckets={BUCKET: dict(OBJECTS)})
    async with serve(fake.routes()) as server:
        fake.base = server.base
        yield fake, server


@pytest.fixture
def emulator(gcs: tuple[FakeGcs, LocalServer], monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the reader at the fake as Google's clients are pointed at an emulator."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs[1].base)


@pytest.fixture(scope="module")
def rsa_key() -> tuple[str, bytes]:
    """A service account key: the private PEM (as config holds it) and the public PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def gcs_config(**extra: object) -> dict[str, Any]:
    return {"integrations": {"googleGcs": dict(extra)}}


def authed_reader(
    data: dict[str, Any],
    server: LocalServer,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> UrlReaderPredicateMux:
    """The service's multiplexer, with the GCS reader sending its requests (with credentials)
    and its token exchange to the fake instead of Google.
    """
    return create_url_reader(
        config=create_config_from_data(data, context="test"),
        http_client=session,
        logger=MockRootLogger(level="debug"),
        tree_response_factory=trees,
        factories=[
            partial(
                GoogleGcsUrlReader.factory, api_root=server.base, token_uri=f"{server.base}/token"
            )
        ],
    )


# -- URLs and config --------------------------------------------------------------------------


def test_url_forms() -> None:
    assert parse_gcs_url(url("docs/index.md")) == GcsLocation(BUCKET, "docs/index.md")
    assert parse_gcs_url(url("")) == GcsLocation(BUCKET, "")
    assert parse_gcs_url(f"https://{HOST}/{BUCKET}") == GcsLocation(BUCKET, "")
    assert parse_gcs_url(url("docs/")) == GcsLocation(BUCKET, "docs/")
    assert parse_gcs_url(url("my%20file.yaml")) == GcsLocation(BUCKET, "my file.yaml")
    # As new URL(): default port dropped, any http(s) scheme, query ignored, dots resolved.
    assert parse_gcs_url(f"https://{HOST}:443/{BUCKET}/a.yaml").name == "a.yaml"
    assert parse_gcs_url(f"http://{HOST}/{BUCKET}/a.yaml").name == "a.yaml"
    assert parse_gcs_url(url("a.yaml?authuser=1")).name == "a.yaml"
    assert parse_gcs_url(url("docs/x/../index.md")).name == "docs/index.md"
    assert parse_gcs_url(url("data.v1/cat.yaml", bucket="my.bucket_1")) == GcsLocation(
        "my.bucket_1", "data.v1/cat.yaml"
    )

    predicate = gcs_predicate()
    for accepted in (f"https://{HOST}", url("team1/service1/catalog-info.yaml")):
        assert predicate(urlsplit(accepted))
    for refused in (
        "https://storage2.cloud.google.com/b/x",
        "https://cloud.google.com/b/x",
        "https://a.example.com/test",
        "https://storage.googleapis.com/b/x",
        f"https://{HOST}:8443/b/x",
    ):
        assert not predicate(urlsplit(refused))

    for bad, words in (
        (f"https://{HOST}/", "names no bucket"),
        (url("x", bucket="Bad_Bucket"), "'Bad_Bucket' is not a valid bucket name"),
        (url("x", bucket="ab"), "'ab' is not a valid bucket name"),
        ("https://storage.googleapis.com/b/x", "expected storage.cloud.google.com"),
        ("gs://team-catalog/x", "expected an absolute http(s) URL"),
    ):
        with pytest.raises(InputError) as caught:
            parse_gcs_url(bad)
        assert words in str(caught.value)
        assert bad.split("?")[0] in str(caught.value)


def test_config_is_an_object_with_an_optional_service_account(rsa_key: tuple[str, bytes]) -> None:
    def read(data: dict[str, Any]) -> Any:
        return read_google_gcs_integration_config(create_config_from_data(data, context="test"))

    assert read({"integrations": {}}) is None
    anonymous = read(gcs_config())
    assert anonymous.host == HOST
    assert not anonymous.has_service_account
    one_line = rsa_key[0].replace("\n", "\\n")
    account = read(gcs_config(clientEmail=EMAIL, privateKey=one_line))
    assert account.private_key == rsa_key[0]
    assert account.client_email == EMAIL
    assert "PRIVATE KEY" not in repr(account)

    with pytest.raises(ConfigError) as caught:
        read(gcs_config(clientEmail=EMAIL))
    assert "integrations.googleGcs.privateKey" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        read(gcs_config(privateKey=one_line))
    assert "integrations.googleGcs.clientEmail" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        read({"integrations": {"googleGcs": [{"clientEmail": EMAIL}]}})
    assert "integrations.googleGcs" in str(caught.value)


async def test_registers_only_when_configured(
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    rsa_key: tuple[str, bytes],
) -> None:
    reader = reader_from_config({"integrations": {}}, session, trees)
    with pytest.raises(NotAllowedError):
        await reader.read_url(url("catalog-info.yaml"))

    readers = GoogleGcsUrlReader.factory(
        config=create_config_from_data(
            gcs_config(clientEmail=EMAIL, privateKey=rsa_key[0]), context="test"
        ),
        http_client=session,
        tree_response_factory=trees,
    )
    assert len(readers) == 1
    assert str(readers[0].reader) == f"googleGcs{{host={HOST},authed=True}}"
    assert "PRIVATE" not in repr(readers[0].reader.__dict__)


# -- reading through the emulator mechanism ---------------------------------------------------


@pytest.mark.usefixtures("emulator")
async def test_read_url_etag_and_missing(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = gcs
    reader = reader_from_config(gcs_config(), session, trees)
    response = await reader.read_url(url("docs/index.md"))
    assert await response.buffer() == b"# tool"
    assert response.etag == fake.etag(BUCKET, "docs/index.md")
    assert response.last_modified_at == UPDATED
    # The name travels as one encoded segment.
    assert media_requests(server) == [f"/storage/v1/b/{BUCKET}/o/docs%2Findex.md?alt=media"]
    # An emulator gets no credentials.
    assert all("Authorization" not in seen.headers for seen in server.requests)

    streamed = await reader.read_url(url("my%20file.yaml"))
    assert b"".join([chunk async for chunk in streamed.stream()]) == b"spaced"

    downloads = len(media_requests(server))
    with pytest.raises(NotModifiedError):
        await reader.read_url(url("docs/index.md"), etag=response.etag)
    with pytest.raises(NotModifiedError):
        await reader.read_url(url("docs/index.md"), last_modified_after=UPDATED + timedelta(1))
    with pytest.raises(NotModifiedError):
        await reader.read_url(
            url("docs/index.md"), last_modified_after=UPDATED.replace(tzinfo=None)
        )
    assert len(media_requests(server)) == downloads, "unchanged objects are not downloaded"

    fake.put(BUCKET, "docs/index.md", b"# tool v2")
    changed = await reader.read_url(url("docs/index.md"), etag=response.etag)
    assert await changed.buffer() == b"# tool v2"
    assert changed.etag != response.etag
    older = datetime(2020, 1, 1, tzinfo=UTC)
    assert await (await reader.read_url(url("docs/index.md"), last_modified_after=older)).buffer()

    with pytest.raises(NotFoundError) as caught:
        await reader.read_url(url("missing.yaml"))
    assert url("missing.yaml") in str(caught.value)
    with pytest.raises(NotFoundError):
        await reader.read_url(url("x.yaml", bucket="no-such-bucket"))
    for folder in (url(""), url("docs/")):
        with pytest.raises(InputError) as bad:
            await reader.read_url(folder)
        assert "not an object" in str(bad.value)


@pytest.mark.usefixtures("emulator")
async def test_read_tree_with_filter_folders_and_etag(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = gcs
    reader = reader_from_config(gcs_config(), session, trees)
    tree = await reader.read_tree(url("docs"), filter=lambda path, info: path.endswith(".md"))
    # ``docs`` is a folder: docs-old/ stays out; folder placeholders and dot segments too.
    assert sorted([(f.path, await f.content()) for f in await tree.files()]) == [
        ("guide/setup.md", b"## setup"),
        ("index.md", b"# tool"),
    ]
    # The fake pages two objects at a time: every page was followed.
    queries = list_queries(server)
    assert [q.get("pageToken") for q in queries] == [None, ["2"], ["4"]]
    assert all(q["prefix"] == ["docs/"] for q in queries)

    media_before = len(media_requests(server))
    with pytest.raises(NotModifiedError):
        await reader.read_tree(url("docs/"), etag=tree.etag)
    assert len(media_requests(server)) == media_before, "no download before NotModifiedError"

    again = await reader.read_tree(url("docs/"))
    assert again.etag == tree.etag
    directory = await again.dir()
    try:
        assert sorted(
            str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()
        ) == ["guide/.hidden.yaml", "guide/setup.md", "index.md"]
        assert (directory / "guide" / "setup.md").read_bytes() == b"## setup"
    finally:
        shutil.rmtree(directory)

    fake.put(BUCKET, "docs/guide/setup.md", b"## setup v2")
    assert (await reader.read_tree(url("docs"), etag=tree.etag)).etag != tree.etag

    whole = await reader.read_tree(url(""), filter=lambda path, info: path.startswith("templates"))
    assert {f.path for f in await whole.files()} == {
        "templates/a/template.yaml",
        "templates/b/template.yaml",
        "templates/b/notes.txt",
    }

    with pytest.raises(NotFoundError):
        await reader.read_tree(url("no-such-folder"))
    with pytest.raises(InputError) as caught:
        await reader.read_tree(url("docs/*"))
    assert "use search" in str(caught.value)


@pytest.mark.usefixtures("emulator")
async def test_tree_listing_stops_at_the_entry_limit(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    workdir: Path,
) -> None:
    _, server = gcs
    limited = DefaultReadTreeResponseFactory(
        working_directory=workdir, limits=TreeLimits(max_entries=2)
    )
    reader = reader_from_config(gcs_config(), session, limited)
    with pytest.raises(ArchiveLimitError) as caught:
        await reader.read_tree(url(""))
    assert "backend.reading.tree.maxEntries" in str(caught.value)
    # Pages of two: the third entry that can be a tree file (two of the first four cannot) is
    # on page 3; the other four pages of the bucket are never asked for.
    assert len(list_queries(server)) == 3


@pytest.mark.usefixtures("emulator")
async def test_search_globs_prefixes_and_literals(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = gcs
    reader = reader_from_config(gcs_config(), session, trees)
    found = await reader.search(url("templates/**/*.yaml"))
    assert [(f.url, await f.content()) for f in found.files] == [
        (url("templates/a/template.yaml"), b"kind: Template"),
        (url("templates/b/template.yaml"), b"kind: Template\nname: b"),
    ]
    assert list_queries(server)[-1]["prefix"] == ["templates/"]
    with pytest.raises(NotModifiedError):
        await reader.search(url("templates/**/*.yaml"), etag=found.etag)
    fake.put(BUCKET, "templates/c/template.yaml", b"kind: Template\nname: c")
    assert len((await reader.search(url("templates/**/*.yaml"), etag=found.etag)).files) == 3

    # Backstage's only form, a trailing '*', keeps meaning "every name with this prefix".
    prefixed = await reader.search(url("path/some-prefix-*"))
    assert [f.url for f in prefixed.files] == [
        url("path/some-prefix-1.txt"),
        url("path/some-prefix-dir/2.txt"),
    ]
    assert list_queries(server)[-1]["prefix"] == ["path/some-prefix-"]
    # Other globs match as minimatch does: '*' stays within a segment, dotfiles need a dot.
    assert [f.url for f in (await reader.search(url("docs/*/*.yaml"))).files] == []
    assert [f.url for f in (await reader.search(url("*.yaml"))).files] == [
        url("catalog-info.yaml"),
        url("my%20file.yaml"),
    ]

    literal = await reader.search(url("catalog-info.yaml"))
    assert [(f.url, await f.content()) for f in literal.files] == [
        (url("catalog-info.yaml"), b"kind: Component\nname: tool")
    ]
    assert literal.etag == fake.etag(BUCKET, "catalog-info.yaml")
    missing = await reader.search(url("missing.yaml"))
    assert (missing.files, missing.etag) == ([], "")


@pytest.mark.usefixtures("emulator")
@pytest.mark.parametrize(
    ("status", "reason", "limited"),
    [
        (429, "rateLimitExceeded", True),
        (403, "userRateLimitExceeded", True),
        (403, "forbidden", False),
    ],
)
async def test_rate_limits_and_refusals(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    status: int,
    reason: str,
    limited: bool,
) -> None:
    fake, _ = gcs
    fake.answer = (status, reason)
    reader = reader_from_config(gcs_config(), session, trees)
    for call in (
        reader.read_url(url("catalog-info.yaml")),
        reader.read_tree(url("docs")),
        reader.search(url("**/*.yaml")),
    ):
        with pytest.raises(UrlReaderError) as caught:
            await call
        assert caught.value.status == status
        assert caught.value.rate_limited is limited
        assert ("(rate limit exceeded)" in str(caught.value)) is limited
        assert f"Forced {reason}." in str(caught.value)


# -- credentials ------------------------------------------------------------------------------


async def test_service_account_token_is_exchanged_and_sent(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    rsa_key: tuple[str, bytes],
) -> None:
    fake, server = gcs
    fake.public_key = rsa_key[1]
    fake.accepted_tokens = {fake.access_token, "caller-token"}
    data = {
        **gcs_config(clientEmail=EMAIL, privateKey=rsa_key[0].replace("\n", "\\n")),
        # The same server, reached as an allowed plain host: no GCS credentials go there.
        "backend": {"reading": {"allow": [{"host": f"127.0.0.1:{server.port}"}]}},
    }
    reader = authed_reader(data, server, session, trees)
    assert await (await reader.read_url(url("docs/index.md"))).buffer() == b"# tool"
    tree = await reader.read_tree(url("docs/guide"))
    assert sorted(f.path for f in await tree.files()) == [".hidden.yaml", "setup.md"]

    # One JWT exchange, signed with the configured key, for read-only access; then cached.
    assert len(fake.token_claims) == 1
    claims = fake.token_claims[0]
    assert (claims["iss"], claims["scope"]) == (EMAIL, READ_ONLY)
    storage = [seen for seen in server.requests if seen.path.startswith("/storage/")]
    assert storage
    assert {seen.headers.get("Authorization") for seen in storage} == {
        f"Bearer {fake.access_token}"
    }
    assert {seen.headers.get("User-Agent") for seen in storage} == {
        "backstage-runtime.GoogleGcsUrlReader"
    }

    # token= replaces the configured credentials.
    before = len(server.requests)
    found = await reader.search(url("docs/*.md"), token="caller-token")
    assert [await f.content() for f in found.files] == [b"# tool"]
    assert {seen.headers.get("Authorization") for seen in server.requests[before:]} == {
        "Bearer caller-token"
    }
    assert len(fake.token_claims) == 1

    # A URL of another host goes to another reader, without the GCS credentials.
    fake.accepted_tokens = set()
    plain = f"{server.base}/storage/v1/b/{BUCKET}/o/catalog-info.yaml?alt=media"
    assert await (await reader.read_url(plain)).buffer() == b"kind: Component\nname: tool"
    assert "Authorization" not in server.requests[-1].headers


async def test_token_override_is_not_leaked(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    fake, server = gcs
    fake.accepted_tokens = {"right-token"}
    reader = authed_reader(gcs_config(), server, session, trees)
    assert await (await reader.read_url(url("docs/index.md"), token="right-token")).buffer()
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(url("docs/index.md"), token="wrong-secret-token")
    assert caught.value.status == 401
    assert "wrong-secret-token" not in str(caught.value)
    assert fake.token_claims == [], "no credentials are loaded for a caller's token"


async def test_application_default_credentials(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    rsa_key: tuple[str, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, server = gcs
    fake.public_key = rsa_key[1]
    fake.accepted_tokens = {fake.access_token}
    key_file = tmp_path / "service-account.json"
    key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "adc@project.iam.gserviceaccount.com",
                "private_key": rsa_key[0],
                "token_uri": f"{server.base}/token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    # No service account in config: Google's default credentials are used, as in Backstage.
    reader = create_url_reader(
        config=create_config_from_data(gcs_config(), context="test"),
        http_client=session,
        logger=MockRootLogger(level="debug"),
        tree_response_factory=trees,
        factories=[partial(GoogleGcsUrlReader.factory, api_root=server.base)],
    )
    assert await (await reader.read_url(url("docs/index.md"))).buffer() == b"# tool"
    assert [claims["iss"] for claims in fake.token_claims] == [
        "adc@project.iam.gserviceaccount.com"
    ]
    assert server.requests[-1].headers["Authorization"] == f"Bearer {fake.access_token}"


async def test_an_unusable_private_key_fails_fast_without_showing_it(
    gcs: tuple[FakeGcs, LocalServer],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    _, server = gcs
    key = "-----BEGIN PRIVATE KEY-----\\nnot-a-key\\n-----END PRIVATE KEY-----"
    reader = authed_reader(gcs_config(clientEmail=EMAIL, privateKey=key), server, session, trees)
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(url("docs/index.md"))
    assert "integrations.googleGcs.privateKey" in str(caught.value)
    assert "not-a-key" not in str(caught.value)
    assert server.requests == [], "nothing is sent with a broken key"


async def test_without_the_library_readers_register_and_reads_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    for name in [name for name in sys.modules if name == "gcloud" or name.startswith("gcloud.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "gcloud", None)
    reader = reader_from_config(gcs_config(), session, trees)
    for call in (
        reader.read_url(url("catalog-info.yaml")),
        reader.read_tree(url("docs")),
        reader.search(url("**/*.yaml")),
    ):
        with pytest.raises(UrlReaderError) as caught:
            await call
        assert "pip install 'backstage-runtime[gcs]'" in str(caught.value)
