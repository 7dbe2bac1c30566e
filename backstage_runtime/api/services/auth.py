"""``core.auth``, ``core.httpAuth`` and ``core.userInfo``: credentials and tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeAlias

# TypeVar defaults (PEP 696) arrive in Python 3.13; typing_extensions has them for 3.11.
from typing_extensions import TypeVar

from ._json import JsonObject

__all__ = [
    "AccessRestrictions",
    "AuthService",
    "BackstageCredentials",
    "BackstageNonePrincipal",
    "BackstagePrincipal",
    "BackstageServicePrincipal",
    "BackstageUserInfo",
    "BackstageUserPrincipal",
    "HttpAuthService",
    "LimitedUserToken",
    "PluginRequestToken",
    "PrincipalType",
    "UserInfoService",
]

#: The kind of principal behind credentials: a user, a service, or nobody (``none``).
PrincipalType = Literal["user", "service", "none"]


@dataclass(frozen=True)
class AccessRestrictions:
    """What an external service token may do at the plugin it calls (Backstage's
    ``accessRestrictions``): only these permission names and/or these permission actions.
    None means "not restricted" for that dimension.
    """

    permission_names: tuple[str, ...] | None = None
    permission_actions: tuple[str, ...] | None = None

    def to_json(self) -> JsonObject:
        """Backstage's JSON shape: ``{"permissionNames"?, "permissionAttributes"?: {"action"}}``."""
        body: JsonObject = {}
        if self.permission_names is not None:
            body["permissionNames"] = list(self.permission_names)
        if self.permission_actions is not None:
            body["permissionAttributes"] = {"action": list(self.permission_actions)}
        return body


@dataclass(frozen=True)
class BackstageUserPrincipal:
    """A user, possibly acting through a service (``actor``)."""

    user_entity_ref: str
    actor: BackstageServicePrincipal | None = None
    type: Literal["user"] = "user"

    def to_json(self) -> JsonObject:
        """``{"type": "user", "userEntityRef", "actor"?}`` as Backstage serialises it."""
        body: JsonObject = {"type": "user", "userEntityRef": self.user_entity_ref}
        if self.actor is not None:
            body["actor"] = self.actor.to_json()
        return body


@dataclass(frozen=True)
class BackstageServicePrincipal:
    """A plugin (``plugin:<id>``) or an external caller (``external:<name>`` or a configured
    subject); ``access_restrictions`` limit what an external token may do at this plugin.
    """

    subject: str
    access_restrictions: AccessRestrictions | None = None
    type: Literal["service"] = "service"

    def to_json(self) -> JsonObject:
        """``{"type": "service", "subject", "accessRestrictions"?}``."""
        body: JsonObject = {"type": "service", "subject": self.subject}
        if self.access_restrictions is not None:
            body["accessRestrictions"] = self.access_restrictions.to_json()
        return body


@dataclass(frozen=True)
class BackstageNonePrincipal:
    """No credentials were presented."""

    type: Literal["none"] = "none"

    def to_json(self) -> JsonObject:
        """``{"type": "none"}``."""
        return {"type": "none"}


#: Whom credentials speak for: a user, a service, or nobody (an unauthenticated request).
BackstagePrincipal: TypeAlias = (
    BackstageUserPrincipal | BackstageServicePrincipal | BackstageNonePrincipal
)


#: The principal type of :class:`BackstageCredentials` (Backstage's ``TPrincipal``): any
#: :data:`BackstagePrincipal` unless narrowed, as ``BackstageCredentials[BackstageUserPrincipal]``
#: is.
TPrincipal = TypeVar(
    "TPrincipal", bound=BackstagePrincipal, default=BackstagePrincipal, covariant=True
)


@dataclass(frozen=True)
class BackstageCredentials(Generic[TPrincipal]):
    """Who is calling; ``expires_at`` is a UNIX timestamp when the token has one.

    Generic in its principal, as Backstage's ``BackstageCredentials<TPrincipal>``: a bare
    ``BackstageCredentials`` holds any principal, ``BackstageCredentials[BackstageUserPrincipal]``
    a user's (what ``mock_credentials.user()`` returns), so ``.principal.user_entity_ref``
    type-checks without a narrowing ``isinstance``. Covariant: user credentials are credentials.

    ``token`` is the presented token (used to forward a user's identity) and
    ``all_access_restrictions`` the per-plugin restrictions of an external token (used to refuse
    delegating it); neither is shown in ``repr``.
    """

    principal: TPrincipal
    expires_at: float | None = None
    token: str | None = field(default=None, repr=False)
    all_access_restrictions: Mapping[str, AccessRestrictions] | None = field(
        default=None, repr=False
    )


@dataclass(frozen=True)
class PluginRequestToken:
    """A token to call another plugin with (empty when no credentials are to be sent)."""

    token: str = field(repr=False)


@dataclass(frozen=True)
class LimitedUserToken:
    """A limited user token (the kind in the user cookie) and its expiry (UNIX timestamp)."""

    token: str = field(repr=False)
    expires_at: float


class AuthService(Protocol):
    """Issues and verifies Backstage tokens for one plugin."""

    async def authenticate(
        self, token: str, *, allow_limited_access: bool = False
    ) -> BackstageCredentials:
        """Verify ``token``; raises ``AuthenticationError`` when it is not valid."""

    def is_principal(
        self, credentials: BackstageCredentials, type: PrincipalType | Literal["unknown"]
    ) -> bool:
        """Whether ``credentials`` hold a principal of ``type`` (``unknown`` matches any)."""

    async def get_own_service_credentials(self) -> BackstageCredentials:
        """Credentials of this plugin as a service principal."""

    async def get_plugin_request_token(
        self, *, on_behalf_of: BackstageCredentials, target_plugin_id: str
    ) -> PluginRequestToken:
        """A token for calling ``target_plugin_id``, on behalf of the given caller."""

    async def get_none_credentials(self) -> BackstageCredentials:
        """Credentials with the ``none`` principal."""

    async def get_limited_user_token(self, credentials: BackstageCredentials) -> LimitedUserToken:
        """A limited user token (the kind carried in the user cookie)."""

    async def list_public_service_keys(self) -> Sequence[JsonObject]:
        """The public JWKs this plugin signs with (served as its JWKS)."""


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
        self,
        response: Any,
        *,
        credentials: BackstageCredentials | None = None,
        request: Any = None,
    ) -> float:
        """Set the user cookie on ``response`` (credentials default to ``request``'s caller);
        returns its expiry as a UNIX timestamp.
        """


@dataclass(frozen=True)
class BackstageUserInfo:
    """A user's entity ref and the refs of what they own."""

    user_entity_ref: str
    ownership_entity_refs: tuple[str, ...]


class UserInfoService(Protocol):
    """Resolves a user principal to its ownership refs."""

    async def get_user_info(self, credentials: BackstageCredentials) -> BackstageUserInfo:
        """Info about the user behind ``credentials``; raises for non-user credentials."""
