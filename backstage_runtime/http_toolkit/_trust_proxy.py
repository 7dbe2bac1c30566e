"""``backend.trustProxy``: which client address a request has, with Express's ``trust proxy``
semantics (the ``proxy-addr`` package).

The addresses a request came through are the socket's peer, then the ``X-Forwarded-For`` entries
from the right (the proxy nearest to us appended the last one). Walking them in that order, the
first address that is not trusted is the client; when every proxy is trusted, the leftmost
entry is. ``trustProxy`` says who is trusted: ``true`` everyone, ``false`` no one, a number the
first N hops, or addresses and networks (a list or a comma-separated string; ``loopback``,
``linklocal`` and ``uniquelocal`` name their ranges).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence

from ..api import Config
from ..api.errors import ConfigError
from ._asgi import ASGIApp, Receive, Scope, Send

__all__ = [
    "TrustProxy",
    "TrustProxyMiddleware",
    "client_address",
    "compile_trust_proxy",
    "peer_address",
    "read_trust_proxy",
]

#: Is the address at this hop (0: the socket's peer) a proxy we trust?
TrustProxy = Callable[[str, int], bool]

_NAMED_RANGES = {
    "loopback": ("127.0.0.1/8", "::1/128"),
    "linklocal": ("169.254.0.0/16", "fe80::/10"),
    "uniquelocal": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"),
}

_KEY = "backend.trustProxy"
# The socket's peer, kept in the scope when the client address replaces it.
_PEER_KEY = "backstage.peer"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(entry: str) -> Network:
    address, slash, mask = entry.partition("/")
    ip = ipaddress.ip_address(address.strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # proxy-addr compares an IPv4-mapped entry as the IPv4 address it maps.
        prefix = int(mask) - 96 if slash and mask.isdigit() else 32
        return ipaddress.ip_network(f"{ip.ipv4_mapped}/{prefix}", strict=False)
    return ipaddress.ip_network(f"{ip}/{mask.strip()}" if slash else str(ip), strict=False)


def _matches(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # not an address: never a trusted proxy, so it ends the walk
    for network in networks:
        candidate: ipaddress.IPv4Address | ipaddress.IPv6Address = ip
        if ip.version != network.version:
            if isinstance(ip, ipaddress.IPv6Address):
                if ip.ipv4_mapped is None:
                    continue
                candidate = ip.ipv4_mapped
            else:
                candidate = ipaddress.IPv6Address(f"::ffff:{ip}")
        if candidate in network:
            return True
    return False


def compile_trust_proxy(value: object, *, key: str = _KEY) -> TrustProxy:
    """The trust function of a ``trustProxy`` value (bool, hop count, address list or
    comma-separated string). Raises :class:`ConfigError` naming ``key`` for anything else.
    """
    if value is True:
        return lambda _address, _hop: True
    if value is False or value is None:
        return lambda _address, _hop: False
    if isinstance(value, int | float):
        if value < 0:
            raise ConfigError(f"Invalid config at '{key}': a hop count must not be negative")
        hops = value
        return lambda _address, hop: hop < hops
    if isinstance(value, str):
        entries: Iterable[object] = value.split(",")
    elif isinstance(value, list | tuple):
        entries = value
    else:
        raise ConfigError(
            f"Invalid config at '{key}': expected true/false, a number of hops, or addresses"
        )
    networks: list[Network] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise ConfigError(f"Invalid config at '{key}': addresses must be strings")
        name = entry.strip()
        try:
            networks.extend(_network(part) for part in _NAMED_RANGES.get(name, (name,)))
        except ValueError:
            raise ConfigError(f"Invalid config at '{key}': invalid IP address: {name}") from None
    return lambda address, _hop: _matches(address, networks)


def read_trust_proxy(config: Config) -> TrustProxy | None:
    """``backend.trustProxy`` compiled, or None when it is not set (only the socket counts)."""
    value = config.get_optional(_KEY)
    if value is None:
        return None
    return compile_trust_proxy(value)


def resolve_client(peer: str, forwarded_for: Sequence[bytes], trust: TrustProxy) -> str:
    """The client address of a request from ``peer`` with these ``X-Forwarded-For`` values."""
    entries = [
        item.strip() for value in forwarded_for for item in value.decode("latin-1").split(",")
    ]
    chain = [peer, *reversed([entry for entry in entries if entry])]
    for hop, address in enumerate(chain[:-1]):
        if not trust(address, hop):
            return address
    return chain[-1]


def client_address(scope: Scope) -> str | None:
    """The request's client address: ``trustProxy``'s answer when a root router applied it
    (Express's ``req.ip``), else the socket's peer; None when the server does not say.
    """
    client = scope.get("client")
    return str(client[0]) if client else None


def peer_address(scope: Scope) -> str | None:
    """The socket's peer address (Express's ``req.socket.remoteAddress``), whatever
    ``trustProxy`` says.
    """
    peer = scope.get(_PEER_KEY)
    if peer is not None:
        return str(peer)
    return client_address(scope)


class TrustProxyMiddleware:
    """Puts the client address that ``trust`` picks in the scope's ``client`` (so Quart's
    ``request.remote_addr``, the request log, the auditor and rate limits see it) and keeps
    the socket's peer for :func:`peer_address`.
    """

    __slots__ = ("_trust", "app")

    def __init__(self, app: ASGIApp, trust: TrustProxy) -> None:
        self.app = app
        self._trust = trust

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the client, then serve the request."""
        client = scope.get("client")
        if client and scope["type"] in ("http", "websocket"):
            forwarded = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
            if forwarded:
                peer = str(client[0])
                address = resolve_client(peer, forwarded, self._trust)
                scope[_PEER_KEY] = peer
                if address != peer:
                    scope["client"] = (address, 0)
        await self.app(scope, receive, send)
