"""The sockets a ``serve --workers`` supervisor hands its workers.

On Linux every worker gets a socket of its own, bound to the listen address with
``SO_REUSEPORT`` beside a socket the supervisor keeps (bound, never listening: it holds the
address and the port chosen for port 0, and takes no connections). The kernel hashes each new
connection to one of the listening sockets, so connections opened together spread over the
workers. One shared listening socket does not: its accept queue goes to whichever worker wakes
first, and asyncio's accept loop takes every queued connection at once, so a client pool opened
in one burst (wrk's 50 connections) stayed with one worker while the other idled.

The cost of a socket per worker: a worker that stalls (without dying) still receives its share
of new connections, which wait until it resumes; a worker that dies takes with it the
connections queued for it and not yet accepted.

Elsewhere (macOS and the BSDs do not spread connections over ``SO_REUSEPORT`` sockets) every
worker serves one listening socket, as before.
"""

from __future__ import annotations

import socket
import sys

from ..http_toolkit import ListenOptions, bind_beside, bind_socket, open_listening_socket

__all__ = ["WorkerSockets", "balances_reuse_port"]


def balances_reuse_port(platform: str = sys.platform) -> bool:
    """Whether the kernel of ``platform`` spreads connections over ``SO_REUSEPORT`` sockets."""
    return platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class WorkerSockets:
    """The listen address, held by the supervisor, and the socket each new worker serves.

    ``per_worker`` (default: :func:`balances_reuse_port`) gives each worker its own socket;
    otherwise every worker shares one listening socket. Raises
    :class:`~backstage_runtime.api.errors.ConfigError` naming ``backend.listen`` when the
    address cannot be taken.
    """

    def __init__(self, options: ListenOptions, *, per_worker: bool | None = None) -> None:
        self.per_worker = balances_reuse_port() if per_worker is None else per_worker
        self._held = (
            bind_socket(options, reuse_port=True)
            if self.per_worker
            else open_listening_socket(options)
        )

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the workers listen on (the real port when 0 was asked for)."""
        name = self._held.getsockname()
        return str(name[0]), int(name[1])

    def for_worker(self) -> socket.socket:
        """The socket to hand a worker being started: a new one bound beside the held one (the
        worker listens on it once its HTTP server starts), or the shared listening one. Give it
        back to :meth:`handed_over` once the worker has its copy.
        """
        return bind_beside(self._held) if self.per_worker else self._held

    def handed_over(self, sock: socket.socket) -> None:
        """The worker has its copy of ``sock``: close the supervisor's own, so that the worker's
        socket (and the connections queued on it) ends with the worker.
        """
        if sock is not self._held:
            sock.close()

    def close(self) -> None:
        """Release the address: once the workers close theirs, new connections are refused."""
        self._held.close()
