"""``core.auth``'s default implementation: Backstage's ``DefaultAuthService``."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Literal

from ...api.errors import AuthenticationError, NotAllowedError
from ...api.services._json import JsonObject
from ...api.services.auth import (
    BackstageCredentials,
    BackstageNonePrincipal,
    BackstageServicePrincipal,
    BackstageUserPrincipal,
    LimitedUserToken,
    PluginRequestToken,
    PrincipalType,
)
from ._external import ExternalTokenHandler
from ._key_sources import PluginKeySource
from ._plugin_tokens import PluginTokenHandler
from ._user_tokens import UserTokenHandler

__all__ = ["DefaultAuthService"]

_MAX_CACHED_TOKENS = 1024


class DefaultAuthService:
    """Authenticates tokens (plugin, then user, then external, else ``Illegal token``) and issues
    this plugin's tokens for calling other plugins.
    """

    def __init__(
        self,
        *,
        plugin_id: str,
        plugin_tokens: PluginTokenHandler,
        user_tokens: UserTokenHandler,
        external: Sequence[ExternalTokenHandler],
        keys: PluginKeySource,
        disable_default_auth_policy: bool,
        record_verification: Callable[[str, str], None] | None = None,
    ) -> None:
        self._plugin_id = plugin_id
        self._record = record_verification
        self._plugin_tokens = plugin_tokens
        self._user_tokens = user_tokens
        self._external = list(external)
        self._keys = keys
        self._disabled = disable_default_auth_policy
        # Verified signed tokens by their exact text: a token's signature and claims never
        # change, so a repeat only needs its expiry checked. Callers reuse a token for many
        # requests; without this every request paid a full ES256 verification.
        self._verified: OrderedDict[str, tuple[BackstageCredentials, bool]] = OrderedDict()

    async def authenticate(
        self, token: str, *, allow_limited_access: bool = False
    ) -> BackstageCredentials:
        """Credentials for ``token``; raises :class:`AuthenticationError` (or
        :class:`NotAllowedError` for an external token restricted to other plugins).
        """
        cached = self._verified.get(token)
        if cached is not None:
            credentials, limited = cached
            if credentials.expires_at is not None and credentials.expires_at > time.time():
                self._verified.move_to_end(token)
                if limited and not allow_limited_access:
                    raise AuthenticationError("Illegal limited user token")
                return credentials
            del self._verified[token]
        if self._record is None:
            credentials, limited = await self._verify(token, allow_limited_access)
        else:
            credentials, limited = await self._verify_recorded(
                token, allow_limited_access, self._record
            )
        if credentials.expires_at is not None:
            self._verified[token] = (credentials, limited)
            if len(self._verified) > _MAX_CACHED_TOKENS:
                self._verified.popitem(last=False)
        return credentials

    async def _verify_recorded(
        self, token: str, allow_limited_access: bool, record: Callable[[str, str], None]
    ) -> tuple[BackstageCredentials, bool]:
        try:
            credentials, limited = await self._verify(token, allow_limited_access)
        except NotAllowedError:
            record("external", "restricted")
            raise
        except AuthenticationError:
            record("unknown", "invalid")
            raise
        principal = credentials.principal
        if isinstance(principal, BackstageUserPrincipal):
            kind = "plugin" if principal.actor is not None else "user"
        elif isinstance(principal, BackstageServicePrincipal):
            kind = "plugin" if principal.subject.startswith("plugin:") else "external"
        else:
            kind = "unknown"
        record(kind, "valid")
        return credentials, limited

    async def _verify(
        self, token: str, allow_limited_access: bool
    ) -> tuple[BackstageCredentials, bool]:
        plugin = await self._plugin_tokens.verify_token(token)
        if plugin is not None:
            service = BackstageServicePrincipal(subject=f"plugin:{plugin.subject}")
            if plugin.on_behalf_of is None:
                return BackstageCredentials(
                    principal=service, token=token, expires_at=plugin.expires_at
                ), False
            try:
                user = await self._user_tokens.verify_token(plugin.on_behalf_of)
            except AuthenticationError:
                user = None
            if user is None:
                raise AuthenticationError("Invalid user token in plugin token obo claim")
            return BackstageCredentials(
                principal=BackstageUserPrincipal(user.user_entity_ref, actor=service),
                expires_at=min(user.expires_at, plugin.expires_at),
                token=plugin.on_behalf_of,
            ), False
        user = await self._user_tokens.verify_token(token)
        if user is not None:
            if user.limited and not allow_limited_access:
                raise AuthenticationError("Illegal limited user token")
            return BackstageCredentials(
                principal=BackstageUserPrincipal(user.user_entity_ref),
                expires_at=user.expires_at,
                token=token,
            ), user.limited
        for handler in self._external:
            verified = await handler.verify(token)
            if verified is None:
                continue
            restrictions = verified.access_restrictions
            if restrictions is not None and self._plugin_id not in restrictions:
                names = ", ".join(f"'{plugin_id}'" for plugin_id in restrictions)
                raise NotAllowedError(f"This token's access is restricted to plugin(s) {names}")
            # No expiry: external credentials are not cached (a static token has no signature
            # to save work on, and a legacy or JWKS one is rare).
            return BackstageCredentials(
                principal=BackstageServicePrincipal(
                    subject=verified.subject,
                    access_restrictions=restrictions[self._plugin_id] if restrictions else None,
                ),
                token=token,
                all_access_restrictions=restrictions,
            ), False
        raise AuthenticationError("Illegal token")

    def is_principal(
        self, credentials: BackstageCredentials, type: PrincipalType | Literal["unknown"]
    ) -> bool:
        """Whether ``credentials`` hold a principal of ``type`` (``unknown`` matches any)."""
        return type == "unknown" or credentials.principal.type == type

    async def get_none_credentials(self) -> BackstageCredentials:
        """Credentials with the ``none`` principal."""
        return BackstageCredentials(principal=BackstageNonePrincipal())

    async def get_own_service_credentials(self) -> BackstageCredentials:
        """This plugin as a service principal: ``plugin:<pluginId>``."""
        return BackstageCredentials(
            principal=BackstageServicePrincipal(subject=f"plugin:{self._plugin_id}")
        )

    async def get_plugin_request_token(
        self, *, on_behalf_of: BackstageCredentials, target_plugin_id: str
    ) -> PluginRequestToken:
        """A token for ``target_plugin_id``: as this plugin for service callers, carrying the
        user's limited token (``obo``) for user callers. Ask before every request; do not cache.
        """
        principal = on_behalf_of.principal
        if isinstance(principal, BackstageNonePrincipal) and self._disabled:
            return PluginRequestToken(token="")
        if isinstance(principal, BackstageServicePrincipal):
            restrictions = on_behalf_of.all_access_restrictions
            if restrictions is not None:
                target = restrictions.get(target_plugin_id)
                if target is None:
                    raise NotAllowedError(
                        f"Access to target plugin '{target_plugin_id}' is not included in "
                        "token's access restrictions"
                    )
                if target.permission_names is not None or target.permission_actions is not None:
                    raise NotAllowedError(
                        f"Access to target plugin '{target_plugin_id}' is restricted and cannot "
                        "be delegated"
                    )
            token = await self._plugin_tokens.issue_token(target_plugin_id=target_plugin_id)
            return PluginRequestToken(token=token)
        if isinstance(principal, BackstageUserPrincipal) and on_behalf_of.token:
            limited, expires = self._user_tokens.create_limited_user_token(on_behalf_of.token)
            token = await self._plugin_tokens.issue_token(
                target_plugin_id=target_plugin_id, on_behalf_of=limited, obo_expires_at=expires
            )
            return PluginRequestToken(token=token)
        raise AuthenticationError(
            f"Refused to issue service token for credential type '{principal.type}'"
        )

    async def get_limited_user_token(self, credentials: BackstageCredentials) -> LimitedUserToken:
        """The limited user token of user ``credentials`` (for the user cookie)."""
        if not isinstance(credentials.principal, BackstageUserPrincipal) or not credentials.token:
            raise AuthenticationError(
                f"Refused to issue limited user token for credential type "
                f"'{credentials.principal.type}'"
            )
        token, expires = self._user_tokens.create_limited_user_token(credentials.token)
        return LimitedUserToken(token=token, expires_at=expires)

    async def list_public_service_keys(self) -> Sequence[JsonObject]:
        """This plugin's public keys, as served at ``/.backstage/auth/v1/jwks.json``."""
        keys: list[dict[str, Any]] = await self._keys.list_keys()
        return keys
