"""The extension point through which modules add TODO sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from backstage_runtime import ExtensionPoint, create_extension_point


@dataclass(frozen=True)
class TodoItem:
    """One thing to do, and the source it came from."""

    title: str
    source: str


class TodoSourcesExtensionPoint(Protocol):
    """What modules of the ``todo`` plugin receive."""

    def add_source(self, name: str, titles: Sequence[str]) -> None:
        """Add the items of the source ``name``."""


todo_sources_extension_point: ExtensionPoint[TodoSourcesExtensionPoint] = create_extension_point(
    id="todo.sources"
)
