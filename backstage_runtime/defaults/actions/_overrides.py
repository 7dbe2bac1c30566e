"""``backend.actions.overrides.<actionId>``: an operator's title, description, schema texts and
visibility permission for an action, applied to the listing as Node applies them.
"""

from __future__ import annotations

from dataclasses import replace

from ...api import Config
from ...api.services._json import JsonObject
from ...api.services.actions import ActionsServiceAction

__all__ = ["apply_overrides"]

Entry = tuple[ActionsServiceAction, JsonObject | None]


def _schema(schema: JsonObject, override: Config | None) -> JsonObject:
    if override is None:
        return schema
    result = dict(schema)
    for key in ("title", "description"):
        value = override.get_optional_string(key)
        if value is not None:
            result[key] = value
    return result


def _override(entry: Entry, config: Config) -> Entry:
    action, permission = entry
    schema = config.get_optional_config("schema")
    action = replace(
        action,
        title=config.get_optional_string("title") or action.title,
        description=config.get_optional_string("description") or action.description,
        input_schema=_schema(
            action.input_schema, schema.get_optional_config("input") if schema else None
        ),
        output_schema=_schema(
            action.output_schema, schema.get_optional_config("output") if schema else None
        ),
    )
    if config.has("visibilityPermission"):
        permission_config = config.get_config("visibilityPermission")
        attributes: JsonObject = {}
        permission_action = permission_config.get_optional_string("attributes.action")
        if permission_action is not None:
            attributes["action"] = permission_action
        permission = {
            "type": "basic",
            "name": permission_config.get_string("name"),
            "attributes": attributes,
        }
    return action, permission


def apply_overrides(entries: list[Entry], config: Config) -> list[Entry]:
    """``entries`` with ``backend.actions.overrides`` applied (keys are action ids)."""
    overrides = config.get_optional_config("backend.actions.overrides")
    if overrides is None:
        return entries
    result: list[Entry] = []
    for entry in entries:
        # Action ids hold a colon, never a dot, so each is one config key.
        override = overrides.get_optional_config(entry[0].id)
        result.append(entry if override is None else _override(entry, override))
    return result
