"""``connection.ssl`` (node-postgres' and mysql2's forms) as the driver's ``ssl`` argument."""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Mapping

from ...api.errors import ConfigError
from ._settings import SslSetting

__all__ = ["SSL_MODES", "read_mysql_ssl", "read_ssl"]

#: libpq's ``sslmode`` names, which asyncpg accepts as they are.
SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
_OBJECT_KEYS = frozenset({"rejectUnauthorized", "ca", "cert", "key"})


def read_ssl(value: object, key: str) -> SslSetting:
    """Translate ``value`` found at config ``key``.

    ``true`` verifies the server certificate (node-postgres' default), ``false`` turns TLS off, a
    libpq mode name (``require``, ``verify-full``, ...) is passed to asyncpg, and an object
    ``{rejectUnauthorized?, ca?, cert?, key?}`` (PEM text) builds an SSL context.
    Raises :class:`ConfigError` naming ``key`` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return ssl.create_default_context() if value else False
    if isinstance(value, str):
        if value not in SSL_MODES:
            raise ConfigError(
                f"Invalid config at '{key}': unknown SSL mode '{value}', expected true, false, "
                f"an object or one of {', '.join(sorted(SSL_MODES))}"
            )
        return value
    if isinstance(value, Mapping):
        return _context_from_object(value, key)
    raise ConfigError(
        f"Invalid config at '{key}': expected a boolean, an SSL mode or an object, "
        f"got {type(value).__name__}"
    )


def read_mysql_ssl(value: object, key: str) -> ssl.SSLContext | None:
    """Translate mysql2's ``ssl`` ``value`` found at config ``key`` for aiomysql.

    ``true`` verifies the server certificate, ``false`` (or nothing) means plain TCP, and an
    object ``{rejectUnauthorized?, ca?, cert?, key?}`` (PEM text) builds an SSL context. mysql2's
    named profiles (``'Amazon RDS'``) bundle CA certificates we do not ship: give ``ca``
    instead. Raises :class:`ConfigError` naming ``key`` for anything else.
    """
    if value is None or value is False:
        return None
    if value is True:
        return ssl.create_default_context()
    if isinstance(value, Mapping):
        return _context_from_object(value, key)
    if isinstance(value, str):
        raise ConfigError(
            f"Invalid config at '{key}': SSL profile '{value}' is not supported by "
            "backstage-runtime; give true, false or an object with the CA certificate as 'ca'"
        )
    raise ConfigError(
        f"Invalid config at '{key}': expected a boolean or an object, got {type(value).__name__}"
    )


def _context_from_object(value: Mapping[str, object], key: str) -> ssl.SSLContext:
    unknown = sorted(set(value) - _OBJECT_KEYS)
    if unknown:
        raise ConfigError(
            f"Invalid config at '{key}.{unknown[0]}': unsupported SSL option, expected one of "
            f"{', '.join(sorted(_OBJECT_KEYS))}"
        )
    reject = value.get("rejectUnauthorized", True)
    if not isinstance(reject, bool):
        raise ConfigError(f"Invalid config at '{key}.rejectUnauthorized': expected a boolean")
    pems = {}
    for name in ("ca", "cert", "key"):
        pem = value.get(name)
        if pem is not None and not isinstance(pem, str):
            raise ConfigError(f"Invalid config at '{key}.{name}': expected PEM text")
        pems[name] = pem
    if (pems["cert"] is None) != (pems["key"] is None):
        missing = "key" if pems["key"] is None else "cert"
        raise ConfigError(
            f"Invalid config at '{key}.{missing}': a client certificate needs both cert and key"
        )
    try:
        context = ssl.create_default_context(cadata=pems["ca"])
        if not reject:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if pems["cert"] is not None and pems["key"] is not None:
            _load_client_certificate(context, pems["cert"], pems["key"])
    except (ssl.SSLError, ValueError) as error:
        raise ConfigError(f"Invalid config at '{key}': {error}", error) from error
    return context


def _load_client_certificate(context: ssl.SSLContext, cert: str, key: str) -> None:
    # The ssl module only loads certificate chains from files: write the PEM text to a private
    # temporary directory for the duration of the call.
    with tempfile.TemporaryDirectory(prefix="backstage-db-ssl-") as directory:
        cert_path = os.path.join(directory, "cert.pem")
        key_path = os.path.join(directory, "key.pem")
        for path, text in ((cert_path, cert), (key_path, key)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(text)
        context.load_cert_chain(cert_path, key_path)
