"""The ``todo`` plugin and its ``todo.sources`` extension point."""

from ._extension_point import TodoItem, TodoSourcesExtensionPoint, todo_sources_extension_point
from ._plugin import ITEM_CREATED_TOPIC, ITEM_REQUESTED_TOPIC, TodoList, todo_plugin

__all__ = [
    "ITEM_CREATED_TOPIC",
    "ITEM_REQUESTED_TOPIC",
    "TodoItem",
    "TodoList",
    "TodoSourcesExtensionPoint",
    "todo_plugin",
    "todo_sources_extension_point",
]
