"""``mcpActions`` read into server configs: defaults, named servers and their filter rules."""

from __future__ import annotations

import re

import pytest
from backstage_plugin_mcp_actions_backend._config import McpServerConfig, read_server_configs

from backstage_runtime import ActionAttributes, ActionsServiceAction, ConfigError
from backstage_runtime.testing import mock_services


def action(id: str, **attributes: bool) -> ActionsServiceAction:
    name = id.split(":")[1]
    return ActionsServiceAction(
        id=id,
        name=name,
        title=name,
        description=name,
        input_schema={"type": "object"},
        output_schema={"type": "object"},
        attributes=ActionAttributes(**attributes),
    )


def servers(data: dict) -> list[McpServerConfig]:
    return read_server_configs(mock_services.root_config(data))


def only(data: dict) -> McpServerConfig:
    [server] = servers({"mcpActions": {"servers": {"s": {"name": "S", "filter": data}}}})
    return server


def test_without_servers_there_is_one_server_at_v1_named_backstage() -> None:
    assert servers({}) == [McpServerConfig(path="/v1", name="backstage", description=None)]
    [named] = servers({"mcpActions": {"name": "acme", "description": "Acme"}})
    assert (named.path, named.name, named.description) == ("/v1", "acme", "Acme")
    assert named.includes(action("any:thing"))


def test_each_named_server_is_served_below_v1() -> None:
    configs = servers({"mcpActions": {"servers": {"a": {"name": "A"}, "b-2": {"name": "B"}}}})
    assert [(c.path, c.name) for c in configs] == [("/v1/a", "A"), ("/v1/b-2", "B")]


@pytest.mark.parametrize(
    ("glob", "matching", "other"),
    [
        ("catalog:*", "catalog:get-entity", "scaffolder:run"),
        ("*:get-?ntity", "catalog:get-entity", "catalog:get-entities"),
        ("catalog:{get,list}-*", "catalog:list-entities", "catalog:delete-entity"),
        ("catalog:[gl]*", "catalog:get-entity", "catalog:delete-entity"),
        ("!catalog:*", "scaffolder:run", "catalog:get-entity"),
    ],
)
def test_an_id_glob_picks_the_actions_it_matches(glob: str, matching: str, other: str) -> None:
    server = only({"include": [{"id": glob}]})
    assert server.includes(action(matching))
    assert not server.includes(action(other))


def test_exclude_wins_over_include_and_attributes_must_all_hold() -> None:
    server = only(
        {
            "include": [
                {"id": "catalog:*"},
                {"attributes": {"readOnly": True, "idempotent": True}},
            ],
            "exclude": [{"id": "*:delete-*"}],
        }
    )
    assert server.includes(action("catalog:get-entity"))
    assert not server.includes(action("catalog:delete-entity"))
    assert server.includes(action("todo:list", read_only=True, idempotent=True))
    assert not server.includes(action("todo:peek", read_only=True))


def test_an_unknown_attribute_names_the_rule() -> None:
    with pytest.raises(
        ConfigError, match=r"mcpActions\.servers\.s\.filter\.include\[0\]\.attributes"
    ):
        only({"include": [{"attributes": {"readonly": True}}]})


@pytest.mark.parametrize("key", ["a/b", "Catalog", "my_server", "-x"])
def test_a_server_key_must_be_lowercase_alphanumeric_with_hyphens(key: str) -> None:
    with pytest.raises(ConfigError, match=rf"mcpActions\.servers\.{re.escape(key)}: invalid MCP"):
        servers({"mcpActions": {"servers": {key: {"name": "A"}}}})
