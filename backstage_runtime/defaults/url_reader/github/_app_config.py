"""``integrations.github[].apps[]``: GitHub Apps, with Backstage's keys.

``appId`` (a number, or a string of digits from an environment variable), ``privateKey`` (PEM;
a literal ``\\n`` stands for a line break, as Backstage accepts), ``clientId``, ``clientSecret``,
optional ``webhookSecret``, ``allowedInstallationOwners`` and ``publicAccess``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ....api.errors import ConfigError
from ....api.services.config import Config

__all__ = ["GithubAppConfig", "load_app_private_key", "read_github_app_configs"]


@dataclass(frozen=True)
class GithubAppConfig:
    """One GitHub App. Secrets are left out of ``repr``.

    ``allowed_installation_owners`` (None: any) names the accounts whose installations may be
    used; ``public_access`` lets the app's installation token read public repositories of
    owners it is not installed for.
    """

    app_id: int
    client_id: str
    private_key: str = field(repr=False)
    client_secret: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    allowed_installation_owners: tuple[str, ...] | None = None
    public_access: bool = False


def load_app_private_key(pem: str, key: str) -> RSAPrivateKey:
    """The RSA key in ``pem``; :class:`ConfigError` naming ``key`` (never the value) otherwise."""
    try:
        loaded = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        loaded = None
    if not isinstance(loaded, RSAPrivateKey):
        raise ConfigError(
            f"Invalid GitHub App config at '{key}', expected an unencrypted PEM-encoded RSA "
            "private key"
        )
    return loaded


def _read_app(config: Config, key: str) -> GithubAppConfig:
    app_id = config.get_number("appId")
    if app_id != int(app_id) or app_id <= 0:
        raise ConfigError(
            f"Invalid GitHub App config at '{key}.appId', expected a positive integer"
        )
    # Keys pasted into one-line environment variables carry "\n" literally (Backstage too).
    private_key = config.get_string("privateKey").replace("\\n", "\n")
    load_app_private_key(private_key, f"{key}.privateKey")
    owners = config.get_optional_string_array("allowedInstallationOwners")
    return GithubAppConfig(
        app_id=int(app_id),
        client_id=config.get_string("clientId"),
        private_key=private_key,
        client_secret=config.get_string("clientSecret"),
        webhook_secret=config.get_optional_string("webhookSecret"),
        allowed_installation_owners=tuple(owners) if owners is not None else None,
        public_access=config.get_optional_boolean("publicAccess") or False,
    )


def read_github_app_configs(config: Config, key: str) -> tuple[GithubAppConfig, ...]:
    """The ``apps`` of the integration entry ``config`` (``key`` names it in errors)."""
    entries = config.get_optional_config_array("apps") or []
    return tuple(_read_app(entry, f"{key}.apps[{index}]") for index, entry in enumerate(entries))
