"""``integrations.gerrit``: one entry per Gerrit host, with the Gitiles that browses it.

As in Backstage's ``readGerritIntegrationConfig``: ``host`` and ``gitilesBaseUrl`` are required,
``baseUrl`` defaults to ``https://<host>``, ``cloneUrl`` to ``baseUrl``, trailing slashes are
dropped and ``password`` (an HTTP password or token, used with ``username``) is trimmed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from ....api.errors import ConfigError
from ....api.services.config import Config
from .._integration_config import read_base_url, read_host
from .._urls import split_url, url_host

__all__ = ["GerritIntegrationConfig", "read_gerrit_integration_configs"]

_PROVIDER = "Gerrit"


@dataclass(frozen=True)
class GerritIntegrationConfig:
    """One Gerrit host. The REST API lives at ``base_url``; locations are Gitiles URLs below
    ``gitiles_base_url`` (its host is the one the reader accepts). ``key`` names the entry in
    errors (``integrations.gerrit[0]``).
    """

    host: str
    base_url: str
    clone_url: str
    gitiles_base_url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    key: str = "integrations.gerrit"

    @property
    def gitiles_host(self) -> str:
        """The host of ``gitiles_base_url``: Backstage's predicate compares URLs with it."""
        return url_host(split_url(self.gitiles_base_url))

    @property
    def gitiles_path(self) -> str:
        """The path Gitiles is served under (``/plugins/gitiles``), or ``""``."""
        return split_url(self.gitiles_base_url).path.rstrip("/")

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        """The ``Authorization`` header for a call.

        Gerrit authenticates REST calls with the user's HTTP password (Basic auth); a per-call
        ``token`` replaces the configured password, and is sent as a Bearer token (Gerrit's
        OAuth) when no ``username`` is configured.
        """
        if token:
            if not self.username:
                return {"Authorization": f"Bearer {token}"}
            return {"Authorization": f"Basic {_basic(self.username, token)}"}
        if not self.password:
            return {}
        return {"Authorization": f"Basic {_basic(self.username or '', self.password)}"}

    def api_url(self, *, authed: bool) -> str:
        """The REST API root: Gerrit serves authenticated calls below ``/a/``."""
        return f"{self.base_url}/a" if authed else self.base_url

    def gitiles_url(self, *, authed: bool) -> str:
        """The Gitiles root to call; authenticated calls go through Gerrit's ``/a/`` prefix,
        which only exists when Gitiles is served by Gerrit (below ``baseUrl``).
        """
        if not authed:
            return self.gitiles_base_url
        base, gitiles = self.base_url, self.gitiles_base_url
        if gitiles == base or gitiles.startswith(base + "/"):
            return f"{base}/a{gitiles[len(base) :]}"
        raise ConfigError(
            f"Invalid Gerrit integration config at '{self.key}.gitilesBaseUrl': the baseUrl "
            f"'{base}' is not part of the gitilesBaseUrl '{gitiles}', so no authenticated "
            "Gitiles URL can be built"
        )


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def read_gerrit_integration_configs(config: Config) -> list[GerritIntegrationConfig]:
    """Every ``integrations.gerrit`` entry (there is no default host)."""
    result = []
    for index, entry in enumerate(config.get_optional_config_array("integrations.gerrit") or []):
        key = f"integrations.gerrit[{index}]"
        host = read_host(entry, key, provider=_PROVIDER)
        # Required in current Backstage (it used to default to https://<host>); reading it
        # with get_string first makes a missing value name its key.
        entry.get_string("gitilesBaseUrl")
        gitiles = read_base_url(entry, "gitilesBaseUrl", key, provider=_PROVIDER)
        base_url = read_base_url(entry, "baseUrl", key, provider=_PROVIDER) or f"https://{host}"
        clone_url = read_base_url(entry, "cloneUrl", key, provider=_PROVIDER) or base_url
        password = entry.get_optional_string("password")
        result.append(
            GerritIntegrationConfig(
                host=host,
                base_url=base_url,
                clone_url=clone_url,
                gitiles_base_url=gitiles or f"https://{host}",  # never empty: required above
                username=entry.get_optional_string("username"),
                password=(password.strip() or None) if password else None,
                key=key,
            )
        )
    return result
