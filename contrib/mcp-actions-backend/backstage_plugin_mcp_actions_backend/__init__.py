"""The ``mcp-actions`` plugin: Backstage actions as MCP tools over Streamable HTTP."""

from ._metrics import METER_NAME
from ._plugin import create_mcp_actions_plugin, mcp_actions_plugin
from ._version import __version__

__all__ = ["METER_NAME", "__version__", "create_mcp_actions_plugin", "mcp_actions_plugin"]
