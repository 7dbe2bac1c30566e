"""A local aiohttp server for reader tests: random port on 127.0.0.1, requests recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    raw_path: str
    headers: dict[str, str]


class LocalServer:
    """``base`` is ``http://127.0.0.1:<port>``; ``requests`` lists what arrived."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.requests: list[Seen] = []
        self.base = ""
        self.port = 0

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]


@asynccontextmanager
async def serve(routes: web.RouteTableDef | list[web.RouteDef]) -> AsyncIterator[LocalServer]:
    """Serve ``routes`` until the block ends."""
    holder: list[LocalServer] = []

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        holder[0].requests.append(
            Seen(request.method, request.path, request.raw_path, dict(request.headers))
        )
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.add_routes(routes)
    server = LocalServer(app)
    holder.append(server)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{server.port}"
    try:
        yield server
    finally:
        await runner.cleanup()
