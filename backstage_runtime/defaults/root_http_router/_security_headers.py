"""Backstage's helmet configuration: the security headers on every response."""

from __future__ import annotations

import re

from ...api import Config
from ...api.errors import ConfigError
from ...http_toolkit import ASGIApp, Receive, Scope, Send
from ._prepend_headers import PrependHeadersSend

__all__ = ["SecurityHeadersMiddleware", "content_security_policy", "security_headers"]

# helmet 6's default directives, in its order, with Backstage's two changes already applied:
# script-src also allows 'unsafe-eval' and form-action is dropped.
_DEFAULT_DIRECTIVES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("default-src", ("'self'",)),
    ("base-uri", ("'self'",)),
    ("font-src", ("'self'", "https:", "data:")),
    ("frame-ancestors", ("'self'",)),
    ("img-src", ("'self'", "data:")),
    ("object-src", ("'none'",)),
    ("script-src", ("'self'", "'unsafe-eval'")),
    ("script-src-attr", ("'none'",)),
    ("style-src", ("'self'", "https:", "'unsafe-inline'")),
    ("upgrade-insecure-requests", ()),
)

# helmet 6 defaults that Backstage keeps (COEP, COOP, CORP and Origin-Agent-Cluster are off).
_STATIC_HEADERS: tuple[tuple[str, str], ...] = (
    ("strict-transport-security", "max-age=15552000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
)


def _kebab_case(key: str) -> str:
    # lodash's kebabCase as far as CSP directive names need it: camelCase, snake_case and
    # spaces all become dash-separated lowercase words.
    words = re.findall(r"[A-Z]{2,}(?=[A-Z][a-z]|\b|[^A-Za-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", key)
    return "-".join(word.lower() for word in words)


def content_security_policy(config: Config | None) -> str | None:
    """The ``Content-Security-Policy`` value: helmet's defaults overridden by ``backend.csp``
    (each key a directive, its value a list of sources, or ``false`` to drop it). None when every
    directive was dropped.
    """
    directives = dict(_DEFAULT_DIRECTIVES)
    csp = config.get_optional_config("backend.csp") if config is not None else None
    if csp is not None:
        keys = csp.keys()
        for key in keys:
            name = _kebab_case(key)
            if not name:
                raise ConfigError(f"Invalid CSP directive name '{key}' at backend.csp")
            if csp.get(key) is False:
                directives.pop(name, None)
            else:
                directives[name] = tuple(csp.get_string_array(key))
    if not directives:
        return None
    return ";".join(
        f"{name} {' '.join(values)}" if values else name for name, values in directives.items()
    )


def security_headers(config: Config | None) -> list[tuple[bytes, bytes]]:
    """Every security header as raw ASGI header pairs, computed once from config.

    ``Referrer-Policy`` comes from ``backend.referrer.policy`` (a string or a list), default
    ``no-referrer``.
    """
    headers: list[tuple[str, str]] = []
    csp = content_security_policy(config)
    if csp is not None:
        headers.append(("content-security-policy", csp))
    referrer: list[str] = ["no-referrer"]
    if config is not None and config.has("backend.referrer.policy"):
        value = config.get("backend.referrer.policy")
        if isinstance(value, str):
            referrer = [value]
        else:
            referrer = config.get_string_array("backend.referrer.policy")
    headers.append(("referrer-policy", ",".join(referrer)))
    headers.extend(_STATIC_HEADERS)
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class SecurityHeadersMiddleware:
    """helmet: ``headers`` (from :func:`security_headers`) first on every HTTP response."""

    __slots__ = ("_headers", "app")

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self._headers = headers

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The headers put ahead of every response's own."""
        return self._headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with the headers put ahead of the response's own."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, PrependHeadersSend(send, self._headers))
