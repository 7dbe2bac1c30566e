"""A TCP proxy in front of a database server that the test can freeze and thaw.

Frozen, it behaves like a server stopped with SIGSTOP: the kernel still accepts connections, but
no byte is answered. Thawed, the held bytes flow again. The shared server behind it is never
touched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.abc import SocketStream, TaskGroup


class FreezableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_host:target_port`` until :meth:`freeze`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._flowing = anyio.Event()
        self._flowing.set()
        self.port = 0
        self.connections = 0

    def freeze(self) -> None:
        """Stop forwarding: new and open connections get no answer."""
        if self._flowing.is_set():
            self._flowing = anyio.Event()

    def thaw(self) -> None:
        """Forward again, the held bytes first."""
        self._flowing.set()

    async def _wait_flowing(self) -> None:
        while not self._flowing.is_set():
            await self._flowing.wait()

    async def _serve(self, client: SocketStream) -> None:
        self.connections += 1
        async with client:
            await self._wait_flowing()
            try:
                server = await anyio.connect_tcp(*self._target)
            except OSError:
                return
            async with server, anyio.create_task_group() as group:
                group.start_soon(self._pump, client, server, group)
                group.start_soon(self._pump, server, client, group)

    async def _pump(self, source: SocketStream, sink: SocketStream, group: TaskGroup) -> None:
        try:
            async for chunk in source:
                await self._wait_flowing()
                await sink.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        finally:
            group.cancel_scope.cancel()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FreezableProxy]:
        """Listen on a free port (``self.port``) for the duration of the block."""
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as group:
            group.start_soon(listener.serve, self._serve)
            try:
                yield self
            finally:
                self.thaw()
                group.cancel_scope.cancel()
