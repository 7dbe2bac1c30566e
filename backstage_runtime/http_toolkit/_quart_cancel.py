"""A Quart HTTP connection that runs the handler in the request's own task.

Quart serves each request with three tasks: one reading the body, one running the handler, and
one more that ``asyncio.wait_for`` makes to bound sending the response; the request's task waits
for the first two. Besides costing a task start, a few event-loop turns and an ``asyncio.wait``
per request, that leaves the handler running when the request is cancelled (a shutdown cutting
requests that outlast the drain): it would go on using services that are being shut down.

This connection keeps Quart's behaviour with one task: the handler runs in the request's task,
so cancelling the request cancels it; the body reader is the only task of its own, and when it
ends first (the client disconnected) it cancels the handler, as Quart's ``asyncio.wait`` with
``FIRST_COMPLETED`` does; the response is bounded by its timeout without a task either.

Two of those only matter once the request's task waits: the reader of a request without a
body (before then nothing could run it, nor could the client's leaving be noticed) and the
response's timer (a send that never waits cannot outlast anything). Both are set up at the
event loop's next turn, which comes only when the task waits (:class:`_NextTurn`): a handler
that answers at once costs no task, no timer and no loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlparse

from quart.asgi import ASGIHTTPConnection
from quart.debug import traceback_response
from quart.typing import ResponseTypes
from quart.utils import encode_headers
from quart.wrappers import Request, Response
from quart.wrappers.response import DataBody
from werkzeug.datastructures import Headers

from ._task_cancel import TaskCancel

__all__ = ["CancellableHTTPConnection"]


class _NextTurn:
    """Calls what it is given at the event loop's next turn, or at once once that turn has
    come; nothing if the request ends before it (:meth:`close`).
    """

    __slots__ = ("_calls", "_handle", "_passed")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._calls: list[Callable[[], None]] = []
        self._passed = False
        self._handle = loop.call_soon(self._run)

    def call(self, function: Callable[[], None]) -> None:
        """Call ``function`` at the next turn (now, if it has come)."""
        if self._passed:
            function()
        else:
            self._calls.append(function)

    def close(self) -> None:
        """The request is over: call nothing more."""
        self._handle.cancel()
        self._calls.clear()

    def _run(self) -> None:
        self._passed = True
        for function in self._calls:
            function()
        self._calls.clear()


class _BodyReader:
    """Quart's body reader (``handle_messages``) in a task of its own, which cancels the
    handler when it ends first (the client disconnected).
    """

    __slots__ = ("_messages", "disconnect", "finished", "task")

    def __init__(
        self, disconnect: TaskCancel, messages: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        #: Cancels the handler's task when the client left.
        self.disconnect = disconnect
        self.task: asyncio.Task[None] | None = None
        self.finished = False
        self._messages = messages

    def start(self) -> None:
        """Make the reader's task (the handler is waiting, or may soon be)."""
        if not self.finished:
            self.task = self.disconnect.task.get_loop().create_task(self._messages())
            self.task.add_done_callback(self._ended)

    def _ended(self, _task: asyncio.Future[Any]) -> None:
        if not self.finished:
            self.disconnect.cancel()

    def stop(self) -> None:
        """The handler is done: the reader no longer starts, nor cancels it."""
        self.finished = True
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


@lru_cache(maxsize=256)  # clients send few distinct header names; this runs for each header
def _header_name(raw: bytes) -> str:
    return raw.decode("latin1").title()


def _normalise_path(path: str, root_path: str) -> str:
    # quart.asgi's: a path outside the mount point becomes one that matches no route.
    if path == root_path or not path.startswith(root_path):
        return " "
    return path.removeprefix(root_path)


class _Deadline:
    """Cancels the task (through ``expiry``) at ``when`` on the loop's clock, once armed."""

    __slots__ = ("_timer", "_when", "expiry")

    def __init__(self, expiry: TaskCancel, when: float) -> None:
        self.expiry = expiry
        self._when = when
        self._timer: asyncio.TimerHandle | None = None

    def arm(self) -> None:
        """Start the timer (a deadline already past cancels at the loop's next turn)."""
        self._timer = self.expiry.task.get_loop().call_at(self._when, self.expiry.cancel)

    def disarm(self) -> None:
        """Stop the timer, if it runs."""
        if self._timer is not None:
            self._timer.cancel()


class CancellableHTTPConnection(ASGIHTTPConnection):
    """Quart's HTTP connection with the handler in the request's task (see the module)."""

    _next_turn: _NextTurn | None = None

    async def __call__(self, receive: Any, send: Any) -> None:
        """Serve the request as Quart does: read the body alongside the handler; a disconnect
        cancels the handler; an error of either is raised.
        """
        handler = asyncio.current_task()
        if handler is None:  # not in a task: nothing to run inline in
            await super().__call__(receive, send)
            return
        request = self._create_request_from_scope(send)
        reader = _BodyReader(TaskCancel(handler), partial(self.handle_messages, request, receive))
        self._next_turn = next_turn = _NextTurn(handler.get_loop())
        if _declares_body(self.scope):
            reader.start()  # read from the first turn on, as Quart reads a body
        else:
            next_turn.call(reader.start)
        try:
            await self.handle_request(request, send)
        except asyncio.CancelledError:
            # Only our own cancellation (the client left) ends the request quietly; one from
            # outside (the server cutting it) goes on.
            if not reader.disconnect.withdraw():
                if reader.task is not None:
                    reader.task.cancel()  # not awaited: a cancelled scope would cancel it too
                raise
        else:
            reader.disconnect.withdraw()  # the handler swallowed it, if it came: even the count
        finally:
            next_turn.close()
            reader.stop()
        if reader.task is not None:
            await _finish(reader.task)

    def _create_request_from_scope(self, send: Any) -> Request:
        """Quart's request for the scope, its Headers made from the ASGI headers in one go.

        Quart adds them one at a time, each value checked for CR and LF (werkzeug's guard for
        headers an application sets): 60k instructions for a browser's dozen headers, where
        the server's HTTP parser (h11, h2) has refused such values already. The list is
        werkzeug's own storage (``Headers._list``); a test compares the result with Quart's.
        """
        scope = self.scope
        headers = Headers()
        headers._list = [
            ("Remote-Addr", str((scope.get("client") or ["<local>"])[0])),
            *[(_header_name(name), value.decode("latin1")) for name, value in scope["headers"]],
        ]
        if scope["http_version"] < "1.1":
            headers.setdefault("Host", self.app.config["SERVER_NAME"] or "")
        path = scope["path"]
        path = path if path[0] == "/" else urlparse(path).path
        root_path = scope.get("root_path", "")
        if root_path != "":
            path = _normalise_path(path, root_path)
        return self.app.request_class(
            scope["method"],
            scope["scheme"],
            path,
            scope["query_string"],
            headers,
            root_path,
            scope["http_version"],
            max_content_length=self.app.config["MAX_CONTENT_LENGTH"],
            body_timeout=self.app.config["BODY_TIMEOUT"],
            send_push_promise=partial(self._send_push_promise, send),
            scope=scope,
        )

    async def handle_request(self, request: Request, send: Any) -> None:
        """Quart's handler runner; the response is bounded by its timeout as by Quart's
        ``asyncio.wait_for``, without the task that runs the send in.
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
        task = asyncio.current_task()
        if timeout is None or task is None:
            await self._send_response(send, response)
            return
        deadline = _Deadline(TaskCancel(task), task.get_loop().time() + timeout)
        if self._next_turn is not None:
            self._next_turn.call(deadline.arm)  # a send that never waits needs no timer
        else:
            deadline.arm()
        try:
            await self._send_response(send, response)
        except asyncio.CancelledError:
            if not deadline.expiry.withdraw():
                raise
            # As Quart: a response that outlasts its timeout is left unfinished.
        else:
            deadline.expiry.withdraw()  # the send swallowed the expiry, if it came
        finally:
            deadline.disarm()

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
