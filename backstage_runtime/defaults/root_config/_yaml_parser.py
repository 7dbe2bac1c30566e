"""PyYAML with the YAML 1.2 core schema, building :class:`~._yaml.LocDict` / ``LocList``.

The loader :func:`~._yaml.parse_yaml` uses (see ``_yaml``'s docstring for why it differs from
PyYAML's defaults), in a module of its own so that PyYAML loads with the first file parsed.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ._js import js_number_to_string
from ._yaml import LocDict, LocList, YamlError

__all__ = ["parse_document"]


class _CoreSchemaLoader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types (see the module docstring)."""


# Start from no implicit resolvers at all: every scalar not matched below stays a string, which is
# what the core schema does with timestamps, YAML 1.1 booleans and ``<<``.
_CoreSchemaLoader.yaml_implicit_resolvers = {}
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_core_int(loader: yaml.SafeLoader, node: Node) -> int:
    # PyYAML reads a leading 0 as octal (YAML 1.1); in the core schema ``012`` is twelve.
    assert isinstance(node, ScalarNode)
    text = str(loader.construct_scalar(node))
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    return sign * int(digits, 10)


_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", _construct_core_int)


def _key_to_string(key: Any) -> str:
    """The string a JavaScript object would use for ``key`` (``yaml`` v2's ``stringifyKey``)."""
    if key is None:
        return ""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | float):
        return js_number_to_string(key)
    if isinstance(key, str):
        return key
    return str(key)


def _plain(value: Any) -> Any:
    """Turn values outside JSON (explicitly tagged dates, bytes, sets) into strings."""
    if value is None or isinstance(value, bool | int | str | LocDict | LocList):
        return value
    if isinstance(value, float):
        return value
    return str(value)


def _build(loader: _CoreSchemaLoader, node: Node, file: str) -> Any:
    if isinstance(node, MappingNode):
        mapping = LocDict(file)
        for key_node, value_node in node.value:
            key = _key_to_string(_build(loader, key_node, file))
            line = key_node.start_mark.line + 1
            if key in mapping:
                raise YamlError("Map keys must be unique", line, key_node.start_mark.column + 1)
            mapping[key] = _build(loader, value_node, file)
            mapping.key_lines[key] = line
        return mapping
    if isinstance(node, SequenceNode):
        sequence = LocList(file)
        for item_node in node.value:
            sequence.append(_build(loader, item_node, file))
            sequence.item_lines.append(item_node.start_mark.line + 1)
        return sequence
    return _plain(loader.construct_object(node, deep=True))


def parse_document(text: str, file: str) -> Any:
    """:func:`~._yaml.parse_yaml`'s work: one YAML document, mappings and sequences located."""
    loader = _CoreSchemaLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(loader, node, file)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if mark is None:
            raise YamlError(problem, None, None) from error
        raise YamlError(problem, mark.line + 1, mark.column + 1) from error
    except yaml.YAMLError as error:
        raise YamlError(str(error), None, None) from error
    finally:
        loader.dispose()
