"""The ``core.rootConfig`` service factory and the public helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstage_runtime.api import core_services
from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import (
    RootConfig,
    create_config_from_data,
    root_config_service_factory,
)


def test_factory_provides_root_config_without_dependencies(tmp_path: Path) -> None:
    factory = root_config_service_factory(cwd=tmp_path, env={})
    assert factory.service is core_services.root_config
    assert dict(factory.deps) == {}


def test_factory_loads_files_env_and_data(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("a: file\n")
    factory = root_config_service_factory(
        config_paths=["c.yaml"],
        data={"a": "data", "b": "data"},
        env={"APP_CONFIG_c": "env"},
        cwd=tmp_path,
    )
    config = factory.factory()
    assert isinstance(config, RootConfig)
    assert config.get() == {"a": "file", "b": "data", "c": "env"}


def test_factory_reads_nothing_until_built(tmp_path: Path) -> None:
    factory = root_config_service_factory(config_paths=["missing.yaml"], cwd=tmp_path, env={})
    with pytest.raises(ConfigError):
        factory.factory()


def test_data_config_copies_its_input() -> None:
    data = {"a": {"b": 1}}
    config = create_config_from_data(data)
    data["a"]["b"] = 2
    assert config.get_number("a.b") == 1


def test_data_config_context_can_be_named() -> None:
    config = create_config_from_data({"a": 1}, context="defaults")
    with pytest.raises(ConfigError, match="in 'defaults'"):
        config.get_string("a")


def test_data_with_non_json_values_is_rejected() -> None:
    with pytest.raises(ConfigError, match="holds a set"):
        create_config_from_data({"a": {1, 2}})
