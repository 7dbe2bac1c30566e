"""AWS S3 reader against moto (server mode) behind a recording proxy; never real AWS."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import anyio
import pytest

from backstage_runtime.api.errors import ConfigError, InputError, NotFoundError, NotModifiedError
from backstage_runtime.api.services.url_reader import (
    ArchiveLimitError,
    UrlReaderError,
    UrlReaderPredicateTuple,
)
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, TreeLimits
from backstage_runtime.defaults.url_reader.aws_s3 import (
    AwsS3IntegrationConfig,
    AwsS3UrlReader,
    S3Location,
    parse_s3_url,
    read_aws_main_account_config,
    read_aws_s3_integration_configs,
)
from backstage_runtime.defaults.url_reader.aws_s3 import _client as s3_client_module
from backstage_runtime.defaults.url_reader.aws_s3 import _reader as s3_reader_module

from ._fake_aws_s3 import (
    S3Proxy,
    container_credentials,
    moto_server,
    put,
    s3_error,
    s3_proxy,
    seed,
)
from ._support import reader_from_config

pytestmark = pytest.mark.anyio

KEY_ID = "AKIDINTEGRATION"
SECRET = "integration-secret-value"
ENV_KEY_ID = "AKIDFROMENVCHAIN"
AWS = AwsS3IntegrationConfig()

OBJECTS = {
    "catalog-info.yaml": b"kind: Component",
    "docs/index.md": b"# docs",
    "docs/guide/setup.md": b"setup",
    "docs/": b"",  # a console "folder" marker, not a file
    "docs-old/index.md": b"old",
    "dir with space/a+b.yaml": b"escaped",
    "catalog/team-a/catalog-info.yaml": b"team a",
    "catalog/team-b/sub/catalog-info.yaml": b"team b",
    "catalog/team-b/notes.md": b"notes",
}


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials for the default chain; no AWS config files, IMDS or retries."""
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ENV_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-chain-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # botocore retries throttling with backoff; one attempt keeps the tests fast.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


@pytest.fixture
async def s3(moto: str) -> AsyncIterator[S3Proxy]:
    async with s3_proxy(moto) as proxy:
        await seed(moto, {"bkt": OBJECTS})
        yield proxy


def endpoint_config(proxy: S3Proxy, **entry: object) -> dict[str, object]:
    return {
        "integrations": {
            "awsS3": [
                {
                    "endpoint": proxy.base,
                    "s3ForcePathStyle": True,
                    "accessKeyId": KEY_ID,
                    "secretAccessKey": SECRET,
                    **entry,
                }
            ]
        }
    }


def obj(proxy: S3Proxy, key: str, bucket: str = "bkt") -> str:
    return f"{proxy.base}/{bucket}/{key}"


# -- URL forms, predicate, config ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Backstage's parseUrl cases (AwsS3UrlReader.test.ts)
        (
            "https://s3.amazonaws.com/my.bucket-3/a/puppy.jpg",
            ("my.bucket-3", "a/puppy.jpg", "us-east-1", True),
        ),
        (
            "https://s3.us-west-2.amazonaws.com/my.bucket-3/a/puppy.jpg",
            ("my.bucket-3", "a/puppy.jpg", "us-west-2", True),
        ),
        (
            "https://s3-us-west-2.amazonaws.com/my.bucket-3/a/puppy.jpg",
            ("my.bucket-3", "a/puppy.jpg", "us-west-2", True),
        ),
        (
            "https://my.bucket-3.s3.us-west-2.amazonaws.com/a/puppy.jpg",
            ("my.bucket-3", "a/puppy.jpg", "us-west-2", False),
        ),
        # legacy global and dash forms, virtual-hosted
        (
            "https://bucket.s3.amazonaws.com/team/catalog-info.yaml",
            ("bucket", "team/catalog-info.yaml", "us-east-1", False),
        ),
        (
            "https://bucket.s3-eu-west-1.amazonaws.com/x.yaml",
            ("bucket", "x.yaml", "eu-west-1", False),
        ),
        # keys with slashes and escapes are decoded ("+" stays a plus in a path)
        (
            "https://bucket.s3.eu-west-1.amazonaws.com/a/b%20c/d+e%2Bf.yaml",
            ("bucket", "a/b c/d+e+f.yaml", "eu-west-1", False),
        ),
        # a whole bucket (trees)
        ("https://test.s3.us-east-2.amazonaws.com", ("test", "", "us-east-2", False)),
        ("https://s3.us-east-2.amazonaws.com/test/", ("test", "", "us-east-2", True)),
    ],
)
def test_aws_url_forms(url: str, expected: tuple[str, str, str, bool]) -> None:
    assert parse_s3_url(url, AWS) == S3Location(*expected)


def test_force_path_style_and_custom_endpoint_forms() -> None:
    forced = AwsS3IntegrationConfig(s3_force_path_style=True)
    assert parse_s3_url(
        "https://ignored.s3.us-west-2.amazonaws.com/my.bucket-3/a/puppy.jpg", forced
    ) == S3Location("my.bucket-3", "a/puppy.jpg", "us-west-2", True)
    custom = AwsS3IntegrationConfig(host="my-host.com", endpoint="https://my-host.com")
    assert parse_s3_url("https://my-host.com/my.bucket-3/a/puppy.jpg", custom) == S3Location(
        "my.bucket-3", "a/puppy.jpg", "us-east-1", True
    )
    assert parse_s3_url("https://my.bucket-3.my-host.com/a/puppy.jpg", custom) == S3Location(
        "my.bucket-3", "a/puppy.jpg", "us-east-1", False
    )
    forced_custom = AwsS3IntegrationConfig(host="my-host.com", s3_force_path_style=True)
    assert parse_s3_url(
        "https://ignored.my-host.com/my.bucket-3/a/puppy.jpg", forced_custom
    ).bucket == ("my.bucket-3")
    minio = AwsS3IntegrationConfig(host="127.0.0.1:9000", s3_force_path_style=True)
    assert parse_s3_url("http://127.0.0.1:9000/b/k/x.yaml", minio) == S3Location(
        "b", "k/x.yaml", "us-east-1", True
    )


@pytest.mark.parametrize(
    ("url", "integration", "message"),
    [
        ("https://test-bucket.s3.us-east-2.NOTamazonaws.com/file.yaml", AWS, "Invalid AWS S3 URL"),
        ("https://bucket.storage.amazonaws.com/file.yaml", AWS, "Invalid AWS S3 URL"),
        ("https://s3.amazonaws.com/", AWS, "does not contain bucket in the path"),
        ("ftp://bucket.s3.amazonaws.com/file.yaml", AWS, "Invalid URL"),
        (
            "https://other.example.com/b/k",
            AwsS3IntegrationConfig(host="minio.example.com"),
            "expected a URL of minio.example.com",
        ),
    ],
)
def test_bad_urls_rejected_naming_the_url(
    url: str, integration: AwsS3IntegrationConfig, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_s3_url(url, integration)
    assert message in str(caught.value)
    assert url.split("://")[1].split("/")[0] in str(caught.value)


def make_readers(
    data: dict[str, object],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
) -> list[UrlReaderPredicateTuple]:
    return AwsS3UrlReader.factory(
        config=create_config_from_data(data, context="test"),
        http_client=session,
        tree_response_factory=trees,
    )


async def test_predicates_and_default_entry(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    readers = make_readers({"integrations": {}}, session, trees)
    assert len(readers) == 1
    predicate = readers[0].predicate
    assert predicate(urlsplit("https://test-bucket.s3.us-east-2.amazonaws.com"))
    assert predicate(urlsplit("https://test.bucket.s3.us-east-2.amazonaws.com/team/c.yaml"))
    assert predicate(urlsplit("https://s3.amazonaws.com/bucket/key"))
    assert not predicate(urlsplit("https://amazon.com"))
    assert not predicate(urlsplit("https://storage.cloud.google.com"))
    assert not predicate(urlsplit("https://evilamazonaws.com/bucket/key"))

    readers = make_readers(
        {"integrations": {"awsS3": [{"endpoint": "http://localhost:4566"}]}}, session, trees
    )
    assert [str(tuple_.reader) for tuple_ in readers] == [
        "awsS3{host=localhost:4566,authed=False}",
        "awsS3{host=amazonaws.com,authed=False}",
    ]
    assert readers[0].predicate(urlsplit("http://localhost:4566/bucket/key"))
    assert readers[0].predicate(urlsplit("http://bucket.localhost:4566/key"))
    assert not readers[0].predicate(urlsplit("http://localhost:4567/bucket/key"))


def test_config_keys_defaults_and_errors() -> None:
    def read(entry: Mapping[str, object]) -> list[AwsS3IntegrationConfig]:
        return read_aws_s3_integration_configs(
            create_config_from_data({"integrations": {"awsS3": [entry]}}, context="test")
        )

    first, default = read(
        {
            "endpoint": "https://minio.example.com:9000/",
            "s3ForcePathStyle": True,
            "accessKeyId": KEY_ID,
            "secretAccessKey": SECRET,
            "roleArn": "arn:aws:iam::123456789012:role/reader",
            "externalId": "external-id",
        }
    )
    assert first.host == "minio.example.com:9000"
    assert first.endpoint == "https://minio.example.com:9000"
    assert first.s3_force_path_style
    assert first.role_arn == "arn:aws:iam::123456789012:role/reader"
    assert default == AwsS3IntegrationConfig(host="amazonaws.com")
    assert SECRET not in repr(first)
    assert "external-id" not in repr(first)
    # an explicit amazonaws.com entry replaces the default one
    assert len(read({"accessKeyId": KEY_ID, "secretAccessKey": SECRET})) == 1

    for entry, culprit in [
        ({"endpoint": "http://localhost:4566/path"}, "integrations.awsS3[0].endpoint"),
        ({"endpoint": "not a url"}, "integrations.awsS3[0].endpoint"),
        ({"accessKeyId": KEY_ID}, "integrations.awsS3[0].secretAccessKey"),
        ({"secretAccessKey": SECRET}, "integrations.awsS3[0].accessKeyId"),
    ]:
        with pytest.raises(ConfigError) as caught:
            read(entry)
        assert culprit in str(caught.value)
        assert SECRET not in str(caught.value)

    with pytest.raises(ConfigError, match=r"aws\.mainAccount\.secretAccessKey"):
        read_aws_main_account_config(
            create_config_from_data({"aws": {"mainAccount": {"accessKeyId": "x"}}}, context="t")
        )
    with pytest.raises(ConfigError, match=r"aws\.mainAccount\.profile"):
        read_aws_main_account_config(
            create_config_from_data(
                {
                    "aws": {
                        "mainAccount": {"accessKeyId": "x", "secretAccessKey": "y", "profile": "p"}
                    }
                },
                context="t",
            )
        )


# -- read_url -------------------------------------------------------------------------------------


async def test_read_url_streams_with_etag_and_dates(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(endpoint_config(s3), session, trees)
    response = await reader.read_url(obj(s3, "docs/index.md"))
    assert response.etag is not None
    assert response.etag.startswith('"')
    assert response.last_modified_at is not None
    assert [chunk async for chunk in response.stream()] == [b"# docs"]
    assert s3.s3_requests()[-1].raw_path == "/bkt/docs/index.md"
    assert s3.signers() == [(KEY_ID, "us-east-1")]

    with pytest.raises(NotModifiedError):
        await reader.read_url(obj(s3, "docs/index.md"), etag=response.etag)
    assert s3.requests[-1].headers["If-None-Match"] == response.etag
    with pytest.raises(NotModifiedError):
        await reader.read_url(
            obj(s3, "docs/index.md"), last_modified_after=response.last_modified_at
        )
    assert "If-Modified-Since" in s3.requests[-1].headers
    older = response.last_modified_at - timedelta(days=1)
    again = await reader.read_url(obj(s3, "docs/index.md"), last_modified_after=older)
    assert await again.buffer() == b"# docs"

    # a changed object has a new ETag
    await put(s3.moto, "bkt", "docs/index.md", b"# changed")
    changed = await reader.read_url(obj(s3, "docs/index.md"), etag=response.etag)
    assert await changed.buffer() == b"# changed"
    assert changed.etag != response.etag

    escaped = await reader.read_url(obj(s3, "dir%20with%20space/a%2Bb.yaml"))
    assert await escaped.buffer() == b"escaped"


async def test_read_url_large_object_is_streamed_in_chunks(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    data = bytes(range(256)) * 1024  # 256 KiB
    await put(s3.moto, "bkt", "big.bin", data)
    reader = reader_from_config(endpoint_config(s3), session, trees)
    async with await reader.read_url(obj(s3, "big.bin")) as response:
        chunks = [chunk async for chunk in response.stream()]
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= 64 * 1024
    assert b"".join(chunks) == data
    # closing an unread response is fine too
    unread = await reader.read_url(obj(s3, "big.bin"))
    await unread.aclose()


async def test_missing_object_and_bucket_are_not_found(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(endpoint_config(s3), session, trees)
    with pytest.raises(NotFoundError, match="NoSuchKey"):
        await reader.read_url(obj(s3, "missing.yaml"))
    with pytest.raises(NotFoundError, match="NoSuchBucket"):
        await reader.read_url(obj(s3, "x.yaml", bucket="no-such-bucket"))
    with pytest.raises(NotFoundError):
        await reader.read_tree(obj(s3, "docs", bucket="no-such-bucket"))
    with pytest.raises(InputError, match="does not name an object"):
        await reader.read_url(obj(s3, "docs/"))


async def test_aws_url_forms_use_their_region_and_the_default_chain(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SDK's own endpoint override sends "AWS" traffic to the proxy instead of amazonaws.com.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.base)
    reader = reader_from_config({}, session, trees)
    for url, region in [
        ("https://bkt.s3.eu-west-1.amazonaws.com/docs/index.md", "eu-west-1"),
        ("https://bkt.s3-ap-south-1.amazonaws.com/docs/index.md", "ap-south-1"),
        ("https://bkt.s3.amazonaws.com/docs/index.md", "us-east-1"),
        ("https://s3.us-west-2.amazonaws.com/bkt/docs/index.md", "us-west-2"),
        ("https://s3-us-west-1.amazonaws.com/bkt/docs/index.md", "us-west-1"),
    ]:
        assert await (await reader.read_url(url)).buffer() == b"# docs"
        assert s3.signers()[-1] == (ENV_KEY_ID, region)
        assert s3.s3_requests()[-1].raw_path == "/bkt/docs/index.md"


async def test_credentials_go_to_their_own_endpoint_and_token_is_ignored(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    other = s3.base.replace("127.0.0.1", "localhost")
    config = {
        "integrations": {
            "awsS3": [
                {
                    "endpoint": s3.base,
                    "s3ForcePathStyle": True,
                    "accessKeyId": KEY_ID,
                    "secretAccessKey": SECRET,
                },
                # virtual-hosted URLs of this endpoint: http://<bucket>.localhost:<port>/<key>
                {"endpoint": other, "accessKeyId": "AKIDOTHER", "secretAccessKey": "other-secret"},
            ]
        }
    }
    reader = reader_from_config(config, session, trees)
    assert await (await reader.read_url(obj(s3, "catalog-info.yaml"))).buffer() == (
        b"kind: Component"
    )
    assert s3.signers()[-1][0] == KEY_ID
    virtual = other.replace("//localhost", "//bkt.localhost") + "/catalog-info.yaml"
    assert await (await reader.read_url(virtual)).buffer() == b"kind: Component"
    assert s3.signers()[-1][0] == "AKIDOTHER"
    assert s3.requests[-1].raw_path == "/bkt/catalog-info.yaml"
    # Backstage's S3 reader ignores token=: requests stay signed with the integration's keys.
    await (await reader.read_url(obj(s3, "catalog-info.yaml"), token="caller-token")).buffer()
    assert s3.signers()[-1][0] == KEY_ID
    assert all("caller-token" not in str(seen.headers) for seen in s3.requests)
    assert [key for key, _ in s3.signers()] == [KEY_ID, "AKIDOTHER", KEY_ID]


async def test_main_account_keys_are_the_fallback(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    config = {
        "aws": {"mainAccount": {"accessKeyId": "AKIDMAIN", "secretAccessKey": "main-secret"}},
        "integrations": {"awsS3": [{"endpoint": s3.base, "s3ForcePathStyle": True}]},
    }
    reader = reader_from_config(config, session, trees)
    await (await reader.read_url(obj(s3, "catalog-info.yaml"))).buffer()
    assert s3.signers() == [("AKIDMAIN", "us-east-1")]


async def test_role_is_assumed_through_sts_once(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", s3.base)
    role = "arn:aws:iam::123456789012:role/catalog-reader"
    reader = reader_from_config(
        endpoint_config(s3, roleArn=role, externalId="external-42"), session, trees
    )
    for _ in range(2):
        await (await reader.read_url(obj(s3, "catalog-info.yaml"))).buffer()
    sts = s3.signers("sts")
    assert sts == [(KEY_ID, "us-east-1")]  # master credentials, asked once
    sts_body = parse_qs(next(body for auth, body in s3.bodies if "/sts/" in auth).decode())
    assert sts_body["Action"] == ["AssumeRole"]
    assert sts_body["RoleArn"] == [role]
    assert sts_body["ExternalId"] == ["external-42"]
    assert sts_body["RoleSessionName"] == ["backstage-aws-s3-url-reader"]
    temporary = {key for key, _ in s3.signers("s3")}
    assert len(temporary) == 1
    assert temporary != {KEY_ID}
    assert next(iter(temporary)).startswith("ASIA")  # STS session credentials
    assert all("X-Amz-Security-Token" in seen.headers for seen in s3.s3_requests())


async def test_concurrent_first_reads_assume_the_role_once(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", s3.base)
    # Master credentials from a container credentials endpoint: reads starting together all
    # wait for it before any has role credentials.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    config = {
        "integrations": {
            "awsS3": [
                {
                    "endpoint": s3.base,
                    "s3ForcePathStyle": True,
                    "roleArn": "arn:aws:iam::123456789012:role/catalog-reader",
                }
            ]
        }
    }
    reader = reader_from_config(config, session, trees)
    contents: list[bytes] = []

    async def read() -> None:
        contents.append(await (await reader.read_url(obj(s3, "catalog-info.yaml"))).buffer())

    async with container_credentials("AKIDCONTAINER") as endpoint:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{endpoint.base}/credentials")
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(read)
    assert contents == [b"kind: Component"] * 6
    assert s3.signers("sts") == [("AKIDCONTAINER", "us-east-1")]  # one AssumeRole
    assert len({key for key, _ in s3.signers("s3")}) == 1  # one session, one client key


async def test_role_credentials_are_kept_for_a_bounded_number_of_regions(
    session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = make_readers(
        {"integrations": {"awsS3": [{"roleArn": "arn:aws:iam::123456789012:role/r"}]}},
        session,
        trees,
    )[-1].reader
    clients = reader._clients  # type: ignore[attr-defined]
    regions = [f"us-test-{index}" for index in range(3 * s3_client_module._MAX_ROLE_REGIONS)]
    for region in regions:
        # as the reader asks (creating a set calls no AWS API until it is used)
        await clients._role_credentials_for(region)
    kept = list(clients._role_credentials)
    assert kept == regions[-s3_client_module._MAX_ROLE_REGIONS :]
    # a region in use stays while others come and go
    await clients._role_credentials_for(kept[0])
    await clients._role_credentials_for("us-test-new-1")
    assert kept[0] in clients._role_credentials
    assert kept[1] not in clients._role_credentials


@pytest.mark.parametrize(
    "url",
    [
        "https://bkt.s3.x0.amazonaws.com/catalog-info.yaml",
        "https://bkt.s3-website-us-east-1.amazonaws.com/catalog-info.yaml",
        "https://s3.cn-north-1.amazonaws.com/bkt/catalog-info.yaml",  # China is on .com.cn
    ],
)
async def test_urls_naming_no_aws_region_are_rejected(
    url: str, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config({}, session, trees)
    with pytest.raises(InputError, match="unknown region") as caught:
        await reader.read_url(url)
    assert url in str(caught.value)
    # regions of every partition on the domain, also ones newer than the installed botocore
    for known in ("us-gov-west-1", "ap-southeast-7", "eu-future-9"):
        assert parse_s3_url(f"https://b.s3.{known}.amazonaws.com/k", AWS).region == known
    china = AwsS3IntegrationConfig(host="amazonaws.com.cn")
    assert parse_s3_url("https://b.s3.cn-north-1.amazonaws.com.cn/k", china).region == (
        "cn-north-1"
    )


# -- errors ---------------------------------------------------------------------------------------


async def test_slow_down_is_rate_limited_and_errors_hold_no_secret(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(endpoint_config(s3), session, trees)
    s3.inject = lambda _request: s3_error(503, "SlowDown", "Please reduce your request rate.")
    with pytest.raises(UrlReaderError) as caught:
        await reader.read_url(obj(s3, "catalog-info.yaml"))
    assert caught.value.rate_limited
    assert caught.value.status == 503
    assert "(rate limit exceeded)" in str(caught.value)
    with pytest.raises(UrlReaderError) as tree_error:
        await reader.read_tree(obj(s3, "docs"))
    assert tree_error.value.rate_limited

    s3.inject = lambda _request: s3_error(403, "AccessDenied", "Access Denied")
    with pytest.raises(UrlReaderError) as denied:
        await reader.read_url(obj(s3, "catalog-info.yaml"))
    assert not denied.value.rate_limited
    assert denied.value.status == 403
    assert "AccessDenied" in str(denied.value)
    assert obj(s3, "catalog-info.yaml") in str(denied.value)
    for error in (caught.value, tree_error.value, denied.value):
        assert SECRET not in str(error)
    assert SECRET not in str(reader)
    assert SECRET not in repr(reader)


async def test_missing_sdk_is_reported_with_the_extra_to_install(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reader = reader_from_config(endpoint_config(s3), session, trees)
    for module in ("aiobotocore", "aiobotocore.session", "aiobotocore.config"):
        monkeypatch.setitem(sys.modules, module, None)
    for call in (
        lambda: reader.read_url(obj(s3, "catalog-info.yaml")),
        lambda: reader.read_tree(obj(s3, "docs")),
        lambda: reader.search(obj(s3, "catalog/**/*.yaml")),
    ):
        with pytest.raises(UrlReaderError, match=r"pip install 'backstage-runtime\[aws\]'"):
            await call()
    assert s3.requests == []


def test_readers_register_without_the_sdk() -> None:
    script = textwrap.dedent(
        """
        import sys
        for name in ("aiobotocore", "botocore", "boto3"):
            sys.modules[name] = None
        from urllib.parse import urlsplit
        from backstage_runtime.defaults.root_config import create_config_from_data
        from backstage_runtime.defaults.url_reader.aws_s3 import AwsS3UrlReader
        readers = AwsS3UrlReader.factory(
            config=create_config_from_data({}, context="t"),
            http_client=None,
            tree_response_factory=None,
        )
        assert readers[0].predicate(urlsplit("https://b.s3.amazonaws.com/k"))
        print(readers[0].reader)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "awsS3{host=amazonaws.com,authed=False}"


# -- read_tree ------------------------------------------------------------------------------------


async def test_read_tree_lists_lazily_filters_and_round_trips_etag(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(endpoint_config(s3), session, trees)
    tree = await reader.read_tree(obj(s3, "docs"))
    # only listed so far: objects are fetched when the tree is read
    assert [seen.method for seen in s3.s3_requests()] == ["GET"]
    assert parse_qs(urlsplit(s3.s3_requests()[0].raw_path).query)["prefix"] == ["docs/"]
    files = await tree.files()
    assert {file.path: await file.content() for file in files} == {
        "index.md": b"# docs",
        "guide/setup.md": b"setup",
    }
    assert all(file.last_modified_at is not None for file in files)

    with pytest.raises(NotModifiedError):
        await reader.read_tree(obj(s3, "docs/"), etag=tree.etag)
    await put(s3.moto, "bkt", "docs/guide/setup.md", b"setup v2")
    changed = await reader.read_tree(obj(s3, "docs"), etag=tree.etag)
    assert changed.etag != tree.etag

    filtered = await reader.read_tree(
        obj(s3, "docs"), filter=lambda path, info: path.startswith("guide/") and info.size > 0
    )
    directory = await filtered.dir()
    assert sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()) == [
        "guide/setup.md"
    ]
    assert (directory / "guide/setup.md").read_bytes() == b"setup v2"

    whole = await reader.read_tree(f"{s3.base}/bkt/")
    paths = {file.path for file in await whole.files()}
    assert {"catalog-info.yaml", "docs/index.md", "docs-old/index.md"} <= paths
    assert "docs/" not in paths


async def test_read_tree_paginates(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(s3_reader_module, "_PAGE_SIZE", 2)
    reader = reader_from_config(endpoint_config(s3), session, trees)
    tree = await reader.read_tree(obj(s3, "catalog"))
    lists = [seen for seen in s3.s3_requests() if "list-type=2" in seen.raw_path]
    assert len(lists) == 2
    assert "continuation-token" in lists[1].raw_path
    assert sorted(file.path for file in await tree.files()) == [
        "team-a/catalog-info.yaml",
        "team-b/notes.md",
        "team-b/sub/catalog-info.yaml",
    ]


async def test_listing_stops_once_past_max_entries(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(s3_reader_module, "_PAGE_SIZE", 2)
    limited = DefaultReadTreeResponseFactory(
        working_directory=workdir, limits=TreeLimits(max_entries=2)
    )
    reader = reader_from_config(endpoint_config(s3), session, limited)

    def lists() -> int:
        return sum("list-type=2" in seen.raw_path for seen in s3.s3_requests())

    with pytest.raises(ArchiveLimitError) as caught:
        await reader.read_tree(f"{s3.base}/bkt/")
    assert str(caught.value) == (
        f"The tree from {s3.base}/bkt/ has more than 2 entries "
        "(see backend.reading.tree.maxEntries)"
    )
    # the bucket's 9 keys take 5 pages; the third file is on the second
    assert lists() == 2

    with pytest.raises(ArchiveLimitError):
        await reader.search(obj(s3, "**/*.yaml"))
    assert lists() == 4

    # only files count: "docs/" (a folder marker) is listed with the 2 files under it
    tree = await reader.read_tree(obj(s3, "docs"))
    assert sorted(file.path for file in await tree.files()) == ["guide/setup.md", "index.md"]


async def test_keys_with_dot_segments_are_left_out_of_trees(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    # S3 stores these keys as written; they must not make the folder unreadable.
    for key in ("docs/a/../escape.md", "docs/./dot.md", "docs//empty.md", "docs/../up.md"):
        await put(s3.moto, "bkt", key, b"planted")
    reader = reader_from_config(endpoint_config(s3), session, trees)
    tree = await reader.read_tree(obj(s3, "docs"))
    assert {file.path: await file.content() for file in await tree.files()} == {
        "index.md": b"# docs",
        "guide/setup.md": b"setup",
    }
    directory = await (await reader.read_tree(obj(s3, "docs"))).dir()
    assert sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.md")) == [
        "guide/setup.md",
        "index.md",
    ]
    found = await reader.search(obj(s3, "docs/**/*.md"))
    assert sorted(file.url for file in found.files) == [
        obj(s3, "docs/guide/setup.md"),
        obj(s3, "docs/index.md"),
    ]


# -- search ---------------------------------------------------------------------------------------


async def test_search_glob_literal_and_etag(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = reader_from_config(endpoint_config(s3), session, trees)
    found = await reader.search(obj(s3, "catalog/**/catalog-info.yaml"))
    assert parse_qs(urlsplit(s3.s3_requests()[0].raw_path).query)["prefix"] == ["catalog/"]
    assert {file.url: await file.content() for file in found.files} == {
        obj(s3, "catalog/team-a/catalog-info.yaml"): b"team a",
        obj(s3, "catalog/team-b/sub/catalog-info.yaml"): b"team b",
    }
    with pytest.raises(NotModifiedError):
        await reader.search(obj(s3, "catalog/**/catalog-info.yaml"), etag=found.etag)

    single = await reader.search(obj(s3, "catalog/team-*/notes.md"))
    assert [file.url for file in single.files] == [obj(s3, "catalog/team-b/notes.md")]
    spaced = await reader.search(obj(s3, "dir%20with%20space/*.yaml"))
    assert [file.url for file in spaced.files] == [obj(s3, "dir%20with%20space/a%2Bb.yaml")]
    assert await spaced.files[0].content() == b"escaped"
    # the returned URL reads the same object
    assert await (await reader.read_url(spaced.files[0].url)).buffer() == b"escaped"

    literal = await reader.search(obj(s3, "catalog-info.yaml"))
    assert [file.url for file in literal.files] == [obj(s3, "catalog-info.yaml")]
    assert literal.etag.startswith('"')
    assert (await reader.search(obj(s3, "nothing-here.yaml"))).files == []
    assert (await reader.search(obj(s3, "nothing/*.yaml"))).files == []


async def test_search_of_aws_virtual_hosted_urls_keeps_their_form(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.base)
    reader = reader_from_config({}, session, trees)
    found = await reader.search("https://bkt.s3.eu-west-1.amazonaws.com/catalog/*/*.yaml")
    assert [file.url for file in found.files] == [
        "https://bkt.s3.eu-west-1.amazonaws.com/catalog/team-a/catalog-info.yaml"
    ]
    assert s3.signers()[-1] == (ENV_KEY_ID, "eu-west-1")


async def test_clients_are_shared_while_in_use_and_closed_after(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = make_readers(endpoint_config(s3), session, trees)[0].reader
    leases = reader._clients._leases  # type: ignore[attr-defined]
    first = await reader.read_url(obj(s3, "docs/index.md"))
    second = await reader.read_url(obj(s3, "catalog-info.yaml"))
    # both open bodies use one client
    assert [lease.users for lease in leases.values()] == [2]
    assert await first.buffer() == b"# docs"
    assert [lease.users for lease in leases.values()] == [1]
    await second.aclose()
    assert leases == {}

    tree = await reader.read_tree(obj(s3, "docs"))
    assert leases == {}
    assert len(await tree.files()) == 2
    assert leases == {}
    found = await reader.search(obj(s3, "catalog/**/*.yaml"))
    assert [await file.content() for file in found.files] == [b"team a", b"team b"]
    assert leases == {}


class RecordingLifecycle:
    """The part of the root lifecycle a reader uses: shutdown hooks, run by the test."""

    def __init__(self) -> None:
        self.shutdown_hooks: list[Any] = []

    def add_shutdown_hook(self, hook: Any, **_: Any) -> None:
        self.shutdown_hooks.append(hook)


async def test_inside_a_backend_idle_clients_stay_open_until_shutdown(
    s3: S3Proxy,
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    closed: list[str] = []
    create = s3_client_module.S3Clients._create_client

    def counting(self: Any, region: str, keys: dict[str, Any]) -> Any:
        context = create(self, region, keys)

        class Counted:
            async def __aenter__(self) -> Any:
                opened.append(region)
                return await context.__aenter__()

            async def __aexit__(self, *exc_info: Any) -> None:
                closed.append(region)
                await context.__aexit__(*exc_info)

        return Counted()

    monkeypatch.setattr(s3_client_module.S3Clients, "_create_client", counting)
    lifecycle = RecordingLifecycle()
    reader = AwsS3UrlReader.factory(
        config=create_config_from_data(endpoint_config(s3), context="test"),
        http_client=session,
        tree_response_factory=trees,
        lifecycle=lifecycle,  # type: ignore[arg-type]  # a fake with only shutdown hooks
    )[0].reader
    assert await (await reader.read_url(obj(s3, "docs/index.md"))).buffer() == b"# docs"
    assert len(await (await reader.read_tree(obj(s3, "docs"))).files()) == 2
    assert await (await reader.read_url(obj(s3, "catalog-info.yaml"))).buffer()
    # Sequential reads, a listing and parallel downloads all went through one client.
    assert (len(opened), closed) == (1, [])
    # One hook per reader: the configured endpoint and the default amazonaws.com entry.
    assert len(lifecycle.shutdown_hooks) == 2

    for hook in lifecycle.shutdown_hooks:
        await hook()
    assert len(closed) == 1
    # After shutdown a late read still works and closes its own client.
    assert await (await reader.read_url(obj(s3, "docs/index.md"))).buffer() == b"# docs"
    assert len(opened) == len(closed) == 2


async def test_without_a_lifecycle_each_read_closes_its_client(
    s3: S3Proxy, session: aiohttp.ClientSession, trees: DefaultReadTreeResponseFactory
) -> None:
    reader = make_readers(endpoint_config(s3), session, trees)[0].reader
    assert await (await reader.read_url(obj(s3, "docs/index.md"))).buffer() == b"# docs"
    assert reader._clients._leases == {}  # type: ignore[attr-defined]
