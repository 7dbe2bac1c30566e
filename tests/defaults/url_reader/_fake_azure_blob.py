"""A tiny stand-in for the Blob service, for what Azurite cannot show: the headers a request
carried (shared key, SAS, bearer token), throttling answers, and TLS for bearer tokens.

It serves ``GET /<account>/<container>/<blob>`` (path style, as for an IP endpoint) over http
or https on a random port of 127.0.0.1 and records every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

LAST_MODIFIED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@dataclass(frozen=True)
class SeenRequest:
    """A request the fake received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeBlobService:
    """``blobs`` maps ``<container>/<name>`` to content; ``answer`` forces a status and
    ``x-ms-error-code`` (``(503, "ServerBusy")``) for every request.
    """

    blobs: dict[str, bytes]
    answer: tuple[int, str] | None = None
    requests: list[SeenRequest] = field(default_factory=list)
    base: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(SeenRequest(request.path, dict(request.query), dict(request.headers)))
        if self.answer is not None:
            status, code = self.answer
            return _error(status, code, "Forced answer.")
        _account, _, key = request.path.lstrip("/").partition("/")
        data = self.blobs.get(key)
        if data is None:
            return _error(404, "BlobNotFound", "The specified blob does not exist.")
        etag = f'"0x{hashlib.sha256(data).hexdigest()[:16].upper()}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(LAST_MODIFIED, usegmt=True),
            "x-ms-blob-type": "BlockBlob",
            "Content-Type": "application/octet-stream",
        }
        requested = request.headers.get("x-ms-range", "")
        if requested.startswith("bytes="):
            start_text, _, end_text = requested.removeprefix("bytes=").partition("-")
            start = int(start_text)
            end = min(int(end_text) if end_text else len(data) - 1, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return web.Response(status=206, body=data[start : end + 1], headers=headers)
        return web.Response(body=data, headers=headers)


def _error(status: int, code: str, message: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return web.Response(
        status=status,
        reason=message,
        body=body.encode(),
        headers={"x-ms-error-code": code, "Content-Type": "application/xml"},
    )


@asynccontextmanager
async def serve_blobs(
    service: FakeBlobService, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[FakeBlobService]:
    """Serve ``service`` until the block ends; ``service.base`` is its origin."""
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", service.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    service.base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        yield service
    finally:
        await runner.cleanup()


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context that
    trusts exactly that certificate.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client
