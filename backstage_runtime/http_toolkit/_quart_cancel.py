"""A Quart HTTP connection that runs the handler in the request's own task.

Quart serves each request with three tasks: one reading the body, one running the handler, and
one more that ``asyncio.wait_for`` makes to bound sending the response; the request's task waits
for the first two. Besides costing a task start, a few event-loop turns and an ``asyncio.wait``
per request, that leaves the handler running when the request is cancelled (a shutdown cutting
requests that outlast the drain): it would go on using services that are being shut down.

This connection keeps Quart's behaviour with one task: the handler runs in the request's task,
so cancelling the request cancels it; the body reader is the only task of its own, and when it
ends first (the client disconnected) it cancels the handler, as Quart's ``asyncio.wait`` with
``FIRST_COMPLETED`` does; the response is bounded by ``asyncio.timeout``, which needs no task.
Without a body to read, the reader's task is only made once the handler has suspended (before
that, nothing could have run it anyway), so a handler that answers at once costs no task and
no event-loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from quart.asgi import ASGIHTTPConnection
from quart.debug import traceback_response
from quart.typing import ResponseTypes
from quart.utils import encode_headers
from quart.wrappers import Request, Response
from quart.wrappers.response import DataBody

__all__ = ["CancellableHTTPConnection"]


class _BodyReader:
    """Quart's body reader (``handle_messages``) in a task of its own, which cancels the
    handler when it ends first (the client disconnected).

    For a request that declares no body the task is made at the event loop's next turn, the
    first moment the handler can be waiting on its client: a handler that answers without
    suspending is done by then and costs no task (Quart's reader would have been cancelled
    before its first step just the same). A request with a body gets its reader at once, so
    that the body is read from the first turn on, as Quart reads it.
    """

    __slots__ = ("_messages", "_start", "cancelled", "finished", "handler", "task")

    def __init__(
        self,
        handler: asyncio.Task[Any],
        messages: Callable[[], Coroutine[Any, Any, None]],
        *,
        deferred: bool,
    ) -> None:
        self.handler = handler
        self.task: asyncio.Task[None] | None = None
        self.finished = False
        self.cancelled = False
        self._messages = messages
        self._start: asyncio.Handle | None = None
        if deferred:
            self._start = handler.get_loop().call_soon(self._begin)
        else:
            self._begin()

    def _begin(self) -> None:
        self.task = self.handler.get_loop().create_task(self._messages())
        self.task.add_done_callback(self._ended)

    def _ended(self, _task: asyncio.Future[Any]) -> None:
        if not self.finished:
            self.cancelled = True
            self.handler.cancel()

    def stop(self) -> None:
        """The handler is done: the reader no longer starts, nor cancels it."""
        self.finished = True
        if self._start is not None:
            self._start.cancel()
        if self.task is not None:
            self.task.remove_done_callback(self._ended)


def _declares_body(scope: Any) -> bool:
    """Whether the request's headers announce a body (``Transfer-Encoding``, or a
    ``Content-Length`` other than 0).
    """
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class CancellableHTTPConnection(ASGIHTTPConnection):
    """Quart's HTTP connection with the handler in the request's task (see the module)."""

    async def __call__(self, receive: Any, send: Any) -> None:
        """Serve the request as Quart does: read the body alongside the handler; a disconnect
        cancels the handler; an error of either is raised.
        """
        handler = asyncio.current_task()
        if handler is None:  # not in a task: nothing to run inline in
            await super().__call__(receive, send)
            return
        request = self._create_request_from_scope(send)
        reader = _BodyReader(
            handler,
            partial(self.handle_messages, request, receive),
            deferred=not _declares_body(self.scope),
        )
        try:
            await self.handle_request(request, send)
        except asyncio.CancelledError:
            # Only our own cancellation (the client left) ends the request quietly; one from
            # outside (the server cutting it) goes on.
            if not reader.cancelled or handler.uncancel() > 0:
                if reader.task is not None:
                    reader.task.cancel()  # not awaited: a cancelled scope would cancel it too
                raise
        else:
            if reader.cancelled:
                handler.uncancel()  # the handler swallowed it; keep the task's count even
        finally:
            reader.stop()
        if reader.task is not None:
            await _finish(reader.task)

    async def handle_request(self, request: Request, send: Any) -> None:
        """Quart's handler runner, bounding the response by ``asyncio.timeout`` instead of
        ``asyncio.wait_for`` (which runs the send in a task of its own).
        """
        app = self.app
        try:
            response = await app.handle_request(request)
        except Exception as error:
            if not (app.debug or app.testing):
                raise
            response = await traceback_response(error)
        timeout = app.config["RESPONSE_TIMEOUT"]
        if isinstance(response, Response) and response.timeout is not Ellipsis:
            timeout = response.timeout
        try:
            async with asyncio.timeout(timeout):
                await self._send_response(send, response)
        except TimeoutError:
            pass  # as Quart: a response that outlasts its timeout is left unfinished

    async def _send_response(self, send: Any, response: ResponseTypes) -> None:
        """Quart's, except that a buffered body goes out as one message that ends the
        response, rather than the body and then an empty closing message: the same bytes,
        one message fewer through every ``send`` of the pipeline.
        """
        body = response.response if isinstance(response, Response) else None
        if type(body) is not DataBody:
            await super()._send_response(send, response)
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": encode_headers(response.headers),
            }
        )
        # What iterating a DataBody yields, once (its context and iterator do nothing else).
        data = body.data[body.begin : body.end]
        await send({"type": "http.response.body", "body": data, "more_body": False})


async def _finish(reader: asyncio.Future[Any]) -> None:
    """Stop the body reader (Quart cancels it and waits), then raise what it failed with."""
    if not reader.done():
        reader.cancel()
        try:
            await reader
        except asyncio.CancelledError:
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise  # the request itself is being cancelled
            return
    if not reader.cancelled() and (error := reader.exception()) is not None:
        raise error
