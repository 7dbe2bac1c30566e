"""``APP_CONFIG_<a>_<b>`` environment overrides (Backstage's ``EnvConfigSource.ts``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.api.services._json import JsonObject, JsonValue

from ._source import ConfigSourceData

__all__ = ["ENV_CONTEXT", "ENV_PREFIX", "read_env_config"]

ENV_PREFIX: Final = "APP_CONFIG_"
#: The context Backstage gives the environment source in reader errors.
ENV_CONTEXT: Final = "env"

# Parts are split on ``_`` first, so in practice only ``-`` and ``:`` can separate groups.
_KEY_PART: Final = re.compile(r"^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$", re.IGNORECASE)


class _NoConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    # JSON.parse rejects NaN and Infinity, so such values stay raw strings, as in Backstage.
    raise _NoConstant(name)


def _parse_value(raw: str) -> JsonValue:
    """``JSON.parse`` when it parses, the raw string otherwise."""
    try:
        value: JsonValue = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw
    return value


def _string_leaves(value: JsonValue) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _string_leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _string_leaves(item)]
    return []


def _record_locations(locations: dict[str, str], key: str, value: JsonValue, where: str) -> None:
    locations[key] = where
    if isinstance(value, dict):
        for child, item in value.items():
            _record_locations(locations, f"{key}.{child}", item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _record_locations(locations, f"{key}[{index}]", item, where)


def read_env_config(env: Mapping[str, str]) -> ConfigSourceData | None:
    """The config the ``APP_CONFIG_`` variables of ``env`` describe, or None if there are none.

    Empty values are skipped; a value is JSON-parsed when it parses and taken as a string
    otherwise; JSON ``null`` is rejected. Raises :class:`ConfigError` with Backstage's texts
    (``Invalid env config key '<key>'`` and so on).
    """
    data: JsonObject | None = None
    locations: dict[str, str] = {}
    secrets: list[str] = []
    for name, raw in env.items():
        if not raw or not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :]
        parts = key.split("_")
        if data is None:
            data = {}
        obj: JsonObject = data
        for index, part in enumerate(parts):
            if not _KEY_PART.match(part):
                raise ConfigError(f"Invalid env config key '{key}'")
            if index < len(parts) - 1:
                nested = obj.setdefault(part, {})
                if not isinstance(nested, dict):
                    sub_key = "_".join(parts[: index + 1])
                    raise ConfigError(
                        f"Could not nest config for key '{key}' under existing value '{sub_key}'"
                    )
                obj = nested
                continue
            if part in obj:
                raise ConfigError(f"Refusing to override existing config at key '{key}'")
            value = _parse_value(raw)
            if value is None:
                raise ConfigError(
                    f"Failed to parse JSON-serialized config value for key '{key}', "
                    "Error: value may not be null"
                )
            obj[part] = value
            _record_locations(locations, ".".join(parts), value, f"env {name}")
            secrets.extend(_string_leaves(value))
    if data is None:
        return None
    return ConfigSourceData(
        context=ENV_CONTEXT, data=data, locations=locations, secrets=tuple(secrets)
    )
