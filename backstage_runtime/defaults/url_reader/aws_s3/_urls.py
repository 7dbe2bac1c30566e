"""S3 object URLs, parsed as Backstage's ``parseUrl`` (``AwsS3UrlReader.ts``) parses them.

On AWS (``amazonaws.com`` / ``amazonaws.com.cn``):

- virtual-hosted ``https://<bucket>.s3.<region>.amazonaws.com/<key>``, also the legacy
  ``https://<bucket>.s3.amazonaws.com/<key>`` and the dash form ``<bucket>.s3-<region>...``;
- path-style ``https://s3.<region>.amazonaws.com/<bucket>/<key>`` (or ``s3-<region>``, or
  ``s3.amazonaws.com``), always when ``s3ForcePathStyle`` is set.

The region defaults to ``us-east-1``; with the AWS SDK installed, a region that no AWS
partition on that domain has or could have (its ``regionRegex``) is refused, where Backstage
would fail later on a name that does not resolve. On other endpoints (MinIO, LocalStack, ...)
``http://<endpoint host>/<bucket>/<key>`` is path-style and ``http://<bucket>.<endpoint host>/
<key>`` virtual-hosted (unless ``s3ForcePathStyle``). Keys are percent-decoded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import SplitResult, quote, unquote

from ....api.errors import InputError
from .._urls import redact_url, split_url, url_host
from ._config import AMAZON_AWS_HOST, AwsS3IntegrationConfig

__all__ = ["DEFAULT_REGION", "S3Location", "object_url", "parse_s3_url", "s3_host_predicate"]

#: The region of URLs that do not name one (and of every non-AWS endpoint).
DEFAULT_REGION = "us-east-1"

_AWS_HOSTS = (AMAZON_AWS_HOST, "amazonaws.com.cn")
_AWS_HOST_PATTERN = re.compile(
    r"(?:(?P<bucket>[a-z0-9.-]+)\.)?s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?"
)


@dataclass(frozen=True)
class S3Location:
    """Where a URL points: ``bucket``, object ``key`` (or key prefix; may be empty) and the
    ``region`` to sign for; ``path_style`` says whether the bucket was in the path.
    """

    bucket: str
    key: str
    region: str
    path_style: bool


def s3_host_predicate(host: str) -> Callable[[SplitResult], bool]:
    """Accept URLs on ``host`` or any subdomain of it (bucket names become subdomains).

    Backstage compares with a bare ``endsWith``; the label boundary keeps
    ``evilamazonaws.com`` out.
    """
    expected = host.lower()

    def predicate(parts: SplitResult) -> bool:
        actual = url_host(parts)
        return actual == expected or actual.endswith("." + expected)

    return predicate


def parse_s3_url(url: str, integration: AwsS3IntegrationConfig) -> S3Location:
    """Split ``url`` into bucket, key and region; :class:`InputError` (naming the URL) when it
    is not an S3 URL of ``integration``.
    """
    parts = split_url(url)
    host = url_host(parts)
    pathname = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not s3_host_predicate(integration.host)(parts):
        raise InputError(
            f"Invalid AWS S3 URL {redact_url(url)}, expected a URL of {integration.host}"
        )
    if integration.host in _AWS_HOSTS:
        match = _AWS_HOST_PATTERN.fullmatch(host)
        if match is None:
            raise InputError(f"Invalid AWS S3 URL {redact_url(url)}")
        region = match.group("region") or DEFAULT_REGION
        if not _is_aws_region(region, china=host.endswith(".cn")):
            raise InputError(f"Invalid AWS S3 URL {redact_url(url)}, unknown region '{region}'")
        host_bucket = match.group("bucket")
        if integration.s3_force_path_style or not host_bucket:
            return _path_style(url, pathname, region)
        return S3Location(host_bucket, unquote(pathname), region, path_style=False)
    if integration.s3_force_path_style or host == integration.host:
        return _path_style(url, pathname, DEFAULT_REGION)
    bucket = host[: -len(integration.host) - 1]
    return S3Location(bucket, unquote(pathname), DEFAULT_REGION, path_style=False)


def object_url(url: str, location: S3Location, key: str) -> str:
    """The URL of ``key`` in ``location``'s bucket, in the same form as ``url``."""
    parts = split_url(url)
    bucket = f"/{quote(location.bucket, safe='')}" if location.path_style else ""
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}{bucket}/{quote(key, safe='/')}"


def _path_style(url: str, pathname: str, region: str) -> S3Location:
    bucket, _, key = pathname.partition("/")
    bucket = unquote(bucket)
    # Backstage also rejects ``/<bucket>`` without a slash; we read it as the bucket's root.
    if not bucket:
        raise InputError(
            f"Invalid path-style AWS S3 URL {redact_url(url)}, does not contain bucket in the path"
        )
    return S3Location(bucket, unquote(key), region, path_style=True)


def _is_aws_region(region: str, *, china: bool) -> bool:
    """Whether ``region`` belongs to an AWS partition on ``amazonaws.com`` (``.com.cn`` when
    ``china``): one botocore knows, or one matching a partition's pattern (regions newer than
    the installed botocore). True without the SDK: reads then fail on the SDK anyway.
    """
    suffix = "amazonaws.com.cn" if china else AMAZON_AWS_HOST
    for partition in _partitions():
        if partition.get("outputs", {}).get("dnsSuffix") != suffix:
            continue
        if region in partition.get("regions", {}):
            return True
        pattern = partition.get("regionRegex")
        if pattern and re.match(pattern, region, re.ASCII):
            return True
    return not _partitions()


@cache
def _partitions() -> tuple[dict[str, Any], ...]:
    try:
        from botocore.loaders import create_loader
    except ImportError:
        return ()
    return tuple(create_loader().load_data("partitions").get("partitions", ()))
