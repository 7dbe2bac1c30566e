"""``integrations.harness``: one entry per Harness host (``app.harness.io`` or a dedicated one).

Backstage's keys are ``host``, ``token`` and ``apiKey``; there is no default entry. We also
read an optional ``baseUrl`` (Backstage's first Harness config had it) so that the API can be
reached through a proxy or a test server; without it the API is at ``https://<host>``, as in
Backstage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....api.services.config import Config
from .._integration_config import read_base_url, read_host

__all__ = ["HarnessIntegrationConfig", "read_harness_integration_configs"]

_PROVIDER = "Harness Code"


@dataclass(frozen=True)
class HarnessIntegrationConfig:
    """One Harness host. ``api_key`` (sent as ``x-api-key``) wins over ``token`` (sent as
    ``Authorization: Bearer``), as in Backstage's ``getHarnessRequestOptions``.
    """

    host: str
    base_url: str
    token: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

    @property
    def api_base_url(self) -> str:
        """``<base_url>/gateway/code/api/v1``, where Harness Code's REST API lives."""
        return f"{self.base_url}/gateway/code/api/v1"

    @property
    def authed(self) -> bool:
        """Whether requests carry configured credentials."""
        return bool(self.token or self.api_key)

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        """The credential header for a call; a ``token`` given by the caller replaces the
        configured credentials (both the API key and the token).
        """
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self.api_key:
            return {"x-api-key": self.api_key}
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        return {}


def read_harness_integration_configs(config: Config) -> list[HarnessIntegrationConfig]:
    """Every ``integrations.harness`` entry (``host`` is required, there is no default)."""
    result = []
    for index, entry in enumerate(config.get_optional_config_array("integrations.harness") or []):
        key = f"integrations.harness[{index}]"
        host = read_host(entry, key, provider=_PROVIDER)
        result.append(
            HarnessIntegrationConfig(
                host=host,
                base_url=read_base_url(entry, "baseUrl", key, provider=_PROVIDER)
                or f"https://{host}",
                token=entry.get_optional_string("token") or None,
                api_key=entry.get_optional_string("apiKey") or None,
            )
        )
    return result
