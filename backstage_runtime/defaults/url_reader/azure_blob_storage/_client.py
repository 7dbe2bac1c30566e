"""The Azure SDK side of the reader: downloads, listings, and errors mapped as the other
readers map HTTP answers.

Needs the optional ``azure`` extra; the reader imports this module only when it talks to
Azure. Requests go through the backend's shared ``aiohttp`` session
(``AioHttpTransport(session_owner=False)``), so no client or credential owns a connection pool
and nothing needs closing. The SDK's own retries are off: like the other readers, a failed
read is reported at once (and a throttled account is not hammered) and the caller retries
later.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline.transport import AioHttpTransport
from azure.storage.blob.aio import BlobServiceClient, StorageStreamDownloader

from ....api.errors import BackstageError, NotFoundError, NotModifiedError
from ....api.services.url_reader import UrlReaderError
from .._responses import ChunkedReadUrlResponse
from ._config import AzureBlobStorageIntegrationConfig
from ._credentials import Credential, config_credential, override_credential
from ._listing import BlobInfo

__all__ = ["BlobDownload", "BlobStore"]

# Bounds what one download holds in memory: the first request and every further one fetch
# at most this much of the blob.
_CHUNK_SIZE = 4 * 1024 * 1024
# Blobs per List Blobs answer (the service's maximum).
_PAGE_SIZE = 5000
_SIG = re.compile(r"(sig=)[^&\s'\"]+", re.IGNORECASE)


class BlobStore:
    """One storage account at ``account_url``, reached with ``credential``.

    ``secrets`` are masked in any message built from an SDK error, on top of SAS signatures.
    """

    @classmethod
    def for_integration(
        cls, integration: AzureBlobStorageIntegrationConfig, *, session: aiohttp.ClientSession
    ) -> BlobStore:
        """The account with the integration's own credentials."""
        aad = integration.aad_credential
        return cls(
            integration.account_url,
            config_credential(integration, session),
            session=session,
            secrets=(
                integration.account_key,
                integration.sas_token,
                aad.client_secret if aad else None,
            ),
        )

    @classmethod
    def for_token(
        cls,
        integration: AzureBlobStorageIntegrationConfig,
        token: str,
        *,
        session: aiohttp.ClientSession,
    ) -> BlobStore:
        """The account with a caller's ``token=`` instead (see :func:`override_credential`)."""
        return cls(
            integration.account_url, override_credential(token), session=session, secrets=(token,)
        )

    def __init__(
        self,
        account_url: str,
        credential: Credential,
        *,
        session: aiohttp.ClientSession,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self._secrets = [secret for secret in secrets if secret]
        self._service = BlobServiceClient(
            account_url,
            credential=credential,
            transport=AioHttpTransport(session=session, session_owner=False),
            retry_total=0,
            max_single_get_size=_CHUNK_SIZE,
            max_chunk_get_size=_CHUNK_SIZE,
        )

    async def download(
        self,
        container: str,
        blob: str,
        *,
        message: str,
        etag: str | None = None,
        if_modified_since: datetime | None = None,
        if_match: str | None = None,
    ) -> BlobDownload:
        """Start downloading a blob (its first chunk is fetched now).

        ``etag`` / ``if_modified_since`` are the caller's version (→ ``NotModifiedError``);
        ``if_match`` pins the version a listing saw. ``message`` starts error messages.
        """
        # Only conditions that are set may be passed: the SDK hands unknown (and unused)
        # keywords on to the transport.
        conditions: dict[str, Any] = {}
        if etag:
            conditions.update(etag=etag, match_condition=MatchConditions.IfModified)
        elif if_match:
            conditions.update(etag=if_match, match_condition=MatchConditions.IfNotModified)
        if if_modified_since is not None:
            conditions["if_modified_since"] = _aware(if_modified_since)
        client = self._service.get_blob_client(container, blob)
        try:
            # The stored bytes, as Backstage hands them out, even for gzip-encoded blobs.
            downloader = await client.download_blob(decompress=False, **conditions)
        except AzureError as error:
            raise self._translate(error, message) from None
        return BlobDownload(downloader, translate=lambda error: self._translate(error, message))

    async def list(
        self, container: str, prefix: str, *, message: str
    ) -> AsyncGenerator[BlobInfo, None]:
        """The blobs whose names start with ``prefix`` (folder markers of hierarchical namespace
        accounts left out), page by page: a caller that stops iterating stops the listing.
        """
        client = self._service.get_container_client(container)
        try:
            async for item in client.list_blobs(
                name_starts_with=prefix or None, include=["metadata"], results_per_page=_PAGE_SIZE
            ):
                if (item.metadata or {}).get("hdi_isfolder", "").lower() == "true":
                    continue
                yield BlobInfo(
                    name=item.name,
                    etag=item.etag,
                    size=item.size,
                    last_modified_at=item.last_modified,
                )
        except AzureError as error:
            raise self._translate(error, message) from None

    def _translate(self, error: AzureError, message: str) -> BackstageError:
        """An SDK error as the error the other readers raise for the same HTTP answer."""
        status = error.status_code if isinstance(error, HttpResponseError) else None
        if not isinstance(error, HttpResponseError) or status is None:
            # Transport and sign-in failures: their text says what went wrong, minus secrets.
            text = self._scrub(" ".join(str(error).split()))[:1000]
            detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
            return UrlReaderError(f"{message}, {detail}")
        if status == 304:
            return NotModifiedError()
        code = _error_code(error)
        # The SDK's full message quotes the service's error document (which may echo what was
        # signed); the status line and error code say enough.
        reason = self._scrub(getattr(error, "reason", None) or "")
        full = f"{message}, {status} {reason}".rstrip() + (f" ({code})" if code else "")
        if status == 404:
            return NotFoundError(full)
        # Azure Storage throttles with 503 ServerBusy; 429 is the generic answer.
        limited = status == 429 or code == "ServerBusy"
        if limited:
            full += " (rate limit exceeded)"
        return UrlReaderError(full, status=status, rate_limited=limited)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _SIG.sub(r"\1***", text)


class BlobDownload(ChunkedReadUrlResponse):
    """A blob being downloaded, as a ``ReadUrlResponse``: ``etag``, ``last_modified_at``, and
    the content streamed chunk by chunk (each at most 4 MiB).
    """

    def __init__(
        self,
        downloader: StorageStreamDownloader[bytes],
        *,
        translate: Callable[[AzureError], BackstageError],
    ) -> None:
        properties = downloader.properties
        super().__init__(etag=properties.etag, last_modified_at=properties.last_modified)
        self._downloader = downloader
        self._translate = translate
        self.size: int = downloader.size

    async def _chunks(self) -> AsyncIterator[bytes]:
        chunks = self._downloader.chunks()
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except AzureError as error:
                raise self._translate(error) from None
            yield chunk

    async def _release(self) -> None:
        # Nothing to release: each chunk's request completes before it is handed out.
        return None


def _error_code(error: HttpResponseError) -> str:
    code = getattr(error, "error_code", None)
    value = getattr(code, "value", code)
    if value is None and error.response is not None:
        headers = getattr(error.response, "headers", None) or {}
        value = headers.get("x-ms-error-code")
    return str(value) if value else ""


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
