"""Reading the root logger's settings from config and the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...api.errors import ConfigError
from ...api.services.config import Config
from ._formats import LogFormat
from ._levels import parse_level
from ._overrides import LevelOverride, read_level_overrides

__all__ = ["LoggerSettings", "config_secrets", "read_logger_settings"]

_FORMATS: tuple[LogFormat, ...] = ("json", "pretty")


@dataclass(frozen=True)
class LoggerSettings:
    """The resolved level, format, base metadata and overrides of a root logger."""

    level: str = "info"
    format: LogFormat = "pretty"
    meta: Mapping[str, Any] = field(default_factory=lambda: {"service": "backstage"})
    overrides: tuple[LevelOverride, ...] = ()


def _parse_format(value: str, *, source: str) -> LogFormat:
    name = value.strip().lower()
    for known in _FORMATS:
        if name == known:
            return known
    raise ConfigError(
        f"Invalid {source}, '{value}' is not a log format, must be 'json' or 'pretty'"
    )


#: Set by ``serve --workers N`` in each worker's environment: its number, 1..N.
WORKER_ENV = "BACKSTAGE_RUNTIME_WORKER"


def _optional_string(config: Config | None, key: str) -> str | None:
    return config.get_optional_string(key) if config is not None else None


def read_logger_settings(config: Config | None, env: Mapping[str, str]) -> LoggerSettings:
    """Resolve the settings; raises :class:`ConfigError` naming the key or variable at fault.

    - level: env ``LOG_LEVEL``, else ``backend.logger.level``, else ``info`` (Backstage's order).
    - format: ``backend.logger.format``, else env ``LOG_FORMAT``, else ``json`` when
      ``NODE_ENV=production`` (what Backstage keys on), else ``pretty``. Config wins over the
      environment here because the format is a deployment decision recorded with the deployment.
    - meta: ``{"service": "backstage"}`` updated with ``backend.logger.meta``; in a worker of
      ``serve --workers N``, ``worker`` (its number, from ``BACKSTAGE_RUNTIME_WORKER``) first.
    - overrides: ``backend.logger.overrides``.

    Empty environment variables count as unset, as JavaScript's ``||`` treats them.
    """
    env_level = env.get("LOG_LEVEL") or None
    config_level = _optional_string(config, "backend.logger.level")
    if env_level is not None:
        level = parse_level(env_level, source="environment variable LOG_LEVEL")
    elif config_level is not None:
        level = parse_level(config_level, source="config at backend.logger.level")
    else:
        level = "info"

    config_format = _optional_string(config, "backend.logger.format")
    env_format = env.get("LOG_FORMAT") or None
    log_format: LogFormat
    if config_format is not None:
        log_format = _parse_format(config_format, source="config at backend.logger.format")
    elif env_format is not None:
        log_format = _parse_format(env_format, source="environment variable LOG_FORMAT")
    elif env.get("NODE_ENV") == "production":
        log_format = "json"
    else:
        log_format = "pretty"

    meta: dict[str, Any] = {"service": "backstage"}
    worker = env.get(WORKER_ENV, "")
    if worker.isdecimal():
        # The supervisor numbers its workers: which process wrote a line, as a field.
        meta["worker"] = int(worker)
    config_meta = config.get_optional("backend.logger.meta") if config is not None else None
    if config_meta is not None:
        if not isinstance(config_meta, dict):
            raise ConfigError("Invalid config at backend.logger.meta, expected an object")
        meta.update(config_meta)

    overrides = tuple(read_level_overrides(config)) if config is not None else ()
    return LoggerSettings(level=level, format=log_format, meta=meta, overrides=overrides)


def config_secrets(config: Config | None) -> list[str]:
    """The secret strings ``config`` reports through an optional ``secret_values()`` method.

    Duck-typed because :class:`Config` does not promise the method: a config without it (a test
    fake, a custom implementation) simply contributes no secrets.
    """
    secret_values = getattr(config, "secret_values", None)
    if not callable(secret_values):
        return []
    return [value for value in secret_values() if isinstance(value, str)]
