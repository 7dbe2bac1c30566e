"""Backstage's well-known error classes, and the errors of the container itself.

Every error raised by backstage-runtime subclasses :class:`BackstageError`. Each class carries
Backstage's error ``name`` as a class attribute: the HTTP layer maps errors to status codes by that
name (as Backstage does), so errors deserialised from another service map the same way.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuthenticationError",
    "BackendStartupError",
    "BackendValidationError",
    "BackstageError",
    "ConfigError",
    "ConflictError",
    "ExtensionPointClosedError",
    "ForwardedError",
    "InputError",
    "NotAllowedError",
    "NotFoundError",
    "NotImplementedYetError",
    "NotModifiedError",
    "ResponseError",
    "ServiceInstantiationError",
    "ServiceUnavailableError",
    "stringify_error",
]


def stringify_error(error: object) -> str:
    """Render an error the way Backstage's ``stringifyError`` does: ``<name>: <message>``."""
    if isinstance(error, BackstageError):
        return f"{error.error_name}: {error}" if str(error) else error.error_name
    if isinstance(error, BaseException):
        text = str(error)
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"unknown error '{error}'"


class BackstageError(Exception):
    """Base of every error this project raises.

    ``message`` is the text without the cause; ``str(error)`` appends ``; caused by <cause>`` when a
    cause is given, matching Backstage's ``CustomErrorBase``.
    """

    name: ClassVar[str] = "Error"

    def __init__(self, message: str = "", cause: BaseException | None = None) -> None:
        self.message = message
        self.cause = cause
        full = message
        if cause is not None:
            caused_by = f"caused by {stringify_error(cause)}"
            full = f"{message}; {caused_by}" if message else caused_by
        super().__init__(full)
        if cause is not None:
            self.__cause__ = cause

    @property
    def error_name(self) -> str:
        """The ``name`` this error reports on the wire (a forwarded error reports its cause's)."""
        return self.name


class InputError(BackstageError):
    """The request or input was malformed (HTTP 400)."""

    name = "InputError"


class AuthenticationError(BackstageError):
    """Credentials are missing or invalid (HTTP 401)."""

    name = "AuthenticationError"


class NotAllowedError(BackstageError):
    """The caller is authenticated but not allowed (HTTP 403)."""

    name = "NotAllowedError"


class NotFoundError(BackstageError):
    """The requested thing does not exist (HTTP 404)."""

    name = "NotFoundError"


class ConflictError(BackstageError):
    """The request conflicts with the current state (HTTP 409)."""

    name = "ConflictError"


class NotModifiedError(BackstageError):
    """The resource has not changed since the caller last saw it (HTTP 304)."""

    name = "NotModifiedError"


class NotImplementedYetError(BackstageError):
    """Backstage's ``NotImplementedError`` (HTTP 501); renamed so it does not shadow the builtin."""

    name = "NotImplementedError"


class ServiceUnavailableError(BackstageError):
    """The service cannot answer right now (HTTP 503)."""

    name = "ServiceUnavailableError"


class ResponseError(BackstageError):
    """Another service answered with an error status; ``status_code`` carries that status, so
    re-raising it from a route answers with the upstream status (as Backstage's ``ResponseError``).
    """

    name = "ResponseError"

    def __init__(self, message: str, *, status_code: int, body: object = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class ForwardedError(BackstageError):
    """Wraps a cause with context while keeping the cause's ``name`` (and so its HTTP status)."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message, cause)

    @property
    def error_name(self) -> str:
        """The wrapped cause's name, as Backstage's ``ForwardedError`` reports it."""
        return self.cause.error_name if isinstance(self.cause, BackstageError) else "Error"


class ConfigError(BackstageError):
    """Configuration is missing, malformed or of the wrong type; the message names key and file."""

    name = "ConfigError"


class BackendValidationError(BackstageError):
    """The feature graph is invalid; ``problems`` lists every problem found, one per line."""

    name = "BackendValidationError"

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Backend validation failed with {count} {noun}:\n{lines}")


class BackendStartupError(BackstageError):
    """One or more plugins or modules failed to start and the boot-failure policy said abort."""

    name = "BackendStartupError"

    def __init__(self, failures: list[str], errors: list[BaseException]) -> None:
        self.failures = list(failures)
        self.errors = list(errors)
        lines = "\n".join(f"  {f}" for f in self.failures)
        super().__init__(f"Backend startup failed due to the following errors:\n{lines}")


class ServiceInstantiationError(BackstageError):
    """A service could not be built; the message names the service and the plugin."""

    name = "ServiceInstantiationError"


class ExtensionPointClosedError(BackstageError):
    """A module used an extension point after its plugin's init started."""

    name = "ExtensionPointClosedError"
