"""``backend.bodyLimit``: how large a plugin's request bodies may be."""

from __future__ import annotations

import re

from ...api import Config
from ...api.errors import ConfigError
from ...http_toolkit import BodyLimits

__all__ = ["parse_byte_size", "read_body_limits"]

_KEY = "backend.bodyLimit"
_UNITS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE)


def parse_byte_size(value: object, key: str) -> int:
    """Bytes from ``value``: a whole number of bytes, or a size such as ``100kb`` or ``1.5mb``
    (units of 1024, as the ``bytes`` package that body-parser reads its ``limit`` with).
    Raises :class:`ConfigError` naming ``key`` for anything else.
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f"Invalid size {value!r} at {key}: expected a number of bytes or a size such as "
            "'100kb' or '10mb'"
        )
    unit = _UNITS[(match.group(2) or "b").lower()]
    return int(float(match.group(1)) * unit)


def read_body_limits(config: Config, plugin_id: str) -> BodyLimits:
    """The body limits of ``plugin_id``: ``backend.bodyLimit.plugin.<pluginId>.json`` and
    ``.other`` when set, else ``backend.bodyLimit.json`` (default ``100kb``, as ``express.json()``)
    and ``backend.bodyLimit.other`` (default ``16mb``, Quart's own).
    """
    defaults = BodyLimits()
    limits: dict[str, int | None] = {"json": defaults.json, "other": defaults.other}
    for prefix in (_KEY, f"{_KEY}.plugin.{plugin_id}"):
        for kind in limits:
            key = f"{prefix}.{kind}"
            value = config.get_optional(key)
            if value is not None:
                limits[kind] = parse_byte_size(value, key)
    return BodyLimits(json=limits["json"], other=limits["other"])
