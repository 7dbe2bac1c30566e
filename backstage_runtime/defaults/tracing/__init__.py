"""Default ``alpha.core.tracing`` (Backstage's alpha tracing service): spans from the plugin's
tracer of ``runtime.telemetry``.

Usage in a plugin::

    deps={"tracing": tracing_service_ref}
    ...
    with tracing.start_active_span("refresh-entity") as span:
        span.set_attribute("catalog.entity.kind", kind)
"""

from ._factory import tracing_service_factory
from ._tracing import PluginTracing

__all__ = ["PluginTracing", "tracing_service_factory"]
