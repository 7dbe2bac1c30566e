"""Which credential a request to Azure DevOps carries (Backstage's
``DefaultAzureDevOpsCredentialsProvider``, for personal access tokens).

The organization is read from the URL: the first path segment on ``dev.azure.com`` and on
Azure DevOps Server (the second after ``/tfs``), or the host's first label on
``<org>.visualstudio.com``. A credential listing that organization wins; otherwise the
entry's credential without organizations; otherwise the request is anonymous.
"""

from __future__ import annotations

import base64
from urllib.parse import SplitResult, unquote

from .._urls import url_host
from ._config import AZURE_HOST, AzureDevOpsCredential, AzureDevOpsIntegrationConfig

__all__ = ["auth_headers", "credential_for", "organizations_of"]


def organizations_of(parts: SplitResult) -> list[str]:
    """The organization names the URL may belong to, most specific first."""
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    host = url_host(parts)
    candidates = []
    if host == AZURE_HOST:
        candidates += segments[:1]
    elif segments:
        if segments[0] != "tfs":
            candidates.append(segments[0])
        elif len(segments) > 1:
            candidates.append(segments[1])
    hostname = parts.hostname or ""
    if hostname.endswith("visualstudio.com"):
        candidates.append(hostname.split(".")[0])
    return candidates


def credential_for(
    integration: AzureDevOpsIntegrationConfig, parts: SplitResult
) -> AzureDevOpsCredential | None:
    """The credential of ``integration`` for the URL (``None``: anonymous)."""
    for organization in organizations_of(parts):
        for credential in integration.credentials:
            if organization in credential.organizations:
                return credential
    return next((c for c in integration.credentials if not c.organizations), None)


def auth_headers(
    integration: AzureDevOpsIntegrationConfig, parts: SplitResult, token: str | None = None
) -> dict[str, str]:
    """The ``Authorization`` header for a request to the URL.

    ``token`` replaces the configured credentials: an Entra ID access token (a JWT, as
    Backstage's Microsoft sign-in gives) is sent as a bearer token, anything else as a
    personal access token.
    """
    if token:
        if token.count(".") == 2 and token.startswith("eyJ"):
            return {"Authorization": f"Bearer {token}"}
        return {"Authorization": _basic(token)}
    credential = credential_for(integration, parts)
    if credential is None:
        return {}
    return {"Authorization": _basic(credential.personal_access_token)}


def _basic(personal_access_token: str) -> str:
    # Azure DevOps takes a personal access token as the password of an empty user name.
    pair = base64.b64encode(f":{personal_access_token}".encode()).decode()
    return f"Basic {pair}"
