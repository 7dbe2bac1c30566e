"""The ``$env``, ``$file`` and ``$include`` directives."""

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


def test_env_directive_reads_the_variable(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $env: TOKEN\n")
    assert load_config(env={"TOKEN": " t "}, cwd=tmp_path).get() == {"a": "t"}


def test_env_directive_for_unset_variable_removes_the_key(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $env: TOKEN\nb: 1\n")
    assert load_config(env={}, cwd=tmp_path).get() == {"b": 1}


def test_file_directive_reads_relative_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path, "conf/app-config.yaml", "cert:\n  $file: certs/ca.pem\n")
    write(tmp_path, "conf/certs/ca.pem", "-----BEGIN-----\nabc\n\n  \n")
    config = load_config(["conf/app-config.yaml"], env={}, cwd=tmp_path)
    assert config.get_string("cert") == "-----BEGIN-----\nabc"


def test_file_directive_path_is_substituted_first(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $file: ${DIR}/f.txt\n")
    write(tmp_path, "d/f.txt", "content")
    assert load_config(env={"DIR": "d"}, cwd=tmp_path).get() == {"a": "content"}


def test_missing_file_directive_names_file_key_and_line(tmp_path: Path) -> None:
    config_path = write(tmp_path, "app-config.yaml", "x: 1\nbackend:\n  cert:\n    $file: ca.pem\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Failed to read config file at "{config_path}", error at .backend.cert, '
        f'failed to read file ca.pem, NotFoundError: failed to include "{tmp_path / "ca.pem"}", '
        "file does not exist (app-config.yaml:3)"
    )


def test_include_reads_yaml(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "catalog:\n  $include: catalog.yaml\n")
    write(tmp_path, "catalog.yaml", "rules:\n  - allow: [Component]\n")
    config = load_config(env={}, cwd=tmp_path)
    assert config.get("catalog") == {"rules": [{"allow": ["Component"]}]}


def test_include_reads_json(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $include: data.json\n")
    write(tmp_path, "data.json", '{"x": [1, 2], "y": "z"}')
    assert load_config(env={}, cwd=tmp_path).get("a") == {"x": [1, 2], "y": "z"}


def test_include_selects_a_sub_path(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $include: data.yaml#outer.inner\n")
    write(tmp_path, "data.yaml", "outer:\n  inner:\n    value: 42\n  other: 1\n")
    assert load_config(env={}, cwd=tmp_path).get("a") == {"value": 42}


def test_include_of_missing_sub_path_removes_the_key(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $include: data.yaml#nope\nb: 1\n")
    write(tmp_path, "data.yaml", "outer: 1\n")
    assert load_config(env={}, cwd=tmp_path).get() == {"b": 1}


def test_include_sub_path_through_a_non_object_is_an_error(tmp_path: Path) -> None:
    config_path = write(tmp_path, "app-config.yaml", "a:\n  $include: data.yaml#outer.x\n")
    write(tmp_path, "data.yaml", "outer: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Failed to read config file at "{config_path}", error at .a, '
        "value at 'outer' in included file data.yaml is not an object (app-config.yaml:1)"
    )


def test_nested_include_resolves_relative_to_the_included_file(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $include: sub/one.yaml\n")
    write(tmp_path, "sub/one.yaml", "two:\n  $include: two.yaml\nsecret:\n  $file: s.txt\n")
    write(tmp_path, "sub/two.yaml", "leaf: ${LEAF}\n")
    write(tmp_path, "sub/s.txt", "s3cret\n")
    config = load_config(env={"LEAF": "l"}, cwd=tmp_path)
    assert config.get("a") == {"two": {"leaf": "l"}, "secret": "s3cret"}


def test_included_string_is_substituted(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $include: data.yaml#url\n")
    write(tmp_path, "data.yaml", "url: http://${HOST}\n")
    assert load_config(env={"HOST": "h"}, cwd=tmp_path).get("a") == "http://h"


def test_directive_with_adjacent_keys_names_file_key_and_line(tmp_path: Path) -> None:
    config_path = write(
        tmp_path, "app-config.yaml", "backend:\n  auth:\n    $file: a.txt\n    other: 1\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Failed to read config file at "{config_path}", error at .backend.auth, '
        "include key $file should not have adjacent keys (app-config.yaml:2)"
    )


def test_directive_with_non_string_value_is_an_error(tmp_path: Path) -> None:
    config_path = write(tmp_path, "app-config.yaml", "list:\n  - $env: [A]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Failed to read config file at "{config_path}", error at .list[0], '
        "$env include value is not a string (app-config.yaml:2)"
    )


def test_include_with_unknown_extension_is_an_error(tmp_path: Path) -> None:
    config_path = write(tmp_path, "app-config.yaml", "a:\n  $include: data.txt\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Failed to read config file at "{config_path}", error at .a, '
        "no configuration parser available for included file data.txt (app-config.yaml:1)"
    )


def test_include_of_invalid_yaml_names_the_included_file(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $include: data.yaml\n")
    write(tmp_path, "data.yaml", "x: [1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert "failed to parse included file data.yaml, YAMLParseError: " in str(caught.value)


def test_directive_path_with_undefined_variable_is_an_error(tmp_path: Path) -> None:
    config_path = write(tmp_path, "app-config.yaml", "a:\n  $file: ${NOPE}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value) == (
        f'Failed to read config file at "{config_path}", error at .a, '
        "$file substitution value was undefined (app-config.yaml:1)"
    )


def test_error_inside_included_file_points_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "app-config.yaml", "a:\n  $include: data.yaml\n")
    write(tmp_path, "data.yaml", "ok: 1\nbad:\n  $env: X\n  extra: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert str(caught.value).endswith(
        "error at .a.bad, include key $env should not have adjacent keys (data.yaml:2)"
    )
