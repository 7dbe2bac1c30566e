"""Auth policy bookkeeping: which plugin paths the credentials barrier relaxes, and how."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from ...api.services.http import AuthPolicyAllow
from ...http_toolkit import Scope

__all__ = [
    "AuthPolicies",
    "CookieHandler",
    "CredentialsBarrier",
    "PublicKeys",
    "compile_policy_path",
]

#: Checks a request's credentials, raising ``AuthenticationError``/``NotAllowedError``; the
#: second argument says whether limited access (the user cookie) is acceptable on this path.
CredentialsBarrier = Callable[[Scope, bool], Awaitable[None]]

#: Lists the plugin's public keys for its JWKS endpoint.
PublicKeys = Callable[[], Awaitable[Sequence[Any]]]

#: Answers ``/.backstage/auth/v1/cookie`` (after the barrier): given the scope and ``send``.
CookieHandler = Callable[[Scope, Callable[[Any], Awaitable[None]]], Awaitable[None]]


def compile_policy_path(path: str) -> Callable[[str], bool]:
    """A predicate matching request paths that start with ``path`` (path-to-regexp syntax with
    ``end: false``: ``:name`` matches one segment, ``*name`` the rest, ``{...}`` is optional).
    ``/`` and ``*`` match everything.

    Case-sensitive, unlike path-to-regexp's default: a policy must open exactly the paths the
    plugin's router serves, and that router (Quart's) tells ``/admin`` from ``/Admin``.
    """
    if path in ("/", "*"):
        return lambda _path: True
    regex = re.compile(rf"^{_translate(path)}(?:/(?=$))?(?=/|$)")
    return lambda request_path: regex.match(request_path) is not None


def _translate(path: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(path):
        char = path[index]
        if char in ":*":
            match = re.match(r"[A-Za-z_$][\w$]*", path[index + 1 :])
            name_length = match.end() if match else 0
            out.append("[^/]+?" if char == ":" else ".+")
            index += 1 + name_length
            continue
        if char == "{":
            out.append("(?:")
        elif char == "}":
            out.append(")?")
        elif char == "\\" and index + 1 < len(path):
            index += 1
            out.append(re.escape(path[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out).rstrip("/") if len(out) > 1 else "".join(out)


class AuthPolicies:
    """The policies a plugin added with ``add_auth_policy``, checked unauthenticated-first."""

    def __init__(self, *, disabled: bool = False) -> None:
        self._disabled = disabled
        self._unauthenticated: list[Callable[[str], bool]] = []
        self._user_cookie: list[Callable[[str], bool]] = []
        self._declared: list[tuple[str, AuthPolicyAllow]] = []

    @property
    def disabled(self) -> bool:
        """True with ``backend.auth.dangerouslyDisableDefaultAuthPolicy``: no barrier at all."""
        return self._disabled

    @property
    def declared(self) -> list[tuple[str, AuthPolicyAllow]]:
        """Every policy added, as ``(path, allow)`` in order."""
        return list(self._declared)

    def add(self, path: str, allow: AuthPolicyAllow) -> None:
        """Relax the barrier for requests under ``path``; raises :class:`ValueError` for an
        unknown ``allow``.
        """
        if allow not in ("unauthenticated", "user-cookie"):
            raise ValueError(
                f"Invalid auth policy allow={allow!r} for path '{path}', expected "
                "'unauthenticated' or 'user-cookie'"
            )
        if self._disabled:
            return
        predicate = compile_policy_path(path)
        (self._unauthenticated if allow == "unauthenticated" else self._user_cookie).append(
            predicate
        )
        self._declared.append((path, allow))

    def requirement(self, path: str) -> Literal["none", "limited", "full"]:
        """What the barrier asks for ``path`` (relative to the plugin mount): ``none`` (an
        unauthenticated policy or the barrier disabled), ``limited`` (user cookie accepted) or
        ``full`` credentials.
        """
        if self._disabled or any(matches(path) for matches in self._unauthenticated):
            return "none"
        if any(matches(path) for matches in self._user_cookie):
            return "limited"
        return "full"
