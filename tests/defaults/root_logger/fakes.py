"""Test doubles for the root logger tests: a config fake and a captured logger."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from backstage_runtime.defaults.root_logger import BackstageLogger


class FakeConfig:
    """Just the getters the root logger uses, over a nested dict."""

    def __init__(self, data: dict[str, Any], secrets: list[str] | None = None) -> None:
        self.data = data
        self.secrets = secrets
        self.listeners: list[Callable[[], None]] = []

    def get_optional(self, key: str | None = None) -> Any:
        node: Any = self.data
        for part in (key or "").split(".") if key else []:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def get_optional_string(self, key: str) -> str | None:
        value = self.get_optional(key)
        return value if isinstance(value, str) and value else None

    def get_optional_config(self, key: str) -> FakeConfig | None:
        value = self.get_optional(key)
        return FakeConfig(value) if isinstance(value, dict) else None

    def get_optional_config_array(self, key: str) -> list[FakeConfig] | None:
        value = self.get_optional(key)
        return [FakeConfig(item) for item in value] if isinstance(value, list) else None

    def secret_values(self) -> list[str]:
        return list(self.secrets or [])

    def subscribe(self, on_change: Callable[[], None]) -> object:
        self.listeners.append(on_change)
        return object()

    def reload(self, data: dict[str, Any], secrets: list[str] | None = None) -> None:
        self.data = data
        if secrets is not None:
            self.secrets = secrets
        for listener in self.listeners:
            listener()


class Captured:
    """A root logger writing to a StringIO, with helpers to read what it wrote."""

    def __init__(self, logger: BackstageLogger, stream: io.StringIO) -> None:
        self.logger = logger
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


MakeLogger = Callable[..., Captured]
