"""The ``todo`` plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quart import Blueprint, request

from backstage_runtime import (
    ActionAttributes,
    ActionContext,
    ActionsRegistryService,
    EventParams,
    EventsService,
    HttpRouterService,
    InputError,
    LifecycleService,
    LoggerService,
    NotFoundError,
    PluginRegistrationPoints,
    core_services,
    create_backend_plugin,
    events_service_ref,
)

from ._extension_point import TodoItem, todo_sources_extension_point

#: The topic the plugin publishes each item added through its API or its action to.
ITEM_CREATED_TOPIC = "todo.item.created"
#: The topic other plugins publish ``{"title": ...}`` to, to add an item.
ITEM_REQUESTED_TOPIC = "todo.item.requested"

_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "source": {"type": "string"},
    },
    "required": ["id", "title", "source"],
}


class TodoList:
    """The items every source contributed, in the order they were added."""

    def __init__(self) -> None:
        self.items: list[TodoItem] = []

    def add(self, title: str, source: str) -> tuple[int, TodoItem]:
        """Append one item; its id is its position."""
        item = TodoItem(title=title, source=source)
        self.items.append(item)
        return len(self.items) - 1, item

    def add_source(self, name: str, titles: Sequence[str]) -> None:
        """Add the items of the source ``name``; a source may only be added once."""
        if any(item.source == name for item in self.items):
            raise ValueError(f"TODO source '{name}' was already added")
        self.items.extend(TodoItem(title=title, source=name) for title in titles)


def _item_json(index: int, item: TodoItem) -> dict[str, Any]:
    return {"id": index, "title": item.title, "source": item.source}


def create_routes(todos: TodoList, events: EventsService | None = None) -> Blueprint:
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
        index, item = todos.add(title.strip(), "api")
        if events is not None:
            await events.publish(topic=ITEM_CREATED_TOPIC, event_payload=_item_json(index, item))
        return _item_json(index, item), 201

    return routes


def _register(env: PluginRegistrationPoints) -> None:
    todos = TodoList()
    env.register_extension_point(todo_sources_extension_point, todos)

    async def init(
        *,
        logger: LoggerService,
        lifecycle: LifecycleService,
        http: HttpRouterService,
        events: EventsService,
        actions: ActionsRegistryService,
    ) -> None:
        http.use(create_routes(todos, events))
        _register_actions(actions, todos, events)

        async def on_requested(event: EventParams) -> None:
            payload = event.event_payload
            title = payload.get("title") if isinstance(payload, dict) else None
            if not isinstance(title, str) or not title.strip():
                logger.warn("Ignored a TODO request without a title", {"topic": event.topic})
                return
            index, item = todos.add(title.strip(), "events")
            await events.publish(topic=ITEM_CREATED_TOPIC, event_payload=_item_json(index, item))

        await events.subscribe(id="requests", topics=[ITEM_REQUESTED_TOPIC], on_event=on_requested)
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
            "events": events_service_ref,
            "actions": core_services.actions_registry,
        },
        init=init,
    )


def _register_actions(
    actions: ActionsRegistryService, todos: TodoList, events: EventsService
) -> None:
    async def create_item(context: ActionContext) -> dict[str, Any]:
        index, item = todos.add(context.input["title"].strip(), "actions")
        await events.publish(topic=ITEM_CREATED_TOPIC, event_payload=_item_json(index, item))
        return _item_json(index, item)

    async def list_items(context: ActionContext) -> dict[str, Any]:
        return {"items": [_item_json(i, item) for i, item in enumerate(todos.items)]}

    actions.register(
        name="create-item",
        title="Create a TODO item",
        description="Adds an item to the TODO list and returns it with its id.",
        input_schema={
            "type": "object",
            "properties": {"title": {"type": "string", "minLength": 1, "pattern": "\\S"}},
            "required": ["title"],
            "additionalProperties": False,
        },
        output_schema=_ITEM_SCHEMA,
        attributes=ActionAttributes(destructive=False, idempotent=False, read_only=False),
        action=create_item,
    )
    actions.register(
        name="list-items",
        title="List TODO items",
        description="Every item of the TODO list, in the order they were added.",
        input_schema={"type": "object", "properties": {}, "additionalProperties": False},
        output_schema={
            "type": "object",
            "properties": {"items": {"type": "array", "items": _ITEM_SCHEMA}},
            "required": ["items"],
        },
        attributes=ActionAttributes(destructive=False, idempotent=True, read_only=True),
        action=list_items,
    )


#: The ``todo`` plugin; installed distributions advertise it as the ``todo`` entry point.
todo_plugin = create_backend_plugin(plugin_id="todo", register=_register)
