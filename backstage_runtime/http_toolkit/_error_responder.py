"""Turning an exception into Backstage's error response, logging what must be logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..api.error_response import (
    INTERNAL_ERROR_MESSAGE,
    error_response_body,
    internal_error_log_id,
    is_internal_error,
    status_code_for_error,
)
from ..api.errors import BackstageError
from ..api.services.logger import LoggerService

__all__ = ["ErrorResponder", "development_mode"]


def development_mode(env: Mapping[str, str] | None = None) -> bool:
    """True when ``NODE_ENV`` is ``development``: Backstage's switch for stacks in error bodies."""
    return (env if env is not None else os.environ).get("NODE_ENV") == "development"


class _InternalError(BackstageError):
    """What a client sees instead of an internal error: a message and a log id, nothing else."""

    name = "Error"


class ErrorResponder:
    """Builds the error body for a failed request, as Backstage's error middleware does.

    Internal errors (database driver errors) are logged with a random ``logId`` and replaced by
    ``An internal error occurred logId=<id>``; statuses of 500 and above are logged as
    ``Request failed with status <n>`` (every status with ``log_all_errors``); stacks reach the
    body only with ``include_stack`` (development mode).
    """

    def __init__(
        self, logger: LoggerService, *, include_stack: bool, log_all_errors: bool = False
    ) -> None:
        self._logger = logger
        self._include_stack = include_stack
        self._log_all_errors = log_all_errors

    def respond(self, error: BaseException, *, method: str, url: str) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for ``error`` raised while serving ``method url``."""
        if is_internal_error(error):
            log_id = internal_error_log_id()
            self._logger.error(f"Internal error, logId={log_id}", error)
            error = _InternalError(f"{INTERNAL_ERROR_MESSAGE} logId={log_id}")
            error.__traceback__ = None
        status = status_code_for_error(error)
        if status >= 500 or self._log_all_errors:
            self._logger.error(f"Request failed with status {status}", error)
        body = error_response_body(
            error, method=method, url=url, status=status, include_stack=self._include_stack
        )
        return status, body
