from typing import Any

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_logger import LevelOverride

from .fakes import Captured, FakeConfig, MakeLogger


def with_overrides(
    make_logger: MakeLogger, overrides: list[dict[str, Any]], level: str = "info"
) -> Captured:
    config = {"backend": {"logger": {"level": level, "overrides": overrides}}}
    return make_logger(config, env={"LOG_FORMAT": "json"})


def messages(captured: Captured) -> list[str]:
    return [r["message"] for r in captured.records]


def test_override_lowers_verbosity_of_matching_entries(make_logger: MakeLogger) -> None:
    captured = with_overrides(make_logger, [{"matchers": {"plugin": "catalog"}, "level": "warn"}])

    captured.logger.child({"plugin": "catalog"}).info("catalog info")
    captured.logger.child({"plugin": "catalog"}).warn("catalog warn")
    captured.logger.child({"plugin": "search"}).info("search info")

    assert messages(captured) == ["catalog warn", "search info"]


def test_override_raises_verbosity_of_matching_entries(make_logger: MakeLogger) -> None:
    captured = with_overrides(make_logger, [{"matchers": {"plugin": "catalog"}, "level": "debug"}])

    captured.logger.child({"plugin": "catalog"}).debug("catalog debug")
    captured.logger.child({"plugin": "search"}).debug("search debug")

    assert messages(captured) == ["catalog debug"]


def test_first_matching_override_decides(make_logger: MakeLogger) -> None:
    captured = with_overrides(
        make_logger,
        [
            {"matchers": {"plugin": "catalog"}, "level": "debug"},
            {"matchers": {"plugin": "catalog"}, "level": "error"},
        ],
    )

    captured.logger.child({"plugin": "catalog"}).info("kept by the first override")

    assert messages(captured) == ["kept by the first override"]


def test_all_matchers_of_an_override_must_match(make_logger: MakeLogger) -> None:
    captured = with_overrides(
        make_logger, [{"matchers": {"plugin": "catalog", "task": "refresh"}, "level": "error"}]
    )
    catalog = captured.logger.child({"plugin": "catalog"})

    catalog.info("no task field")
    catalog.info("refresh", {"task": "refresh"})

    assert messages(captured) == ["no task field"]


def test_regex_matcher_is_tested_against_string_fields(make_logger: MakeLogger) -> None:
    captured = with_overrides(make_logger, [{"matchers": {"plugin": "/^cat/"}, "level": "error"}])

    captured.logger.child({"plugin": "catalog"}).info("dropped")
    captured.logger.child({"plugin": "scaffolder"}).info("kept")

    assert messages(captured) == ["kept"]


def test_regex_matcher_honours_flags(make_logger: MakeLogger) -> None:
    captured = with_overrides(
        make_logger, [{"matchers": {"message": "/^health/i"}, "level": "warn"}]
    )

    captured.logger.info("HEALTH check ok")
    captured.logger.info("real work")

    assert messages(captured) == ["real work"]


def test_regex_matcher_never_matches_non_string_fields(make_logger: MakeLogger) -> None:
    captured = with_overrides(make_logger, [{"matchers": {"status": "/200/"}, "level": "error"}])

    captured.logger.info("numeric status", {"status": 200})

    assert messages(captured) == ["numeric status"]


def test_array_matcher_matches_any_of_its_items(make_logger: MakeLogger) -> None:
    captured = with_overrides(
        make_logger, [{"matchers": {"plugin": ["catalog", "/^search/"]}, "level": "error"}]
    )

    for plugin in ("catalog", "search-backend", "auth"):
        captured.logger.child({"plugin": plugin}).info(plugin)

    assert messages(captured) == ["auth"]


def test_scalar_matcher_uses_strict_equality(make_logger: MakeLogger) -> None:
    captured = with_overrides(make_logger, [{"matchers": {"status": 200}, "level": "error"}])

    captured.logger.info("number", {"status": 200})
    captured.logger.info("string", {"status": "200"})

    assert messages(captured) == ["string"]


def test_boolean_matcher_does_not_match_the_number_one(make_logger: MakeLogger) -> None:
    captured = with_overrides(make_logger, [{"matchers": {"flag": True}, "level": "error"}])

    captured.logger.info("one", {"flag": 1})
    captured.logger.info("true", {"flag": True})

    assert messages(captured) == ["one"]


def test_invalid_regex_falls_back_to_string_equality(make_logger: MakeLogger) -> None:
    captured = with_overrides(make_logger, [{"matchers": {"plugin": "/(/"}, "level": "error"}])

    captured.logger.child({"plugin": "/(/"}).info("dropped")
    captured.logger.child({"plugin": "("}).info("kept")

    assert messages(captured) == ["kept"]


def test_invalid_override_level_names_the_override(make_logger: MakeLogger) -> None:
    overrides = [
        {"matchers": {"plugin": "a"}, "level": "warn"},
        {"matchers": {"plugin": "b"}, "level": "chatty"},
    ]

    with pytest.raises(ConfigError, match=r"backend\.logger\.overrides\[1\]\.level, 'chatty'"):
        with_overrides(make_logger, overrides)


def test_override_without_matchers_names_the_key(make_logger: MakeLogger) -> None:
    with pytest.raises(ConfigError, match=r"backend\.logger\.overrides\[0\]\.matchers"):
        with_overrides(make_logger, [{"level": "warn"}])


def test_overrides_are_reloaded_when_the_config_changes(make_logger: MakeLogger) -> None:
    config = FakeConfig({})
    captured = make_logger(config, env={"LOG_FORMAT": "json"})
    catalog = captured.logger.child({"plugin": "catalog"})

    catalog.info("before")
    config.reload(
        {
            "backend": {
                "logger": {"overrides": [{"matchers": {"plugin": "catalog"}, "level": "warn"}]}
            }
        }
    )
    catalog.info("after")

    assert messages(captured) == ["before"]


def test_set_level_overrides_applies_to_existing_children(json_logger: Captured) -> None:
    catalog = json_logger.logger.child({"plugin": "catalog"})

    json_logger.logger.set_level_overrides([LevelOverride({"plugin": "catalog"}, "debug")])
    catalog.debug("now visible")

    assert messages(json_logger) == ["now visible"]
