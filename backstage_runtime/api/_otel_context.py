"""OpenTelemetry's current context and span key, reached without the API's calls.

The API's ``get_current``, ``attach`` and ``detach`` each go through two calls to the runtime
context; under the default one (``contextvars``) they are a ContextVar's ``get``, ``set`` and
``reset``. The span key is the API's private name for the current span in a context. Both
are found through ``sys.modules`` (nothing is imported here: OpenTelemetry loads only when
something records), and both answer None where they are not what is relied on, so that the
caller uses the API.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from typing import Any

__all__ = ["runtime_context_var", "span_key"]


def runtime_context_var() -> ContextVar[Any] | None:
    """The ContextVar that holds OpenTelemetry's current context when its runtime context is
    the default one (``contextvars``), else None: ``get``, ``set`` and ``reset`` on it are the
    API's ``get_current``, ``attach`` and ``detach``, without two calls each."""
    runtime = getattr(sys.modules.get("opentelemetry.context"), "_RUNTIME_CONTEXT", None)
    module = sys.modules.get("opentelemetry.context.contextvars_context")
    if module is None or type(runtime) is not module.ContextVarsRuntimeContext:
        return None
    var = getattr(runtime, "_current_context", None)
    return var if isinstance(var, ContextVar) else None


def span_key() -> str | None:
    """The API's key for the current span in a context (private: None without it)."""
    key = getattr(sys.modules.get("opentelemetry.trace.propagation"), "_SPAN_KEY", None)
    return key if isinstance(key, str) else None
