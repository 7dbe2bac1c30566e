"""Building the root config: from files and the environment, from data, or as a service."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from backstage_runtime.api import (
    BackgroundTasksService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from backstage_runtime.api.errors import ConfigError
from backstage_runtime.api.services._json import JsonValue
from backstage_runtime.api.services.config import RootConfigService

from ._env import read_env_config
from ._loader import load_file_source, resolve_config_paths
from ._reader import DEFAULT_CONTEXT
from ._service import ErrorHandler, RootConfig, SourceLoader
from ._source import ConfigSourceData
from ._substitution import env_lookup

__all__ = [
    "create_config_from_data",
    "load_config",
    "root_config_service_factory",
]

ConfigPaths = Sequence[str | os.PathLike[str]]

#: The source name of ``overrides`` in error messages (the CLI passes ``--host``/``--port`` so).
OVERRIDES_CONTEXT = "command line"


def _to_json(value: object, context: str) -> JsonValue:
    # Copy, so later changes to the caller's objects cannot change the config behind its back.
    if isinstance(value, Mapping):
        return {str(key): _to_json(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item, context) for item in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ConfigError(
        f"Config data for '{context}' holds a {type(value).__name__}, which is not a JSON value"
    )


def _data_source(data: Mapping[str, object], context: str) -> ConfigSourceData:
    copied = _to_json(data, context)
    if not isinstance(copied, dict):
        raise ConfigError(f"Config data for '{context}' must be an object")
    return ConfigSourceData(context=context, data=copied)


def _source_loader(
    config_paths: ConfigPaths | None,
    data: Mapping[str, object] | None,
    env: Mapping[str, str] | None,
    cwd: str | os.PathLike[str] | None,
    overrides: Mapping[str, object] | None = None,
) -> SourceLoader:
    environment: Mapping[str, str] = os.environ if env is None else env
    base = Path(os.fspath(cwd)) if cwd is not None else None
    base_source = _data_source(data, DEFAULT_CONTEXT) if data is not None else None
    override_source = _data_source(overrides, OVERRIDES_CONTEXT) if overrides is not None else None

    def load() -> list[ConfigSourceData]:
        # Re-evaluated on every (re)load, so a new app-config.local.yaml is picked up.
        lookup = env_lookup(environment)
        root = base if base is not None else Path.cwd()
        sources: list[ConfigSourceData] = [] if base_source is None else [base_source]
        for path in resolve_config_paths(config_paths, root, environment):
            source = load_file_source(path, lookup)
            if source is not None:
                sources.append(source)
        env_source = read_env_config(environment)
        if env_source is not None:
            sources.append(env_source)
        if override_source is not None:
            sources.append(override_source)
        return sources

    return load


def load_config(
    config_paths: ConfigPaths | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    data: Mapping[str, object] | None = None,
    overrides: Mapping[str, object] | None = None,
    on_error: ErrorHandler | None = None,
) -> RootConfig:
    """Load config the way Backstage's backend does, ready to read and to :meth:`reload`.

    Sources, lowest priority first: ``data`` (if given), the files (``config_paths`` in order,
    relative ones resolved against ``cwd``; by default ``app-config.yaml``,
    ``app-config.<env>.yaml``, ``app-config.local.yaml``, ``app-config.<env>.local.yaml`` in
    ``cwd`` where present, envs from ``BACKSTAGE_ENV``), then the ``APP_CONFIG_*`` variables, then
    ``overrides`` (named ``command line`` in errors). ``env`` defaults to ``os.environ`` and
    ``cwd`` to the working directory.

    Raises :class:`ConfigError` naming the file (and key and line) of the first problem.
    """
    loader = _source_loader(config_paths, data, env, cwd, overrides)
    return RootConfig(loader(), loader, on_error=on_error)


def create_config_from_data(
    data: Mapping[str, object], context: str = DEFAULT_CONTEXT
) -> RootConfig:
    """A fixed config holding ``data`` (for tests and mocks); errors name it ``context``.

    The default context is Backstage's ``mock-config``, so error texts match those of
    ``mockServices.rootConfig``. :meth:`RootConfig.reload` does nothing on it.
    """
    return RootConfig([_data_source(data, context)])


def root_config_service_factory(
    *,
    config_paths: ConfigPaths | None = None,
    data: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, object] | None = None,
    reload_interval: float | None = None,
) -> ServiceFactory[RootConfigService]:
    """The default ``core.rootConfig`` factory: :func:`load_config` when the backend starts.

    ``data`` is merged under the files (lowest priority), ``overrides`` over everything. With
    ``reload_interval`` (seconds) the sources are re-read that often in a background task and
    subscribers are told about changes; a broken edit keeps the previous config and is reported
    on stderr (the logger itself depends on the config, so it cannot report it). Nothing is read
    until the service is built, so a broken file surfaces as a startup error.
    """
    if reload_interval is not None and reload_interval <= 0:
        raise ValueError(f"reload_interval must be positive, got {reload_interval}")

    def load() -> RootConfig:
        return load_config(config_paths, env=env, cwd=cwd, data=data, overrides=overrides)

    if reload_interval is None:
        return create_service_factory(service=core_services.root_config, deps={}, factory=load)
    interval = reload_interval

    def reloading_factory(*, background_tasks: BackgroundTasksService) -> RootConfigService:
        config = load()

        def report(error: BaseException) -> None:
            print(f"backstage-runtime: config reload failed: {error}", file=sys.stderr)

        background_tasks.start_soon(
            functools.partial(config.run_reload_loop, interval, on_error=report),
            name="config reload",
        )
        return config

    return create_service_factory(
        service=core_services.root_config,
        deps={"background_tasks": runtime_services.background_tasks},
        factory=reloading_factory,
    )
