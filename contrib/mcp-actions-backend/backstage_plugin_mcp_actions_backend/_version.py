"""The version the MCP servers announce (Node announces its package's version)."""

__version__ = "0.1.0"
