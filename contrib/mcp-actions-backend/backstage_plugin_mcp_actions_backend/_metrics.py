"""Node's MCP metrics (OpenTelemetry's MCP semantic conventions) through the OpenTelemetry API.

Without an OpenTelemetry SDK configured the API hands out no-op instruments; with one, the
histograms appear under the meter ``backstage-plugin-mcp-actions``:

- ``mcp.server.operation.duration`` (s): each ``tools/list`` and ``tools/call``, with
  ``mcp.method.name``, for calls ``gen_ai.tool.name`` and ``gen_ai.operation.name=execute_tool``,
  and ``error.type`` when it failed (the error's name, or ``tool_error`` for a tool error result).
- ``mcp.server.session.duration`` (s): each HTTP exchange (stateless: one ``POST``), with
  ``mcp.protocol.version``, ``network.transport=tcp``, ``network.protocol.name=http`` and
  ``error.type`` when it failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import metrics

from backstage_runtime import BackstageError

__all__ = ["METER_NAME", "McpMetrics", "Outcome", "error_type"]

METER_NAME = "backstage-plugin-mcp-actions"

# OpenTelemetry's recommended boundaries for the MCP durations (semantic conventions 1.39).
_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


def error_type(error: BaseException) -> str:
    """An error's name as Node reports it (a Backstage error's wire name, else its class)."""
    return error.error_name if isinstance(error, BackstageError) else type(error).__name__


class Outcome:
    """How a measured operation ended; the caller sets ``error_type`` for a failure that is
    not an exception (a tool error result).
    """

    __slots__ = ("error_type",)

    def __init__(self) -> None:
        self.error_type: str | None = None


class McpMetrics:
    """The two histograms, from ``meter_provider`` (default: the global one)."""

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        meter = metrics.get_meter(METER_NAME, meter_provider=meter_provider)
        self._operations = meter.create_histogram(
            "mcp.server.operation.duration",
            unit="s",
            description="MCP request duration as observed on the receiver",
            explicit_bucket_boundaries_advisory=_BUCKETS,
        )
        self._sessions = meter.create_histogram(
            "mcp.server.session.duration",
            unit="s",
            description="The duration of the MCP session as observed on the MCP server",
            explicit_bucket_boundaries_advisory=_BUCKETS,
        )

    @contextmanager
    def operation(self, method: str, tool_name: str | None = None) -> Iterator[Outcome]:
        """Measure one MCP request (``tools/list``, ``tools/call`` of ``tool_name``)."""
        attributes: dict[str, str] = {"mcp.method.name": method}
        if tool_name is not None:
            attributes["gen_ai.tool.name"] = tool_name
            attributes["gen_ai.operation.name"] = "execute_tool"
        with self._measure(self._operations, attributes) as outcome:
            yield outcome

    @contextmanager
    def session(self, protocol_version: str) -> Iterator[Outcome]:
        """Measure one HTTP exchange."""
        attributes = {
            "mcp.protocol.version": protocol_version,
            "network.transport": "tcp",
            "network.protocol.name": "http",
        }
        with self._measure(self._sessions, attributes) as outcome:
            yield outcome

    @contextmanager
    def _measure(
        self, histogram: metrics.Histogram, attributes: dict[str, str]
    ) -> Iterator[Outcome]:
        outcome = Outcome()
        started = time.perf_counter()
        try:
            yield outcome
        except Exception as error:
            outcome.error_type = error_type(error)
            raise
        finally:
            if outcome.error_type is not None:
                attributes = {**attributes, "error.type": outcome.error_type}
            histogram.record(time.perf_counter() - started, attributes)
