"""The end of the root pipeline: the mount owning the request's path, or a 404."""

from __future__ import annotations

from ...api.error_response import error_response_body
from ...api.errors import NotFoundError
from ...http_toolkit import Receive, Scope, Send, request_url, send_json
from ._routes import RouteTable

__all__ = ["RouteDispatch", "local_path", "mounted_scope"]


def local_path(scope: Scope) -> str:
    """The path below our own mount point (when another ASGI app mounted the root router,
    ``path`` still starts with its ``root_path``).
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def mounted_scope(scope: Scope, path: str, mount_path: str) -> Scope:
    """The scope a mount at ``mount_path`` sees for a request for ``path`` (local).

    Starlette's and Quart's convention: ``path`` stays whole and ``root_path`` names the mount.
    The mount point is taken from the request (matching ignores case; Quart's prefix check does
    not). A request for the mount point itself is served as the mount's "/", as Express does.
    An empty ``mount_path`` (the index mount's fallback) leaves the scope as it is.
    """
    if not mount_path:
        return scope
    root_path = scope.get("root_path", "") + path[: len(mount_path)]
    if len(path) == len(mount_path):
        whole = scope["path"] + "/"
        raw_path = scope.get("raw_path") or scope["path"].encode()
        return {**scope, "root_path": root_path, "path": whole, "raw_path": raw_path + b"/"}
    return {**scope, "root_path": root_path}


class RouteDispatch:
    """Hands each request to the mount owning its path (:class:`RouteTable`); an HTTP request
    that no mount owns gets a ``NotFoundError`` body, a websocket is closed.
    """

    __slots__ = ("_routes",)

    def __init__(self, routes: RouteTable) -> None:
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its mount."""
        path = local_path(scope)
        mount = self._routes.match(path)
        if mount is not None:
            await mount.app(mounted_scope(scope, path, mount.path), receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
        elif scope["type"] == "http":
            method = scope["method"]
            url = request_url(scope, relative=False)
            error = NotFoundError(f"No route for {method} {url}")
            await send_json(send, 404, error_response_body(error, method=method, url=url))
