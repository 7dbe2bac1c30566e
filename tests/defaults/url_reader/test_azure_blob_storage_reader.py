"""Azure Blob Storage reader: against Azurite (the real emulator), plus a small fake of the
Blob service where the headers on the wire or throttling answers must be seen.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import pytest

from backstage_runtime.api.errors import (
    ConfigError,
    InputError,
    NotAllowedError,
    NotFoundError,
    NotModifiedError,
)
from backstage_runtime.api.services.url_reader import ArchiveLimitError, UrlReaderError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, TreeLimits
from backstage_runtime.defaults.url_reader.azure_blob_storage import (
    AzureBlobStorageUrlReader,
    parse_blob_url,
    read_azure_blob_storage_integration_configs,
)

from ._azurite import ACCOUNT_KEY, Azurite, azurite  # noqa: F401 - the session fixture
from ._fake_azure_blob import FakeBlobService, self_signed_tls, serve_blobs
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

ROOT = "integrations.azureBlobStorage"
# A valid base64 key that is not the emulator's.
WRONG_KEY = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3Jvbmc="

FILES = {
    "catalog-info.yaml": b"kind: Component\nname: blob",
    "docs/index.md": b"# docs",
    "docs/guides/setup guide.md": b"# setup",
    "docs/guides/deep/a.yaml": b"a: 1",
    "templates/a/template.yaml": b"kind: Template\nname: a",
    "templates/b/template.yaml": b"kind: Template\nname: b",
    ".github/workflow.yaml": b"on: push",
}


def configs(*entries: dict[str, Any]) -> list[Any]:
    config = create_config_from_data(
        {"integrations": {"azureBlobStorage": list(entries)}}, context="test"
    )
    return read_azure_blob_storage_integration_configs(config)


def azurite_config(emulator: Azurite, **extra: Any) -> dict[str, Any]:
    entry = {"accountName": emulator.account, "endpoint": emulator.endpoint, **extra}
    return {"integrations": {"azureBlobStorage": [entry]}}


@pytest.fixture
async def container(azurite: Azurite) -> str:  # noqa: F811 - the fixture imported above
    name = f"docs-{uuid4().hex[:12]}"
    await azurite.seed(name, FILES)
    return name


# -- config ------------------------------------------------------------------------------------


def test_config_keys_defaults_and_secrets() -> None:
    [public] = configs({"accountName": "acct", "accountKey": ACCOUNT_KEY})
    assert public.host == "blob.core.windows.net"
    assert public.account_url == "https://acct.blob.core.windows.net"
    assert not public.path_style
    assert ACCOUNT_KEY not in repr(public)

    # Backstage adds an account-less entry for blob.core.windows.net when none has that host.
    custom, default = configs({"accountName": "custom", "endpoint": "https://blobs.example.com/"})
    assert (custom.host, custom.endpoint, custom.account_url) == (
        "blobs.example.com",
        "https://blobs.example.com",
        "https://blobs.example.com",
    )
    assert (default.host, default.account_name) == ("blob.core.windows.net", None)

    [emulator, _] = configs(
        {"accountName": "devstoreaccount1", "endpoint": "http://127.0.0.1:10000"}
    )
    assert emulator.path_style
    assert emulator.account_url == "http://127.0.0.1:10000/devstoreaccount1"
    [named, _] = configs({"accountName": "dev", "endpoint": "http://azurite:10000/dev"})
    assert named.path_style
    assert named.account_url == "http://azurite:10000/dev"

    [gov, _] = configs(
        {
            "accountName": "gov",
            "sasToken": "?sv=1&sig=abc",
            "endpointSuffix": "core.usgovcloudapi.net",
        }
    )
    assert gov.host == "blob.core.usgovcloudapi.net"
    assert gov.account_url == "https://gov.blob.core.usgovcloudapi.net"
    assert gov.sas_token == "sv=1&sig=abc"
    assert "sig=abc" not in repr(gov)

    [aad] = configs(
        {
            "accountName": "acct",
            "aadCredential": {"clientId": "c", "tenantId": "t", "clientSecret": " s3cret "},
        }
    )
    assert aad.aad_credential is not None
    assert aad.aad_credential.client_secret == "s3cret"
    assert "s3cret" not in repr(aad)

    [from_string, _] = configs(
        {
            "connectionString": f"DefaultEndpointsProtocol=http;AccountName=cs;AccountKey={ACCOUNT_KEY};EndpointSuffix=core.chinacloudapi.cn"
        }
    )
    assert from_string.account_name == "cs"
    assert from_string.account_key == ACCOUNT_KEY
    assert from_string.account_url == "http://cs.blob.core.chinacloudapi.cn"
    assert ACCOUNT_KEY not in repr(from_string)
    [development, _] = configs({"connectionString": "UseDevelopmentStorage=true"})
    assert development.account_url == "http://127.0.0.1:10000/devstoreaccount1"


@pytest.mark.parametrize(
    ("entry", "names"),
    [
        ({"accountKey": ACCOUNT_KEY}, f"{ROOT}[0].accountName"),
        ({"accountName": "a", "endpoint": "not a url"}, f"{ROOT}[0].endpoint"),
        (
            {"accountName": "a", "endpoint": "https://h.example.com/some/path"},
            "endpoints cannot contain path",
        ),
        (
            {"accountName": "a", "accountKey": ACCOUNT_KEY, "sasToken": "sv=1&sig=x"},
            "Both account key and SAS token",
        ),
        (
            {
                "accountName": "a",
                "sasToken": "sv=1&sig=x",
                "aadCredential": {"clientId": "c", "tenantId": "t", "clientSecret": "s"},
            },
            "Cannot use both Azure AD credentials",
        ),
        (
            {"accountName": "a", "aadCredential": {"clientId": "c", "tenantId": "t"}},
            f"{ROOT}[0].aadCredential.clientSecret",
        ),
        ({"accountName": "a", "accountKey": "not base64!"}, f"{ROOT}[0].accountKey"),
        ({"connectionString": "AccountName=a;AccountKey"}, f"{ROOT}[0].connectionString"),
    ],
)
def test_config_errors_name_the_key(entry: dict[str, Any], names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        configs(entry)
    assert names in str(caught.value)
    assert ACCOUNT_KEY not in str(caught.value)
    assert "not base64!" not in str(caught.value)


# -- predicate and URL forms ------------------------------------------------------------------


async def test_predicate_and_url_forms(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(
        {
            "integrations": {
                "azureBlobStorage": [
                    {"accountName": "acct", "accountKey": ACCOUNT_KEY},
                    {"accountName": "devstoreaccount1", "endpoint": "http://127.0.0.1:10000"},
                    {"accountName": "custom", "endpoint": "https://blobs.example.com"},
                ]
            }
        },
        session,
        trees,
    )

    def account_for(url: str) -> str | None:
        found = reader.reader_for(url)
        assert isinstance(found, AzureBlobStorageUrlReader)
        return found.integration.account_name

    public = "https://acct.blob.core.windows.net/catalog/path/with/slashes/catalog-info.yaml"
    assert account_for(public) == "acct"
    assert account_for("https://ACCT.blob.core.windows.net/catalog/x.yaml") == "acct"
    assert (
        account_for("http://127.0.0.1:10000/devstoreaccount1/catalog/a/b.yaml")
        == "devstoreaccount1"
    )
    assert account_for("https://blobs.example.com/catalog/x.yaml") == "custom"
    # Backstage's own predicate form for a custom endpoint: <account>.<endpoint host>.
    assert account_for("https://custom.blobs.example.com/catalog/x.yaml") == "custom"
    for foreign in (
        "https://other.blob.core.windows.net/catalog/x.yaml",
        # Backstage's endsWith would take this one for 'acct' (and read acct's blobs for it).
        "https://evilacct.blob.core.windows.net/catalog/x.yaml",
        "http://127.0.0.1:10000/otheraccount/catalog/x.yaml",
        "https://blob.core.windows.net/catalog/x.yaml",
    ):
        with pytest.raises(NotAllowedError):
            reader.reader_for(foreign)

    [acct, emulator, _custom] = [
        r.reader.integration
        for r in reader.readers
        if isinstance(r.reader, AzureBlobStorageUrlReader)
    ]
    located = parse_blob_url(public, acct)
    assert (located.container, located.blob) == ("catalog", "path/with/slashes/catalog-info.yaml")
    escaped = parse_blob_url(
        "http://127.0.0.1:10000/devstoreaccount1/catalog/docs/my%20file%23.yaml", emulator
    )
    assert (escaped.container, escaped.blob) == ("catalog", "docs/my file#.yaml")
    assert escaped.url_of("docs/other file.yaml") == (
        "http://127.0.0.1:10000/devstoreaccount1/catalog/docs/other%20file.yaml"
    )
    assert (
        parse_blob_url("https://acct.blob.core.windows.net/$web/index.html", acct).container
        == "$web"
    )
    assert parse_blob_url("https://acct.blob.core.windows.net/catalog/", acct).blob == ""

    for bad, why in (
        ("https://acct.blob.core.windows.net/", "no container"),
        ("https://acct.blob.core.windows.net/Not_A_Container/x.yaml", "not a valid container name"),
        ("https://acct.blob.core.windows.net/catalog/a/../b.yaml", "'..' segments"),
        ("https://acct.blob.core.windows.net/catalog/a/%2e%2e/b.yaml", "'..' segments"),
        ("http://127.0.0.1:10000/devstoreaccount1", "no container"),
    ):
        with pytest.raises(InputError) as caught:
            parse_blob_url(bad, emulator if "127.0.0.1" in bad else acct)
        assert f"Invalid Azure Blob Storage URL format: {bad}" in str(caught.value)
        assert why in str(caught.value)
    with pytest.raises(InputError, match="names a container, not a blob"):
        await reader.read_url("https://acct.blob.core.windows.net/catalog")
    with pytest.raises(InputError) as secret_in_url:
        await reader.read_url("https://acct.blob.core.windows.net/?sv=1&sig=topsecret")
    assert "topsecret" not in str(secret_in_url.value)


# -- Azurite -------------------------------------------------------------------------------------


async def test_read_url_with_shared_key(
    azurite: Azurite,  # noqa: F811
    container: str,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    reader = reader_from_config(azurite_config(azurite, accountKey=azurite.key), session, trees)
    response = await reader.read_url(azurite.url(container, "catalog-info.yaml"))
    assert await response.buffer() == FILES["catalog-info.yaml"]
    assert response.etag
    assert response.etag.startswith('"0x')
    assert response.last_modified_at is not None
    assert response.last_modified_at.tzinfo is not None

    with pytest.raises(NotModifiedError):
        await reader.read_url(azurite.url(container, "catalog-info.yaml"), etag=response.etag)
    with pytest.raises(NotModifiedError):
        await reader.read_url(
            azurite.url(container, "catalog-info.yaml"),
            last_modified_after=datetime.now(UTC) + timedelta(minutes=5),
        )
    older = await reader.read_url(
        azurite.url(container, "catalog-info.yaml"),
        last_modified_after=response.last_modified_at - timedelta(days=1),
    )
    assert await older.buffer() == FILES["catalog-info.yaml"]

    escaped = await reader.read_url(azurite.url(container, "docs/guides/setup%20guide.md"))
    assert await escaped.buffer() == b"# setup"

    missing_url = azurite.url(container, "docs/missing.md")
    with pytest.raises(NotFoundError) as missing:
        await reader.read_url(missing_url)
    assert missing_url in str(missing.value)
    assert "BlobNotFound" in str(missing.value)
    with pytest.raises(NotFoundError, match="ContainerNotFound"):
        await reader.read_url(azurite.url("no-such-container", "x.yaml"))


async def test_large_blob_is_streamed_in_chunks(
    azurite: Azurite,  # noqa: F811
    container: str,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    data = bytes(range(256)) * (9 * 4096 + 3)  # a little over 9 MiB: three 4 MiB requests
    await azurite.seed(container, {"big.bin": data})
    reader = reader_from_config(azurite_config(azurite, accountKey=azurite.key), session, trees)
    response = await reader.read_url(azurite.url(container, "big.bin"))
    chunks = [chunk async for chunk in response.stream()]
    assert len(chunks) >= 3
    assert max(len(chunk) for chunk in chunks) <= 4 * 1024 * 1024
    assert b"".join(chunks) == data


async def test_wrong_key_is_refused_without_leaking_it(
    azurite: Azurite,  # noqa: F811
    container: str,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    reader = reader_from_config(azurite_config(azurite, accountKey=WRONG_KEY), session, trees)
    url = azurite.url(container, "catalog-info.yaml")
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(url)
    error = caught.value
    assert error.status == 403
    assert not error.rate_limited
    assert url in str(error)
    assert "Server failed to authenticate the request" in str(error)
    assert WRONG_KEY not in str(error)
    assert (
        str(reader.reader_for(url)) == "azureBlobStorage{accountName=devstoreaccount1,authed=True}"
    )


async def test_sas_token_config_and_token_override(
    azurite: Azurite,  # noqa: F811
    container: str,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    sas = azurite.container_sas(container)
    with_sas = reader_from_config(azurite_config(azurite, sasToken=sas), session, trees)
    response = await with_sas.read_url(azurite.url(container, "docs/index.md"))
    assert await response.buffer() == b"# docs"
    tree = await with_sas.read_tree(azurite.url(container, "templates"))
    assert sorted(file.path for file in await tree.files()) == [
        "a/template.yaml",
        "b/template.yaml",
    ]

    # token= replaces the configured (here: wrong) key for one call.
    wrong_key = reader_from_config(azurite_config(azurite, accountKey=WRONG_KEY), session, trees)
    overridden = await wrong_key.read_url(azurite.url(container, "docs/index.md"), token=sas)
    assert await overridden.buffer() == b"# docs"
    with pytest.raises(UrlReaderError) as refused:
        await wrong_key.read_url(azurite.url(container, "docs/index.md"))
    assert refused.value.status == 403

    # ... and the right key is not used behind the token's back: a read-only SAS cannot list.
    right_key = reader_from_config(azurite_config(azurite, accountKey=azurite.key), session, trees)
    read_only = azurite.container_sas(container, list_=False)
    with pytest.raises(UrlReaderError) as cannot_list:
        await right_key.read_tree(azurite.url(container, "templates"), token=read_only)
    assert cannot_list.value.status == 403
    assert read_only.split("sig=")[1].split("&")[0] not in str(cannot_list.value)


async def test_read_tree_with_filter_files_dir_and_etag(
    azurite: Azurite,  # noqa: F811
    container: str,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    tmp_path: Path,
) -> None:
    # A hierarchical namespace account lists its folders as empty marker blobs: not files.
    await azurite.seed(container, {"docs/guides": b""}, metadata={"hdi_isfolder": "true"})
    reader = reader_from_config(azurite_config(azurite, accountKey=azurite.key), session, trees)
    url = azurite.url(container, "docs")
    tree = await reader.read_tree(
        url, filter=lambda path, info: path.endswith(".md") and info.size > 0
    )
    files = {file.path: await file.content() for file in await tree.files()}
    assert files == {"index.md": b"# docs", "guides/setup guide.md": b"# setup"}

    again = await reader.read_tree(
        url, filter=lambda path, _info: not path.startswith("guides/deep")
    )
    assert again.etag == tree.etag
    target = await again.dir(target_dir=tmp_path / "out")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "guides/setup guide.md",
        "index.md",
    ]
    assert (target / "index.md").read_bytes() == b"# docs"

    with pytest.raises(NotModifiedError):
        await reader.read_tree(url, etag=tree.etag)
    # A trailing slash names the same folder.
    with pytest.raises(NotModifiedError):
        await reader.read_tree(url + "/", etag=tree.etag)

    await azurite.seed(container, {"docs/index.md": b"# docs v2"})
    changed = await reader.read_tree(url, etag=tree.etag)
    assert changed.etag != tree.etag
    assert {f.path: await f.content() for f in await changed.files()}["index.md"] == b"# docs v2"
    await azurite.delete(container, "docs/guides/deep/a.yaml")
    assert (await reader.read_tree(url)).etag != changed.etag

    whole = await reader.read_tree(azurite.url(container))
    assert "catalog-info.yaml" in {file.path for file in await whole.files()}

    with pytest.raises(NotFoundError, match="no blobs under 'nothing/'"):
        await reader.read_tree(azurite.url(container, "nothing"))
    with pytest.raises(NotFoundError, match="ContainerNotFound"):
        await reader.read_tree(azurite.url("no-such-container", "docs"))


async def test_listing_stops_once_past_max_entries(
    azurite: Azurite,  # noqa: F811
    container: str,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backstage_runtime.defaults.url_reader.azure_blob_storage import _client

    monkeypatch.setattr(_client, "_PAGE_SIZE", 2)
    lists: list[str] = []

    async def on_request_start(
        _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        if params.url.query.get("comp") == "list":
            lists.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    limited = DefaultReadTreeResponseFactory(
        working_directory=workdir, limits=TreeLimits(max_entries=2)
    )
    async with aiohttp.ClientSession(trace_configs=[trace]) as traced:
        reader = reader_from_config(
            azurite_config(azurite, accountKey=azurite.key), traced, limited
        )
        url = azurite.url(container)
        with pytest.raises(ArchiveLimitError) as caught:
            await reader.read_tree(url)
        assert str(caught.value) == (
            f"The tree from {url} has more than 2 entries (see backend.reading.tree.maxEntries)"
        )
        # the container's 7 blobs take 4 pages; the third is on the second
        assert len(lists) == 2

        with pytest.raises(ArchiveLimitError):
            await reader.search(azurite.url(container, "**/*.yaml"))
        assert len(lists) == 4

        # only files count, not the folder markers of hierarchical namespace accounts
        await azurite.seed(container, {"templates/a": b""}, metadata={"hdi_isfolder": "true"})
        tree = await reader.read_tree(azurite.url(container, "templates"))
        assert sorted(file.path for file in await tree.files()) == [
            "a/template.yaml",
            "b/template.yaml",
        ]


async def test_search_with_glob(
    azurite: Azurite,  # noqa: F811
    container: str,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    reader = reader_from_config(azurite_config(azurite, accountKey=azurite.key), session, trees)
    found = await reader.search(azurite.url(container, "**/*.yaml"))
    assert sorted(file.url for file in found.files) == sorted(
        azurite.url(container, name)
        for name in (
            "catalog-info.yaml",
            "docs/guides/deep/a.yaml",
            "templates/a/template.yaml",
            "templates/b/template.yaml",
        )
    )
    with pytest.raises(NotModifiedError):
        await reader.search(azurite.url(container, "**/*.yaml"), etag=found.etag)

    templates = await reader.search(azurite.url(container, "templates/*/template.yaml"))
    assert {file.url: await file.content() for file in templates.files} == {
        azurite.url(container, "templates/a/template.yaml"): b"kind: Template\nname: a",
        azurite.url(container, "templates/b/template.yaml"): b"kind: Template\nname: b",
    }
    assert all(file.last_modified_at is not None for file in templates.files)

    spaced = await reader.search(azurite.url(container, "docs/guides/*.md"))
    assert [file.url for file in spaced.files] == [
        azurite.url(container, "docs/guides/setup%20guide.md")
    ]
    assert await spaced.files[0].content() == b"# setup"

    literal = await reader.search(azurite.url(container, "docs/index.md"))
    assert [await file.content() for file in literal.files] == [b"# docs"]
    assert (await reader.search(azurite.url(container, "docs/nope.md"))).files == []
    assert (await reader.search(azurite.url(container, "nothing/**/*.yaml"))).files == []


# -- what goes over the wire (fake Blob service) ------------------------------------------------


@pytest.fixture
async def fake_blobs() -> AsyncIterator[FakeBlobService]:
    async with serve_blobs(
        FakeBlobService(blobs={"docs/catalog-info.yaml": b"kind: Component"})
    ) as service:
        yield service


def fake_config(service: FakeBlobService, **extra: Any) -> dict[str, Any]:
    entry = {"accountName": "acct", "endpoint": service.base, **extra}
    return {"integrations": {"azureBlobStorage": [entry]}}


@pytest.mark.parametrize(
    ("answer", "limited"),
    [
        ((503, "ServerBusy"), True),
        ((429, "TooManyRequests"), True),
        ((500, "InternalError"), False),
    ],
)
async def test_throttling_is_reported_as_rate_limited(
    fake_blobs: FakeBlobService,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    answer: tuple[int, str],
    limited: bool,
) -> None:
    fake_blobs.answer = answer
    reader = reader_from_config(fake_config(fake_blobs, accountKey=ACCOUNT_KEY), session, trees)
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(f"{fake_blobs.base}/acct/docs/catalog-info.yaml")
    assert caught.value.status == answer[0]
    assert caught.value.rate_limited is limited
    assert ("(rate limit exceeded)" in str(caught.value)) is limited
    assert len(fake_blobs.requests) == 1  # no retries hammering a throttled account


async def test_transport_failure_names_the_url_not_the_secrets(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    async with serve_blobs(FakeBlobService(blobs={})) as stopped:
        base = stopped.base
    sas = "sv=2024-01-01&sr=c&sp=r&sig=c2VjcmV0c2ln"
    reader = reader_from_config(
        {
            "integrations": {
                "azureBlobStorage": [{"accountName": "acct", "endpoint": base, "sasToken": sas}]
            }
        },
        session,
        trees,
    )
    url = f"{base}/acct/docs/catalog-info.yaml"
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(url)
    assert str(caught.value).startswith(f"Could not retrieve file from Azure Blob Storage: {url}, ")
    assert "c2VjcmV0c2ln" not in str(caught.value)
    assert caught.value.status is None


async def test_credentials_sent_only_to_the_account(
    fake_blobs: FakeBlobService,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    url = f"{fake_blobs.base}/acct/docs/catalog-info.yaml"
    keyed = reader_from_config(fake_config(fake_blobs, accountKey=ACCOUNT_KEY), session, trees)
    assert await (await keyed.read_url(url)).buffer() == b"kind: Component"
    seen = fake_blobs.requests[-1]
    assert seen.path == "/acct/docs/catalog-info.yaml"
    assert seen.headers["Authorization"].startswith("SharedKey acct:")
    assert ACCOUNT_KEY not in str(seen.headers)

    sas = "sv=2024-01-01&sr=c&sp=r&sig=c2lnbmF0dXJl"
    with_sas = reader_from_config(fake_config(fake_blobs, sasToken=sas), session, trees)
    await (await with_sas.read_url(url)).buffer()
    seen = fake_blobs.requests[-1]
    assert seen.query["sig"] == "c2lnbmF0dXJl"
    assert "Authorization" not in seen.headers

    # The same server under another host name is not the account: the fetch reader gets it
    # (allowed explicitly here) and sends neither the key's signature nor the SAS.
    other_host = url.replace("127.0.0.1", "localhost")
    config = fake_config(fake_blobs, sasToken=sas)
    config["backend"] = {"reading": {"allow": [{"host": other_host.split("/")[2]}]}}
    mixed = reader_from_config(config, session, trees)
    assert not isinstance(mixed.reader_for(other_host), AzureBlobStorageUrlReader)
    await (await mixed.read_url(other_host)).buffer()
    seen = fake_blobs.requests[-1]
    assert "Authorization" not in seen.headers
    assert "sig" not in seen.query


async def test_bearer_token_override_over_tls(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0."
    service = FakeBlobService(blobs={"docs/catalog-info.yaml": b"kind: Component"})
    async with (
        serve_blobs(service, tls=server_tls),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_tls)) as tls_session,
    ):
        reader = reader_from_config(
            fake_config(service, accountKey=ACCOUNT_KEY), tls_session, trees
        )
        url = f"{service.base}/acct/docs/catalog-info.yaml"
        response = await reader.read_url(url, token=token)
        assert await response.buffer() == b"kind: Component"
        assert service.requests[-1].headers["Authorization"] == f"Bearer {token}"

    # A bearer token never travels in clear text (the SDK refuses; the message says why).
    async with serve_blobs(FakeBlobService(blobs={})) as plain:
        reader = reader_from_config(fake_config(plain, accountKey=ACCOUNT_KEY), session, trees)
        with pytest.raises(UrlReaderError, match="only supported with HTTPS") as caught:
            await reader.read_url(f"{plain.base}/acct/docs/catalog-info.yaml", token=token)
        assert token not in str(caught.value)
        assert plain.requests == []


async def test_without_the_azure_sdk_readers_register_and_reads_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> None:
    package = "backstage_runtime.defaults.url_reader.azure_blob_storage"
    for name in [name for name in sys.modules if name == "azure" or name.startswith("azure.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "azure", None)
    for module in ("_client", "_credentials"):
        monkeypatch.delitem(sys.modules, f"{package}.{module}", raising=False)

    reader = reader_from_config(
        {
            "integrations": {
                "azureBlobStorage": [{"accountName": "acct", "accountKey": ACCOUNT_KEY}]
            }
        },
        session,
        trees,
    )
    url = "https://acct.blob.core.windows.net/catalog/catalog-info.yaml"
    assert isinstance(reader.reader_for(url), AzureBlobStorageUrlReader)
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(url)
    assert "pip install 'backstage-runtime[azure]'" in str(caught.value)
    assert url in str(caught.value)
    with pytest.raises(UrlReaderError, match=r"backstage-runtime\[azure\]"):
        await reader.read_tree("https://acct.blob.core.windows.net/catalog")
