"""``backend.startup.timeout`` (our key): how long the plugins may take to start."""

from __future__ import annotations

from collections.abc import Iterable

from ..api import Config, read_duration_from_config
from ..api.errors import BackendStartupError, ConfigError

__all__ = ["STARTUP_TIMEOUT_KEY", "read_startup_timeout", "startup_timeout_error"]

STARTUP_TIMEOUT_KEY = "backend.startup.timeout"


def read_startup_timeout(config: Config | None) -> float | None:
    """Seconds the plugins (modules, init, startup hooks) may take; None (no bound) when unset.

    Off by default: a first start may run long migrations, and Kubernetes' startup probe is
    the place to bound a start that is merely slow. Takes a Backstage duration; must be positive.
    """
    if config is None or not config.has(STARTUP_TIMEOUT_KEY):
        return None
    seconds = read_duration_from_config(config, STARTUP_TIMEOUT_KEY).total_seconds()
    if seconds <= 0:
        raise ConfigError(f"Invalid duration at '{STARTUP_TIMEOUT_KEY}', must be positive")
    return seconds


def startup_timeout_error(plugin_ids: Iterable[str], timeout: float) -> BackendStartupError:
    """The error of a start that ran out of time, one line per plugin still starting."""
    lines = [
        f"Plugin '{plugin_id}' startup failed; caused by TimeoutError: it did not finish "
        f"within {STARTUP_TIMEOUT_KEY} ({timeout:g}s)"
        for plugin_id in plugin_ids
    ]
    if not lines:
        # Every plugin finished as the bound ran out; the root startup hooks are all that ran on.
        lines = [f"Backend startup did not finish within {STARTUP_TIMEOUT_KEY} ({timeout:g}s)"]
    return BackendStartupError(lines, [TimeoutError(line) for line in lines])
