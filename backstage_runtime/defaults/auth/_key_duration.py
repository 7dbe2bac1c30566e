"""The signing key's lifetime, on its own so the factory builder can default to it cheaply."""

from __future__ import annotations

__all__ = ["KEY_DURATION_SECONDS"]

#: A signing key's lifetime, and so a plugin token's (Backstage: one hour).
KEY_DURATION_SECONDS = 3600.0
