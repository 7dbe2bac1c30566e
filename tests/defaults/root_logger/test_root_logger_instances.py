import io
import sys

import pytest

from backstage_runtime.defaults.root_logger import BackstageLogger, create_root_logger

from .fakes import Captured, MakeLogger


def test_two_root_loggers_write_to_their_own_streams(make_logger: MakeLogger) -> None:
    first = make_logger(env={"LOG_FORMAT": "json"})
    second = make_logger(env={"LOG_FORMAT": "json"})

    first.logger.info("one")
    second.logger.info("two")

    assert [r["message"] for r in first.records] == ["one"]
    assert [r["message"] for r in second.records] == ["two"]


def test_two_root_loggers_keep_their_own_redactions(make_logger: MakeLogger) -> None:
    first = make_logger(env={"LOG_FORMAT": "json"})
    second = make_logger(env={"LOG_FORMAT": "json"})

    first.logger.add_redactions(["only-first"])
    first.logger.info("only-first")
    second.logger.info("only-first")

    assert first.records[-1]["message"] == "***"
    assert second.records[-1]["message"] == "only-first"


def test_two_root_loggers_keep_their_own_levels(make_logger: MakeLogger) -> None:
    quiet = make_logger(env={"LOG_FORMAT": "json", "LOG_LEVEL": "error"})
    chatty = make_logger(env={"LOG_FORMAT": "json", "LOG_LEVEL": "debug"})

    quiet.logger.debug("d")
    chatty.logger.debug("d")

    assert (quiet.lines, len(chatty.lines)) == ([], 1)


def test_default_stream_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    logger = create_root_logger(None, env={"LOG_FORMAT": "json"})

    logger.info("to stdout")

    assert '"message":"to stdout"' in capsys.readouterr().out


def test_child_adds_fields_without_changing_its_parent(json_logger: Captured) -> None:
    child = json_logger.logger.child({"plugin": "catalog"})
    grandchild = child.child({"task": "refresh"})

    json_logger.logger.info("root")
    grandchild.info("grandchild")

    root_record, grandchild_record = json_logger.records
    assert "plugin" not in root_record
    assert (grandchild_record["plugin"], grandchild_record["task"]) == ("catalog", "refresh")


def test_child_shares_the_root_level(make_logger: MakeLogger) -> None:
    captured = make_logger(env={"LOG_FORMAT": "json", "LOG_LEVEL": "warn"})

    captured.logger.child({"plugin": "catalog"}).info("hidden")

    assert captured.lines == []


def test_closed_stream_does_not_raise_into_the_caller() -> None:
    stream = io.StringIO()
    logger = BackstageLogger(stream=stream, format="json")
    stream.close()

    logger.info("nobody listens")


def test_unknown_level_in_constructor_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="loud"):
        BackstageLogger(stream=sys.stdout, level="loud")
