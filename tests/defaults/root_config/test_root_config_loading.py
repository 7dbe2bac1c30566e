"""Which files are read, in which order, and how they merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import load_config


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_default_files_are_app_config_then_local(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a: base\nb: base\n")
    write(tmp_path, "app-config.local.yaml", "b: local\n")
    config = load_config(env={}, cwd=tmp_path)
    assert config.get() == {"a": "base", "b": "local"}
    assert [source.context for source in config.sources] == [
        "app-config.yaml",
        "app-config.local.yaml",
    ]


def test_no_files_at_all_gives_empty_config(tmp_path: Path) -> None:
    config = load_config(env={}, cwd=tmp_path)
    assert config.keys() == []
    assert config.get_optional("a") is None


def test_backstage_env_files_are_read_in_backstage_order(tmp_path: Path) -> None:
    for name in [
        "app-config.yaml",
        "app-config.production.yaml",
        "app-config.eu.yaml",
        "app-config.local.yaml",
        "app-config.production.local.yaml",
        "app-config.eu.local.yaml",
    ]:
        write(tmp_path, name, f"last: {name}\n")
    config = load_config(env={"BACKSTAGE_ENV": "production,eu"}, cwd=tmp_path)
    assert [source.context for source in config.sources] == [
        "app-config.yaml",
        "app-config.production.yaml",
        "app-config.eu.yaml",
        "app-config.local.yaml",
        "app-config.production.local.yaml",
        "app-config.eu.local.yaml",
    ]
    assert config.get_string("last") == "app-config.eu.local.yaml"


def test_explicit_files_replace_the_defaults_and_later_ones_win(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a: default\n")
    write(tmp_path, "one.yaml", "a: one\nb: one\n")
    write(tmp_path, "two.yaml", "a: two\n")
    config = load_config(["one.yaml", "two.yaml"], env={}, cwd=tmp_path)
    assert config.get() == {"a": "two", "b": "one"}


def test_missing_explicit_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config([missing], env={}, cwd=tmp_path)
    assert str(caught.value) == f'Config file "{missing}" does not exist'


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "app-config.yaml", "app:\n  title: x\n  bad: b: c\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Invalid YAML in config file "{path}" at line 3, column 9: '
        "mapping values are not allowed here"
    )


def test_duplicate_keys_are_an_error_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "app-config.yaml", "a: 1\nb: 2\na: 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Invalid YAML in config file "{path}" at line 3, column 1: Map keys must be unique'
    )


def test_empty_file_contributes_nothing(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "# only a comment\n")
    config = load_config(env={}, cwd=tmp_path)
    assert config.sources == ()


def test_file_whose_root_is_not_an_object_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "app-config.yaml", "- a\n- b\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Failed to read config file at "{path}", expected object at config root'
    )


def test_objects_merge_recursively_across_files(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "backend:\n  baseUrl: a\n  listen: {port: 1}\n")
    write(tmp_path, "app-config.local.yaml", "backend:\n  listen: {host: h}\n")
    config = load_config(env={}, cwd=tmp_path)
    assert config.get("backend") == {"baseUrl": "a", "listen": {"port": 1, "host": "h"}}


def test_arrays_replace_instead_of_merging(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "list: [1, 2, 3]\n")
    write(tmp_path, "app-config.local.yaml", "list: [9]\n")
    config = load_config(env={}, cwd=tmp_path)
    assert config.get("list") == [9]


def test_explicit_null_hides_lower_values(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  b: 1\nc: 2\n")
    write(tmp_path, "app-config.local.yaml", "a: null\n")
    config = load_config(env={}, cwd=tmp_path)
    # @backstage/config >= 1.2: the null is an explicit unset, so `a` and `a.b` are gone.
    assert config.get() == {"c": 2}
    assert not config.has("a")
    assert not config.has("a.b")
    assert config.get_optional("a") is None
    assert config.get_optional_number("a.b") is None


def test_yaml_is_read_with_the_yaml_1_2_core_schema(tmp_path: Path) -> None:
    write(
        tmp_path,
        "app-config.yaml",
        "country: no\nflag: on\ndate: 2024-01-01\noctal: 012\nhex: 0x1f\n"
        "yes_bool: true\nmerge:\n  <<: {a: 1}\n",
    )
    config = load_config(env={}, cwd=tmp_path)
    assert config.get() == {
        "country": "no",
        "flag": "on",
        "date": "2024-01-01",
        "octal": 12,
        "hex": 31,
        "yes_bool": True,
        "merge": {"<<": {"a": 1}},
    }


def test_non_string_keys_become_strings(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "codes:\n  404: missing\n  true: yes\n")
    config = load_config(env={}, cwd=tmp_path)
    assert config.get("codes") == {"404": "missing", "true": "yes"}


def test_data_is_merged_under_the_files(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a: file\n")
    config = load_config(env={}, cwd=tmp_path, data={"a": "data", "b": "data"})
    assert config.get() == {"a": "file", "b": "data"}
