"""Default ``core.actionsRegistry``: the actions a plugin registers, served over HTTP.

Usage in a plugin::

    registry.register(
        name="greet", title="Greet", description="Says hello",
        input_schema={"type": "object", "properties": {"name": {"type": "string"}},
                      "required": ["name"]},
        action=greet,
    )

The actions service lists ``GET /api/<pluginId>/.backstage/actions/v1/actions`` and calls
``POST /api/<pluginId>/.backstage/actions/v1/actions/<actionId>/invoke``.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import actions_registry_service_factory, alpha_actions_registry_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._registry import ActionsRegistry, RegisteredAction, attributes_json
    from ._schemas import ActionSchema, SchemaViolation, compile_schema
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "ActionsRegistry": "._registry",
            "RegisteredAction": "._registry",
            "attributes_json": "._registry",
            "ActionSchema": "._schemas",
            "SchemaViolation": "._schemas",
            "compile_schema": "._schemas",
        },
    )

__all__ = [
    "ActionSchema",
    "ActionsRegistry",
    "RegisteredAction",
    "SchemaViolation",
    "actions_registry_service_factory",
    "alpha_actions_registry_service_factory",
    "attributes_json",
    "compile_schema",
]
