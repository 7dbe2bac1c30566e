"""Helpers for HTTP tests: plugins that serve a blueprint, and a small aiohttp client."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import quart
from quart import Blueprint

from backstage_runtime.api import BackendPlugin, core_services, create_backend_plugin


def plugin_with_routes(
    plugin_id: str,
    blueprint: Blueprint,
    *,
    policies: Iterable[tuple[str, str]] = (),
    before_use: Callable[..., Any] | None = None,
) -> BackendPlugin:
    """A plugin whose init mounts ``blueprint`` and adds ``policies`` (path, allow).

    ``before_use`` (sync or async, receives the plugin's http router) runs first, e.g. to hold
    the init open.
    """

    def register(env: Any) -> None:
        async def init(http: Any) -> None:
            if before_use is not None:
                result = before_use(http)
                if hasattr(result, "__await__"):
                    await result
            http.use(blueprint)
            for path, allow in policies:
                http.add_auth_policy(path=path, allow=allow)

        env.register_init(deps={"http": core_services.http_router}, init=init)

    return create_backend_plugin(plugin_id=plugin_id, register=register)


def echo_plugin() -> BackendPlugin:
    """Plugin ``echo``, open to all: ``POST /api/echo/echo`` answers how many body bytes it
    read (``{"received": N}``)."""
    routes = Blueprint("echo", __name__)

    @routes.post("/echo")
    async def echo() -> dict[str, int]:
        return {"received": len(await quart.request.get_data())}

    return plugin_with_routes("echo", routes, policies=[("/", "unauthenticated")])


@dataclass
class Reply:
    """A finished response: status, headers (case-insensitive) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        import json

        return json.loads(self.body)


async def request(method: str, url: str, **kwargs: Any) -> Reply:
    """One request on a fresh connection; returns the whole response."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, allow_redirects=False, **kwargs) as response,
    ):
        body = await response.read()
        return Reply(response.status, response.headers, body)
