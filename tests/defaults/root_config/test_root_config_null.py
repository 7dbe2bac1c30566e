"""``null`` in config means *absent*, as in ``@backstage/config`` 1.2 and later.

Every expectation here was checked against ``ConfigReader`` of ``@backstage/config`` 1.3.11
(``ConfigReader.fromConfigs`` with the same sources); the comments quote what Node gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import (
    ConfigReader,
    ConfigSourceData,
    RootConfig,
    create_config_from_data,
    load_config,
)


def error_of(call: object) -> str:
    assert callable(call)
    with pytest.raises(ConfigError) as caught:
        call()
    return str(caught.value)


def chain() -> ConfigReader:
    """A low-priority source with values, and a high one nulling some of them."""
    low = ConfigSourceData(
        context="low",
        data={
            "a": {"b": 1, "c": 2},
            "d": "x",
            "arr": [1, None],
            "e": {"f": None, "g": 1},
            "h": "str",
            "k": {"z": 1},
        },
    )
    high = ConfigSourceData(
        context="high",
        data={"a": None, "d": None, "e": {"g": 2}, "h": None, "k": {"z": None, "y": 1}},
    )
    return ConfigReader.from_sources([low, high])


def test_a_null_is_not_there_and_hides_the_lower_value_and_its_subtree() -> None:
    reader = chain()
    # Node: has a false, has a.b false, has d false, has e.f false
    assert not reader.has("a")
    assert not reader.has("a.b")
    assert not reader.has("d")
    assert not reader.has("e.f")


def test_keys_leave_out_nulled_keys() -> None:
    reader = chain()
    # Node: keys [ 'e', 'k', 'arr' ], e keys [ 'g' ], k keys [ 'y' ]
    assert reader.keys() == ["e", "k", "arr"]
    assert reader.get_config("e").keys() == ["g"]
    assert reader.get_config("k").keys() == ["y"]


def test_get_drops_nulled_keys_but_keeps_nulls_inside_arrays() -> None:
    # Node: {"e":{"g":2},"k":{"y":1},"arr":[1,null]}
    assert chain().get() == {"e": {"g": 2}, "k": {"y": 1}, "arr": [1, None]}


def test_every_optional_getter_gives_none_for_a_null() -> None:
    reader = chain()
    assert reader.get_optional("a") is None
    assert reader.get_optional("a.b") is None
    assert reader.get_optional_string("d") is None
    assert reader.get_optional_number("a.b") is None
    assert reader.get_optional_boolean("d") is None
    assert reader.get_optional_config("a") is None
    assert reader.get_optional_config_array("d") is None
    assert reader.get_optional_string_array("d") is None


def test_required_getters_report_a_null_as_missing() -> None:
    reader = chain()
    assert error_of(lambda: reader.get_string("d")) == "Missing required config value at 'd'"
    assert error_of(lambda: reader.get_number("a.b")) == "Missing required config value at 'a.b'"
    assert error_of(lambda: reader.get_config("a")) == "Missing required config value at 'a'"
    assert error_of(lambda: reader.get("d")) == "Missing required config value at 'd'"


def test_the_lower_source_is_still_read_first_so_its_type_error_surfaces() -> None:
    # Node: getOptionalConfig('h') throws "... key 'h' in 'low', got string, wanted object"
    assert error_of(lambda: chain().get_optional_config("h")) == (
        "Invalid type in config for key 'h' in 'low', got string, wanted object"
    )


def test_a_null_in_a_lower_source_does_not_hide_a_higher_value() -> None:
    reader = ConfigReader.from_sources(
        [ConfigSourceData("low", {"a": None}), ConfigSourceData("high", {"a": {"b": 1}})]
    )
    # Node: {"a":{"b":1}} true [ 'a' ]
    assert reader.get() == {"a": {"b": 1}}
    assert reader.has("a.b")
    assert reader.keys() == ["a"]


def test_an_object_whose_keys_are_all_null_is_empty_but_present() -> None:
    reader = ConfigReader.from_sources(
        [ConfigSourceData("low", {"a": {"b": 1}}), ConfigSourceData("high", {"a": {"b": None}})]
    )
    # Node: get('a') {}, has('a') true, getConfig('a').keys() []
    assert reader.get("a") == {}
    assert reader.has("a")
    assert reader.get_config("a").keys() == []


def test_a_single_source_drops_its_own_nulls() -> None:
    config = create_config_from_data({"a": None, "b": {"c": None}})
    # Node: get() {"b":{}}, keys() ['b'], getConfig('b').keys() []
    assert config.get() == {"b": {}}
    assert config.keys() == ["b"]
    assert config.get_config("b").keys() == []


@pytest.mark.parametrize("spelling", ["null", "~", "", "Null", "NULL"])
def test_each_yaml_spelling_of_null_unsets_a_key_of_an_earlier_file(
    tmp_path: Path, spelling: str
) -> None:
    (tmp_path / "base.yaml").write_text("backend:\n  cors:\n    origin: x\n  baseUrl: b\n")
    (tmp_path / "n.yaml").write_text(f"backend:\n  cors: {spelling}\n")
    config = load_config(["base.yaml", "n.yaml"], env={}, cwd=tmp_path)
    assert config.get_optional_config("backend.cors") is None
    assert not config.has("backend.cors.origin")
    assert config.get("backend") == {"baseUrl": "b"}


def test_an_empty_key_with_its_children_commented_out_is_null(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("backend:\n  auth:\n    keys:\n      - secret: s\n")
    (tmp_path / "n.yaml").write_text("backend:\n  auth:\n    # keys:\n    #   - secret: t\n")
    config = load_config(["base.yaml", "n.yaml"], env={}, cwd=tmp_path)
    assert config.get_optional_config("backend.auth") is None
    assert config.get_optional_config_array("backend.auth.keys") is None


def test_live_views_follow_a_reload_that_nulls_their_object(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("a:\n  b: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    view = config.get_config("a")
    path.write_text("a: null\n")
    assert config.reload()
    assert not config.has("a")
    assert view.get_optional_number("b") is None
    assert config.get_optional_config("a") is None


def test_the_root_config_answers_like_its_reader() -> None:
    config = RootConfig([ConfigSourceData("low", {"a": 1}), ConfigSourceData("high", {"a": None})])
    assert not config.has("a")
    assert config.keys() == []
    assert config.get_optional("a") is None
