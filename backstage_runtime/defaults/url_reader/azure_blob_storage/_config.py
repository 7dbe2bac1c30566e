"""``integrations.azureBlobStorage``: one entry per storage account.

As Backstage's ``readAzureBlobStorageIntegrationConfig``: ``accountName`` is required, ``host``
is ``blob.core.windows.net`` (or the host of ``endpoint``), ``accountKey`` and ``sasToken``
exclude each other and ``aadCredential`` excludes both; an entry for ``blob.core.windows.net``
without an account is added when none is configured. Beyond Backstage, ``connectionString``
and ``endpointSuffix`` are honoured (Backstage reads and ignores them), and ``endpoint`` may
end with the account name, the form emulators such as Azurite use.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass, field

from ....api.errors import ConfigError, InputError
from ....api.services.config import Config
from .._urls import redact_url, split_url, url_host
from ._connection_string import parse_connection_string

__all__ = [
    "AZURE_HOST",
    "AadCredential",
    "AzureBlobStorageIntegrationConfig",
    "read_azure_blob_storage_integration_config",
    "read_azure_blob_storage_integration_configs",
]

#: The public Azure cloud's blob service host; accounts live at ``<account>.<AZURE_HOST>``.
AZURE_HOST = "blob.core.windows.net"

_ROOT = "integrations.azureBlobStorage"


@dataclass(frozen=True)
class AadCredential:
    """An Entra ID (Azure AD) application that signs in with a client secret."""

    client_id: str
    tenant_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class AzureBlobStorageIntegrationConfig:
    """One storage account.

    ``host`` is Backstage's: the blob service host below which the account lives
    (``blob.core.windows.net``), or the host of a custom ``endpoint``. Credentials, in the order
    they are used: ``account_key`` (shared key), ``sas_token``, ``aad_credential``, else the
    default Azure credential chain (environment, workload and managed identity, Azure CLI, ...).
    """

    host: str
    account_name: str | None = None
    endpoint: str | None = None
    account_key: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    connection_string: str | None = field(default=None, repr=False)
    endpoint_suffix: str | None = None
    aad_credential: AadCredential | None = None
    #: The scheme of the account URL when no ``endpoint`` is set (a connection string's
    #: ``DefaultEndpointsProtocol``).
    protocol: str = "https"

    @property
    def path_style(self) -> bool:
        """Whether blob URLs name the account in their first path segment
        (``http://127.0.0.1:10000/<account>/<container>/<blob>``), as emulators and IP
        endpoints do, rather than in the host.
        """
        if self.endpoint is None or self.account_name is None:
            return False
        parts = split_url(self.endpoint)
        if parts.path.strip("/"):
            return True
        hostname = parts.hostname or ""
        if hostname == "localhost":
            return True
        try:
            ipaddress.ip_address(hostname)
        except ValueError:
            return False
        return True

    @property
    def account_url(self) -> str:
        """The account's blob service URL, which the client sends its requests below."""
        if self.endpoint is None:
            return f"{self.protocol}://{self.account_name}.{self.host}"
        parts = split_url(self.endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        return f"{origin}/{self.account_name}" if self.path_style else origin


def read_azure_blob_storage_integration_config(
    config: Config, key: str
) -> AzureBlobStorageIntegrationConfig:
    """One ``integrations.azureBlobStorage[]`` entry; ``key`` names it in errors."""
    connection_string = _optional(config, "connectionString")
    settings = (
        parse_connection_string(connection_string, f"{key}.connectionString")
        if connection_string
        else {}
    )
    account_name = config.get_optional_string("accountName") or settings.get("accountname")
    if not account_name:
        # Raises Backstage's "missing required config value" error naming the key.
        account_name = config.get_string("accountName")
    account_key = _optional(config, "accountKey") or settings.get("accountkey") or None
    sas_token = _optional(config, "sasToken") or settings.get("sharedaccesssignature") or None
    endpoint_suffix = _optional(config, "endpointSuffix") or settings.get("endpointsuffix") or None
    endpoint_key = f"{key}.endpoint" if config.has("endpoint") else f"{key}.connectionString"
    endpoint = _optional(config, "endpoint") or settings.get("blobendpoint") or None
    host = f"blob.{endpoint_suffix.strip('.')}" if endpoint_suffix else AZURE_HOST
    if endpoint is not None:
        endpoint, host = _check_endpoint(endpoint, account_name, endpoint_key)
    protocol = settings.get("defaultendpointsprotocol", "https").lower()
    if protocol not in ("http", "https"):
        raise ConfigError(
            f"Invalid Azure Blob Storage integration config at '{key}.connectionString', "
            f"DefaultEndpointsProtocol must be http or https, got '{protocol}'"
        )
    if account_key is not None:
        _check_account_key(account_key, f"{key}.accountKey")

    aad_credential = None
    if config.has("aadCredential"):
        aad_credential = AadCredential(
            client_id=config.get_string("aadCredential.clientId"),
            tenant_id=config.get_string("aadCredential.tenantId"),
            client_secret=config.get_string("aadCredential.clientSecret").strip(),
        )
    if account_key and sas_token:
        raise ConfigError(
            f"Invalid Azure Blob Storage config for {account_name} at '{key}': Both account key "
            "and SAS token cannot be used simultaneously."
        )
    if aad_credential and (account_key or sas_token):
        raise ConfigError(
            f"Invalid Azure Blob Storage config for {account_name} at '{key}': Cannot use both "
            "Azure AD credentials and account keys/SAS tokens for the same account."
        )
    return AzureBlobStorageIntegrationConfig(
        host=host,
        account_name=account_name,
        endpoint=endpoint,
        account_key=account_key,
        sas_token=sas_token.lstrip("?") if sas_token else None,
        connection_string=connection_string,
        endpoint_suffix=endpoint_suffix,
        aad_credential=aad_credential,
        protocol=protocol,
    )


def read_azure_blob_storage_integration_configs(
    config: Config,
) -> list[AzureBlobStorageIntegrationConfig]:
    """Every ``integrations.azureBlobStorage`` entry, plus Backstage's account-less entry for
    ``blob.core.windows.net`` when no entry has that host (it names no account, so it reads
    nothing; a URL of an unconfigured account goes on to the other readers).
    """
    entries = config.get_optional_config_array(_ROOT) or []
    result = [
        read_azure_blob_storage_integration_config(entry, f"{_ROOT}[{index}]")
        for index, entry in enumerate(entries)
    ]
    if not any(integration.host == AZURE_HOST for integration in result):
        result.append(AzureBlobStorageIntegrationConfig(host=AZURE_HOST))
    return result


def _optional(config: Config, name: str) -> str | None:
    value = config.get_optional_string(name)
    return value.strip() if value is not None else None


def _check_endpoint(endpoint: str, account_name: str, key: str) -> tuple[str, str]:
    """The endpoint without a trailing slash, and its host (WHATWG ``URL.host``)."""
    try:
        parts = split_url(endpoint)
    except InputError:
        raise ConfigError(
            f"Invalid Azure Blob Storage integration config at '{key}', endpoint "
            f"'{redact_url(endpoint)}' is not a valid URL"
        ) from None
    path = parts.path.strip("/")
    # Backstage forbids any path; the account name is allowed too since that is how emulators
    # (and Azure's own connection strings for them) spell the blob endpoint.
    if (path and path != account_name) or parts.query or parts.fragment:
        raise ConfigError(
            f"Invalid Azure Blob Storage integration config at '{key}', endpoints cannot "
            f"contain path (other than the account name '{account_name}') or query, got "
            f"'{redact_url(endpoint)}'"
        )
    return endpoint.rstrip("/"), url_host(parts)


def _check_account_key(account_key: str, key: str) -> None:
    try:
        base64.b64decode(account_key, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"Invalid Azure Blob Storage integration config at '{key}', the account key is "
            "not valid base64"
        ) from None
