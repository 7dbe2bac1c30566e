"""The ``static`` module of the ``todo`` plugin: TODO items from ``todo.static.items``."""

from __future__ import annotations

from backstage_plugin_todo_backend import TodoSourcesExtensionPoint, todo_sources_extension_point

from backstage_runtime import (
    Config,
    ModuleRegistrationPoints,
    core_services,
    create_backend_module,
)

__all__ = ["static_todos_module"]


def _register(env: ModuleRegistrationPoints) -> None:
    def init(*, config: Config, todos: TodoSourcesExtensionPoint) -> None:
        todos.add_source("static", config.get_optional_string_array("todo.static.items") or [])

    env.register_init(
        deps={"config": core_services.root_config, "todos": todo_sources_extension_point},
        init=init,
    )


#: Adds the items of ``todo.static.items`` to the ``todo`` plugin.
static_todos_module = create_backend_module(
    plugin_id="todo", module_id="static", register=_register
)
