import io
import json
from typing import Any

from backstage_runtime.api import core_services
from backstage_runtime.defaults.logger import logger_service_factory
from backstage_runtime.defaults.root_logger import create_root_logger
from backstage_runtime.testing import MockRootLogger


class PluginMetadata:
    def __init__(self, plugin_id: str) -> None:
        self._plugin_id = plugin_id

    def get_id(self) -> str:
        return self._plugin_id


def build(root_logger: Any, plugin_id: str) -> Any:
    return logger_service_factory().factory(
        root_logger=root_logger, plugin_metadata=PluginMetadata(plugin_id)
    )


def test_factory_provides_core_logger_from_root_logger_and_plugin_metadata() -> None:
    factory = logger_service_factory()

    assert factory.service == core_services.logger
    assert dict(factory.deps) == {
        "root_logger": core_services.root_logger,
        "plugin_metadata": core_services.plugin_metadata,
    }


def test_plugin_logger_entries_carry_the_plugin_id() -> None:
    root = MockRootLogger()

    build(root, "catalog").info("hello")

    assert root.entries[0].fields == {"plugin": "catalog"}


def test_plugin_logger_lines_carry_plugin_and_service() -> None:
    stream = io.StringIO()
    root = create_root_logger(None, stream=stream, env={"LOG_FORMAT": "json"})

    build(root, "scaffolder").warn("hello")

    record = json.loads(stream.getvalue())
    assert (record["plugin"], record["service"]) == ("scaffolder", "backstage")


def test_plugin_loggers_of_two_plugins_do_not_share_fields() -> None:
    root = MockRootLogger()

    build(root, "catalog").info("a")
    build(root, "search").info("b")

    assert [e.fields["plugin"] for e in root.entries] == ["catalog", "search"]
