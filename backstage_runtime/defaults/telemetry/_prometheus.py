"""The Prometheus scrape endpoint: OpenTelemetry's Prometheus reader on a port of its own.

It listens apart from the backend's HTTP server on purpose: nothing under ``/api`` (behind
the plugins' credentials barrier) nor at the root of the public port, so that metrics are never
published to the backend's callers by accident, and a scrape never waits behind requests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from prometheus_client import CollectorRegistry, start_http_server

from ...api.errors import ConfigError

__all__ = ["PrometheusEndpoint"]


@dataclass(slots=True)
class PrometheusEndpoint:
    """The reader, and prometheus_client's server thread answering scrapes at any path
    (``/metrics`` by convention) with the text exposition format."""

    reader: PrometheusMetricReader
    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    @classmethod
    def start(cls, host: str, port: int) -> PrometheusEndpoint:
        """Listen on ``host:port`` (port 0: any free one, see :attr:`port`).

        Raises :class:`ConfigError` naming ``backend.metrics.prometheus`` when the address
        cannot be bound.
        """
        # A registry of the backend's own: the process-wide default one would mix the
        # instruments of two backends in one process.
        registry = CollectorRegistry(auto_describe=False)
        reader = PrometheusMetricReader(registry=registry)
        try:
            server, thread = start_http_server(port, addr=host, registry=registry)
        except OSError as error:
            raise ConfigError(
                f"Cannot listen on {host}:{port} for 'backend.metrics.prometheus': {error}"
            ) from error
        return cls(reader, host, server.server_port, server, thread)

    def close(self) -> None:
        """Stop listening (blocks until the server thread is done: call it from a thread)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
