import pytest

from backstage_runtime.api import LoggerService, RootLoggerService
from backstage_runtime.testing import LogRecordEntry, MockRootLogger


def test_mock_records_level_message_and_fields() -> None:
    logger = MockRootLogger()

    logger.info("hello", {"a": 1})

    assert logger.entries == [LogRecordEntry("info", "hello", {"a": 1})]


def test_mock_records_children_into_the_same_list_with_their_fields() -> None:
    logger = MockRootLogger()

    logger.child({"plugin": "catalog"}).child({"task": "t"}).warn("from child", {"x": True})

    assert logger.entries == [
        LogRecordEntry("warn", "from child", {"plugin": "catalog", "task": "t", "x": True})
    ]


def test_mock_records_exception_meta_as_the_error() -> None:
    logger = MockRootLogger()
    error = ValueError("boom")

    logger.error("failed", error)

    assert logger.entries[0].error is error


def test_mock_level_drops_less_severe_entries() -> None:
    logger = MockRootLogger(level="warn")

    logger.info("dropped")
    logger.error("kept")

    assert logger.messages() == ["kept"]


def test_mock_messages_can_be_filtered_by_level() -> None:
    logger = MockRootLogger()
    logger.info("i")
    logger.debug("d")

    assert logger.messages("debug") == ["d"]


def test_mock_remembers_redactions() -> None:
    logger = MockRootLogger()

    logger.add_redactions(["a-secret"])

    assert logger.redactions == {"a-secret"}


def test_mock_rejects_an_unknown_level() -> None:
    with pytest.raises(ValueError, match="loud"):
        MockRootLogger(level="loud")


def test_mock_satisfies_the_logger_protocols() -> None:
    root: RootLoggerService = MockRootLogger()
    child: LoggerService = root.child({"plugin": "x"})

    child.info("typed")
