"""Backstage's ``HostDiscovery``: plugin URLs from ``backend.baseUrl``, ``backend.listen`` and
``discovery.endpoints``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ...api import Config, LoggerService
from ...api.errors import ConfigError
from ...http_toolkit import read_listen_options

__all__ = ["DiscoveryEndpoint", "HostDiscovery", "read_discovery_endpoints"]

_PLACEHOLDER = re.compile(r"\{\{\s*pluginId\s*\}\}")


@dataclass(frozen=True)
class DiscoveryEndpoint:
    """One ``discovery.endpoints`` entry: URL templates and the plugin ids (or ``*``) they serve."""

    internal: str | None
    external: str | None
    plugins: tuple[str, ...]


def read_discovery_endpoints(config: Config) -> list[DiscoveryEndpoint]:
    """``discovery.endpoints``: ``{target: <url> | {internal?, external?}, plugins: [...]}``."""
    entries = config.get_optional_config_array("discovery.endpoints") or []
    endpoints: list[DiscoveryEndpoint] = []
    for index, entry in enumerate(entries):
        key = f"discovery.endpoints[{index}]"
        plugins = tuple(entry.get_string_array("plugins"))
        target = entry.get("target")
        if isinstance(target, str):
            internal: str | None = target
            external: str | None = target
        else:
            internal = entry.get_optional_string("target.internal")
            external = entry.get_optional_string("target.external")
        for url in (internal, external):
            if url is not None and url.split("://", 1)[0] in ("http+srv", "https+srv"):
                raise ConfigError(
                    f"SRV resolver URLs are not supported yet (at {key}.target): {url}"
                )
        endpoints.append(DiscoveryEndpoint(internal, external, plugins))
    return endpoints


def _internal_host(host: str) -> str:
    if host in ("", "::"):
        return "localhost"
    if host == "0.0.0.0":
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class HostDiscovery:
    """Resolves plugin base URLs.

    Internal URLs (backend to backend) fall back to ``<http|https>://<listen host>:<port>/api/<id>``
    and external ones (browsers, webhooks) to ``<backend.baseUrl>/api/<id>``; a
    ``discovery.endpoints`` entry naming the plugin beats one naming ``*``, and among entries
    naming the same id the later wins. ``{{pluginId}}`` in a target is replaced by the URL-encoded
    plugin id.
    """

    def __init__(
        self,
        *,
        base_url: str,
        listen_host: str,
        listen_port: int | Callable[[], int],
        https: bool,
        endpoints: list[DiscoveryEndpoint],
    ) -> None:
        self._external_base = base_url.rstrip("/")
        self._listen_host = _internal_host(listen_host)
        self._listen_port = listen_port
        self._scheme = "https" if https else "http"
        self._endpoints = endpoints
        self._warn_default: Callable[[], None] | None = None

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        logger: LoggerService | None = None,
        listen_port: int | Callable[[], int] | None = None,
        https: bool | None = None,
    ) -> HostDiscovery:
        """Read ``backend.baseUrl``, ``backend.listen``, ``backend.https`` and
        ``discovery.endpoints``. ``listen_port`` overrides the configured port (the port really
        bound, when 0 was configured).
        """
        listen = read_listen_options(config)
        port = listen_port if listen_port is not None else listen.port
        tls = bool(config.get_optional("backend.https")) if https is None else https
        base_url = config.get_optional_string("backend.baseUrl")
        defaulted = base_url is None
        if base_url is None:
            # Backstage requires backend.baseUrl; we fall back to the internal address so that
            # a backend without any config still answers (and warn once an external URL is used).
            shown_port = port() if callable(port) else port
            base_url = f"{'https' if tls else 'http'}://{_internal_host(listen.host)}:{shown_port}"
        parsed = urlsplit(base_url)
        if logger is not None and (not parsed.scheme or not parsed.netloc):
            logger.warn(f"Config 'backend.baseUrl' is not a valid URL: {base_url}")
        discovery = cls(
            base_url=base_url,
            listen_host=listen.host,
            listen_port=port,
            https=tls,
            endpoints=read_discovery_endpoints(config),
        )
        if defaulted and logger is not None:
            discovery._warn_default = lambda: logger.warn(
                f"backend.baseUrl is not set; external URLs use {base_url}"
            )
        return discovery

    def set_endpoints(self, endpoints: list[DiscoveryEndpoint]) -> None:
        """Replace the ``discovery.endpoints`` entries (after a config change)."""
        self._endpoints = endpoints

    def _target(self, plugin_id: str, kind: str) -> str | None:
        wildcard: str | None = None
        exact: str | None = None
        for endpoint in self._endpoints:
            url = endpoint.internal if kind == "internal" else endpoint.external
            if url is None:
                continue
            if plugin_id in endpoint.plugins:
                exact = url
            elif "*" in endpoint.plugins:
                wildcard = url
        chosen = exact if exact is not None else wildcard
        if chosen is None:
            return None
        return _PLACEHOLDER.sub(quote(plugin_id, safe=""), chosen)

    async def get_base_url(self, plugin_id: str) -> str:
        """The internal base URL of ``plugin_id``, without a trailing slash."""
        target = self._target(plugin_id, "internal")
        if target is not None:
            return target
        port = self._listen_port() if callable(self._listen_port) else self._listen_port
        return f"{self._scheme}://{self._listen_host}:{port}/api/{plugin_id}"

    async def get_external_base_url(self, plugin_id: str) -> str:
        """The external base URL of ``plugin_id``, without a trailing slash."""
        target = self._target(plugin_id, "external")
        if target is not None:
            return target
        if self._warn_default is not None:
            warn, self._warn_default = self._warn_default, None
            warn()
        return f"{self._external_base}/api/{plugin_id}"
