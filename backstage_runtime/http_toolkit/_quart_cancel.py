"""A Quart HTTP connection whose handler is cancelled when the request is.

Quart runs each request's handler in a task of its own and, when the request itself is
cancelled (a shutdown cutting requests that outlast the drain), leaves that task running: it
would go on using services that are being shut down. This connection cancels it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from quart.asgi import ASGIHTTPConnection

__all__ = ["CancellableHTTPConnection"]


class CancellableHTTPConnection(ASGIHTTPConnection):
    """Quart's HTTP connection, cancelling its handler and body tasks when it is cancelled."""

    _tasks: list[asyncio.Task[Any]]

    async def __call__(self, receive: Any, send: Any) -> None:
        """Serve the request as Quart does; on cancellation cancel the tasks it started."""
        self._tasks = []
        try:
            await super().__call__(receive, send)
        except asyncio.CancelledError:
            # Not awaited: inside a cancelled scope every await would be cancelled again; the
            # tasks unwind on their own at their next checkpoint.
            for task in self._tasks:
                task.cancel()
            raise

    async def handle_messages(self, *args: Any, **kwargs: Any) -> None:
        """Quart's body reader, noted as a task to cancel."""
        self._note_task()
        await super().handle_messages(*args, **kwargs)

    async def handle_request(self, *args: Any, **kwargs: Any) -> None:
        """Quart's handler runner, noted as a task to cancel."""
        self._note_task()
        await super().handle_request(*args, **kwargs)

    def _note_task(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.append(task)
