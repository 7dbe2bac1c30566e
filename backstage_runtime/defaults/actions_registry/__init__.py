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

from ._factory import actions_registry_service_factory, alpha_actions_registry_service_factory
from ._registry import ActionsRegistry, RegisteredAction, attributes_json
from ._schemas import ActionSchema, SchemaViolation, compile_schema

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
