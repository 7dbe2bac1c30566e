"""``create_root_logger`` and the default ``core.rootLogger`` service factory."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from ...api import RootLoggerService, ServiceFactory, core_services, create_service_factory
from ...api.services.config import Config
from ._logger import BackstageLogger
from ._settings import config_secrets, read_logger_settings

__all__ = ["create_root_logger", "root_logger_service_factory"]


def _colors_from_env(env: Mapping[str, str]) -> bool | None:
    # The no-color.org and FORCE_COLOR conventions, so CI logs and ``| less -R`` can choose.
    if env.get("NO_COLOR"):
        return False
    force = env.get("FORCE_COLOR")
    if force and force != "0":
        return True
    return None


def _watch_config(logger: BackstageLogger, config: Config, env: Mapping[str, str]) -> None:
    """Re-read overrides and secrets whenever a live config reloads, as Backstage does."""
    subscribe: Any = getattr(config, "subscribe", None)
    if not callable(subscribe):
        return

    def on_change() -> None:
        try:
            logger.set_level_overrides(read_logger_settings(config, env).overrides)
        except Exception as error:
            # A bad edit must not stop a running backend; the previous overrides stay in force.
            logger.error("Failed to reload logger level overrides", error)
        _announce_secrets(logger, logger.add_redactions(config_secrets(config)))

    subscribe(on_change)


def _announce_secrets(logger: BackstageLogger, added: int) -> None:
    if added:
        logger.info(f"Found {added} new secrets in config that will be redacted")


def create_root_logger(
    config: Config | None = None,
    *,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    colors: bool | None = None,
) -> BackstageLogger:
    """Build a root logger from ``config`` and the environment, without the service container.

    Level: env ``LOG_LEVEL``, else ``backend.logger.level``, else ``info``. Format:
    ``backend.logger.format``, else env ``LOG_FORMAT``, else ``json`` if ``NODE_ENV=production``,
    else ``pretty``. Base metadata ``service: "backstage"`` merged with ``backend.logger.meta``;
    level overrides from ``backend.logger.overrides``. Secrets the config reports through an
    optional ``secret_values()`` method are redacted, and re-read on reload when the config has
    ``subscribe``.

    ``env`` defaults to ``os.environ``; ``colors`` (pretty format) defaults to ``NO_COLOR`` /
    ``FORCE_COLOR``, else whether ``stream`` is a terminal. Raises
    :class:`~backstage_runtime.api.errors.ConfigError` naming the key or variable at fault.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    settings = read_logger_settings(config, environ)
    logger = BackstageLogger(
        stream=stream,
        level=settings.level,
        format=settings.format,
        meta=settings.meta,
        overrides=settings.overrides,
        colors=colors if colors is not None else _colors_from_env(environ),
    )
    if config is not None:
        _announce_secrets(logger, logger.add_redactions(config_secrets(config)))
        _watch_config(logger, config, environ)
    return logger


def root_logger_service_factory(
    *,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    colors: bool | None = None,
) -> ServiceFactory[RootLoggerService]:
    """The default ``core.rootLogger`` factory: :func:`create_root_logger` over ``core.rootConfig``.

    The options are passed on to :func:`create_root_logger`; ``env`` is read when the service is
    built, not when this factory is created.
    """

    def factory(*, config: Config) -> Iterator[RootLoggerService]:
        logger = create_root_logger(config, stream=stream, env=env, colors=colors)
        try:
            yield logger
        finally:
            # Last of the backend's stop (the root logger is the first service built): what
            # the writer thread still holds reaches stdout before the backend reports stopped.
            logger.flush()

    return create_service_factory(
        service=core_services.root_logger,
        deps={"config": core_services.root_config},
        factory=factory,
    )
