"""GCS failures as the url reader's errors, and the lazy import of the optional client library.

``gcloud-aio-storage`` is an optional extra: nothing in this package imports it at module
level, so the reader registers without it and only a read fails, saying what to install.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp

from ....api.errors import NotFoundError
from ....api.services.url_reader import UrlReaderError
from .._http import describe_client_error

__all__ = ["INSTALL_HINT", "gcs_errors", "load_storage_class"]

#: How to get the optional dependency.
INSTALL_HINT = "pip install 'backstage-runtime[gcs]'"

# The ``errors[].reason`` values GCS gives when the caller should slow down; most rate limits
# come as 429, the older per-user quotas as 403.
_RATE_LIMIT_REASONS = ("ratelimitexceeded", "userratelimitexceeded", "quotaexceeded")
# GCS error messages are short; a proxy's HTML error page should not fill the log.
_MAX_DETAIL = 300


def load_storage_class(source: str) -> Any:
    """``gcloud.aio.storage.Storage``; :class:`UrlReaderError` naming the extra when the
    library is missing (``source`` is the URL being read, without credentials).
    """
    try:
        from gcloud.aio.storage import Storage
    except ImportError as error:
        raise UrlReaderError(
            f"Cannot read {source}: reading Google Cloud Storage needs the optional "
            f"'gcloud-aio-storage' package ({error.name or 'gcloud'} is not installed); "
            f"install it with {INSTALL_HINT}"
        ) from None
    return Storage


@contextmanager
def gcs_errors(message: str) -> Iterator[None]:
    """Translate what the library raises inside the block: 404 → :class:`NotFoundError`,
    other statuses, transport failures and undecodable answers → :class:`UrlReaderError`
    (rate limited for 429 and GCS's rate-limit reasons); ``message`` starts every error.
    """
    try:
        yield
    except aiohttp.ClientResponseError as error:
        raise _status_error(message, error) from None
    except (aiohttp.ClientError, TimeoutError) as error:
        raise UrlReaderError(f"{message}, {describe_client_error(error)}") from None
    except ValueError as error:
        # The library decodes JSON bodies itself; a proxy's error page fails there.
        raise UrlReaderError(
            f"{message}, invalid response from Google Cloud Storage "
            f"({describe_client_error(error)})"
        ) from None


def _status_error(message: str, error: aiohttp.ClientResponseError) -> Exception:
    # The library puts "<reason>: <response body>" in the error's message.
    reason, _, body = (error.message or "").partition(": ")
    detail = _gcs_message(body)
    full = f"{message}, {error.status} {reason}".rstrip()
    if detail:
        full += f" ({detail[:_MAX_DETAIL]})"
    if error.status == 404:
        return NotFoundError(full)
    limited = error.status == 429 or (
        error.status == 403 and any(code in body.lower() for code in _RATE_LIMIT_REASONS)
    )
    if limited:
        full += " (rate limit exceeded)"
    return UrlReaderError(full, status=error.status, rate_limited=limited)


def _gcs_message(body: str) -> str:
    """``error.message`` of a GCS JSON error body, or ``""``."""
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(document, dict) or not isinstance(document.get("error"), dict):
        return ""
    text = document["error"].get("message")
    return text if isinstance(text, str) else ""
