"""Asking a Quart app's routes whether they take a request before the app serves it, and
leaving the answer for the app, so that the request is matched once.

A plugin router that serves blueprints and an ASGI application sends each request to the
blueprints when one of their routes takes it (path and method), else to the application, as an
Express router falls through to its next handler. The question costs a URL match; the app that
then serves the request reuses it (:class:`~._quart_app.MountedQuart` with
``reuses_probed_matches``) instead of matching again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect, Rule

from ._asgi import Scope, mount_relative_path

__all__ = ["RouteMatch", "RouteProbe", "probed_match"]

# Where, in the request's scope, the probe leaves its match for the app.
_MATCH_KEY = "backstage.probed_route"


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """The route a request matched: its ``path`` below the mount and ``method`` as matched,
    the ``rule`` and its converted ``args``.
    """

    path: str
    method: str
    rule: Rule
    args: dict[str, Any]


class RouteProbe:
    """Matches requests against ``url_map``'s rules (those added later too)."""

    __slots__ = ("_adapter",)

    def __init__(self, url_map: Map) -> None:
        # One adapter for every request: matching with an explicit path and method reads
        # nothing else of the binding, and the map's rules are re-read as they change.
        self._adapter = url_map.bind("localhost")

    def takes(self, scope: Scope) -> bool:
        """Whether a route takes this HTTP request's path and method (a route that only
        answers other methods does not: the request falls through, as in Express). A match is
        left in the scope for :func:`probed_match`.
        """
        path = mount_relative_path(scope)
        method: str = scope["method"]
        try:
            rule, args = self._adapter.match(path, method=method, return_rule=True)
        except RequestRedirect:
            return True  # the blueprints answer with the redirect (a missing trailing slash)
        except HTTPException:
            return False
        scope[_MATCH_KEY] = RouteMatch(path, method, rule, dict(args))
        return True


def probed_match(scope: Mapping[str, object]) -> RouteMatch | None:
    """The match :meth:`RouteProbe.takes` left for this request, if any."""
    match = scope.get(_MATCH_KEY)
    return match if isinstance(match, RouteMatch) else None
