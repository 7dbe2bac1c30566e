"""``integrations.bitbucketServer``: one entry per Bitbucket Server / Data Center host."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from ....api.services.config import Config
from .._integration_config import read_base_url, read_host

__all__ = ["BitbucketServerIntegrationConfig", "read_bitbucket_server_integration_configs"]


@dataclass(frozen=True)
class BitbucketServerIntegrationConfig:
    """One Bitbucket Server host; ``api_base_url`` defaults to ``https://<host>/rest/api/1.0``.

    Credentials: a bearer ``token`` (HTTP access token), or ``username`` + ``password``
    (basic auth, which wins when both are set, as in Backstage).
    """

    host: str
    api_base_url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        """The ``Authorization`` header for a call (``token`` replaces the configured one)."""
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self.username and self.password:
            pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    @property
    def authed(self) -> bool:
        """Whether credentials are configured."""
        return bool(self.token or (self.username and self.password))


def read_bitbucket_server_integration_configs(
    config: Config,
) -> list[BitbucketServerIntegrationConfig]:
    """Every ``integrations.bitbucketServer`` entry (no default host)."""
    result = []
    entries = config.get_optional_config_array("integrations.bitbucketServer") or []
    for index, entry in enumerate(entries):
        key = f"integrations.bitbucketServer[{index}]"
        host = read_host(entry, key, provider="Bitbucket Server")
        api = read_base_url(entry, "apiBaseUrl", key, provider="Bitbucket Server")
        result.append(
            BitbucketServerIntegrationConfig(
                host=host,
                api_base_url=api or f"https://{host}/rest/api/1.0",
                token=entry.get_optional_string("token"),
                username=entry.get_optional_string("username"),
                password=entry.get_optional_string("password"),
            )
        )
    return result
