"""S3 failures as the url reader's errors, and the lazy import of the optional AWS SDK.

aiobotocore is an optional extra: nothing in this package imports it (or botocore) at module
level, so the reader registers for its hosts without it and only a read fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ....api.errors import NotFoundError, NotModifiedError
from ....api.services.url_reader import UrlReaderError
from .._http import describe_client_error

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

__all__ = ["INSTALL_HINT", "require_aws_sdk", "s3_errors"]

#: How to get the optional dependency.
INSTALL_HINT = "pip install 'backstage-runtime[aws]'"

# Error codes S3 (and STS) answer when the caller should slow down; S3 uses ``SlowDown`` (503).
_THROTTLING_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
    }
)
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "NotFound"})


def require_aws_sdk() -> None:
    """Raise a :class:`UrlReaderError` naming the extra to install when aiobotocore is missing."""
    try:
        import aiobotocore.session  # noqa: F401
        import botocore.exceptions  # noqa: F401
    except ImportError:
        raise UrlReaderError(
            "Reading from AWS S3 needs the optional 'aiobotocore' package, install it with "
            f"{INSTALL_HINT}"
        ) from None


@contextmanager
def s3_errors(message: str) -> Iterator[None]:
    """Translate AWS SDK errors raised in the block: 304 → :class:`NotModifiedError`, missing
    key or bucket → :class:`NotFoundError`, anything else → :class:`UrlReaderError` whose
    message starts with ``message`` (which must not hold secrets).
    """
    require_aws_sdk()
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError as SdkClientError

    try:
        yield
    except SdkClientError as error:
        raise _from_client_error(error, message) from None
    except BotoCoreError as error:
        raise UrlReaderError(f"{message}, {describe_client_error(error)}") from None


def _from_client_error(error: ClientError, message: str) -> Exception:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    text = str(details.get("Message", "")).strip()
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 304 or code == "304":
        return NotModifiedError()
    summary = " ".join(part for part in (str(status or ""), code) if part)
    full = f"{message}, {summary}" + (f": {text}" if text else "")
    if status == 404 or code in _NOT_FOUND_CODES:
        return NotFoundError(full)
    limited = status == 429 or code in _THROTTLING_CODES
    if limited:
        full += " (rate limit exceeded)"
    return UrlReaderError(full, status=status, rate_limited=limited)
