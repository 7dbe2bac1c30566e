import io
import json
from collections.abc import Iterator

from backstage_runtime.api import RootLoggerService, ServiceFactory, core_services
from backstage_runtime.defaults.root_logger import BackstageLogger, root_logger_service_factory

from .fakes import FakeConfig


def build(factory: ServiceFactory[RootLoggerService], config: FakeConfig) -> BackstageLogger:
    """Call the factory as the backend does: a generator yielding the logger, which flushes the
    logger's writer thread when the backend stops (closes it).
    """
    built = factory.factory(config=config)
    assert isinstance(built, Iterator)
    logger = next(built)
    assert isinstance(logger, BackstageLogger)
    return logger


def test_factory_provides_core_root_logger_from_root_config() -> None:
    factory = root_logger_service_factory()

    assert factory.service == core_services.root_logger
    assert dict(factory.deps) == {"config": core_services.root_config}


def test_factory_builds_a_logger_from_config_and_options() -> None:
    stream = io.StringIO()
    factory = root_logger_service_factory(stream=stream, env={"LOG_FORMAT": "json"})

    logger = build(factory, FakeConfig({"backend": {"logger": {"meta": {"team": "a"}}}}))
    logger.info("built")

    record = json.loads(stream.getvalue())
    assert (record["message"], record["team"]) == ("built", "a")


def test_factory_reads_the_environment_when_the_service_is_built() -> None:
    env: dict[str, str] = {}
    stream = io.StringIO()
    factory = root_logger_service_factory(stream=stream, env=env)

    env["LOG_FORMAT"] = "json"
    build(factory, FakeConfig({})).info("late env")

    assert json.loads(stream.getvalue())["message"] == "late env"


def test_each_factory_call_builds_an_independent_logger() -> None:
    factory = root_logger_service_factory(stream=io.StringIO(), env={})

    first = build(factory, FakeConfig({}))
    second = build(factory, FakeConfig({}))
    first.add_redactions(["first-only"])

    assert second.add_redactions(["first-only"]) == 1


def test_a_worker_of_serve_numbers_its_lines() -> None:
    # The variable serve --workers N sets in each worker: the same name on both sides.
    from backstage_runtime.cli._workers import WORKER_INDEX_ENV

    stream = io.StringIO()
    env = {"LOG_FORMAT": "json", WORKER_INDEX_ENV: "2"}
    logger = build(root_logger_service_factory(stream=stream, env=env), FakeConfig({}))
    logger.child({"plugin": "catalog"}).info("from a worker")
    logger.info("unnumbered?", {"worker": "meta wins"})

    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["worker"], first["plugin"], first["service"]) == (2, "catalog", "backstage")
    assert second["worker"] == "meta wins"


def test_a_worker_number_that_is_no_number_is_left_out() -> None:
    stream = io.StringIO()
    env = {"LOG_FORMAT": "json", "BACKSTAGE_RUNTIME_WORKER": "two"}
    logger = build(root_logger_service_factory(stream=stream, env=env), FakeConfig({}))
    logger.info("plain")

    assert "worker" not in json.loads(stream.getvalue())
