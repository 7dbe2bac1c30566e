"""TLS for ``backend.https``: a certificate from config, or a generated development certificate."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from ...api import Config
from ...api.errors import ConfigError

__all__ = ["dev_certificate_path", "read_tls_context"]

_DEV_CERT_VALIDITY = datetime.timedelta(days=30)
_DEV_CERT_MIN_REMAINING = datetime.timedelta(days=5)


def read_tls_context(config: Config, *, cache_dir: Path | None = None) -> ssl.SSLContext | None:
    """The server's TLS context from ``backend.https``, or None for plain HTTP.

    ``true`` generates a self-signed certificate for the host of ``backend.baseUrl`` (cached and
    reused while more than 5 days remain, as Backstage does); ``{certificate: {cert, key}}`` takes
    PEM text (usually via ``$file``).
    """
    https = config.get_optional("backend.https")
    if https is None or https is False:
        return None
    if https is True:
        cert_pem, key_pem = _development_certificate(config, cache_dir)
    elif isinstance(https, dict):
        cert_pem = config.get_string("backend.https.certificate.cert")
        key_pem = config.get_string("backend.https.certificate.key")
    else:
        raise ConfigError("Invalid backend.https: expected true or {certificate: {cert, key}}")
    return _context_from_pem(cert_pem, key_pem)


def _context_from_pem(cert_pem: str, key_pem: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.set_alpn_protocols(["h2", "http/1.1"])
    # The ssl module only loads certificates from files: write them to a private directory and
    # remove them as soon as they are loaded.
    with tempfile.TemporaryDirectory(prefix="backstage-runtime-tls-") as directory:
        cert_file = Path(directory, "cert.pem")
        key_file = Path(directory, "key.pem")
        for path, text in ((cert_file, cert_pem), (key_file, key_pem)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(text)
        try:
            context.load_cert_chain(cert_file, key_file)
        except ssl.SSLError as error:
            raise ConfigError(
                "Invalid TLS certificate or key at backend.https.certificate: "
                f"{error.reason or error}"
            ) from error
    return context


def dev_certificate_path(cache_dir: Path | None = None) -> Path:
    """Where the generated development certificate is cached."""
    base = cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "backstage-runtime" / "dev-cert.pem"


def _development_certificate(config: Config, cache_dir: Path | None) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    base_url = config.get_string("backend.baseUrl")
    hostname = urlsplit(base_url).hostname or "localhost"
    path = dev_certificate_path(cache_dir)
    now = datetime.datetime.now(datetime.UTC)
    if path.exists():
        text = path.read_text()
        try:
            cached = x509.load_pem_x509_certificate(text.encode())
            names = cached.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            covers = hostname in names.get_values_for_type(x509.DNSName) or hostname in [
                str(a) for a in names.get_values_for_type(x509.IPAddress)
            ]
            if covers and cached.not_valid_after_utc - now > _DEV_CERT_MIN_REMAINING:
                key_start = text.index("-----BEGIN PRIVATE KEY-----")
                return text[:key_start], text[key_start:]
        except (ValueError, x509.ExtensionNotFound):
            pass  # unreadable or foreign: generate a new one
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    alt_names: list[x509.GeneralName] = [
        x509.DNSName(name) for name in dict.fromkeys([hostname, "localhost"])
    ]
    for address in ("127.0.0.1", "::1"):
        alt_names.append(x509.IPAddress(ipaddress.ip_address(address)))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _DEV_CERT_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(cert_pem + key_pem)
    return cert_pem, key_pem
