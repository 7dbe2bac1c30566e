"""Keys Backstage's backend acts on and we do not: one warning each at start, never silence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backstage_runtime.defaults.root_config import create_config_from_data, load_config
from backstage_runtime.defaults.root_config._unimplemented import UNIMPLEMENTED_KEYS
from backstage_runtime.runtime import create_specialized_backend
from backstage_runtime.testing import MockRootLogger, test_default_service_factories


def test_each_key_set_gives_one_warning_naming_it_and_where(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text(
        "backend:\n  baseUrl: http://b\n  logger:\n    redactAllowlist: [a]\n"
        "  database:\n    keepalive: true\n"
    )
    warnings = load_config(env={}, cwd=tmp_path).startup_warnings()
    assert warnings == [
        "Config key 'backend.database.keepalive' (app-config.yaml:6) is not implemented by "
        "backstage-runtime and is ignored; in Backstage it pings each plugin database every "
        "minute",
        "Config key 'backend.logger.redactAllowlist' (app-config.yaml:4) is not implemented by "
        "backstage-runtime and is ignored; in Backstage it lists values the logger does not "
        "redact",
    ]


def test_the_location_is_that_of_the_source_in_force(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text("backend:\n  database:\n    keepalive: 5\n")
    env = {"APP_CONFIG_backend_database_keepalive": "10"}
    [warning] = load_config(env=env, cwd=tmp_path).startup_warnings()
    assert warning.startswith(
        "Config key 'backend.database.keepalive' (env APP_CONFIG_backend_database_keepalive) is"
    )


def test_no_warning_without_such_keys_or_when_a_later_file_nulls_them(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text(
        "backend:\n  baseUrl: http://b\n  server:\n    keepAliveTimeout: 5000\n"
        "  tracing:\n    capture: {endUser: true}\n"
    )
    (tmp_path / "app-config.local.yaml").write_text("backend:\n  tracing:\n")
    assert load_config(env={}, cwd=tmp_path).startup_warnings() == []


def test_a_scalar_where_a_section_belongs_is_left_to_its_reader() -> None:
    assert create_config_from_data({"backend": {"server": 5}}).startup_warnings() == []


@pytest.mark.parametrize("key", [key for key, _ in UNIMPLEMENTED_KEYS])
def test_every_listed_key_is_detected(key: str) -> None:
    data: dict[str, Any] = {}
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = 1
    [warning] = create_config_from_data(data).startup_warnings()
    assert warning.startswith(f"Config key '{key}' (mock-config) is not implemented")


@pytest.mark.anyio
async def test_a_starting_backend_logs_each_warning_once() -> None:
    logger = MockRootLogger()
    config = {
        "backend": {
            "database": {"keepalive": True},
            "logger": {"redactAllowlist": ["x"]},
            # Implemented: no warning.
            "rateLimit": True,
            "server": {"timeout": 5000},
            "metrics": {"plugin": {"x": {}}},
            "tracing": {"enabled": True},
            "actions": {"pluginSources": ["a"], "overrides": {"a:b": {"title": "B"}}},
        }
    }
    backend = create_specialized_backend(
        default_service_factories=test_default_service_factories(config, logger)
    )
    async with backend:
        pass
    unimplemented = [m for m in logger.messages("warn") if "is not implemented" in m]
    assert [m.split("'")[1] for m in unimplemented] == [
        "backend.database.keepalive",
        "backend.logger.redactAllowlist",
    ]


@pytest.mark.anyio
async def test_a_backend_without_such_keys_warns_about_none() -> None:
    logger = MockRootLogger()
    backend = create_specialized_backend(
        default_service_factories=test_default_service_factories(
            {"backend": {"baseUrl": "http://b"}}, logger
        )
    )
    async with backend:
        pass
    assert [m for m in logger.messages("warn") if "is not implemented" in m] == []
