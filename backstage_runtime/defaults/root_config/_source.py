"""What one config source contributes: its data, its name, where each key was written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from backstage_runtime.api.services._json import JsonObject

__all__ = ["ConfigSourceData"]


@dataclass(frozen=True, eq=False)
class ConfigSourceData:
    """One resolved config source (a file, the ``APP_CONFIG_`` variables, in-memory data).

    ``context`` is the name Backstage puts in reader errors (the file's base name, ``env``,
    ``mock-config``). ``locations`` maps a full key (``backend.listen.port``,
    ``app.items[0].name``) to where it was written (``app-config.yaml:12``,
    ``env APP_CONFIG_backend_baseUrl``). ``secrets`` lists the string values that came from the
    environment or from ``$file``.
    """

    context: str
    data: JsonObject
    locations: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    path: str | None = None

    def same_content(self, other: ConfigSourceData) -> bool:
        """Whether ``other`` holds the same data under the same name (used to detect reloads)."""
        return (
            self.context == other.context
            and self.path == other.path
            and self.secrets == other.secrets
            # Compared as JSON text because ``True == 1 == 1.0`` in Python, and a change from
            # ``true`` to ``1`` is a change of config.
            and json.dumps(self.data) == json.dumps(other.data)
        )
