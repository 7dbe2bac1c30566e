"""Credentials for the Azure SDK, chosen as Backstage's ``DefaultAzureCredentialsManager`` does.

Needs the optional ``azure`` extra; only :mod:`._client` imports this module.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from azure.core.credentials import AccessToken, AzureNamedKeyCredential, AzureSasCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.pipeline.transport import AioHttpTransport

from ._config import AzureBlobStorageIntegrationConfig

__all__ = ["Credential", "StaticTokenCredential", "config_credential", "override_credential"]

#: What the blob clients accept as ``credential``.
Credential = AzureNamedKeyCredential | AzureSasCredential | AsyncTokenCredential


class StaticTokenCredential:
    """An ``AsyncTokenCredential`` over an access token the caller already has (``token=``)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The caller's token; its lifetime is unknown, so it is given an hour, the usual."""
        return AccessToken(self._token, int(time.time()) + 3600)

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def __repr__(self) -> str:
        return "StaticTokenCredential(token=***)"


def config_credential(
    integration: AzureBlobStorageIntegrationConfig, session: aiohttp.ClientSession
) -> Credential:
    """The integration's credential: shared key, SAS, client secret, else the default chain.

    Entra ID credentials fetch tokens through the backend's session, so none of them owns a
    connection pool that would need closing.
    """
    if integration.account_key and integration.account_name:
        return AzureNamedKeyCredential(integration.account_name, integration.account_key)
    if integration.sas_token:
        return AzureSasCredential(integration.sas_token)
    # azure-identity is imported only for accounts that sign in through Entra ID.
    transport = AioHttpTransport(session=session, session_owner=False)
    aad = integration.aad_credential
    if aad is not None:
        from azure.identity.aio import ClientSecretCredential

        return ClientSecretCredential(
            aad.tenant_id, aad.client_id, aad.client_secret, transport=transport
        )
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(transport=transport)


def override_credential(token: str) -> Credential:
    """The credential for a caller's ``token=``: a SAS token when it is one (it carries a
    ``sig`` signature), else an Entra ID access token sent as ``Authorization: Bearer``.
    """
    sas = token.strip().lstrip("?")
    if any(part.startswith("sig=") for part in sas.split("&")):
        return AzureSasCredential(sas)
    return StaticTokenCredential(token.strip())
