"""A fake events backend bus (``plugins/events-backend`` ``/bus/v1``) on a real Hypercorn socket.

Implements the OpenAPI shapes exactly: ``POST /bus/v1/events`` (201 stored, 204 when every
subscriber of the topic was already notified), ``PUT /bus/v1/subscriptions/<id>`` (201),
``GET /bus/v1/subscriptions/<id>/events`` (200 ``{events}``, or 202 with the
``backstage-events-notify-timeout`` header held open until an event arrives or the timeout;
404 for an unknown subscription). Every request is recorded. ``mode`` switches the whole API to
``absent`` (404, as a backend without the events plugin), ``failing`` (500) or ``malformed``
(200 with a body that is not JSON for reads).

Usage::

    async with serve_fake_bus() as bus:
        config = bus.discovery_config()   # discovery.endpoints pointing "events" at the fake
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

import anyio
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

__all__ = ["BusRequest", "FakeBus", "serve_fake_bus"]

Mode = Literal["normal", "absent", "failing", "malformed"]
PREFIX = "/api/events"


@dataclass
class BusRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class _Subscription:
    topics: list[str]
    # Index into FakeBus.events of the next event this subscription reads.
    position: int
    wake: anyio.Event = field(default_factory=anyio.Event)


@dataclass
class _Stored:
    topic: str
    payload: Any
    notified: set[str]


def _error(status: int, name: str, message: str, method: str, path: str) -> tuple[int, bytes]:
    body = {
        "error": {"name": name, "message": message},
        "request": {"method": method, "url": path},
        "response": {"statusCode": status},
    }
    return status, json.dumps(body).encode()


class FakeBus:
    """The fake's state; also the ASGI app."""

    def __init__(self, *, notify_timeout_ms: int = 55_000) -> None:
        self.mode: Mode = "normal"
        self.notify_timeout_ms = notify_timeout_ms
        #: Whether a 202 says how long it is held (``backstage-events-notify-timeout``).
        self.notify_header = True
        self.requests: list[BusRequest] = []
        self.subscriptions: dict[str, _Subscription] = {}
        self.events: list[_Stored] = []
        #: Long polls answered 202 whose response has not ended yet.
        self.open_polls = 0
        #: Set whenever a request arrives (tests wait on it with a deadline, never sleep).
        self.changed = anyio.Event()
        self.base_url = ""
        #: When set, a 200 with events sends its head and half its body, then waits for this
        #: event before the rest (an answer in flight while the client shuts down).
        self.hold_event_bodies: anyio.Event | None = None
        #: 200 answers whose body is held half-sent.
        self.held_bodies = 0

    # -- what tests use --------------------------------------------------------------------------

    def discovery_config(self) -> dict[str, Any]:
        """Config that points discovery's ``events`` plugin at this fake."""
        return {"discovery": {"endpoints": [{"target": self.base_url, "plugins": ["events"]}]}}

    def of(self, method: str, suffix: str = "") -> list[BusRequest]:
        """The recorded requests with ``method`` whose path ends with ``suffix``."""
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    def publish(self, topic: str, payload: Any, notified: list[str] | None = None) -> bool:
        """Store an event as ``POST /bus/v1/events`` does; whether it was stored."""
        notified_set = set(notified or [])
        wanted = [
            sid
            for sid, sub in self.subscriptions.items()
            if topic in sub.topics and sid not in notified_set
        ]
        if not wanted:
            return False
        self.events.append(_Stored(topic, payload, notified_set))
        for sid in wanted:
            self.subscriptions[sid].wake.set()
        return True

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Return once ``predicate()`` holds (checked at every request); fail after timeout."""
        with anyio.fail_after(timeout):
            while not predicate():
                self.changed = anyio.Event()
                await self.changed.wait()

    # -- ASGI ------------------------------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        method: str = scope["method"]
        path: str = scope["path"]
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append(BusRequest(method, path, headers, body))
        self.changed.set()
        try:
            await self._route(method, path, body, receive, send)
        finally:
            self.changed.set()

    async def _answer(
        self, send: Any, status: int, body: bytes = b"", headers: list[Any] | None = None
    ) -> None:
        head = list(headers or [])
        if body:
            head.append((b"content-type", b"application/json; charset=utf-8"))
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": body})

    async def _answer_held(self, send: Any, body: bytes, release: anyio.Event) -> None:
        head = [(b"content-type", b"application/json; charset=utf-8")]
        head.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": head})
        half = len(body) // 2
        await send({"type": "http.response.body", "body": body[:half], "more_body": True})
        self.held_bodies += 1
        self.changed.set()
        try:
            await release.wait()
            await send({"type": "http.response.body", "body": body[half:]})
        finally:
            self.held_bodies -= 1
            self.changed.set()

    async def _route(self, method: str, path: str, body: Any, receive: Any, send: Any) -> None:
        if not path.startswith(PREFIX + "/bus/v1/"):
            await self._answer(send, *_error(404, "NotFoundError", "Not found", method, path))
            return
        if self.mode == "absent":
            # What a backend without the events plugin answers under /api/events.
            await self._answer(send, *_error(404, "NotFoundError", "Not found", method, path))
            return
        if self.mode == "failing":
            await self._answer(send, *_error(500, "Error", "Bus is broken", method, path))
            return
        rest = path[len(PREFIX + "/bus/v1/") :]
        if method == "POST" and rest == "events":
            await self._post_event(body, method, path, send)
        elif method == "PUT" and rest.startswith("subscriptions/") and rest.count("/") == 1:
            await self._put_subscription(unquote(rest.split("/", 1)[1]), body, method, path, send)
        elif method == "GET" and rest.startswith("subscriptions/") and rest.endswith("/events"):
            sid = unquote(rest[len("subscriptions/") : -len("/events")])
            await self._get_events(sid, method, path, receive, send)
        else:
            await self._answer(send, *_error(404, "NotFoundError", "Not found", method, path))

    async def _post_event(self, body: Any, method: str, path: str, send: Any) -> None:
        event = body.get("event") if isinstance(body, dict) else None
        notified = body.get("notifiedSubscribers", []) if isinstance(body, dict) else None
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("topic"), str)
            or "payload" not in event
            or not isinstance(notified, list)
        ):
            await self._answer(send, *_error(400, "InputError", "Bad event", method, path))
            return
        stored = self.publish(event["topic"], event["payload"], notified)
        await self._answer(send, 201 if stored else 204)

    async def _put_subscription(
        self, sid: str, body: Any, method: str, path: str, send: Any
    ) -> None:
        topics = body.get("topics") if isinstance(body, dict) else None
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            await self._answer(send, *_error(400, "InputError", "Bad topics", method, path))
            return
        existing = self.subscriptions.get(sid)
        if existing is None:
            self.subscriptions[sid] = _Subscription(topics, len(self.events))
        else:
            existing.topics = topics
        await self._answer(send, 201)

    async def _get_events(self, sid: str, method: str, path: str, receive: Any, send: Any) -> None:
        subscription = self.subscriptions.get(sid)
        if subscription is None:
            message = f"Subscription {sid} not found"
            await self._answer(send, *_error(404, "NotFoundError", message, method, path))
            return
        if self.mode == "malformed":
            await self._answer(send, 200, b"{not json")
            return
        pending = [
            e
            for e in self.events[subscription.position :]
            if e.topic in subscription.topics and sid not in e.notified
        ]
        subscription.position = len(self.events)
        if pending:
            events = [{"topic": e.topic, "payload": e.payload} for e in pending]
            encoded = json.dumps({"events": events}).encode()
            if self.hold_event_bodies is None:
                await self._answer(send, 200, encoded)
                return
            await self._answer_held(send, encoded, self.hold_event_bodies)
            return
        subscription.wake = anyio.Event()
        header = (b"backstage-events-notify-timeout", str(self.notify_timeout_ms).encode())
        headers = [header] if self.notify_header else []
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        self.open_polls += 1
        self.changed.set()
        try:
            with anyio.move_on_after(self.notify_timeout_ms / 1000):
                async with anyio.create_task_group() as group:

                    async def woken() -> None:
                        await subscription.wake.wait()
                        group.cancel_scope.cancel()

                    async def disconnected() -> None:
                        while (await receive())["type"] != "http.disconnect":
                            pass
                        group.cancel_scope.cancel()

                    group.start_soon(woken)
                    group.start_soon(disconnected)
            await send({"type": "http.response.body", "body": b""})
        finally:
            self.open_polls -= 1
            self.changed.set()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_fake_bus(*, notify_timeout_ms: int = 55_000) -> AsyncIterator[FakeBus]:
    """Serve a :class:`FakeBus` under ``/api/events`` on a free loopback port."""
    bus = FakeBus(notify_timeout_ms=notify_timeout_ms)
    port = _free_port()
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.graceful_timeout = 0.5
    bus.base_url = f"http://127.0.0.1:{port}{PREFIX}"
    shutdown = anyio.Event()
    async with anyio.create_task_group() as group:
        app: Any = bus
        group.start_soon(lambda: serve(app, config, shutdown_trigger=shutdown.wait))
        # Ready once a connection is accepted (a deadline, not a sleep).
        with anyio.fail_after(10):
            while True:
                try:
                    stream = await anyio.connect_tcp("127.0.0.1", port)
                except OSError:
                    await anyio.sleep(0.01)
                    continue
                await stream.aclose()
                break
        try:
            yield bus
        finally:
            shutdown.set()
