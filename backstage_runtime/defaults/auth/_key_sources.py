"""Where a plugin's signing key comes from: generated and rotated (database), or config files."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from ...api import Config, LoggerService
from ...api.errors import ConfigError
from ._key_duration import KEY_DURATION_SECONDS
from ._key_store import DatabaseKeyStore

if TYPE_CHECKING:
    from joserfc.jwk import ECKey, Key

# joserfc (and cryptography under it) is imported where a key is generated or read, so a backend
# that starts without signing a token does not load it.

__all__ = [
    "KEY_DURATION_SECONDS",
    "DatabasePluginKeySource",
    "PluginKeySource",
    "StaticPluginKeySource",
    "public_jwk",
]

# Public keys stay listed three lifetimes, so tokens signed just before a rotation still verify.
_PUBLIC_KEY_MARGIN = 3


def public_jwk(key: Key, algorithm: str) -> dict[str, Any]:
    """The public JWK in the member order Node's ``exportJWK`` gives (``kty, x, y, crv, kid,
    alg`` for EC), so the JWKS bytes match a Node backend's.
    """
    exported: dict[str, Any] = dict(key.as_dict(private=False))
    ordered: dict[str, Any] = {
        name: exported[name] for name in ("kty", "x", "y", "crv", "n", "e") if name in exported
    }
    ordered["kid"] = key.kid
    ordered["alg"] = algorithm
    return ordered


class PluginKeySource(Protocol):
    """Signs this plugin's tokens and lists the public keys others verify them with."""

    @property
    def algorithm(self) -> str:
        """The JWS ``alg`` of signed tokens."""

    async def signing_key(self) -> Key:
        """The private key to sign with now (with a ``kid``)."""

    async def list_keys(self) -> list[dict[str, Any]]:
        """Public JWKs that verify this plugin's unexpired tokens."""


class DatabasePluginKeySource:
    """A fresh ES256 key per process, replaced every hour; public halves go to the plugin's
    database *before* first use, so every replica's tokens verify against the shared JWKS.
    Private keys never leave memory.
    """

    algorithm = "ES256"

    def __init__(
        self,
        store: DatabaseKeyStore,
        logger: LoggerService,
        *,
        key_duration: float = KEY_DURATION_SECONDS,
    ) -> None:
        self._store = store
        self._logger = logger
        self._duration = key_duration
        self._key: ECKey | None = None
        self._renew_at = 0.0
        self._lock = anyio.Lock()

    async def signing_key(self) -> Key:
        """The current private key, generating (and publishing) a new one once it is due."""
        key = self._key
        if key is not None and time.time() < self._renew_at:
            return key
        async with self._lock:
            if self._key is not None and time.time() < self._renew_at:
                return self._key
            from joserfc.jwk import ECKey

            fresh = ECKey.generate_key("P-256", parameters={"kid": str(uuid.uuid4())})
            expires = datetime.now(UTC) + timedelta(seconds=self._duration * _PUBLIC_KEY_MARGIN)
            await self._store.add_key(public_jwk(fresh, self.algorithm), expires)
            self._key = fresh
            self._renew_at = time.time() + self._duration
            return fresh

    async def list_keys(self) -> list[dict[str, Any]]:
        """Unexpired public keys of every replica; expired rows are deleted."""
        now = datetime.now(UTC)
        stored = await self._store.list_keys()
        expired = [item.key.get("kid", "") for item in stored if item.expires_at <= now]
        if expired:
            self._logger.info(
                "Removing expired plugin service keys, " + ", ".join(f"'{kid}'" for kid in expired)
            )
            await self._store.remove_keys(expired)
        return [item.key for item in stored if item.expires_at > now]


class StaticPluginKeySource:
    """Keys from files (``backend.auth.pluginKeyStore.static.keys``): the first entry signs and
    must have a private key; all public keys are listed.
    """

    def __init__(self, signing: Key, public_keys: list[dict[str, Any]], algorithm: str) -> None:
        self._signing = signing
        self._public = public_keys
        self.algorithm = algorithm

    @classmethod
    def from_config(cls, config: Config) -> StaticPluginKeySource:
        """Read ``backend.auth.pluginKeyStore.static.keys`` (``publicKeyFile``,
        ``privateKeyFile``, ``keyId``, ``algorithm`` default ES256).
        """
        base = "backend.auth.pluginKeyStore.static.keys"
        entries = config.get_config_array(base)
        if not entries:
            raise ConfigError(f"At least one key is required at {base}")
        signing: Key | None = None
        algorithm = "ES256"
        public: list[dict[str, Any]] = []
        for index, entry in enumerate(entries):
            where = f"{base}[{index}]"
            key_id = entry.get_string("keyId")
            alg = entry.get_optional_string("algorithm") or "ES256"
            public_pem = _read(entry.get_string("publicKeyFile"), f"{where}.publicKeyFile")
            public_key = _import(public_pem, key_id, f"{where}.publicKeyFile")
            public.append(public_jwk(public_key, alg))
            if index == 0:
                private_file = entry.get_optional_string("privateKeyFile")
                if private_file is None:
                    raise ConfigError(f"The first key at {base} must have a privateKeyFile")
                signing = _import(_read(private_file, f"{where}.privateKeyFile"), key_id, where)
                algorithm = alg
        assert signing is not None
        return cls(signing, public, algorithm)

    async def signing_key(self) -> Key:
        """The configured signing key."""
        return self._signing

    async def list_keys(self) -> list[dict[str, Any]]:
        """Every configured public key."""
        return list(self._public)


def _read(path: str, key: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise ConfigError(f"Cannot read {path} ({key}): {error.strerror}") from error


def _import(pem: str, key_id: str, key: str) -> Key:
    from joserfc.jwk import import_key

    last: Exception | None = None
    for key_type in ("EC", "RSA"):
        try:
            imported: Key = import_key(pem, key_type, parameters={"kid": key_id})  # type: ignore[call-overload]
            return imported
        except Exception as error:  # joserfc raises several types for a key of another kind
            last = error
    raise ConfigError(f"Invalid key at {key}: {last}")
