"""External access (``backend.auth.externalAccess``): static tokens, legacy shared secrets and
third-party JWKS issuers, each with optional per-plugin access restrictions.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ...api import Config, LoggerService
from ...api.errors import AuthenticationError, ConfigError
from ...api.services.auth import AccessRestrictions
from ...jose import (
    ASYMMETRIC_ALGORITHMS,
    JwksClient,
    JwksUnavailableError,
    unverified_header,
    unverified_payload,
)

if TYPE_CHECKING:
    from joserfc.jwk import OctKey

# joserfc (and cryptography under it) is imported where a token is signed or verified, so a
# backend that starts without doing either does not load it.

__all__ = ["ExternalTokenHandler", "ExternalVerification", "read_external_handlers"]

_ACTIONS = ("create", "read", "update", "delete")


@dataclass(frozen=True)
class ExternalVerification:
    """Who an external token speaks for, and its per-plugin restrictions (None: unrestricted)."""

    subject: str
    access_restrictions: Mapping[str, AccessRestrictions] | None


class _Verifier(Protocol):
    async def verify(self, token: str) -> str | None: ...


class _StaticVerifier:
    def __init__(self, token: str, subject: str) -> None:
        self._token = token
        self._subject = subject

    async def verify(self, token: str) -> str | None:
        return self._subject if token == self._token else None


class _LegacyVerifier:
    def __init__(self, secret: bytes, subject: str) -> None:
        from joserfc.jwk import OctKey

        self._key: OctKey = OctKey.import_key(secret)
        self._subject = subject

    async def verify(self, token: str) -> str | None:
        header = unverified_header(token)
        payload = unverified_payload(token)
        if header is None or payload is None or header.get("alg") != "HS256":
            return None
        if payload.get("sub") != "backstage-server" or "aud" in payload:
            return None
        from joserfc import jwt
        from joserfc.errors import BadSignatureError, JoseError

        try:
            verified = jwt.decode(token, self._key, algorithms=["HS256"])
        except BadSignatureError:
            return None  # another secret may match
        except JoseError:
            return None
        try:
            jwt.JWTClaimsRegistry().validate(verified.claims)  # exp/nbf when present
        except JoseError as error:
            raise AuthenticationError(f"Invalid legacy token: {error}") from None
        return self._subject


class _JwksVerifier:
    def __init__(
        self,
        jwks: JwksClient,
        url: str,
        algorithms: list[str] | None,
        issuers: list[str] | None,
        audiences: list[str] | None,
        subject_prefix: str | None,
    ) -> None:
        self._jwks = jwks
        self._url = url
        self._algorithms = algorithms or ASYMMETRIC_ALGORITHMS
        self._issuers = issuers
        self._audiences = audiences
        self._prefix = subject_prefix

    async def verify(self, token: str) -> str | None:
        header = unverified_header(token)
        if header is None:
            return None
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            key_set = await self._jwks.key_set(self._url, header.get("kid"))
            verified = jwt.decode(token, key_set, algorithms=self._algorithms)
            checks: dict[str, dict[str, object]] = {}
            if self._issuers:
                checks["iss"] = {"essential": True, "values": self._issuers}
            if self._audiences:
                checks["aud"] = {"essential": True, "values": self._audiences}
            jwt.JWTClaimsRegistry(**checks).validate(verified.claims)  # type: ignore[arg-type]
        except (JoseError, JwksUnavailableError, ValueError):
            return None
        sub = verified.claims.get("sub")
        if not isinstance(sub, str) or not sub:
            return None
        return f"external:{self._prefix}:{sub}" if self._prefix else f"external:{sub}"


class ExternalTokenHandler:
    """One configured external access entry."""

    def __init__(
        self, verifier: _Verifier, restrictions: Mapping[str, AccessRestrictions] | None
    ) -> None:
        self._verifier = verifier
        self._restrictions = restrictions

    async def verify(self, token: str) -> ExternalVerification | None:
        """Who ``token`` speaks for, or None when this entry does not accept it."""
        subject = await self._verifier.verify(token)
        if subject is None:
            return None
        return ExternalVerification(subject, self._restrictions)


def _list(value: object) -> list[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
    result = [part for item in items for part in re.split(r"[,\s]+", str(item)) if part]
    return result or None


def _restrictions(entry: Config, where: str) -> dict[str, AccessRestrictions] | None:
    items = entry.get_optional_config_array("accessRestrictions")
    if items is None:
        return None
    result: dict[str, AccessRestrictions] = {}
    for index, item in enumerate(items):
        here = f"{where}.accessRestrictions[{index}]"
        keys = item.keys()
        unknown = [
            key for key in keys if key not in ("plugin", "permission", "permissionAttribute")
        ]
        if unknown:
            raise ConfigError(
                f"Invalid key '{unknown[0]}' at {here}, expected plugin, permission or "
                "permissionAttribute"
            )
        plugin = item.get_string("plugin")
        if plugin in result:
            raise ConfigError(
                f"Plugin '{plugin}' is listed more than once at {where}.accessRestrictions"
            )
        names = _list(item.get_optional("permission"))
        actions = _list(item.get_optional("permissionAttribute.action"))
        for action in actions or []:
            if action not in _ACTIONS:
                raise ConfigError(
                    f"Invalid action '{action}' at {here}.permissionAttribute.action, expected "
                    f"one of {', '.join(_ACTIONS)}"
                )
        result[plugin] = AccessRestrictions(
            permission_names=tuple(names) if names is not None else None,
            permission_actions=tuple(actions) if actions is not None else None,
        )
    return result


def read_external_handlers(
    config: Config, jwks: JwksClient, logger: LoggerService
) -> list[ExternalTokenHandler]:
    """The handlers of ``backend.auth.externalAccess`` in order, plus deprecated
    ``backend.auth.keys`` entries as legacy handlers with subject ``external:backstage-plugin``.
    """
    handlers: list[ExternalTokenHandler] = []
    for index, entry in enumerate(
        config.get_optional_config_array("backend.auth.externalAccess") or []
    ):
        where = f"backend.auth.externalAccess[{index}]"
        kind = entry.get_string("type")
        options = entry.get_config("options")
        verifier: _Verifier
        if kind == "static":
            token = options.get_string("token")
            subject = options.get_string("subject")
            if len(token) < 8 or re.search(r"\s", token):
                raise ConfigError(
                    f"Invalid {where}.options.token: at least 8 characters, no whitespace"
                )
            if re.search(r"\s", subject):
                raise ConfigError(f"Invalid {where}.options.subject: no whitespace allowed")
            verifier = _StaticVerifier(token, subject)
        elif kind == "legacy":
            verifier = _LegacyVerifier(
                _secret(options.get_string("secret"), f"{where}.options.secret"),
                options.get_string("subject"),
            )
        elif kind == "jwks":
            verifier = _JwksVerifier(
                jwks,
                options.get_string("url"),
                _list(options.get_optional("algorithm")),
                _list(options.get_optional("issuer")),
                _list(options.get_optional("audience")),
                options.get_optional_string("subjectPrefix"),
            )
        else:
            raise ConfigError(
                f"Unknown type '{kind}' in backend.auth.externalAccess, expected one of "
                "'static', 'legacy', 'jwks'"
            )
        handlers.append(ExternalTokenHandler(verifier, _restrictions(entry, where)))
    legacy_keys = config.get_optional_config_array("backend.auth.keys") or []
    if legacy_keys:
        logger.warn(
            "backend.auth.keys is deprecated; use backend.auth.externalAccess with type 'legacy'"
        )
    for index, entry in enumerate(legacy_keys):
        secret = _secret(entry.get_string("secret"), f"backend.auth.keys[{index}].secret")
        handlers.append(
            ExternalTokenHandler(_LegacyVerifier(secret, "external:backstage-plugin"), None)
        )
    return handlers


def _secret(value: str, key: str) -> bytes:
    try:
        return base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4))
    except ValueError as error:
        raise ConfigError(f"Invalid base64 secret at {key}") from error
