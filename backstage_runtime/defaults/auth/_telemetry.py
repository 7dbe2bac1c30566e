"""Counters of the auth service: JWKS fetches and token verifications, by result."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from ...api.services.telemetry import TelemetryService

__all__ = ["INSTRUMENTATION_SCOPE", "AuthTelemetry"]

#: The meter of the auth instruments.
INSTRUMENTATION_SCOPE = "backstage-service-auth"


class AuthTelemetry:
    """``backstage.core.auth.jwks.fetches`` (``server.address``, the issuer's host, and
    ``result``: ``ok`` or ``error``) and ``backstage.core.auth.token.verifications``
    (``backstage.plugin.id``, ``token.type``: plugin, user, external or unknown, and
    ``result``: ``valid``, ``invalid`` or ``restricted``). Both exist only while metrics are
    recorded; :meth:`jwks_observer` / :meth:`verification_recorder` are None otherwise."""

    def __init__(self, telemetry: TelemetryService) -> None:
        self._fetches = self._verifications = None
        if telemetry.metrics_enabled:
            meter = telemetry.meter_provider.get_meter(INSTRUMENTATION_SCOPE)
            self._fetches = meter.create_counter(
                "backstage.core.auth.jwks.fetches",
                unit="{fetch}",
                description="Fetches of remote JSON Web Key Sets, by result",
            )
            self._verifications = meter.create_counter(
                "backstage.core.auth.token.verifications",
                unit="{token}",
                description="Verified tokens (not the cached repeats), by type and result",
            )

    def jwks_observer(self) -> Callable[[str, bool], None] | None:
        """The ``on_fetch`` hook of the JWKS client."""
        fetches = self._fetches
        if fetches is None:
            return None

        def observe(url: str, succeeded: bool) -> None:
            host = urlsplit(url).hostname or ""
            fetches.add(1, {"server.address": host, "result": "ok" if succeeded else "error"})

        return observe

    def verification_recorder(self, plugin_id: str) -> Callable[[str, str], None] | None:
        """``record(token_type, result)`` for the auth service of ``plugin_id``."""
        verifications = self._verifications
        if verifications is None:
            return None

        def record(token_type: str, result: str) -> None:
            verifications.add(
                1,
                {"backstage.plugin.id": plugin_id, "token.type": token_type, "result": result},
            )

        return record
