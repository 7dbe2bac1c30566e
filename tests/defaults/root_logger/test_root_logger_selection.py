import json

import pytest

from backstage_runtime.api.errors import ConfigError

from .fakes import Captured, MakeLogger


def is_json(captured: Captured) -> bool:
    captured.logger.info("probe")
    try:
        json.loads(captured.lines[-1])
    except ValueError:
        return False
    return True


def test_format_defaults_to_pretty(make_logger: MakeLogger) -> None:
    assert not is_json(make_logger())


def test_node_env_production_selects_json(make_logger: MakeLogger) -> None:
    assert is_json(make_logger(env={"NODE_ENV": "production"}))


def test_log_format_env_wins_over_node_env(make_logger: MakeLogger) -> None:
    assert not is_json(make_logger(env={"NODE_ENV": "production", "LOG_FORMAT": "pretty"}))


def test_config_format_wins_over_log_format_env(make_logger: MakeLogger) -> None:
    captured = make_logger(
        {"backend": {"logger": {"format": "json"}}}, env={"LOG_FORMAT": "pretty"}
    )

    assert is_json(captured)


def test_invalid_config_format_is_a_config_error_naming_the_key(make_logger: MakeLogger) -> None:
    with pytest.raises(ConfigError, match=r"backend\.logger\.format.*'xml'"):
        make_logger({"backend": {"logger": {"format": "xml"}}})


def test_invalid_log_format_env_is_a_config_error_naming_the_variable(
    make_logger: MakeLogger,
) -> None:
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        make_logger(env={"LOG_FORMAT": "yaml"})


def test_level_defaults_to_info_and_drops_debug(json_logger: Captured) -> None:
    json_logger.logger.debug("hidden")
    json_logger.logger.info("shown")

    assert [r["message"] for r in json_logger.records] == ["shown"]


def test_level_filters_less_severe_entries(make_logger: MakeLogger) -> None:
    captured = make_logger({"backend": {"logger": {"level": "warn"}}}, env={"LOG_FORMAT": "json"})

    captured.logger.error("e")
    captured.logger.warn("w")
    captured.logger.info("i")
    captured.logger.debug("d")

    assert [r["message"] for r in captured.records] == ["e", "w"]


def test_config_level_debug_shows_debug(make_logger: MakeLogger) -> None:
    captured = make_logger({"backend": {"logger": {"level": "debug"}}}, env={"LOG_FORMAT": "json"})

    captured.logger.debug("d")

    assert [r["level"] for r in captured.records] == ["debug"]


def test_log_level_env_wins_over_config_level(make_logger: MakeLogger) -> None:
    captured = make_logger(
        {"backend": {"logger": {"level": "debug"}}},
        env={"LOG_FORMAT": "json", "LOG_LEVEL": "error"},
    )

    captured.logger.warn("w")
    captured.logger.error("e")

    assert captured.logger.level == "error"
    assert [r["message"] for r in captured.records] == ["e"]


def test_empty_log_level_env_counts_as_unset(make_logger: MakeLogger) -> None:
    captured = make_logger({"backend": {"logger": {"level": "warn"}}}, env={"LOG_LEVEL": ""})

    assert captured.logger.level == "warn"


def test_npm_levels_such_as_verbose_are_accepted(make_logger: MakeLogger) -> None:
    captured = make_logger(env={"LOG_LEVEL": "verbose", "LOG_FORMAT": "json"})

    captured.logger.info("i")
    captured.logger.debug("d")

    assert [r["message"] for r in captured.records] == ["i"]


def test_invalid_config_level_is_a_config_error_naming_the_key(make_logger: MakeLogger) -> None:
    with pytest.raises(ConfigError, match=r"config at backend\.logger\.level, 'loud'"):
        make_logger({"backend": {"logger": {"level": "loud"}}})


def test_invalid_log_level_env_is_a_config_error_naming_the_variable(
    make_logger: MakeLogger,
) -> None:
    with pytest.raises(ConfigError, match=r"LOG_LEVEL, 'loud'"):
        make_logger(env={"LOG_LEVEL": "loud"})


def test_non_object_meta_is_a_config_error_naming_the_key(make_logger: MakeLogger) -> None:
    with pytest.raises(ConfigError, match=r"backend\.logger\.meta"):
        make_logger({"backend": {"logger": {"meta": "team-a"}}})
