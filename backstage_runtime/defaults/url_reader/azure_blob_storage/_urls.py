"""Blob URLs: which ones an account's reader accepts, and the container and blob they name.

``https://<account>.blob.core.windows.net/<container>/<path/of/the/blob>`` is the usual form.
With a custom ``endpoint`` the URLs start with the endpoint, and with the account name when
the endpoint is path-style (``http://127.0.0.1:10000/<account>/<container>/<blob>``, Azurite);
Backstage's own predicate form, ``<account>.<endpoint host>``, is accepted as well. Names are
percent-decoded (``my%20file.yaml`` is the blob ``my file.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, unquote

from ....api.errors import InputError
from .._urls import redact_url, split_url, url_host
from ._config import AzureBlobStorageIntegrationConfig

__all__ = ["BlobLocation", "blob_url_predicate", "parse_blob_url"]

# Azure's container naming rules, and the special containers it reserves.
_CONTAINER = re.compile(r"^(?:\$root|\$web|\$logs|[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62})$")


@dataclass(frozen=True)
class BlobLocation:
    """What a URL names: a ``container`` and a ``blob`` name (or a folder prefix, ``""`` for
    the whole container); ``base`` is the URL's own ``scheme://host[/account]``, which result
    URLs are built on so that they look like the caller's.
    """

    container: str
    blob: str
    base: str

    def url_of(self, blob: str) -> str:
        """The URL of another blob of the same container, in the caller's form."""
        return f"{self.base}/{quote(self.container)}/{quote(blob)}"


def _style(integration: AzureBlobStorageIntegrationConfig, parts: SplitResult) -> str | None:
    """``host`` or ``path`` when the URL belongs to the integration's account, else None."""
    account = integration.account_name
    if account is None:
        return None
    host = url_host(parts)
    if host == f"{account.lower()}.{integration.host}":
        return "host"
    if integration.endpoint is None or host != integration.host:
        return None
    if not integration.path_style:
        return "host"
    segments = [segment for segment in parts.path.split("/") if segment]
    return "path" if segments and unquote(segments[0]) == account else None


def blob_url_predicate(
    integration: AzureBlobStorageIntegrationConfig,
) -> Callable[[SplitResult], bool]:
    """The reader predicate: URLs of the integration's account (none without an account)."""

    def predicate(parts: SplitResult) -> bool:
        return _style(integration, parts) is not None

    return predicate


def parse_blob_url(url: str, integration: AzureBlobStorageIntegrationConfig) -> BlobLocation:
    """The container and blob ``url`` names; :class:`InputError` naming the URL when it is not
    a blob URL of this account.
    """
    parts = split_url(url)
    style = _style(integration, parts)
    if style is None:
        raise InputError(
            f"Invalid Azure Blob Storage URL format: {redact_url(url)}, it is not a URL of the "
            f"storage account '{integration.account_name}'"
        )
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    base = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
    if style == "path":
        base += f"/{quote(segments[0])}"
        segments = segments[1:]
    if not segments:
        raise InputError(
            f"Invalid Azure Blob Storage URL format: {redact_url(url)}, no container in the path"
        )
    container, names = segments[0], segments[1:]
    if not _CONTAINER.match(container):
        raise InputError(
            f"Invalid Azure Blob Storage URL format: {redact_url(url)}, '{container}' is not a "
            "valid container name"
        )
    if any(name in (".", "..") for name in names):
        raise InputError(
            f"Invalid Azure Blob Storage URL format: {redact_url(url)}, '.' and '..' segments "
            "are not allowed"
        )
    return BlobLocation(container=container, blob="/".join(names), base=base)
