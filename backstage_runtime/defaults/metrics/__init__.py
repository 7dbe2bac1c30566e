"""Default ``alpha.core.metrics`` and ``alpha.core.rootMetrics`` (Backstage's alpha metrics
services): OpenTelemetry instruments from ``runtime.telemetry``.

Usage in a plugin::

    deps={"metrics": metrics_service_ref}
    ...
    processed = metrics.create_counter("backstage.plugin.todo.items.processed")
    processed.add(1, {"kind": "task"})
"""

from ._factory import metrics_service_factory, root_metrics_service_factory
from ._metrics import MeterMetrics, RootMetrics

__all__ = ["MeterMetrics", "RootMetrics", "metrics_service_factory", "root_metrics_service_factory"]
