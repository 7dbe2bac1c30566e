"""CORS as Backstage configures the ``cors`` package from ``backend.cors``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...api import Config
from ...api.errors import ConfigError
from ._origin_glob import compile_origin_patterns

__all__ = ["CorsPolicy", "read_cors_policy"]

_DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class CorsPolicy:
    """What to answer for CORS; None fields mean the ``cors`` package's defaults.

    ``origin`` None allows every origin, a missing ``Origin`` too (``*``, as ``cors`` without an
    ``origin`` option); otherwise only a request whose ``Origin`` matches the pattern is a CORS
    request at all: its origin is reflected, and every other request passes through untouched
    (``cors`` calls ``next()`` without a header when Backstage's origin callback says no).
    """

    origin: re.Pattern[str] | None
    methods: str
    allowed_headers: str | None
    exposed_headers: str | None
    credentials: bool
    max_age: int | None
    preflight_continue: bool
    options_success_status: int

    def allows(self, request_origin: str | None) -> bool:
        """Whether CORS applies to a request from ``request_origin`` (its ``Origin`` header)."""
        if self.origin is None:
            return True
        return request_origin is not None and self.origin.match(request_origin) is not None

    def _origin_headers(self, request_origin: str | None) -> tuple[Headers, list[str]]:
        # The headers, and the Vary fields cors adds with them (one Vary header in the end).
        if self.origin is None or request_origin is None:
            return [(b"access-control-allow-origin", b"*")], []
        return [(b"access-control-allow-origin", request_origin.encode("latin-1"))], ["Origin"]

    def _credentials(self) -> Headers:
        return [(b"access-control-allow-credentials", b"true")] if self.credentials else []

    def _exposed(self) -> Headers:
        if not self.exposed_headers:
            return []
        return [(b"access-control-expose-headers", self.exposed_headers.encode())]

    def response_headers(self, request_origin: str | None) -> Headers:
        """Headers for an actual (non-preflight) request from an allowed origin."""
        headers, vary = self._origin_headers(request_origin)
        headers += self._credentials()
        headers += self._exposed()
        return _with_vary(headers, vary)

    def preflight_headers(self, request_origin: str | None, request_headers: str | None) -> Headers:
        """Headers for an ``OPTIONS`` request from an allowed origin (a preflight)."""
        headers, vary = self._origin_headers(request_origin)
        headers += self._credentials()
        headers.append((b"access-control-allow-methods", self.methods.encode()))
        if self.allowed_headers is None:
            # cors reflects the requested headers, and says so in Vary even when none were
            # requested: a cache must not reuse this answer for another request's headers.
            vary.append("Access-Control-Request-Headers")
            if request_headers:
                headers.append((b"access-control-allow-headers", request_headers.encode("latin-1")))
        elif self.allowed_headers:
            headers.append((b"access-control-allow-headers", self.allowed_headers.encode()))
        if self.max_age is not None:
            headers.append((b"access-control-max-age", str(self.max_age).encode()))
        headers += self._exposed()
        return _with_vary(headers, vary)


def _with_vary(headers: Headers, vary: list[str]) -> Headers:
    # Node keeps one header object, so the fields cors adds end up on one line.
    if vary:
        headers.append((b"vary", ", ".join(vary).encode()))
    return headers


def _string_list(config: Config, key: str) -> list[str] | None:
    if not config.has(key):
        return None
    value = config.get(key)
    if isinstance(value, str):
        return [value]
    return config.get_string_array(key)


def read_cors_policy(config: Config) -> CorsPolicy | None:
    """The policy from ``backend.cors``, or None when it is absent (CORS disabled: no headers).

    Keys: ``origin`` (glob patterns, case-insensitive), ``methods``, ``allowedHeaders``,
    ``exposedHeaders`` (strings or lists), ``credentials``, ``maxAge``, ``preflightContinue``,
    ``optionsSuccessStatus``.
    """
    cors = config.get_optional_config("backend.cors")
    if cors is None:
        return None
    origins = _string_list(cors, "origin")
    methods = _string_list(cors, "methods")
    allowed = _string_list(cors, "allowedHeaders")
    exposed = _string_list(cors, "exposedHeaders")
    max_age = cors.get_optional_number("maxAge")
    status = cors.get_optional_number("optionsSuccessStatus")
    if status is not None and not (200 <= status <= 299 and float(status).is_integer()):
        raise ConfigError(
            f"Invalid backend.cors.optionsSuccessStatus {status:g}: expected a 2xx status"
        )
    return CorsPolicy(
        origin=compile_origin_patterns(origins) if origins is not None else None,
        methods=",".join(methods) if methods is not None else _DEFAULT_METHODS,
        allowed_headers=",".join(allowed) if allowed is not None else None,
        exposed_headers=",".join(exposed) if exposed is not None else None,
        credentials=bool(cors.get_optional_boolean("credentials")),
        max_age=int(max_age) if max_age is not None else None,
        preflight_continue=bool(cors.get_optional_boolean("preflightContinue")),
        options_success_status=int(status) if status is not None else 204,
    )
