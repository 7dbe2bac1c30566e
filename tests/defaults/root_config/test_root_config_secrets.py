"""``secret_values``: what the logger redacts."""

from __future__ import annotations

from pathlib import Path

from backstage_runtime.defaults.root_config import create_config_from_data, load_config


def test_values_from_the_environment_and_files_are_secret(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text(
        "a: 'Bearer ${TOKEN_VAR}'\nb:\n  $env: OTHER\nc:\n  $file: key.pem\nplain: visible\n"
        "d: '${UNSET:-fallback-value}'\n"
    )
    (tmp_path / "key.pem").write_text("pem-content\n")
    config = load_config(
        env={"TOKEN_VAR": "t0k", "OTHER": "other-value", "APP_CONFIG_x_y": "from-env"},
        cwd=tmp_path,
    )
    assert set(config.secret_values()) == {"Bearer t0k", "other-value", "pem-content", "from-env"}


def test_values_under_secret_looking_keys_are_secret() -> None:
    config = create_config_from_data(
        {
            "auth": {"github": {"clientSecret": "cs-123", "clientId": "public"}},
            "db": {"password": "pw-456", "user": "me"},
            "keys": [{"key": "k-789"}],
            "apiToken": ["t1", "t2"],
            "integration": {"privateKey": {"pem": "p-000"}},
            "monkey": "not-a-secret",
        }
    )
    assert set(config.secret_values()) == {"cs-123", "pw-456", "k-789", "t1", "t2", "p-000"}


def test_one_character_values_are_left_out() -> None:
    config = create_config_from_data({"password": "x", "token": ""})
    assert config.secret_values() == []


def test_secret_values_are_longest_first() -> None:
    config = create_config_from_data({"token": "ab", "secret": "abcd", "password": "abc"})
    assert config.secret_values() == ["abcd", "abc", "ab"]
