"""``backend.actions.filter``: which actions the actions service lists, as Node decides it.

An action is dropped when any ``exclude`` rule matches it; otherwise it is kept when there are
no ``include`` rules or one of them matches. A rule matches when its ``id`` glob (minimatch
syntax: ``*``, ``**``, ``?``, ``[...]``, ``{a,b}``, a leading ``!`` negates) matches the action
id and every attribute it names has that value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ...api import Config
from ...api.services.actions import ActionsServiceAction

__all__ = ["ActionFilter", "glob_pattern", "read_action_filter"]

_ATTRIBUTE_KEYS = {
    "destructive": "destructive",
    "readOnly": "read_only",
    "idempotent": "idempotent",
}


def _translate(glob: str) -> str:
    out: list[str] = []
    index, depth = 0, 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = glob.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = glob[index + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                index = end
        elif char == "{":
            out.append("(?:")
            depth += 1
        elif char == "," and depth:
            out.append("|")
        elif char == "}" and depth:
            out.append(")")
            depth -= 1
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out) + ")" * depth


def glob_pattern(glob: str) -> tuple[re.Pattern[str], bool]:
    """The regular expression of a minimatch glob and whether it is negated (``!``)."""
    negated = False
    while glob.startswith("!"):
        negated = not negated
        glob = glob[1:]
    return re.compile(_translate(glob), re.DOTALL), negated


@dataclass(frozen=True)
class _Rule:
    pattern: tuple[re.Pattern[str], bool] | None
    attributes: tuple[tuple[str, bool], ...]

    def matches(self, action: ActionsServiceAction) -> bool:
        if self.pattern is not None:
            regex, negated = self.pattern
            if (regex.fullmatch(action.id) is None) != negated:
                return False
        return all(getattr(action.attributes, name) == value for name, value in self.attributes)


def _rules(configs: Sequence[Config]) -> list[_Rule]:
    rules: list[_Rule] = []
    for config in configs:
        glob = config.get_optional_string("id")
        attributes = config.get_optional_config("attributes")
        pairs: list[tuple[str, bool]] = []
        if attributes is not None:
            for key, name in _ATTRIBUTE_KEYS.items():
                value = attributes.get_optional_boolean(key)
                if value is not None:
                    pairs.append((name, value))
        rules.append(_Rule(glob_pattern(glob) if glob else None, tuple(pairs)))
    return rules


@dataclass(frozen=True)
class ActionFilter:
    """The include and exclude rules of ``backend.actions.filter``."""

    include: tuple[_Rule, ...] = ()
    exclude: tuple[_Rule, ...] = ()

    def allows(self, action: ActionsServiceAction) -> bool:
        """Whether ``action`` passes the filter."""
        if any(rule.matches(action) for rule in self.exclude):
            return False
        return not self.include or any(rule.matches(action) for rule in self.include)


def read_action_filter(config: Config) -> ActionFilter:
    """``backend.actions.filter`` of ``config`` (no filter: everything passes). Type errors name
    the config key, as the config reader reports them.
    """
    section = config.get_optional_config("backend.actions.filter")
    if section is None:
        return ActionFilter()
    return ActionFilter(
        include=tuple(_rules(section.get_optional_config_array("include") or [])),
        exclude=tuple(_rules(section.get_optional_config_array("exclude") or [])),
    )
