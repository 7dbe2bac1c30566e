"""The ``todo`` plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quart import Blueprint, request

from backstage_runtime import (
    HttpRouterService,
    InputError,
    LifecycleService,
    LoggerService,
    NotFoundError,
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


def _item_json(index: int, item: TodoItem) -> dict[str, Any]:
    return {"id": index, "title": item.title, "source": item.source}


def create_routes(todos: TodoList) -> Blueprint:
    """The plugin's HTTP API, served under ``/api/todo``."""
    routes = Blueprint("todo", __name__)

    @routes.get("/items")
    async def list_items() -> dict[str, Any]:
        return {"items": [_item_json(i, item) for i, item in enumerate(todos.items)]}

    @routes.get("/items/<int:index>")
    async def get_item(index: int) -> dict[str, Any]:
        if not 0 <= index < len(todos.items):
            raise NotFoundError(f"No TODO item with id {index}")
        return _item_json(index, todos.items[index])

    @routes.post("/items")
    async def add_item() -> tuple[dict[str, Any], int]:
        body = await request.get_json(silent=True)
        title = body.get("title") if isinstance(body, dict) else None
        if not isinstance(title, str) or not title.strip():
            raise InputError("Expected a JSON body with a non-empty string 'title'")
        todos.items.append(TodoItem(title=title.strip(), source="api"))
        index = len(todos.items) - 1
        return _item_json(index, todos.items[index]), 201

    return routes


def _register(env: PluginRegistrationPoints) -> None:
    todos = TodoList()
    env.register_extension_point(todo_sources_extension_point, todos)

    async def init(
        *, logger: LoggerService, lifecycle: LifecycleService, http: HttpRouterService
    ) -> None:
        http.use(create_routes(todos))
        # The example API is public; without a policy every route needs credentials.
        http.add_auth_policy(path="/items", allow="unauthenticated")
        sources = sorted({item.source for item in todos.items})
        logger.info(
            f"TODO list ready with {len(todos.items)} items",
            {"sources": sources, "items": [item.title for item in todos.items]},
        )
        lifecycle.add_shutdown_hook(lambda: logger.info("TODO list closed"))

    env.register_init(
        deps={
            "logger": core_services.logger,
            "lifecycle": core_services.lifecycle,
            "http": core_services.http_router,
        },
        init=init,
    )


#: The ``todo`` plugin; installed distributions advertise it as the ``todo`` entry point.
todo_plugin = create_backend_plugin(plugin_id="todo", register=_register)
