"""The ``todo`` plugin and its ``todo.sources`` extension point."""

from ._extension_point import TodoItem, TodoSourcesExtensionPoint, todo_sources_extension_point
from ._plugin import TodoList, todo_plugin

__all__ = [
    "TodoItem",
    "TodoList",
    "TodoSourcesExtensionPoint",
    "todo_plugin",
    "todo_sources_extension_point",
]
