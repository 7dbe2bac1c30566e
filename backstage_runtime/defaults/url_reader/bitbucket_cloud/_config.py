"""``integrations.bitbucketCloud``: credentials for bitbucket.org.

Backstage fixes the host to ``bitbucket.org``, the API to ``https://api.bitbucket.org/2.0`` and
the OAuth token endpoint to ``https://bitbucket.org/site/oauth2/access_token``; ``host``,
``apiBaseUrl`` and ``oauthTokenUrl`` may be set here too (to point at a proxy or a test server).

Credentials, one kind per entry: ``clientId`` + ``clientSecret`` (an OAuth consumer, client
credentials grant), or ``username`` with an API ``token`` (or the older ``appPassword``), or a
``token`` alone (workspace/repository access token).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from ....api.errors import ConfigError
from ....api.services.config import Config
from .._integration_config import read_base_url, read_host

__all__ = [
    "BITBUCKET_CLOUD_API_BASE_URL",
    "BITBUCKET_CLOUD_HOST",
    "BITBUCKET_CLOUD_OAUTH_TOKEN_URL",
    "BitbucketCloudIntegrationConfig",
    "read_bitbucket_cloud_integration_configs",
]

BITBUCKET_CLOUD_HOST = "bitbucket.org"
BITBUCKET_CLOUD_API_BASE_URL = "https://api.bitbucket.org/2.0"
BITBUCKET_CLOUD_OAUTH_TOKEN_URL = "https://bitbucket.org/site/oauth2/access_token"


@dataclass(frozen=True)
class BitbucketCloudIntegrationConfig:
    """Credentials: ``username`` with an API ``token`` (or the older ``appPassword``) for
    basic auth, a ``token`` alone (workspace/repository access token) as a bearer token, or an
    OAuth consumer (``client_id``/``client_secret``) whose tokens come from
    ``oauth_token_url`` (see :class:`BitbucketCloudAuth`).
    """

    host: str = BITBUCKET_CLOUD_HOST
    api_base_url: str = BITBUCKET_CLOUD_API_BASE_URL
    username: str | None = None
    token: str | None = field(default=None, repr=False)
    app_password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    oauth_token_url: str = BITBUCKET_CLOUD_OAUTH_TOKEN_URL

    @property
    def oauth(self) -> bool:
        """Whether an OAuth consumer is configured."""
        return bool(self.client_id and self.client_secret)

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        """The ``Authorization`` header from the static credentials (``token`` replaces them);
        OAuth headers need a fetched token, see :class:`BitbucketCloudAuth`.
        """
        if token:
            return {"Authorization": f"Bearer {token}"}
        secret = self.token or self.app_password
        if self.username and secret:
            pair = base64.b64encode(f"{self.username}:{secret}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    @property
    def authed(self) -> bool:
        """Whether credentials are configured."""
        return self.oauth or bool(self.token or (self.username and self.app_password))


def read_bitbucket_cloud_integration_configs(
    config: Config,
) -> list[BitbucketCloudIntegrationConfig]:
    """Every ``integrations.bitbucketCloud`` entry, or one anonymous bitbucket.org entry."""
    entries = config.get_optional_config_array("integrations.bitbucketCloud") or []
    result = []
    for index, entry in enumerate(entries):
        result.append(_read_entry(entry, f"integrations.bitbucketCloud[{index}]"))
    return result or [BitbucketCloudIntegrationConfig()]


def _read_entry(entry: Config, key: str) -> BitbucketCloudIntegrationConfig:
    provider = "Bitbucket Cloud"
    host = read_host(entry, key, provider=provider, default=BITBUCKET_CLOUD_HOST)
    app_password = entry.get_optional_string("appPassword")
    item = BitbucketCloudIntegrationConfig(
        host=host,
        api_base_url=read_base_url(entry, "apiBaseUrl", key, provider=provider)
        or BITBUCKET_CLOUD_API_BASE_URL,
        username=entry.get_optional_string("username"),
        token=entry.get_optional_string("token"),
        app_password=app_password.strip() if app_password is not None else None,
        client_id=entry.get_optional_string("clientId"),
        client_secret=entry.get_optional_string("clientSecret"),
        oauth_token_url=read_base_url(entry, "oauthTokenUrl", key, provider=provider)
        or BITBUCKET_CLOUD_OAUTH_TOKEN_URL,
    )
    if (item.client_id is None) != (item.client_secret is None):
        missing = "clientSecret" if item.client_secret is None else "clientId"
        raise ConfigError(
            f"Bitbucket Cloud integration for '{host}' has configured OAuth but is missing "
            f"'{key}.{missing}' (clientId and clientSecret go together)"
        )
    if item.client_id is not None and (item.username or item.token or item.app_password):
        raise ConfigError(
            f"Bitbucket Cloud integration for '{host}' at '{key}' must configure either OAuth "
            "(clientId and clientSecret) or username with token/appPassword (or a token), "
            "not both"
        )
    if item.username and not item.token and not item.app_password:
        raise ConfigError(
            f"Bitbucket Cloud integration for '{host}' has configured a username but is "
            f"missing a required token or appPassword (at '{key}')"
        )
    return item
