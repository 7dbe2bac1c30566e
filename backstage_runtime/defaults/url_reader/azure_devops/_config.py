"""``integrations.azure``: one entry per Azure DevOps host (``dev.azure.com`` is added when
missing), with personal access tokens per organization.

The keys and checks are Backstage's (``packages/integration/src/azure/config.ts``): ``host``
(default ``dev.azure.com``), ``apiVersion`` (default ``6.0``), the deprecated ``token`` and
``credentials[]`` with ``organizations`` and ``personalAccessToken``. Entra ID credentials
(``clientId`` / ``clientSecret`` / ``tenantId``, managed identities) and the deprecated
``credential`` are refused at startup: they are not supported yet, and ignoring them would
silently read anonymously.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....api.errors import ConfigError
from ....api.services.config import Config
from .._integration_config import read_host

__all__ = [
    "AZURE_API_VERSION",
    "AZURE_HOST",
    "AzureDevOpsCredential",
    "AzureDevOpsIntegrationConfig",
    "read_azure_integration_config",
    "read_azure_integration_configs",
]

AZURE_HOST = "dev.azure.com"
AZURE_API_VERSION = "6.0"

_ENTRA_FIELDS = ("clientId", "clientSecret", "tenantId")


@dataclass(frozen=True)
class AzureDevOpsCredential:
    """A personal access token, for ``organizations`` (empty: every other organization)."""

    personal_access_token: str = field(repr=False)
    organizations: tuple[str, ...] = ()


@dataclass(frozen=True)
class AzureDevOpsIntegrationConfig:
    """One Azure DevOps host (Services or an on-premises Server) and its credentials."""

    host: str
    api_version: str = AZURE_API_VERSION
    credentials: tuple[AzureDevOpsCredential, ...] = ()


def read_azure_integration_config(config: Config, key: str) -> AzureDevOpsIntegrationConfig:
    """One entry of ``integrations.azure`` (``key`` names it in errors)."""
    host = read_host(config, key, provider="Azure", default=AZURE_HOST)
    if config.has("credential"):
        if config.has("credentials"):
            raise ConfigError(
                f"Invalid Azure integration config at '{key}', 'credential' and 'credentials' "
                "cannot be used together. Use 'credentials' instead."
            )
        raise ConfigError(
            f"Invalid Azure integration config at '{key}.credential': the deprecated "
            "'credential' is not supported; use 'credentials' with a 'personalAccessToken'"
        )
    if config.has("token") and config.has("credentials"):
        raise ConfigError(
            f"Invalid Azure integration config at '{key}', 'token' and 'credentials' cannot be "
            "used together. Use 'credentials' instead."
        )
    credentials = [
        _read_credential(entry, f"{key}.credentials[{index}]")
        for index, entry in enumerate(config.get_optional_config_array("credentials") or [])
    ]
    token = config.get_optional_string("token")
    if token is not None:
        if not token.strip():
            raise ConfigError(f"Invalid Azure integration config at '{key}.token': it is blank")
        credentials.append(AzureDevOpsCredential(personal_access_token=token.strip()))
    _check_organizations(credentials, key)
    return AzureDevOpsIntegrationConfig(
        host=host,
        api_version=config.get_optional_string("apiVersion") or AZURE_API_VERSION,
        credentials=tuple(credentials),
    )


def read_azure_integration_configs(config: Config) -> list[AzureDevOpsIntegrationConfig]:
    """Every ``integrations.azure`` entry, plus an anonymous ``dev.azure.com`` one if none
    names that host (as Backstage adds it).
    """
    entries = config.get_optional_config_array("integrations.azure") or []
    result = [
        read_azure_integration_config(entry, f"integrations.azure[{index}]")
        for index, entry in enumerate(entries)
    ]
    if not any(item.host == AZURE_HOST for item in result):
        result.append(AzureDevOpsIntegrationConfig(host=AZURE_HOST))
    return result


def _read_credential(config: Config, key: str) -> AzureDevOpsCredential:
    token = config.get_optional_string("personalAccessToken")
    entra = [name for name in _ENTRA_FIELDS if config.has(name)]
    if token is not None and not entra:
        if not token.strip():
            raise ConfigError(
                f"Invalid Azure integration config at '{key}.personalAccessToken': it is blank"
            )
        return AzureDevOpsCredential(
            personal_access_token=token.strip(),
            organizations=tuple(config.get_optional_string_array("organizations") or ()),
        )
    if token is None and entra in (list(_ENTRA_FIELDS), ["clientId"]):
        kind = "client secret" if len(entra) == 3 else "managed identity"
        raise ConfigError(
            f"Invalid Azure integration config at '{key}.{entra[0]}': Entra ID {kind} "
            "credentials are not supported yet; use a 'personalAccessToken'"
        )
    raise ConfigError(
        f"Invalid Azure integration config at '{key}': not a valid credential (expected "
        "'personalAccessToken', or 'clientId', 'clientSecret' and 'tenantId', or only "
        "'clientId' for a managed identity)"
    )


def _check_organizations(credentials: list[AzureDevOpsCredential], key: str) -> None:
    positions: dict[str, list[int]] = {}
    defaults = 0
    for position, credential in enumerate(credentials, start=1):
        if not credential.organizations:
            defaults += 1
        for organization in credential.organizations:
            positions.setdefault(organization, []).append(position)
    for organization, found in positions.items():
        if len(found) > 1:
            listed = ", ".join(str(position) for position in found[:-1])
            raise ConfigError(
                f"Invalid Azure integration config at '{key}.credentials': organization "
                f"{organization} is specified multiple times in credentials at positions "
                f"{listed} and {found[-1]}"
            )
    if defaults > 1:
        raise ConfigError(
            f"Invalid Azure integration config at '{key}.credentials': you cannot specify "
            "multiple credentials without organizations"
        )
