"""Default ``alpha.core.tracing`` (Backstage's alpha tracing service): spans from the plugin's
tracer of ``runtime.telemetry``.

Usage in a plugin::

    deps={"tracing": tracing_service_ref}
    ...
    with tracing.start_active_span("refresh-entity") as span:
        span.set_attribute("catalog.entity.kind", kind)
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import tracing_service_factory

# PluginTracing (and OpenTelemetry's API) loads on first use (backstage_runtime._lazy).
if TYPE_CHECKING:
    from ._tracing import PluginTracing
else:
    __getattr__, __dir__ = lazy_exports(__name__, {"PluginTracing": "._tracing"})

__all__ = ["PluginTracing", "tracing_service_factory"]
