"""``core.auth``, ``core.httpAuth`` and ``core.userInfo``: credentials and tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from ._json import JsonObject

__all__ = [
    "AccessRestriction",
    "AuthService",
    "BackstageCredentials",
    "BackstageNonePrincipal",
    "BackstagePrincipal",
    "BackstageServicePrincipal",
    "BackstageUserInfo",
    "BackstageUserPrincipal",
    "HttpAuthService",
    "PluginRequestToken",
    "PrincipalType",
    "UserInfoService",
]

PrincipalType = Literal["user", "service", "none"]


@dataclass(frozen=True)
class AccessRestriction:
    """One entry of an external token's ``accessRestrictions``."""

    plugin: str
    permission_names: tuple[str, ...] = ()
    permission_attributes: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class BackstageUserPrincipal:
    """A user, possibly acting through a service (``actor``)."""

    user_entity_ref: str
    actor: BackstageServicePrincipal | None = None
    type: Literal["user"] = "user"


@dataclass(frozen=True)
class BackstageServicePrincipal:
    """A plugin (``plugin:<id>``) or an external caller (``external:<name>``)."""

    subject: str
    access_restrictions: tuple[AccessRestriction, ...] | None = None
    type: Literal["service"] = "service"


@dataclass(frozen=True)
class BackstageNonePrincipal:
    """No credentials were presented."""

    type: Literal["none"] = "none"


BackstagePrincipal: TypeAlias = (
    BackstageUserPrincipal | BackstageServicePrincipal | BackstageNonePrincipal
)


@dataclass(frozen=True)
class BackstageCredentials:
    """Who is calling; ``expires_at`` is a UNIX timestamp when the token has one."""

    principal: BackstagePrincipal
    expires_at: float | None = None
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PluginRequestToken:
    """A token to call another plugin with."""

    token: str = field(repr=False)


class AuthService(Protocol):
    """Issues and verifies Backstage tokens for one plugin."""

    async def authenticate(
        self, token: str, *, allow_limited_access: bool = False
    ) -> BackstageCredentials:
        """Verify ``token``; raises ``AuthenticationError`` when it is not valid."""

    def is_principal(self, credentials: BackstageCredentials, type: PrincipalType) -> bool:
        """Whether ``credentials`` hold a principal of ``type``."""

    async def get_own_service_credentials(self) -> BackstageCredentials:
        """Credentials of this plugin as a service principal."""

    async def get_plugin_request_token(
        self, *, on_behalf_of: BackstageCredentials, target_plugin_id: str
    ) -> PluginRequestToken:
        """A token for calling ``target_plugin_id``, on behalf of the given caller."""

    async def get_limited_user_token(self, credentials: BackstageCredentials) -> PluginRequestToken:
        """A limited user token (the kind carried in the user cookie)."""

    async def list_public_service_keys(self) -> Sequence[JsonObject]:
        """The public JWKs this plugin signs with."""


class HttpAuthService(Protocol):
    """Reads credentials from incoming requests."""

    async def credentials(
        self,
        request: Any,
        *,
        allow: Sequence[PrincipalType] | None = None,
        allow_limited_access: bool = False,
    ) -> BackstageCredentials:
        """The caller's credentials; raises when they are invalid or not in ``allow``."""

    async def issue_user_cookie(
        self, response: Any, *, credentials: BackstageCredentials | None = None
    ) -> float:
        """Set the user cookie on ``response``; returns its expiry as a UNIX timestamp."""


@dataclass(frozen=True)
class BackstageUserInfo:
    """A user's entity ref and the refs of what they own."""

    user_entity_ref: str
    ownership_entity_refs: tuple[str, ...]


class UserInfoService(Protocol):
    """Resolves a user principal to its ownership refs."""

    async def get_user_info(self, credentials: BackstageCredentials) -> BackstageUserInfo:
        """Info about the user behind ``credentials``; raises for non-user credentials."""
