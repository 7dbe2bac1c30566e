"""Access tokens for GCS requests, in the shape ``gcloud.aio.storage.Storage`` asks for (an
object whose ``async get()`` returns a bearer token).

- a configured service account signs a JWT and exchanges it at Google's token endpoint (the
  library's ``Token``, which caches the access token and refreshes it before it expires);
- without one, the application default credentials (``GOOGLE_APPLICATION_CREDENTIALS``, the
  gcloud CLI's credentials, else the GCE metadata server), as Backstage's ``new Storage()``;
- ``token=`` on a call is used as it is.

Tokens are asked for read-only access: the reader never writes.
"""

from __future__ import annotations

import io
import json
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ....api.services.url_reader import UrlReaderError
from .._http import describe_client_error
from ._config import CONFIG_KEY, GoogleGcsIntegrationConfig

__all__ = ["READ_ONLY_SCOPE", "StaticToken", "acquire", "create_token"]

#: The OAuth scope requested for the reader's tokens.
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
_MAX_DETAIL = 300


class StaticToken:
    """A bearer token given by the caller; never shown by ``repr``."""

    def __init__(self, value: str) -> None:
        self._value = value

    async def get(self) -> str:
        """The token."""
        return self._value

    def __repr__(self) -> str:
        return "StaticToken(***)"


def create_token(
    integration: GoogleGcsIntegrationConfig,
    session: aiohttp.ClientSession,
    *,
    token_uri: str | None = None,
) -> Any:
    """The library's ``Token`` for the configured service account, else for the application
    default credentials (which reads files: call it off the event loop). ``token_uri``
    replaces Google's token endpoint for the service account.
    """
    from gcloud.aio.auth import Token as _Token

    # The library's annotations name the requests flavour's session; ours is aiohttp's.
    token_class: Any = _Token
    scopes = [READ_ONLY_SCOPE]
    if not integration.has_service_account:
        try:
            return token_class(session=session, scopes=scopes)
        except Exception as error:
            raise UrlReaderError(
                "Could not load Google application default credentials (no service account "
                f"in '{CONFIG_KEY}'), {describe_client_error(error)}"
            ) from None
    private_key = str(integration.private_key)
    _check_private_key(private_key)
    info: dict[str, str] = {
        "type": "service_account",
        "client_email": str(integration.client_email),
        "private_key": private_key,
    }
    if token_uri:
        info["token_uri"] = token_uri
    return token_class(service_file=io.StringIO(json.dumps(info)), session=session, scopes=scopes)


async def acquire(token: Any) -> None:
    """Make sure ``token`` holds an access token, so that a failure says it is about
    credentials (not about the object being read).
    """
    try:
        await token.get()
    except aiohttp.ClientResponseError as error:
        limited = error.status == 429
        # The library puts "<reason>: <response body>" in the message; Google's token
        # endpoint explains itself there (``invalid_grant``, ...) and echoes no secret.
        detail = (error.message or "")[:_MAX_DETAIL]
        raise UrlReaderError(
            f"Could not get a Google access token for '{CONFIG_KEY}', token endpoint answered "
            f"{error.status} {detail}".rstrip()
            + (" (rate limit exceeded)" if limited else ""),
            status=error.status,
            rate_limited=limited,
        ) from None
    except Exception as error:
        raise UrlReaderError(
            f"Could not get a Google access token for '{CONFIG_KEY}', "
            f"{describe_client_error(error)}"
        ) from None


def _check_private_key(private_key: str) -> None:
    # The library retries a failing token exchange five times with growing pauses; a key that
    # cannot even be loaded would only make every read slow before failing.
    try:
        load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        raise UrlReaderError(
            f"Invalid Google Cloud Storage config at '{CONFIG_KEY}.privateKey', it is not a "
            "PEM private key without a passphrase (literal \\n are read as newlines)"
        ) from None
