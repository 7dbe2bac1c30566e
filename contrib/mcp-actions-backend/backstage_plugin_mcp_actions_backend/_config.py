"""``mcpActions``: the MCP servers this plugin serves and the actions each one offers.

Without ``mcpActions.servers`` there is one server at ``/v1`` named ``mcpActions.name``
(default ``backstage``) offering every action. With it, each key is a server at ``/v1/<key>``
whose ``filter`` picks its actions with the rules of ``backend.actions.filter``: an action is
left out when an ``exclude`` rule matches it, and with ``include`` rules one must match. A rule
matches when its ``id`` glob (``*``, ``?``, ``[...]``, ``{a,b}``; a leading ``!`` negates)
matches the action id and every attribute it names has that value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from backstage_runtime import ActionsServiceAction, Config, ConfigError
from backstage_runtime.defaults.actions import glob_pattern

__all__ = ["FilterRule", "McpServerConfig", "read_server_configs"]

_ATTRIBUTES = {"destructive": "destructive", "readOnly": "read_only", "idempotent": "idempotent"}
# Node's pattern: the key is a path segment of the endpoint.
_SERVER_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class FilterRule:
    """One ``include``/``exclude`` rule: an id glob and attribute values, all of which must hold."""

    id_pattern: re.Pattern[str] | None = None
    negated: bool = False
    attributes: tuple[tuple[str, bool], ...] = ()

    @classmethod
    def parse(cls, config: Config, key: str) -> FilterRule:
        """The rule in ``config`` (found at ``key``, for error messages)."""
        glob = config.get_optional_string("id")
        pattern: re.Pattern[str] | None = None
        negated = False
        if glob is not None:
            # The same minimatch subset as backend.actions.filter, from the actions service.
            pattern, negated = glob_pattern(glob)
        attributes: list[tuple[str, bool]] = []
        attribute_config = config.get_optional_config("attributes")
        for name in attribute_config.keys() if attribute_config is not None else []:
            if name not in _ATTRIBUTES:
                raise ConfigError(
                    f"Invalid config at {key}.attributes: unknown attribute '{name}', expected "
                    "one of destructive, readOnly, idempotent"
                )
            assert attribute_config is not None
            attributes.append((_ATTRIBUTES[name], attribute_config.get_boolean(name)))
        return cls(id_pattern=pattern, negated=negated, attributes=tuple(attributes))

    def matches(self, action: ActionsServiceAction) -> bool:
        """Whether ``action`` satisfies this rule."""
        if self.id_pattern is not None:
            matched = self.id_pattern.fullmatch(action.id) is not None
            if matched == self.negated:
                return False
        return all(getattr(action.attributes, name) == value for name, value in self.attributes)


@dataclass(frozen=True)
class McpServerConfig:
    """One MCP server: where it is served (below the plugin mount), what it says it is and
    which actions it offers.
    """

    path: str
    name: str = "backstage"
    description: str | None = None
    include: tuple[FilterRule, ...] = field(default=())
    exclude: tuple[FilterRule, ...] = field(default=())

    def includes(self, action: ActionsServiceAction) -> bool:
        """Whether this server offers ``action``."""
        if any(rule.matches(action) for rule in self.exclude):
            return False
        return not self.include or any(rule.matches(action) for rule in self.include)


def _rules(config: Config | None, key: str) -> tuple[FilterRule, ...]:
    if config is None:
        return ()
    entries = config.get_optional_config_array(key.rsplit(".", 1)[1]) or []
    return tuple(FilterRule.parse(entry, f"{key}[{i}]") for i, entry in enumerate(entries))


def read_server_configs(config: Config) -> list[McpServerConfig]:
    """The servers ``mcpActions`` configures (at least one).

    Raises :class:`ConfigError` naming the key for a server key that is not lowercase
    alphanumeric with hyphens (Node's rule) or a filter rule with an unknown attribute (which
    Node ignores; here a typo such as ``readonly`` must not silently match every action).
    """
    servers = config.get_optional_config("mcpActions.servers")
    server_keys = servers.keys() if servers is not None else []
    if servers is None or not server_keys:
        return [
            McpServerConfig(
                path="/v1",
                name=config.get_optional_string("mcpActions.name") or "backstage",
                description=config.get_optional_string("mcpActions.description"),
            )
        ]
    result: list[McpServerConfig] = []
    for key in server_keys:
        prefix = f"mcpActions.servers.{key}"
        if not _SERVER_KEY.match(key):
            raise ConfigError(
                f'Invalid config at {prefix}: invalid MCP server key "{key}", it must be '
                "lowercase alphanumeric with hyphens"
            )
        server = servers.get_config(key)
        filter_config = server.get_optional_config("filter")
        result.append(
            McpServerConfig(
                path=f"/v1/{key}",
                name=server.get_string("name"),
                description=server.get_optional_string("description"),
                include=_rules(filter_config, f"{prefix}.filter.include"),
                exclude=_rules(filter_config, f"{prefix}.filter.exclude"),
            )
        )
    return result
