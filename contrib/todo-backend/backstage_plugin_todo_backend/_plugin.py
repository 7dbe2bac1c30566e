"""The ``todo`` plugin."""

from __future__ import annotations

from collections.abc import Sequence

from backstage_runtime import (
    LifecycleService,
    LoggerService,
    PluginRegistrationPoints,
    core_services,
    create_backend_plugin,
)

from ._extension_point import TodoItem, todo_sources_extension_point


class TodoList:
    """The items every source contributed, in the order they were added."""

    def __init__(self) -> None:
        self.items: list[TodoItem] = []

    def add_source(self, name: str, titles: Sequence[str]) -> None:
        """Add the items of the source ``name``; a source may only be added once."""
        if any(item.source == name for item in self.items):
            raise ValueError(f"TODO source '{name}' was already added")
        self.items.extend(TodoItem(title=title, source=name) for title in titles)


def _register(env: PluginRegistrationPoints) -> None:
    todos = TodoList()
    env.register_extension_point(todo_sources_extension_point, todos)

    async def init(*, logger: LoggerService, lifecycle: LifecycleService) -> None:
        sources = sorted({item.source for item in todos.items})
        logger.info(
            f"TODO list ready with {len(todos.items)} items",
            {"sources": sources, "items": [item.title for item in todos.items]},
        )
        lifecycle.add_shutdown_hook(lambda: logger.info("TODO list closed"))

    env.register_init(
        deps={"logger": core_services.logger, "lifecycle": core_services.lifecycle}, init=init
    )


#: The ``todo`` plugin; installed distributions advertise it as the ``todo`` entry point.
todo_plugin = create_backend_plugin(plugin_id="todo", register=_register)
