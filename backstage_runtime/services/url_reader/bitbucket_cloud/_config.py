"""``integrations.bitbucketCloud``: credentials for bitbucket.org.

Backstage fixes the host to ``bitbucket.org`` and the API to ``https://api.bitbucket.org/2.0``;
``host`` and ``apiBaseUrl`` may be set here too (to point at a proxy or a test server).
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
    "BitbucketCloudIntegrationConfig",
    "read_bitbucket_cloud_integration_configs",
]

BITBUCKET_CLOUD_HOST = "bitbucket.org"
BITBUCKET_CLOUD_API_BASE_URL = "https://api.bitbucket.org/2.0"


@dataclass(frozen=True)
class BitbucketCloudIntegrationConfig:
    """Credentials: ``username`` with an API ``token`` (or the older ``appPassword``) for
    basic auth, or a ``token`` alone (workspace/repository access token) as a bearer token.
    ``has_oauth`` records that ``clientId``/``clientSecret`` were configured (not supported yet).
    """

    host: str = BITBUCKET_CLOUD_HOST
    api_base_url: str = BITBUCKET_CLOUD_API_BASE_URL
    username: str | None = None
    token: str | None = field(default=None, repr=False)
    app_password: str | None = field(default=None, repr=False)
    has_oauth: bool = False

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        """The ``Authorization`` header for a call (``token`` replaces the configured one)."""
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
        return bool(self.token or (self.username and self.app_password))


def read_bitbucket_cloud_integration_configs(
    config: Config,
) -> list[BitbucketCloudIntegrationConfig]:
    """Every ``integrations.bitbucketCloud`` entry, or one anonymous bitbucket.org entry."""
    entries = config.get_optional_config_array("integrations.bitbucketCloud") or []
    result = []
    for index, entry in enumerate(entries):
        key = f"integrations.bitbucketCloud[{index}]"
        host = read_host(entry, key, provider="Bitbucket Cloud", default=BITBUCKET_CLOUD_HOST)
        item = BitbucketCloudIntegrationConfig(
            host=host,
            api_base_url=read_base_url(entry, "apiBaseUrl", key, provider="Bitbucket Cloud")
            or BITBUCKET_CLOUD_API_BASE_URL,
            username=entry.get_optional_string("username"),
            token=entry.get_optional_string("token"),
            app_password=entry.get_optional_string("appPassword"),
            has_oauth=entry.has("clientId"),
        )
        if item.username and not item.token and not item.app_password:
            raise ConfigError(
                f"Bitbucket Cloud integration for '{host}' has configured a username but is "
                f"missing a required token or appPassword (at '{key}')"
            )
        result.append(item)
    return result or [BitbucketCloudIntegrationConfig()]
