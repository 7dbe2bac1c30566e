"""GCS object URLs, as Backstage's ``parseURL`` (``GoogleGcsUrlReader.ts``) reads them.

``https://storage.cloud.google.com/<bucket>/<path/of/the/object>`` (the "authenticated URL"
the Cloud console shows) is the one form: the host must be exactly
``storage.cloud.google.com`` (WHATWG ``URL.host``, so ``:443`` is dropped), any scheme
``new URL`` accepts is taken, the query is ignored and ``.``/``..`` segments are resolved
first, as ``new URL`` resolves them. Unlike Backstage, object names are percent-decoded
(``my%20file.yaml`` is the object ``my file.yaml``; Backstage would look for ``my%20file.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, unquote

from ....api.errors import InputError
from .._urls import normalize_path, redact_url, split_url, url_host
from ._config import GOOGLE_GCS_HOST

__all__ = ["GcsLocation", "gcs_predicate", "object_url", "parse_gcs_url"]

# Google's bucket naming rules: lower-case letters, digits, ``-``, ``_`` and ``.``, starting
# and ending with a letter or digit, 3 to 222 characters (63 per dot-separated part).
_BUCKET = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{1,220})[a-z0-9]$")


@dataclass(frozen=True)
class GcsLocation:
    """What a URL names: a ``bucket`` and an object ``name`` (or a folder prefix; ``""`` for
    the whole bucket).
    """

    bucket: str
    name: str


def gcs_predicate(host: str = GOOGLE_GCS_HOST) -> Callable[[SplitResult], bool]:
    """The reader predicate: URLs whose host is exactly ``host`` (Backstage compares
    ``url.host``, so ``storage2.cloud.google.com`` and ``cloud.google.com`` are not GCS).
    """

    def predicate(parts: SplitResult) -> bool:
        return url_host(parts) == host

    return predicate


def parse_gcs_url(url: str, host: str = GOOGLE_GCS_HOST) -> GcsLocation:
    """The bucket and object name ``url`` names; :class:`InputError` naming the URL when it is
    not a GCS URL or names no valid bucket.
    """
    parts = split_url(url)
    if url_host(parts) != host:
        raise InputError(f"Invalid Google Cloud Storage URL {redact_url(url)}, expected {host}")
    path = normalize_path(parts.path)
    bucket, _, name = path.removeprefix("/").partition("/")
    bucket = unquote(bucket)
    if not bucket:
        raise InputError(
            f"Invalid Google Cloud Storage URL {redact_url(url)}, it names no bucket "
            f"(expected https://{host}/<bucket>/<object>)"
        )
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InputError(
            f"Invalid Google Cloud Storage URL {redact_url(url)}, '{bucket}' is not a valid "
            "bucket name"
        )
    return GcsLocation(bucket=bucket, name=unquote(name))


def object_url(bucket: str, name: str, host: str = GOOGLE_GCS_HOST) -> str:
    """The URL of object ``name`` in ``bucket`` (always ``https``, as Backstage builds them)."""
    return f"https://{host}/{bucket}/{quote(name, safe='/')}"
