import logging
from collections.abc import Iterator

import pytest

from backstage_runtime.defaults.root_logger import StdlibLoggingBridge, install_stdlib_bridge

from .fakes import Captured


@pytest.fixture
def library_logger() -> Iterator[logging.Logger]:
    # A private stdlib logger so the test does not depend on the global root logger's handlers.
    logger = logging.getLogger("tests.root_logger.some_library")
    logger.propagate = False
    yield logger
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)


def test_bridge_forwards_records_with_the_logger_name(
    json_logger: Captured, library_logger: logging.Logger
) -> None:
    install_stdlib_bridge(json_logger.logger, logging.INFO, name=library_logger.name)

    library_logger.warning("disk %s full", "/var")

    record = json_logger.records[-1]
    assert (record["level"], record["message"], record["logger"]) == (
        "warn",
        "disk /var full",
        "tests.root_logger.some_library",
    )


def test_bridge_maps_stdlib_levels_to_backstage_levels(
    json_logger: Captured, library_logger: logging.Logger
) -> None:
    library_logger.addHandler(StdlibLoggingBridge(json_logger.logger))
    library_logger.setLevel(logging.DEBUG)

    library_logger.critical("c")
    library_logger.error("e")
    library_logger.info("i")
    library_logger.debug("d")

    assert [r["level"] for r in json_logger.records] == ["error", "error", "info"]


def test_bridge_below_its_level_forwards_nothing(
    json_logger: Captured, library_logger: logging.Logger
) -> None:
    install_stdlib_bridge(json_logger.logger, logging.WARNING, name=library_logger.name)

    library_logger.info("chatter")

    assert json_logger.lines == []


def test_bridge_renders_exc_info_as_an_exception(
    json_logger: Captured, library_logger: logging.Logger
) -> None:
    install_stdlib_bridge(json_logger.logger, name=library_logger.name)

    try:
        raise RuntimeError("pool exhausted")
    except RuntimeError:
        library_logger.exception("query failed")

    record = json_logger.records[-1]
    assert record["message"] == "query failed pool exhausted"
    assert record["logger"] == library_logger.name
    assert record["stack"].endswith("RuntimeError: pool exhausted")


def test_bridged_records_are_redacted(
    json_logger: Captured, library_logger: logging.Logger
) -> None:
    install_stdlib_bridge(json_logger.logger, name=library_logger.name)

    library_logger.warning("connecting with Bearer abc.def")

    assert json_logger.records[-1]["message"] == "connecting with Bearer ***"
