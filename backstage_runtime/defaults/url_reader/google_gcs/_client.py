"""The GCS JSON API calls the reader makes, through ``gcloud.aio.storage.Storage`` (imported on
first use), typed at this boundary.

Every ``Storage`` shares the backend's aiohttp session, so nothing here needs closing; the
service account's (or the default credentials') access token is created once and cached by the
library, which refreshes it before it expires.

Requests go to ``https://storage.googleapis.com``; with ``STORAGE_EMULATOR_HOST`` set they go to
that emulator, without credentials, as with Google's own client libraries (and so Backstage's).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import aiohttp
import anyio
import anyio.to_thread

from .._http import ARCHIVE_TIMEOUT
from ._config import GoogleGcsIntegrationConfig
from ._credentials import StaticToken, acquire, create_token
from ._errors import gcs_errors, load_storage_class

__all__ = ["DEFAULT_API_ROOT", "EMULATOR_ENV", "GcsClient", "GcsObject"]

#: Where the JSON API lives (``/storage/v1/...`` below it).
DEFAULT_API_ROOT = "https://storage.googleapis.com"
#: The environment variable that points Google's clients at an emulator.
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"

_USER_AGENT = "backstage-runtime.GoogleGcsUrlReader"
# Metadata and listing pages are small; downloads use ARCHIVE_TIMEOUT, which bounds stalls
# rather than the whole transfer.
_API_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=30)
_PAGE_SIZE = 1000
_LIST_FIELDS = "items(name,etag,size,updated),nextPageToken"


@dataclass(frozen=True)
class GcsObject:
    """An object's ``name``, ``etag``, ``size`` in bytes and last change (``updated``)."""

    name: str
    etag: str
    size: int | None
    updated: datetime | None

    @classmethod
    def from_resource(cls, resource: Mapping[str, Any]) -> GcsObject:
        """From the JSON API's object resource."""
        return cls(
            name=str(resource.get("name", "")),
            etag=str(resource.get("etag", "")),
            size=_size(resource.get("size")),
            updated=_timestamp(resource.get("updated")),
        )


class GcsClient:
    """Calls the JSON API for one integration. ``token`` on a call replaces the configured
    credentials; ``api_root`` and ``token_uri`` point the client (with credentials) at another
    server than Google's, for tests.
    """

    def __init__(
        self,
        integration: GoogleGcsIntegrationConfig,
        session: aiohttp.ClientSession,
        *,
        api_root: str | None = None,
        token_uri: str | None = None,
    ) -> None:
        self._integration = integration
        self._session = session
        self._api_root = api_root.rstrip("/") if api_root else None
        self._token_uri = token_uri
        self._token: Any = None
        self._lock = anyio.Lock()

    async def metadata(
        self, bucket: str, name: str, *, token: str | None, source: str, message: str
    ) -> GcsObject:
        """The object's resource (``GET /b/<bucket>/o/<name>``)."""
        storage = await self._storage(token, source)
        with gcs_errors(message):
            resource = await storage.download_metadata(
                bucket, name, headers=_headers(), timeout=_API_TIMEOUT
            )
        return GcsObject.from_resource(resource)

    async def list(
        self, bucket: str, prefix: str, *, token: str | None, source: str, message: str
    ) -> AsyncIterator[GcsObject]:
        """Every object whose name starts with ``prefix``, page after page as they are
        iterated (so that a caller can stop early).
        """
        storage = await self._storage(token, source)
        params = {"prefix": prefix, "maxResults": str(_PAGE_SIZE), "fields": _LIST_FIELDS}
        while True:
            with gcs_errors(message):
                page = await storage.list_objects(
                    bucket, params=dict(params), headers=_headers(), timeout=_API_TIMEOUT
                )
            items = page.get("items") if isinstance(page, dict) else None
            for item in items or []:
                if isinstance(item, dict):
                    yield GcsObject.from_resource(item)
            next_page = page.get("nextPageToken") if isinstance(page, dict) else None
            if not next_page:
                return
            params["pageToken"] = str(next_page)

    async def open(
        self, bucket: str, name: str, *, token: str | None, source: str, message: str
    ) -> aiohttp.ClientResponse:
        """The object's content as an open response (``?alt=media``); the caller releases it."""
        storage = await self._storage(token, source)
        with gcs_errors(message):
            stream = await storage.download_stream(
                bucket, name, headers=_headers(), timeout=ARCHIVE_TIMEOUT
            )
        # Entering the library's StreamResponse hands out the aiohttp response itself; from
        # here its release is the caller's (HttpReadUrlResponse, ResponseBody).
        response: aiohttp.ClientResponse = await stream.__aenter__()
        return response

    async def _storage(self, token: str | None, source: str) -> Any:
        """A ``Storage`` signing as the call asks (cheap: it wraps the shared session)."""
        storage_class = load_storage_class(source)
        api_root, authed = self._endpoint()
        if token:
            return storage_class(
                token=StaticToken(token), session=self._session, api_root=api_root, api_is_dev=False
            )
        if not authed:
            # The library sends no credentials to an emulator; the token is never asked for.
            return storage_class(
                token=StaticToken(""), session=self._session, api_root=api_root, api_is_dev=True
            )
        configured = await self._configured_token()
        await acquire(configured)
        return storage_class(
            token=configured, session=self._session, api_root=api_root, api_is_dev=False
        )

    async def _configured_token(self) -> Any:
        async with self._lock:
            if self._token is None:
                # Loading the default credentials reads files.
                self._token = await anyio.to_thread.run_sync(
                    partial(
                        create_token, self._integration, self._session, token_uri=self._token_uri
                    )
                )
            return self._token

    def _endpoint(self) -> tuple[str, bool]:
        """The API root, and whether requests to it carry credentials."""
        if self._api_root:
            return self._api_root, True
        emulator = os.environ.get(EMULATOR_ENV, "").strip()
        if emulator:
            if not emulator.startswith(("http://", "https://")):
                emulator = f"http://{emulator}"
            return emulator.rstrip("/"), False
        return DEFAULT_API_ROOT, True


def _headers() -> dict[str, str]:
    # A new dict per call: the library adds the Authorization header to the one it is given.
    return {"User-Agent": _USER_AGENT}


def _size(value: object) -> int | None:
    # The JSON API sends sizes as strings (they may exceed 2^53).
    if not isinstance(value, str | int):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
