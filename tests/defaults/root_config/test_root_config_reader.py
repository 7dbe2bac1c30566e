"""The reader: Backstage's getters, conversions and error texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import (
    ConfigReader,
    create_config_from_data,
    load_config,
)


def error_of(call: object) -> str:
    assert callable(call)
    with pytest.raises(ConfigError) as caught:
        call()
    return str(caught.value)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "app-config.yaml").write_text(
        "app:\n  title: Backstage\nbackend:\n  baseUrl: 7007\n  listen:\n    port: '7007'\n"
        "  list:\n    - a\n    - ''\n  objs:\n    - x: 1\n    - 2\n",
        encoding="utf-8",
    )
    (tmp_path / "app-config.local.yaml").write_text("app:\n  empty: ''\n", encoding="utf-8")
    return tmp_path


def test_type_error_names_key_file_and_line(files: Path) -> None:
    config = load_config(env={}, cwd=files)
    assert error_of(lambda: config.get_string("backend.baseUrl")) == (
        "Invalid type in config for key 'backend.baseUrl' in 'app-config.yaml', "
        "got number, wanted string (app-config.yaml:4)"
    )


def test_type_error_names_the_file_that_holds_the_value(files: Path) -> None:
    config = load_config(env={}, cwd=files)
    assert error_of(lambda: config.get_string("app.empty")) == (
        "Invalid type in config for key 'app.empty' in 'app-config.local.yaml', "
        "got empty-string, wanted string (app-config.local.yaml:2)"
    )


def test_type_error_for_env_override_names_the_variable(files: Path) -> None:
    config = load_config(env={"APP_CONFIG_app_title": "5"}, cwd=files)
    assert error_of(lambda: config.get_string("app.title")) == (
        "Invalid type in config for key 'app.title' in 'env', got number, wanted string "
        "(env APP_CONFIG_app_title)"
    )


def test_missing_value_uses_backstage_text() -> None:
    config = create_config_from_data({"a": {}})
    assert error_of(lambda: config.get_string("a.b")) == "Missing required config value at 'a.b'"


def test_missing_value_in_sub_config_names_full_key() -> None:
    config = create_config_from_data({"a": {"b": {}}})
    sub = config.get_config("a.b")
    assert error_of(lambda: sub.get_number("c")) == "Missing required config value at 'a.b.c'"


def test_optional_getters_return_none_when_missing() -> None:
    config = create_config_from_data({})
    assert config.get_optional_string("a") is None
    assert config.get_optional_number("a") is None
    assert config.get_optional_boolean("a") is None
    assert config.get_optional_config("a") is None
    assert config.get_optional_config_array("a") is None
    assert config.get_optional_string_array("a") is None
    assert config.get_optional("a") is None


def test_optional_string_rejects_empty_string() -> None:
    config = create_config_from_data({"a": ""})
    assert error_of(lambda: config.get_optional_string("a")) == (
        "Invalid type in config for key 'a' in 'mock-config', got empty-string, wanted string"
    )


def test_null_value_reads_as_missing_for_typed_getters() -> None:
    # @backstage/config >= 1.2 treats null as explicitly unset (see test_root_config_null.py).
    config = create_config_from_data({"a": None})
    assert config.get_optional_string("a") is None
    assert error_of(lambda: config.get_string("a")) == "Missing required config value at 'a'"


def test_numeric_strings_are_numbers(files: Path) -> None:
    config = load_config(env={}, cwd=files)
    assert config.get_number("backend.listen.port") == 7007
    assert create_config_from_data({"a": " 1.5e1 ", "b": "0x10"}).get_number("a") == 15.0
    assert create_config_from_data({"b": "0x10"}).get_number("b") == 16


def test_non_numeric_string_cannot_convert_to_number(files: Path) -> None:
    config = load_config(env={}, cwd=files)
    assert error_of(lambda: config.get_number("app.title")) == (
        "Unable to convert config value for key 'app.title' in 'app-config.yaml' to a number "
        "(app-config.yaml:2)"
    )


def test_boolean_is_not_a_number() -> None:
    config = create_config_from_data({"a": True})
    assert error_of(lambda: config.get_number("a")) == (
        "Invalid type in config for key 'a' in 'mock-config', got boolean, wanted number"
    )


@pytest.mark.parametrize("value", ["y", "YES", "true", "1", " On ", 1, True])
def test_truthy_spellings_are_true(value: object) -> None:
    assert create_config_from_data({"a": value}).get_boolean("a") is True


@pytest.mark.parametrize("value", ["n", "No", "FALSE", "0", "off", 0, False])
def test_falsy_spellings_are_false(value: object) -> None:
    assert create_config_from_data({"a": value}).get_boolean("a") is False


def test_other_values_cannot_convert_to_boolean() -> None:
    config = create_config_from_data({"a": "maybe", "b": 7000})
    assert error_of(lambda: config.get_boolean("a")) == (
        "Unable to convert config value for key 'a' in 'mock-config' to a boolean"
    )
    assert "key 'b'" in error_of(lambda: config.get_boolean("b"))


def test_string_array_element_error_names_the_element(files: Path) -> None:
    config = load_config(env={}, cwd=files)
    assert error_of(lambda: config.get_string_array("backend.list")) == (
        "Invalid type in config for key 'backend.list[1]' in 'app-config.yaml', "
        "got empty-string, wanted string-array (app-config.yaml:9)"
    )


def test_config_array_of_non_objects_is_an_error(files: Path) -> None:
    config = load_config(env={}, cwd=files)
    assert error_of(lambda: config.get_config_array("backend.objs")) == (
        "Invalid type in config for key 'backend.objs[1]' in 'app-config.yaml', "
        "got number, wanted object-array (app-config.yaml:12)"
    )


def test_config_array_readers_have_indexed_keys() -> None:
    config = create_config_from_data({"a": [{"b": 1}, {"b": "x"}]})
    readers = config.get_config_array("a")
    assert readers[0].get_number("b") == 1
    assert error_of(lambda: readers[1].get_number("b")) == (
        "Unable to convert config value for key 'a[1].b' in 'mock-config' to a number"
    )


def test_invalid_key_is_rejected() -> None:
    config = create_config_from_data({"a": 1})
    assert error_of(lambda: config.get("a..b")) == "Invalid config key 'a..b'"
    assert error_of(lambda: config.has("1a")) == "Invalid config key '1a'"


def test_key_segments_allow_dash_underscore_and_colon() -> None:
    config = create_config_from_data({"a-b_c:d": {"e1": 2}})
    assert config.get_number("a-b_c:d.e1") == 2


def test_reading_through_a_non_object_is_a_type_error() -> None:
    config = create_config_from_data({"a": "text"})
    assert error_of(lambda: config.get_optional("a.b")) == (
        "Invalid type in config for key 'a' in 'mock-config', got string, wanted object"
    )


def test_get_config_of_a_non_object_is_a_type_error() -> None:
    config = create_config_from_data({"a": [1]})
    assert error_of(lambda: config.get_config("a")) == (
        "Invalid type in config for key 'a' in 'mock-config', got array, wanted object"
    )


def test_sub_config_falls_back_to_lower_sources(files: Path) -> None:
    config = load_config(env={"APP_CONFIG_backend_extra": "1"}, cwd=files)
    backend = config.get_config("backend")
    assert backend.get_number("extra") == 1
    assert backend.get_optional("list") == ["a", ""]
    assert backend.get_number("listen.port") == 7007


def test_keys_are_the_union_of_all_sources(files: Path) -> None:
    config = load_config(env={"APP_CONFIG_zeta": "1"}, cwd=files)
    assert config.keys() == ["zeta", "app", "backend"]
    assert config.get_config("app").keys() == ["empty", "title"]


def test_has_is_false_for_null_and_for_missing() -> None:
    config = create_config_from_data({"a": None, "b": {"c": 1}})
    assert not config.has("a")
    assert config.has("b.c")
    assert not config.has("b.d")


def test_get_returns_a_copy() -> None:
    config = create_config_from_data({"a": {"b": [1]}})
    value = config.get("a")
    assert isinstance(value, dict)
    value["b"] = []
    assert config.get("a") == {"b": [1]}


def test_get_without_key_returns_everything() -> None:
    assert create_config_from_data({"a": 1}).get() == {"a": 1}


def test_reader_can_be_built_from_bare_data() -> None:
    reader = ConfigReader({"a": {"b": "c"}})
    assert reader.get_config("a").get_string("b") == "c"
    assert reader.context == "mock-config"


def test_lower_source_string_under_higher_object_fails_like_backstage(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text("a: text\n")
    (tmp_path / "app-config.local.yaml").write_text("a:\n  b: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    assert config.get("a") == {"b": 1}
    assert error_of(lambda: config.get_config("a")) == (
        "Invalid type in config for key 'a' in 'app-config.yaml', got string, wanted object "
        "(app-config.yaml:1)"
    )
