"""``${VAR}`` substitution in string values."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import create_config_from_data, load_config
from backstage_runtime.defaults.root_config._substitution import env_lookup, substitute


def load(tmp_path: Path, yaml_text: str, env: dict[str, str]) -> object:
    (tmp_path / "app-config.yaml").write_text(yaml_text, encoding="utf-8")
    return load_config(env=env, cwd=tmp_path).get()


def test_token_is_replaced_by_the_variable(tmp_path: Path) -> None:
    assert load(tmp_path, "url: https://${HOST}/x\n", {"HOST": "example.com"}) == {
        "url": "https://example.com/x"
    }


def test_token_name_and_value_are_trimmed(tmp_path: Path) -> None:
    assert load(tmp_path, "a: '${ NAME  }'\n", {"NAME": "  v \n"}) == {"a": "v"}


def test_undefined_variable_removes_the_key(tmp_path: Path) -> None:
    data = load(tmp_path, "a: 'x ${MISSING} ${HOST}'\nb: kept\n", {"HOST": "h"})
    assert data == {"b": "kept"}


def test_undefined_variable_removes_the_array_element(tmp_path: Path) -> None:
    assert load(tmp_path, "a: [one, '${MISSING}', three]\n", {}) == {"a": ["one", "three"]}


def test_empty_token_is_undefined(tmp_path: Path) -> None:
    assert load(tmp_path, "a: 'x ${}'\n", {}) == {}


def test_double_dollar_escapes_a_token(tmp_path: Path) -> None:
    data = load(tmp_path, "a: 'foo $${ESCAPE_ME} $$${TOO} $${}'\n", {"ESCAPE_ME": "no"})
    assert data == {"a": "foo ${ESCAPE_ME} $${TOO} ${}"}


def test_fallback_is_used_when_variable_is_unset(tmp_path: Path) -> None:
    assert load(tmp_path, "a: '${PORT:-7007}'\n", {}) == {"a": "7007"}


def test_fallback_is_used_when_variable_is_empty(tmp_path: Path) -> None:
    assert load(tmp_path, "a: '${PORT:- 7007 }'\n", {"PORT": ""}) == {"a": "7007"}


def test_variable_wins_over_fallback(tmp_path: Path) -> None:
    assert load(tmp_path, "a: '${PORT:-7007}'\n", {"PORT": "80"}) == {"a": "80"}


def test_only_strings_are_substituted(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text("a: 1\nb: true\nc: null\n", encoding="utf-8")
    # The loader keeps the null (apply.ts returns it as is); the reader then hides it.
    source = load_config(env={}, cwd=tmp_path).sources[0]
    assert source.data == {"a": 1, "b": True, "c": None}


def test_substituted_value_stays_a_string(tmp_path: Path) -> None:
    assert load(tmp_path, "port: ${PORT}\n", {"PORT": "7007"}) == {"port": "7007"}


_TEXT = st.text(alphabet=st.characters(blacklist_characters="{}\r\x85\u2028\u2029"), max_size=20)


@given(inner=_TEXT, before=_TEXT, after=_TEXT)
def test_escaped_token_survives_literally(inner: str, before: str, after: str) -> None:
    if "$" in before[-1:] or "${" in before + after or "$${" in after:
        return
    result = substitute(f"{before}$${{{inner}}}{after}", lambda name: None)
    assert result.value == f"{before}${{{inner}}}{after}"
    # OmegaConf would treat the literal as an interpolation; our reader must not.
    config = create_config_from_data({"a": result.value})
    assert config.get_string("a") == result.value


_ENV = {
    "SET": "value",
    "EMPTY": "",
    "SPACES": "   ",
    "PADDED": "  v  ",
    "A": "a",
    "B": "b",
    "ZERO": "0",
}

# What ``createSubstitutionTransform`` of @backstage/config-loader 1.11.5 returns for each input
# with the environment above and the default (trimming) lookup; None is ``undefined``, i.e. the
# key disappears. Produced by running the Node transform on exactly these strings.
_NODE_SUBSTITUTIONS = [
    ("${SET}", "value"),
    ("${UNSET}", None),
    ("${EMPTY}", ""),
    ("${SPACES}", ""),
    ("${PADDED}", "v"),
    ("x${EMPTY}y", "xy"),
    ("x${UNSET}y", None),
    ("${UNSET:-}", None),
    ("x${UNSET:-}y", None),
    ("${EMPTY:-}", None),
    ("${EMPTY:-fb}", "fb"),
    ("${SPACES:-fb}", "fb"),
    ("${UNSET:-fb}", "fb"),
    ("${SET:-fb}", "value"),
    ("${SET:-}", "value"),
    ("${UNSET:- fb with spaces }", "fb with spaces"),
    ("${UNSET:-   }", None),
    ("${ SET }", "value"),
    ("${ SET :-fb}", "value"),
    ("${UNSET:-a:-b}", "a:-b"),
    ("${UNSET:-$}", "$"),
    ("$${SET}", "${SET}"),
    ("$$${SET}", "$${SET}"),
    ("$${UNSET}", "${UNSET}"),
    ("$$$${SET}", "$$${SET}"),
    ("a $${X} ${SET}", "a ${X} value"),
    ("${A}${B}", "ab"),
    ("${A}-${B}-${UNSET}", None),
    ("${A}${UNSET:-}", None),
    ("${ZERO:-fb}", "0"),
    ("${UNSET:-0}", "0"),
    ("${}", None),
    ("${:-fb}", "fb"),
    ("${ :-}", None),
    ("$SET", "$SET"),
    ("${SET", "${SET"),
    ("{SET}", "{SET}"),
    ("${SET}}", "value}"),
    ("${A${B}}", "${Ab}"),
    ("${UNSET:-${A}}", "${UNSET:-a}"),
    ("", ""),
    ("plain", "plain"),
]


@pytest.mark.parametrize(("text", "expected"), _NODE_SUBSTITUTIONS)
def test_substitution_matches_the_node_transform(text: str, expected: str | None) -> None:
    assert substitute(text, env_lookup(_ENV)).value == expected


@pytest.mark.parametrize(("text", "expected"), _NODE_SUBSTITUTIONS)
def test_a_file_value_substitutes_like_node_and_undefined_drops_the_key(
    tmp_path: Path, text: str, expected: str | None
) -> None:
    # The same table through a real file: in an object, in an array, and nested deeper.
    quoted = text.replace("'", "''")
    data = load(
        tmp_path,
        f"a: '{quoted}'\nlist: [first, '{quoted}']\nnested:\n  deep:\n    - k: '{quoted}'\n",
        _ENV,
    )
    if expected is None:
        assert data == {"list": ["first"], "nested": {"deep": [{}]}}
    else:
        assert data == {
            "a": expected,
            "list": ["first", expected],
            "nested": {"deep": [{"k": expected}]},
        }


def test_only_env_values_count_as_secrets() -> None:
    lookup = env_lookup(_ENV)
    assert substitute("${UNSET:-fallback}", lookup).from_env is False
    assert substitute("${SET:-fallback}", lookup).from_env is True
    assert substitute("${EMPTY}", lookup).from_env is False
    assert substitute("x${UNSET:-}", lookup).from_env is False


def test_a_directive_whose_target_substitutes_to_undefined_fails_like_node(
    tmp_path: Path,
) -> None:
    # include.ts: "$env substitution value was undefined" when the substituted target is
    # undefined, which '${UNSET:-}' now is.
    (tmp_path / "app-config.yaml").write_text("a:\n  $env: ${UNSET:-}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, cwd=tmp_path)
    assert "error at .a, $env substitution value was undefined" in str(caught.value)
