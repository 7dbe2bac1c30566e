"""``backend.reading.allow``: the hosts (and paths) the plain fetch reader may read.

Each entry is ``{host, paths?}``. ``host`` is a hostname or a ``*.suffix`` wildcard (subdomains
only, not the suffix itself), optionally with ``:port`` or ``:from-to``. Without a port only
URLs without an explicit port match; with one, a URL without a port counts as 80 (http) or 443
(https). ``paths`` are prefixes at a segment boundary, compared with the normalised path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult

from ....api.errors import ConfigError
from ....api.services.config import Config
from .._urls import effective_port, normalize_path

__all__ = ["AllowedTarget", "parse_allowed_target", "read_allow_list"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class AllowedTarget:
    """One entry of ``backend.reading.allow``."""

    hostname: str
    wildcard: bool = False
    ports: tuple[int, int] | None = None
    paths: tuple[str, ...] | None = None

    def matches(self, parts: SplitResult) -> bool:
        """Whether the URL is covered by this entry."""
        hostname = (parts.hostname or "").lower()
        if self.wildcard:
            if not hostname.endswith("." + self.hostname):
                return False
        elif hostname != self.hostname:
            return False
        return self._port_matches(parts) and self._path_matches(parts.path)

    def _port_matches(self, parts: SplitResult) -> bool:
        port = effective_port(parts)
        if self.ports is None:
            return port is None
        if port is None:
            port = _DEFAULT_PORTS.get(parts.scheme)
            if port is None:
                return False
        return self.ports[0] <= port <= self.ports[1]

    def _path_matches(self, path: str) -> bool:
        if self.paths is None:
            return True
        target = normalize_path(path or "/")
        for allowed in self.paths:
            if allowed.endswith("/"):
                if target.startswith(allowed):
                    return True
            elif target == allowed or target.startswith(allowed + "/"):
                return True
        return False


def parse_allowed_target(
    host: str, paths: Sequence[str] | None = None, *, key: str = "backend.reading.allow"
) -> AllowedTarget:
    """Parse one entry; raises :class:`ConfigError` naming ``key`` when it is invalid."""
    hostname, _, port = host.strip().partition(":")
    hostname = hostname.lower()
    wildcard = hostname.startswith("*.")
    if wildcard:
        hostname = hostname[2:]
    if not hostname or "*" in hostname or "/" in hostname:
        raise ConfigError(
            f"Invalid host '{host}' at '{key}.host': expected a hostname or '*.<domain>', "
            "optionally with ':<port>' or ':<from>-<to>'"
        )
    return AllowedTarget(
        hostname=hostname,
        wildcard=wildcard,
        ports=_parse_ports(port, key) if port else None,
        paths=tuple(_clean_path(p) for p in paths) if paths is not None else None,
    )


def read_allow_list(config: Config) -> list[AllowedTarget]:
    """Every entry of ``backend.reading.allow`` (none when the key is absent)."""
    entries = config.get_optional_config_array("backend.reading.allow") or []
    targets = []
    for index, entry in enumerate(entries):
        key = f"backend.reading.allow[{index}]"
        targets.append(
            parse_allowed_target(
                entry.get_string("host"), entry.get_optional_string_array("paths"), key=key
            )
        )
    return targets


def _parse_ports(port: str, key: str) -> tuple[int, int]:
    start_text, dash, end_text = port.partition("-")
    try:
        start = int(start_text)
        end = int(end_text) if dash else start
    except ValueError:
        raise ConfigError(f"Port range is not valid: '{port}' at '{key}.host'") from None
    if start <= 0 or end <= 0 or start > end or end > 65535:
        raise ConfigError(f"Port range is not valid: [{start}, {end}] at '{key}.host'")
    return start, end


def _clean_path(path: str) -> str:
    return path if path.startswith("/") else "/" + path
