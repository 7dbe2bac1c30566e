"""Parsing YAML the way Backstage's config loader does, keeping the line of every key.

Backstage parses config with the ``yaml`` npm package (v2), whose default is the YAML 1.2 *core*
schema. PyYAML implements YAML 1.1, where ``yes``/``no``/``on``/``off`` are booleans, ``012`` is
octal, ``2024-01-01`` is a date and ``<<`` merges mappings. A config such as ``country: no`` would
then mean something else here than in Backstage, so this loader swaps PyYAML's implicit resolvers
for the 1.2 core ones, rejects duplicate keys (``yaml`` v2 does) and turns keys into strings (a
JavaScript object only has string keys).

Mappings and sequences come back as :class:`LocDict` / :class:`LocList`, plain ``dict`` / ``list``
subclasses that remember the file and the line of each key or item, so that later errors can say
``app-config.yaml:12``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LocDict", "LocList", "YamlError", "parse_yaml"]


class YamlError(Exception):
    """A YAML document could not be parsed; ``line``/``column`` are 1-based when known."""

    def __init__(self, problem: str, line: int | None, column: int | None) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{problem}{where}")


class LocDict(dict[str, Any]):
    """A parsed mapping that remembers where each of its keys was written."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.key_lines: dict[str, int] = {}


class LocList(list[Any]):
    """A parsed sequence that remembers where each of its items was written."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.item_lines: list[int] = []


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document; mappings and sequences carry ``file`` and their lines.

    An empty document gives ``None``. Raises :class:`YamlError` on a syntax error, on more than
    one document and on a duplicate key.
    """
    # PyYAML (about 5% of a backend's start) loads with the first file: a backend configured
    # only by code, APP_CONFIG_* variables or overrides never needs it.
    from ._yaml_parser import parse_document

    return parse_document(text, file)
