"""Running Hypercorn on our own socket, and stopping it without cutting a request."""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import time
from typing import Any, cast

import anyio
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.config import Sockets
from hypercorn.utils import wrap_app

from ...api import LoggerService
from ...stdlib_logging import StdlibLoggingBridge
from . import _strict_http1
from ._app import RootHttpApp
from ._server_limits import ServerLimits

__all__ = ["CUT_WRITE_SECONDS", "HttpServer"]

#: How long a cut request may take to write its 503 (and the server its last bytes) before the
#: server is cancelled outright.
CUT_WRITE_SECONDS = 1.0


class _ServerConfig(_strict_http1.StrictFramingConfig, HypercornConfig):
    """Hypercorn's config with a TLS context made by us (Hypercorn only knows files) and
    HTTP/1.1 framing as strict as Node's.
    """

    def __init__(
        self, tls: ssl.SSLContext | None, *, limits: ServerLimits, allow_h2c: bool = False
    ) -> None:
        super().__init__()
        self._tls = tls
        self.allow_h2c = allow_h2c
        self.server_limits = limits
        # Hypercorn closes a connection after 1000 requests; Node only with maxRequestsPerSocket.
        self.keep_alive_max_requests = limits.max_requests_per_socket or sys.maxsize
        # Per protocol: the second and the header lines Hypercorn made for it.
        self._response_headers: dict[str, tuple[int, list[tuple[bytes, bytes]]]] = {}

    def response_headers(self, protocol: str) -> list[tuple[bytes, bytes]]:
        """Hypercorn's headers for every response (``Date``), made once a second: formatting
        the date cost ~17k instructions a response (callgrind), about 1% of a served request.
        """
        second = int(time.time())
        made = self._response_headers.get(protocol)
        if made is None or made[0] != second:
            made = (second, super().response_headers(protocol))
            self._response_headers[protocol] = made
        return list(made[1])  # a list of the caller's own, as Hypercorn's

    @property
    def ssl_enabled(self) -> bool:
        return self._tls is not None

    def create_ssl_context(self) -> ssl.SSLContext | None:
        return self._tls


class HttpServer:
    """One Hypercorn server for ``app`` on an already listening ``sock``.

    :meth:`serve` runs until :meth:`stop_accepting` (then it lets open requests finish) or until
    :meth:`close` gives up waiting. ``limits`` are Node's per-connection limits
    (``backend.server.*``; Node's defaults without). Hypercorn's own ``graceful_timeout`` is not
    relied on: on Python 3.12+ it is ignored (hypercorn#308), so the drain is ours, counted by
    the app.
    """

    def __init__(
        self,
        app: RootHttpApp,
        sock: socket.socket,
        *,
        tls: ssl.SSLContext | None,
        logger: LoggerService,
        keep_alive_timeout: float,
        limits: ServerLimits | None = None,
        allow_h2c: bool = False,
    ) -> None:
        _strict_http1.install()
        self._app = app
        self._sock = sock
        self._logger = logger
        self._stop_accepting = anyio.Event()
        self._done = anyio.Event()
        self._cancel_scope: anyio.CancelScope | None = None
        self._deadline: float | None = None  # when the drain's wait ends (anyio clock)
        self._config = _ServerConfig(tls, limits=limits or ServerLimits(), allow_h2c=allow_h2c)
        self._config.accesslog = None  # requests are logged by the app, in Backstage's format
        self._config.errorlog = self._hypercorn_logger()
        self._config.include_server_header = False  # as Node: no Server header
        self._config.keep_alive_timeout = keep_alive_timeout
        # Only reached on Python 3.11, where Hypercorn would cancel requests still running after
        # it; the app's own drain decides how long to wait instead.
        self._config.graceful_timeout = None  # type: ignore[assignment]

    @property
    def tls(self) -> bool:
        """Whether the server speaks TLS."""
        return self._config.ssl_enabled

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the server listens on (the real port when 0 was asked for)."""
        name: Any = self._sock.getsockname()
        return str(name[0]), int(name[1])

    def _hypercorn_logger(self) -> logging.Logger:
        # A private stdlib logger per server, forwarding Hypercorn's warnings and errors (a
        # failing connection, an app error after the response started) to the backend's logger.
        stdlib_logger = logging.getLogger(f"backstage_runtime.http_server.{id(self):x}")
        stdlib_logger.propagate = False
        stdlib_logger.setLevel(logging.WARNING)
        stdlib_logger.handlers = [StdlibLoggingBridge(self._logger)]
        return stdlib_logger

    async def serve(self) -> None:
        """Serve until stopped (run as a background task)."""
        tls = self._config.ssl_enabled
        sockets = Sockets(
            secure_sockets=[self._sock] if tls else [],
            insecure_sockets=[] if tls else [self._sock],
            quic_sockets=[],
        )
        try:
            with anyio.CancelScope() as scope:
                self._cancel_scope = scope
                await worker_serve(
                    wrap_app(cast(Any, self._app), self._config.wsgi_max_body_size, "asgi"),
                    self._config,
                    sockets=sockets,
                    shutdown_trigger=self._stop_accepting.wait,
                )
        finally:
            self._sock.close()
            self._done.set()

    def stop_accepting(self) -> None:
        """Close the listening socket (new connections are refused) and idle keep-alive
        connections; requests in progress go on.
        """
        self._stop_accepting.set()

    async def drain(self, grace: float, timeout: float) -> None:
        """Wait ``grace`` seconds (still serving), stop accepting, then wait up to ``timeout``
        seconds for every request in progress to finish; the ones still running are then cut
        (answered 503 if their response has not started).

        The ``timeout`` is the whole budget of the drain and :meth:`close` together: a request
        that never finishes is waited for once, so the stop fits in a known grace period.
        """
        if grace > 0:
            self._logger.info(f"Waiting {grace:g}s before closing the server")
            await anyio.sleep(grace)
        self.stop_accepting()
        self._deadline = anyio.current_time() + timeout
        in_flight = self._app.in_flight
        with anyio.move_on_after(timeout):
            await in_flight.wait_idle()
        remaining = in_flight.cut(
            f"Backend is shutting down; the request did not finish within {timeout:g}s"
        )
        if remaining:
            self._logger.warn(
                f"{remaining} request(s) still running after {timeout:g}s; shutting down anyway"
            )
            # The cut requests answer at once; this only bounds a handler that shields itself.
            with anyio.move_on_after(CUT_WRITE_SECONDS):
                await in_flight.wait_idle()

    async def close(self, timeout: float) -> None:
        """Stop the server, waiting for it to finish on its own until the drain's deadline (or
        ``timeout`` seconds without a drain; at least :data:`CUT_WRITE_SECONDS`, time for the
        last responses to be written), then cancel what is left (websockets, say).
        """
        self.stop_accepting()
        self._app.in_flight.cut("Backend is shutting down")
        wait = timeout
        if self._deadline is not None:
            wait = self._deadline - anyio.current_time()
        with anyio.move_on_after(max(wait, CUT_WRITE_SECONDS)):
            await self._done.wait()
        if not self._done.is_set() and self._cancel_scope is not None:
            self._cancel_scope.cancel()
            await self._done.wait()
