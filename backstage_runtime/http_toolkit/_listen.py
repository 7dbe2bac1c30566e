"""Where to listen: ``backend.listen`` and ``backend.https``, read as Backstage reads them."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from ..api import Config
from ..api.errors import ConfigError

__all__ = [
    "DEFAULT_PORT",
    "ListenOptions",
    "INHERITED_SOCKET_ENV",
    "bind_beside",
    "bind_socket",
    "inherited_listening_socket",
    "listen_override",
    "open_listening_socket",
    "read_listen_options",
]

#: The port when ``backend.listen`` names none: Backstage's 7007.
DEFAULT_PORT = 7007


@dataclass(frozen=True)
class ListenOptions:
    """The listen address: ``host`` ``""`` means every interface (IPv6 and IPv4 where possible)."""

    host: str
    port: int


def _port(value: object, key: str) -> int:
    try:
        port = int(str(value), 10)
    except ValueError:
        raise ConfigError(f"Invalid port {value!r} at {key}: expected a whole number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"Invalid port {port} at {key}: expected 0-65535")
    return port


def read_listen_options(config: Config) -> ListenOptions:
    """``backend.listen`` as ``"<port>"``, ``"<host>:<port>"`` or ``{host, port}``; defaults
    port 7007 on every interface.
    """
    listen = config.get_optional("backend.listen")
    if isinstance(listen, int) and not isinstance(listen, bool):
        # YAML makes `listen: 7007` a number; Backstage would ignore it, we read it as the port.
        return ListenOptions("", _port(listen, "backend.listen"))
    if isinstance(listen, str):
        parts = listen.split(":")
        if len(parts) in (1, 2) and parts[-1].strip().isdigit():
            port = _port(parts[-1], "backend.listen")
            return ListenOptions(parts[0] if len(parts) == 2 else "", port)
        raise ConfigError(
            f"Unable to parse listen address {listen}, expected <port> or <host>:<port> "
            "(backend.listen)"
        )
    host = config.get_optional("backend.listen.host") if isinstance(listen, dict) else None
    if host is None:
        host = ""
    if not isinstance(host, str):
        config.get_optional_string("backend.listen.host")  # raises the typed config error
        raise ConfigError("Invalid backend.listen.host: expected a string")
    port_value = config.get_optional("backend.listen.port") if isinstance(listen, dict) else None
    port = DEFAULT_PORT if port_value is None else _port(port_value, "backend.listen.port")
    return ListenOptions(host, port)


def listen_override(config: Config, *, host: str | None, port: int | None) -> object:
    """A ``backend.listen`` value that replaces ``host`` and/or ``port`` (None keeps the
    configured one) in the form ``config`` already uses, for the command line's overrides.

    The form matters: an override is merged over the files, and a ``{host, port}`` object over a
    ``"host:port"`` string is a type conflict. Raises :class:`ConfigError` for an IPv6 host given
    to the string form, which cannot hold it.
    """
    listen = config.get_optional("backend.listen")
    if isinstance(listen, dict) or listen is None:
        return {
            **({"host": host} if host is not None else {}),
            **({"port": port} if port is not None else {}),
        }
    current = read_listen_options(config)
    new_host = current.host if host is None else host
    new_port = current.port if port is None else port
    if not new_host:
        return str(new_port) if isinstance(listen, str) else new_port
    if ":" in new_host:
        raise ConfigError(
            f"Unable to listen on host {new_host}: backend.listen is the string {listen!r}, "
            "which has no room for an IPv6 address; use backend.listen: {host, port}"
        )
    return f"{new_host}:{new_port}"


#: The environment variable through which ``serve --workers`` hands each worker the file
#: descriptor of the socket it is to serve: one listening socket shared by every worker, or the
#: worker's own socket, bound beside its siblings' (:func:`bind_beside`) and not listening yet.
INHERITED_SOCKET_ENV = "BACKSTAGE_RUNTIME_LISTEN_FD"


def inherited_listening_socket(
    env: Mapping[str, str] | None = None, backlog: int = 1024
) -> socket.socket | None:
    """The socket a supervisor handed down in :data:`INHERITED_SOCKET_ENV`, listening and
    non-blocking, or None. A socket that is bound but not listening yet is made to listen here,
    with ``backlog``: from then on (not from the worker's birth) the kernel gives it its share of
    the connections.

    Raises :class:`ConfigError` when the variable names no bound TCP socket, rather than
    quietly opening a second one beside the supervisor's.
    """
    value = (os.environ if env is None else env).get(INHERITED_SOCKET_ENV)
    if value is None:
        return None
    try:
        sock = socket.socket(fileno=int(value))
    except (ValueError, OSError) as error:
        raise ConfigError(
            f"{INHERITED_SOCKET_ENV}={value!r} is not an open socket descriptor: {error}"
        ) from error
    listening = sock.type == socket.SOCK_STREAM and bool(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    )
    if not listening and not _bound_stream(sock):
        sock.detach()
        raise ConfigError(f"{INHERITED_SOCKET_ENV}={value} is not a listening TCP socket")
    if not listening:
        sock.listen(backlog)
    sock.setblocking(False)
    return sock


def _bound_stream(sock: socket.socket) -> bool:
    if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    return int(sock.getsockname()[1]) != 0


def open_listening_socket(options: ListenOptions, backlog: int = 1024) -> socket.socket:
    """A bound, listening, non-blocking TCP socket; errors name the address and the config key."""
    sock = bind_socket(options)
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def bind_socket(options: ListenOptions, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``options`` that does not listen yet (so takes no connections);
    errors name the address and the config key.

    ``reuse_port`` sets ``SO_REUSEPORT``: sockets made by :func:`bind_beside` can then share its
    address (and the port the kernel chose for port 0), and while this one is open no socket
    without the option (nor another user's) can take that address.
    """
    host = options.host
    try:
        if host in ("", "::"):
            sock = (
                _dual_stack_socket(options.port, reuse_port)
                if socket.has_dualstack_ipv6()
                else None
            )
            if sock is None:
                sock = _socket_for(socket.AF_INET, "0.0.0.0", options.port, reuse_port)
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            if family == socket.AF_INET and not host.replace(".", "").isdigit():
                info = socket.getaddrinfo(host, options.port, type=socket.SOCK_STREAM)
                family, _, _, _, address = info[0]
                host = str(address[0])
            sock = _socket_for(family, host, options.port, reuse_port)
    except OSError as error:
        reason = "address already in use" if error.errno == errno.EADDRINUSE else str(error)
        shown = options.host or "*"
        raise ConfigError(
            f"Unable to listen on {shown}:{options.port} (backend.listen): {reason}"
        ) from error
    return sock


def bind_beside(anchor: socket.socket) -> socket.socket:
    """A new TCP socket bound to the address of ``anchor`` (made by :func:`bind_socket` with
    ``reuse_port``), not listening yet. Once it and others like it listen, the kernel spreads
    incoming connections over them (Linux hashes each connection to one of the listening
    sockets of the address); ``anchor`` itself never listens, so takes none.

    Raises :class:`OSError` if the address can no longer be shared (``anchor`` was closed).
    """
    sock = socket.socket(anchor.family, socket.SOCK_STREAM)
    try:
        _tune(sock, reuse_port=True)
        if anchor.family == socket.AF_INET6:
            v6only = anchor.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
        sock.bind(anchor.getsockname())
    except BaseException:
        sock.close()
        raise
    return sock


def _tune(sock: socket.socket, reuse_port: bool = False) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Accepted connections inherit it: without it Nagle's algorithm holds the body of a response
    # back until the client acknowledges its headers (Hypercorn writes them separately), which
    # halved throughput in benchmarks/http_overhead.py.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _socket_for(
    family: socket.AddressFamily, host: str, port: int, reuse_port: bool
) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        _tune(sock, reuse_port)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _dual_stack_socket(port: int, reuse_port: bool) -> socket.socket | None:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        _tune(sock, reuse_port)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
    except BaseException:
        sock.close()
        raise
    return sock
