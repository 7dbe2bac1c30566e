"""``start_test_backend``, ``mock_services`` and the ``test_backend_factory`` pytest fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime import (
    ServiceRef,
    core_services,
    create_backend_module,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.api.errors import BackendStartupError, ConfigError
from backstage_runtime.testing import TestBackend, mock_services, start_test_backend

pytestmark = pytest.mark.anyio


async def test_starts_a_plugin_with_its_config() -> None:
    got: list[Any] = []

    def init(config: Any) -> None:
        got.append(config.get_string("todo.title"))

    async with start_test_backend(
        features=[plugin_with_init("todo", {"config": core_services.root_config}, init)],
        config={"todo": {"title": "My list"}},
    ) as test:
        assert test.backend.started
        assert got == ["My list"]
        config = await test.get_service(core_services.root_config)
        assert config.get_string("todo.title") == "My list"
    assert not test.backend.started


async def test_config_defaults_to_empty() -> None:
    async with start_test_backend() as test:
        config = await test.get_service(core_services.root_config)
        assert config.keys() == []
        assert config.get_optional("anything") is None


async def test_a_module_alone_gets_an_empty_plugin() -> None:
    ran: list[str] = []

    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: ran.append("module"))

    module = create_backend_module(plugin_id="catalog", module_id="extra", register=register)
    async with start_test_backend(features=[module]) as test:
        assert ran == ["module"]
        status = test.backend.startup_result.plugins["catalog"]
        assert status.started
        assert status.module_failures == {}


async def test_a_module_with_its_plugin_present_gets_no_extra_plugin() -> None:
    ran: list[str] = []

    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: ran.append("module"))

    module = create_backend_module(plugin_id="catalog", module_id="extra", register=register)
    plugin = plugin_with_init("catalog", init=lambda: ran.append("plugin"))
    async with start_test_backend(features=[module, plugin]) as test:
        assert ran == ["module", "plugin"]
        assert list(test.backend.startup_result.plugins) == ["catalog"]


async def test_feature_factories_replace_the_test_defaults() -> None:
    async with start_test_backend(
        features=[mock_services.root_config.factory({"from": "feature"})],
        config={"from": "config argument"},
    ) as test:
        config = await test.get_service(core_services.root_config)
        assert config.get_string("from") == "feature"


async def test_test_backend_records_what_the_backend_logged() -> None:
    def init(logger: Any) -> None:
        logger.info("hello from the plugin", {"extra": 1})

    async with start_test_backend(
        features=[plugin_with_init("p", {"logger": core_services.logger}, init)]
    ) as test:
        [entry] = [e for e in test.logger.entries if e.message == "hello from the plugin"]
        assert entry.level == "info"
        assert entry.fields == {"plugin": "p", "extra": 1}
        assert "Plugin initialization complete" in test.logger.messages("info")


async def test_log_level_filters_recorded_entries() -> None:
    def init(logger: Any) -> None:
        logger.debug("quiet")
        logger.warn("loud")

    async with start_test_backend(
        features=[plugin_with_init("p", {"logger": core_services.logger}, init)],
        log_level="warn",
    ) as test:
        assert test.logger.messages() == ["loud"]


async def test_startup_failure_propagates_out_of_start_test_backend() -> None:
    def broken() -> None:
        raise ValueError("nope")

    with pytest.raises(BackendStartupError, match=r"Plugin 'p' startup failed"):
        async with start_test_backend(features=[plugin_with_init("p", init=broken)]):
            pytest.fail("must not start")


async def test_get_service_of_the_test_backend_reads_plugin_services() -> None:
    ref: ServiceRef[str] = create_service_ref(id="svc.mine")
    async with start_test_backend(
        features=[
            create_service_factory(
                service=ref,
                deps={"meta": core_services.plugin_metadata},
                factory=lambda meta: f"for {meta.get_id()}",
            ),
            plugin_with_init("p"),
        ]
    ) as test:
        assert await test.get_service(ref, "p") == "for p"


def test_mock_root_config_getters() -> None:
    config = mock_services.root_config(
        {"app": {"title": "T", "port": 7007, "on": True, "tags": ["a", "b"]}}
    )
    assert config.get_string("app.title") == "T"
    assert config.get_number("app.port") == 7007
    assert config.get_boolean("app.on") is True
    assert config.get_string_array("app.tags") == ["a", "b"]
    assert config.get_config("app").get_string("title") == "T"
    assert config.has("app.port")
    assert not config.has("app.missing")
    assert config.get_optional_string("app.missing") is None
    assert sorted(config.keys()) == ["app"]


def test_mock_root_config_defaults_to_empty() -> None:
    config = mock_services.root_config()
    assert config.keys() == []
    assert config.get_optional("x") is None


def test_mock_root_config_errors_name_mock_config() -> None:
    config = mock_services.root_config({"app": {"title": "T"}})
    with pytest.raises(ConfigError) as wrong_type:
        config.get_config("app.title")
    assert str(wrong_type.value) == (
        "Invalid type in config for key 'app.title' in 'mock-config', got string, wanted object"
    )
    with pytest.raises(ConfigError) as unconvertible:
        config.get_number("app.title")
    assert str(unconvertible.value) == (
        "Unable to convert config value for key 'app.title' in 'mock-config' to a number"
    )
    with pytest.raises(ConfigError, match=r"'app.missing'"):
        config.get_string("app.missing")


def test_mock_root_logger_records_entries_and_children_share_them() -> None:
    logger = mock_services.root_logger()
    logger.debug("debugging")
    boom = ValueError("boom")
    logger.child({"plugin": "p"}).error("failed", boom)
    logger.info("with meta", {"key": "value"})
    assert [(e.level, e.message) for e in logger.entries] == [
        ("debug", "debugging"),
        ("error", "failed"),
        ("info", "with meta"),
    ]
    assert logger.entries[1].error is boom
    assert logger.entries[1].fields == {"plugin": "p"}
    assert logger.entries[2].fields == {"key": "value"}
    assert logger.messages("error") == ["failed"]


def test_mock_root_logger_drops_entries_below_its_level() -> None:
    logger = mock_services.root_logger(level="warn")
    logger.info("dropped")
    logger.debug("dropped too")
    logger.warn("kept")
    logger.error("kept too")
    assert logger.messages() == ["kept", "kept too"]


def test_mock_root_logger_rejects_an_unknown_level() -> None:
    with pytest.raises(ValueError, match=r"Unknown log level 'loud'"):
        mock_services.root_logger(level="loud")


async def test_mock_root_logger_factory_serves_the_given_logger() -> None:
    logger = mock_services.root_logger()
    async with start_test_backend(features=[mock_services.root_logger.factory(logger=logger)]):
        pass
    assert "Plugin initialization complete" in logger.messages("info")


# -- the pytest fixture ----------------------------------------------------------------------

_fixture_shutdowns: list[str] = []


@pytest.fixture
def shutdowns_checked_after_teardown() -> Iterator[list[str]]:
    """Requested before ``test_backend_factory``, so this teardown runs after the fixture's.

    The assertion after ``yield`` fails the test (as a teardown error) if the backends the
    fixture started were not stopped.
    """
    _fixture_shutdowns.clear()
    yield _fixture_shutdowns
    assert sorted(_fixture_shutdowns) == ["first stopped", "second stopped"]


def _stopping_plugin(plugin_id: str, events: list[str], label: str) -> Any:
    def init(lifecycle: Any) -> None:
        lifecycle.add_shutdown_hook(lambda: events.append(label))

    return plugin_with_init(plugin_id, {"lifecycle": core_services.lifecycle}, init)


async def test_fixture_backends_run_during_the_test_and_stop_after_it(
    shutdowns_checked_after_teardown: list[str], test_backend_factory: Any
) -> None:
    events = shutdowns_checked_after_teardown
    first: TestBackend = await test_backend_factory(
        features=[_stopping_plugin("p", events, "first stopped")], config={"a": 1}
    )
    second: TestBackend = await test_backend_factory(
        features=[_stopping_plugin("p", events, "second stopped")]
    )
    assert first.backend.started
    assert second.backend.started
    config = await first.get_service(core_services.root_config)
    assert config.get_number("a") == 1
    assert events == []  # nothing stops before the test ends; the teardown checks the rest
