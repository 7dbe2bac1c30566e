"""The routes a Quart app's requests matched, remembered where the match can only come out the
same: a route without arguments or defaults, matched without a redirect or an error.

werkzeug matches each request through its state machine (~27k instructions for a small map,
about 2% of a served request). For a path, method and domain part that matched such a route
once, the same map matches the same route again: its arguments are empty, and the redirects and
errors that depend on more than those inputs (the query string, say) are raised, never
remembered. The memory starts over when the map gets another rule (or is another map), and when
it holds :data:`MAX_REMEMBERED_ROUTES` (paths are the client's to choose).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Map, MapAdapter, Rule

__all__ = ["MAX_REMEMBERED_ROUTES", "RouteMemory", "route_key"]

#: Most matches remembered; past it the memory starts over.
MAX_REMEMBERED_ROUTES = 256

_Key = tuple[str | None, str, str, bool]


def route_key(adapter: MapAdapter) -> _Key:
    """What ``adapter.match()`` reads of its binding to pick a route: the domain part (the
    subdomain, or the server name with host matching), the path, the method, websocket or not.
    """
    domain = adapter.server_name if adapter.map.host_matching else adapter.subdomain
    return domain, adapter.path_info, adapter.default_method, adapter.websocket


class RouteMemory:
    """Remembered matches of one app (see the module)."""

    __slots__ = ("_map", "_routes", "_rules")

    def __init__(self) -> None:
        self._map: Map | None = None
        self._rules = -1
        self._routes: dict[_Key, Rule] = {}

    def get(self, url_map: Map, key: _Key) -> Rule | None:
        """The route remembered for ``key`` in ``url_map`` as it is now, else None."""
        if url_map is not self._map or len(url_map._rules) != self._rules:
            self._map = url_map
            self._rules = len(url_map._rules)
            self._routes = {}
            return None
        return self._routes.get(key)

    def learn(self, url_map: Map, key: _Key, rule: Any, view_args: Any, error: Any) -> None:
        """Remember what matching ``key`` gave, when it can only give it again."""
        if (
            error is None
            and isinstance(rule, Rule)
            and not rule.arguments
            and not rule.defaults
            and rule.redirect_to is None
            and view_args == {}
            and url_map is self._map
            and len(url_map._rules) == self._rules
        ):
            if len(self._routes) >= MAX_REMEMBERED_ROUTES:
                self._routes = {}
            self._routes[key] = rule
