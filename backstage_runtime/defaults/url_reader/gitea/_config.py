"""``integrations.gitea``: one entry per Gitea (or Forgejo) host."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ....api.services.config import Config
from .._integration_config import read_base_url, read_host

__all__ = ["GiteaIntegrationConfig", "read_gitea_integration_configs"]


@dataclass(frozen=True)
class GiteaIntegrationConfig:
    """One Gitea host; ``base_url`` defaults to ``https://<host>`` and the API lives at
    ``<base_url>/api/v1``. ``password`` is a password (with ``username``) or an access token.
    """

    host: str
    base_url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def api_base_url(self) -> str:
        """``<base_url>/api/v1``."""
        return f"{self.base_url}/api/v1"

    @property
    def relative_path(self) -> str:
        """The sub-path Gitea is served under, or ``""``."""
        return urlsplit(self.base_url).path.rstrip("/")

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        """The ``Authorization`` header for a call (``token`` replaces the configured one)."""
        if token:
            return {"Authorization": f"token {token}"}
        if not self.password:
            return {}
        if self.username:
            pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {"Authorization": f"token {self.password}"}


def read_gitea_integration_configs(config: Config) -> list[GiteaIntegrationConfig]:
    """Every ``integrations.gitea`` entry (no default host)."""
    result = []
    for index, entry in enumerate(config.get_optional_config_array("integrations.gitea") or []):
        key = f"integrations.gitea[{index}]"
        host = read_host(entry, key, provider="Gitea")
        result.append(
            GiteaIntegrationConfig(
                host=host,
                base_url=read_base_url(entry, "baseUrl", key, provider="Gitea")
                or f"https://{host}",
                username=entry.get_optional_string("username"),
                password=entry.get_optional_string("password"),
            )
        )
    return result
