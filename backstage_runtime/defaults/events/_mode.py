"""``events.useEventBus``: whether the events service uses the events backend between instances."""

from __future__ import annotations

from typing import Final, Literal

from ...api import Config
from ...api.errors import ConfigError

__all__ = ["EVENT_BUS_KEY", "EventBusMode", "read_event_bus_mode"]

#: Where Backstage reads whether to use the events backend as a bus between instances.
EVENT_BUS_KEY: Final = "events.useEventBus"

#: ``never``: in-process only; ``always``: the events backend must be there (errors are raised
#: and retried); ``auto`` (the default): use it while it answers, stay local once it says 404.
EventBusMode = Literal["never", "always", "auto"]
_MODES: Final[tuple[EventBusMode, ...]] = ("never", "always", "auto")


def read_event_bus_mode(config: Config) -> EventBusMode | None:
    """``events.useEventBus``, or None when unset; any other value than ``never``, ``always``
    or ``auto`` is a :class:`ConfigError`.
    """
    value = config.get_optional_string(EVENT_BUS_KEY)
    if value is None:
        return None
    if value not in _MODES:
        raise ConfigError(
            f"Invalid {EVENT_BUS_KEY} config, must be one of {', '.join(_MODES)}, got '{value}'"
        )
    return value
