"""JSON value types shared by the service interfaces."""

from __future__ import annotations

from typing import TypeAlias

#: A JSON scalar: string, number, boolean or null.
JsonPrimitive: TypeAlias = str | int | float | bool | None
#: Any JSON value, as :func:`json.loads` returns it.
JsonValue: TypeAlias = JsonPrimitive | list["JsonValue"] | dict[str, "JsonValue"]
#: A JSON object: string keys, JSON values.
JsonObject: TypeAlias = dict[str, JsonValue]
