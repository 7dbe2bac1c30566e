"""``core.identity``: the legacy identity service (user tokens from requests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..._public import publish_lazy_module

__all__ = ["BackstageIdentityResponse", "BackstageUserIdentity", "IdentityService"]


@dataclass(frozen=True)
class BackstageUserIdentity:
    """The user a token belongs to and the entities they own."""

    user_entity_ref: str
    ownership_entity_refs: tuple[str, ...]
    type: Literal["user"] = "user"


@dataclass(frozen=True)
class BackstageIdentityResponse:
    """A verified user token and its identity."""

    token: str = field(repr=False)
    identity: BackstageUserIdentity


class IdentityService(Protocol):
    """Backstage's legacy ``IdentityService``; new code uses ``http_auth`` and ``user_info``."""

    async def get_identity(self, *, request: Any) -> BackstageIdentityResponse | None:
        """The caller's identity, None when the request has no token; raises
        ``AuthenticationError`` for an invalid one.
        """


# Loaded on first use (backstage_runtime.api is lazy for it): the names take their public module
# here, however this module was first imported.
publish_lazy_module(globals())
