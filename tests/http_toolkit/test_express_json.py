"""JSON from a mounted blueprint is written as Express's ``res.json`` writes it."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from _support.asgi import Recorder, http_scope
from quart import Blueprint

from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.http_toolkit._quart_mount import build_quart_app
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Quart is asyncio-only


@dataclasses.dataclass
class Point:
    x: int
    y: int


async def test_json_keeps_key_order_and_utf8_and_quarts_conversions() -> None:
    routes = Blueprint("json", __name__)

    @routes.get("/value")
    async def value() -> Any:
        return {
            "zeta": "é ☃",
            "alpha": [1, 2.5, None, True],
            "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "id": uuid.UUID(int=1),
            "amount": Decimal("1.10"),
            "point": Point(1, 2),
        }

    app: Any = build_quart_app(
        "json", [routes], ErrorResponder(MockRootLogger(), include_stack=False), relative_urls=True
    )
    never = asyncio.Event()
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await never.wait()
        raise AssertionError("unreachable")  # pragma: no cover

    send = Recorder()
    await app({**http_scope("/value"), "scheme": "http"}, receive, send)

    assert (b"content-type", b"application/json; charset=utf-8") in send.headers
    assert (
        send.body
        == (
            '{"zeta":"é ☃","alpha":[1,2.5,null,true],"when":"Fri, 02 Jan 2026 03:04:05 GMT",'
            '"id":"00000000-0000-0000-0000-000000000001","amount":"1.10","point":{"x":1,"y":2}}'
        ).encode()
    )
