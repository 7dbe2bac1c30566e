"""Backstage's ``DefaultAuditorService``: audit events through the plugin logger."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ...api import Config, LoggerService
from ...api.errors import ForwardedError, InputError
from ...api.services.auditor import AuditorSeverity
from ...api.services.auth import (
    AuthService,
    BackstageServicePrincipal,
    BackstageUserPrincipal,
    HttpAuthService,
)

__all__ = ["DefaultAuditorEvent", "DefaultAuditorService", "read_severity_levels"]

_DEFAULT_LEVELS: dict[str, str] = {
    "low": "debug",
    "medium": "info",
    "high": "info",
    "critical": "info",
}
_LEVELS = ("debug", "info", "warn", "error")
_EVENT_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def read_severity_levels(config: Config) -> dict[str, str]:
    """``backend.auditor.severityLogLevelMappings``: the log level of each severity."""
    levels = dict(_DEFAULT_LEVELS)
    section = config.get_optional_config("backend.auditor.severityLogLevelMappings")
    if section is not None:
        for severity in _DEFAULT_LEVELS:
            value = section.get_optional_string(severity)
            if value is None:
                continue
            if value not in _LEVELS:
                raise InputError(
                    f"Invalid log level '{value}' at backend.auditor.severityLogLevelMappings."
                    f"{severity}, expected one of {', '.join(_LEVELS)}"
                )
            levels[severity] = value
    return levels


def _log(logger: LoggerService, level: str) -> Callable[[str, Any], None]:
    method: Callable[[str, Any], None] = getattr(logger, level)
    return method


class DefaultAuditorEvent:
    """An initiated audit event; end it with :meth:`success` or :meth:`fail`."""

    def __init__(self, logger: LoggerService, level: str, message: str, fields: dict[str, Any]):
        self._logger = logger
        self._level = level
        self._message = message
        self._fields = fields

    def _emit(
        self, status: str, meta: Mapping[str, Any] | None, error: BaseException | None
    ) -> None:
        fields = dict(self._fields)
        merged = {**fields.get("meta", {}), **(meta or {})}
        if merged:
            fields["meta"] = merged
        else:
            fields.pop("meta", None)
        fields["status"] = status
        if error is None:
            _log(self._logger, self._level)(self._message, fields)
        else:
            _log(self._logger.child(fields), self._level)(self._message, error)

    async def success(self, *, meta: Mapping[str, Any] | None = None) -> None:
        """Record that the audited action succeeded."""
        self._emit("succeeded", meta, None)

    async def fail(self, *, error: BaseException, meta: Mapping[str, Any] | None = None) -> None:
        """Record that the audited action failed, with the error."""
        self._emit("failed", meta, error)


class DefaultAuditorService:
    """Audit events of one plugin: message ``<pluginId>.<eventId>``, fields ``plugin``,
    ``eventId``, ``severityLevel``, ``actor``, ``request``, ``meta``, ``status`` and
    ``isAuditEvent: true``, at the level ``backend.auditor.severityLogLevelMappings`` gives.
    """

    def __init__(
        self,
        *,
        plugin_id: str,
        logger: LoggerService,
        auth: AuthService,
        http_auth: HttpAuthService,
        levels: Mapping[str, str],
    ) -> None:
        self._plugin_id = plugin_id
        self._logger = logger.child({"isAuditEvent": True})
        self._auth = auth
        self._http_auth = http_auth
        self._levels = levels

    async def create_event(
        self,
        event_id: str,
        *,
        severity_level: AuditorSeverity = "low",
        request: Any = None,
        meta: Mapping[str, Any] | None = None,
    ) -> DefaultAuditorEvent:
        """Log that an audited action started (status ``initiated``) and return the event."""
        if not _EVENT_ID.match(event_id):
            raise InputError(f"Audit event id '{event_id}' must be kebab-case")
        fields: dict[str, Any] = {
            "plugin": self._plugin_id,
            "eventId": event_id,
            "severityLevel": severity_level,
            "actor": await self._actor(request),
        }
        if request is not None:
            fields["request"] = _request_fields(request)
        if meta:
            fields["meta"] = dict(meta)
        event = DefaultAuditorEvent(
            self._logger, self._levels[severity_level], f"{self._plugin_id}.{event_id}", fields
        )
        event._emit("initiated", None, None)
        return event

    async def _actor(self, request: Any) -> dict[str, Any]:
        actor: dict[str, Any] = {}
        if request is None:
            own = await self._auth.get_own_service_credentials()
            assert isinstance(own.principal, BackstageServicePrincipal)
            actor["actorId"] = own.principal.subject
            return actor
        try:
            credentials = await self._http_auth.credentials(request)
        except Exception as error:
            raise ForwardedError("Could not resolve credentials", error) from error
        principal = credentials.principal
        if isinstance(principal, BackstageUserPrincipal):
            actor["actorId"] = principal.user_entity_ref
        elif isinstance(principal, BackstageServicePrincipal):
            actor["actorId"] = principal.subject
        headers = getattr(request, "headers", None)
        remote = getattr(request, "remote_addr", None)
        if remote:
            actor["ip"] = remote
        if headers is not None:
            if headers.get("Host"):
                actor["hostname"] = headers.get("Host").split(":")[0]
            if headers.get("User-Agent"):
                actor["userAgent"] = headers.get("User-Agent")
        return actor


def _request_fields(request: Any) -> dict[str, Any]:
    path = getattr(request, "full_path", None) or getattr(request, "path", "")
    root = getattr(request, "root_path", "") or ""
    url = f"{root}{path}".rstrip("?")
    return {"url": url, "method": getattr(request, "method", "")}
