"""``APP_CONFIG_*`` environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import load_config


def test_env_override_beats_files(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text("backend:\n  baseUrl: a\n  x: 1\n")
    config = load_config(env={"APP_CONFIG_backend_baseUrl": "http://b"}, cwd=tmp_path)
    assert config.get("backend") == {"baseUrl": "http://b", "x": 1}
    assert config.sources[-1].context == "env"


def test_env_value_is_json_parsed(tmp_path: Path) -> None:
    env = {
        "APP_CONFIG_a_num": "7007",
        "APP_CONFIG_a_bool": "true",
        "APP_CONFIG_a_obj": '{"x": [1, "y"]}',
        "APP_CONFIG_a_str": '"quoted"',
    }
    config = load_config(env=env, cwd=tmp_path)
    assert config.get("a") == {"num": 7007, "bool": True, "obj": {"x": [1, "y"]}, "str": "quoted"}


def test_env_value_that_is_not_json_stays_a_string(tmp_path: Path) -> None:
    env = {"APP_CONFIG_a": "http://x:1", "APP_CONFIG_b": "NaN"}
    assert load_config(env=env, cwd=tmp_path).get() == {"a": "http://x:1", "b": "NaN"}


def test_env_json_null_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"APP_CONFIG_a_b": "null"}, cwd=tmp_path)
    assert str(caught.value) == (
        "Failed to parse JSON-serialized config value for key 'a_b', Error: value may not be null"
    )


def test_empty_env_value_is_skipped(tmp_path: Path) -> None:
    config = load_config(env={"APP_CONFIG_a": ""}, cwd=tmp_path)
    assert config.sources == ()


def test_env_key_parts_are_case_sensitive(tmp_path: Path) -> None:
    config = load_config(env={"APP_CONFIG_Backend_BaseUrl": "x"}, cwd=tmp_path)
    assert config.get() == {"Backend": {"BaseUrl": "x"}}


def test_invalid_env_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"APP_CONFIG_backend__x": "1"}, cwd=tmp_path)
    assert str(caught.value) == "Invalid env config key 'backend__x'"


def test_env_key_part_starting_with_a_digit_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"APP_CONFIG_a_1b": "1"}, cwd=tmp_path)
    assert str(caught.value) == "Invalid env config key 'a_1b'"


def test_env_key_nested_under_a_value_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"APP_CONFIG_a": "1", "APP_CONFIG_a_b": "2"}, cwd=tmp_path)
    assert str(caught.value) == "Could not nest config for key 'a_b' under existing value 'a'"


def test_env_key_overriding_an_object_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"APP_CONFIG_a_b": "2", "APP_CONFIG_a": "1"}, cwd=tmp_path)
    assert str(caught.value) == "Refusing to override existing config at key 'a'"


def test_other_variables_are_ignored(tmp_path: Path) -> None:
    config = load_config(env={"HOME": "/root", "APP_CONFIGX": "1"}, cwd=tmp_path)
    assert config.sources == ()
