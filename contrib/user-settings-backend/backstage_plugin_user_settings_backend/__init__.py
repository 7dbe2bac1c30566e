"""The ``user-settings`` backend plugin: Backstage's per-user settings, in buckets of keys."""

from ._plugin import user_settings_plugin
from ._router import USER_SETTINGS_CHANNEL, create_router
from ._signals import (
    SIGNALS_TOPIC,
    DefaultSignalsService,
    SignalsService,
    signals_service_ref,
    user_recipients,
)
from ._store import (
    MIGRATIONS,
    DatabaseUserSettingsStore,
    UserSetting,
    UserSettingsStore,
    user_settings_table,
)

__all__ = [
    "MIGRATIONS",
    "SIGNALS_TOPIC",
    "USER_SETTINGS_CHANNEL",
    "DatabaseUserSettingsStore",
    "DefaultSignalsService",
    "SignalsService",
    "UserSetting",
    "UserSettingsStore",
    "create_router",
    "signals_service_ref",
    "user_recipients",
    "user_settings_plugin",
    "user_settings_table",
]
