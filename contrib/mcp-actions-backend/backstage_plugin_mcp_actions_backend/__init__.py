"""The ``mcp-actions`` plugin: Backstage actions as MCP tools over Streamable HTTP."""

from ._plugin import mcp_actions_plugin
from ._version import __version__

__all__ = ["__version__", "mcp_actions_plugin"]
