"""Turning an exception into Backstage's error response, logging what must be logged."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..api.error_response import (
    INTERNAL_ERROR_MESSAGE,
    error_response_body,
    internal_error_log_id,
    status_code_for_error,
)
from ..api.errors import BackstageError
from ..api.services.logger import LoggerService
from ._internal_errors import InternalKind, internal_kind
from ._repeated_errors import DEFAULT_REPEAT_INTERVAL, RepeatedErrors, error_signature

__all__ = ["UNAVAILABLE_MESSAGE", "ErrorResponder", "development_mode"]

#: What replaces the message of an error that says a dependency could not be reached.
UNAVAILABLE_MESSAGE = "A service this request needs is unavailable, try again later"


def development_mode(env: Mapping[str, str] | None = None) -> bool:
    """True when ``NODE_ENV`` is ``development``: Backstage's switch for stacks in error bodies."""
    return (env if env is not None else os.environ).get("NODE_ENV") == "development"


class _InternalError(BackstageError):
    """What a client sees instead of an internal error: a message and a log id, nothing else."""

    name = "Error"


class _UnavailableError(BackstageError):
    """What a client sees instead of a dependency's outage: 503, retriable, and a log id."""

    name = "ServiceUnavailableError"


class ErrorResponder:
    """Builds the error body for a failed request, as Backstage's error middleware does.

    Errors whose text is not for clients (driver, socket and OS errors, and server errors they
    caused) are logged as ``Filtered internal error with logId=<id> from response`` and replaced
    by ``An internal error occurred logId=<id>`` (500), or by a 503 ``ServiceUnavailableError``
    when a dependency could not be reached (a database that is down). Statuses of 500 and above
    are logged as ``Request failed with status <n>`` (every status with ``log_all_errors``);
    stacks reach the body only with ``include_stack`` (development mode).

    The same failure repeating (an outage fails every request alike) is logged in full once,
    then counted: one entry per ``repeat_interval`` seconds says how often it happened, and the
    responses in between name the log id of the entry with the details. ``clock`` (monotonic
    seconds) replaces ``time.monotonic`` for that interval, for tests.
    """

    def __init__(
        self,
        logger: LoggerService,
        *,
        include_stack: bool,
        log_all_errors: bool = False,
        repeat_interval: float = DEFAULT_REPEAT_INTERVAL,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._logger = logger
        self._include_stack = include_stack
        self._log_all_errors = log_all_errors
        self._repeat_interval = repeat_interval
        self._repeats = (
            RepeatedErrors(interval=repeat_interval)
            if clock is None
            else RepeatedErrors(interval=repeat_interval, clock=clock)
        )

    def respond(self, error: BaseException, *, method: str, url: str) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for ``error`` raised while serving ``method url``."""
        kind = internal_kind(error)
        if kind is not None:
            sent = self._hide(error, kind)
        else:
            sent = error
            status = status_code_for_error(error)
            if status >= 500 or self._log_all_errors:
                self._log_failure(error, status)
        status = status_code_for_error(sent)
        body = error_response_body(
            sent, method=method, url=url, status=status, include_stack=self._include_stack
        )
        return status, body

    def _hide(self, error: BaseException, kind: InternalKind) -> BaseException:
        replacement: BaseException
        status = 503 if kind == "unavailable" else 500
        decision = self._repeats.note(error_signature(error, status), internal_error_log_id)
        if kind == "unavailable":
            replacement = _UnavailableError(f"{UNAVAILABLE_MESSAGE} logId={decision.log_id}")
        else:
            replacement = _InternalError(f"{INTERNAL_ERROR_MESSAGE} logId={decision.log_id}")
        if not decision.log:
            return replacement
        logger = self._logger.child({"logId": decision.log_id})
        message = f"Filtered internal error with logId={decision.log_id} from response"
        if decision.repeated:
            logger.error(
                f"{message}; the same error occurred {decision.repeated} more times in the last "
                f"{self._repeat_interval:g}s (details under logId={decision.previous_log_id})",
                {"error": _describe(error), "repeated": decision.repeated},
            )
            return replacement
        logger.error(message, error)
        self._logger.error(f"Request failed with status {status}", replacement)
        return replacement

    def _log_failure(self, error: BaseException, status: int) -> None:
        decision = self._repeats.note(error_signature(error, status), internal_error_log_id)
        if not decision.log:
            return
        message = f"Request failed with status {status}"
        if decision.repeated:
            self._logger.error(
                f"{message}; the same error occurred {decision.repeated} more times in the last "
                f"{self._repeat_interval:g}s",
                {"error": _describe(error), "repeated": decision.repeated},
            )
        else:
            self._logger.error(message, error)


def _describe(error: BaseException) -> str:
    """``<Class>: <message>``, the error without its traceback (for a count entry)."""
    return f"{type(error).__name__}: {error}"
