"""Malformed JSON bodies are a 400 InputError through a real server, never a logged crash."""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import plugin_with_routes, request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

_JSON = {"Content-Type": "application/json"}


def echo_routes() -> Blueprint:
    routes = Blueprint("echo", __name__)

    @routes.post("/echo")
    async def echo() -> Any:
        return {"got": await quart_request.get_json()}

    @routes.post("/silent")
    async def silent() -> Any:
        return {"got": await quart_request.get_json(silent=True)}

    return routes


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"name": "caf\xe9"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"NaN", "NaN is not a JSON value"),
        (b'{"n": Infinity}', "Infinity is not a JSON value"),
        (b"[-Infinity]", "-Infinity is not a JSON value"),
        (b'{"items": [1, 2', "Invalid JSON in request body: Expecting"),
    ],
    ids=["invalid-utf8", "deep", "nan", "infinity", "minus-infinity", "truncated"],
)
async def test_malformed_json_is_an_input_error_without_a_traceback(
    body: bytes, words: str
) -> None:
    # Room for the 200 kB deep body: the parser, not the body limit, must refuse it.
    config = {"backend": {"bodyLimit": {"json": "1mb"}}}
    features = [plugin_with_routes("p", echo_routes())]
    async with start_test_backend(features=features, config=config) as test:
        reply = await request("POST", await test.url("/api/p/echo"), data=body, headers=_JSON)
        entries = list(test.logger.entries)

    assert reply.status == 400, reply.body[:300]
    error = reply.json()["error"]
    assert error["name"] == "InputError"
    assert words in error["message"]
    assert [e for e in entries if e.error is not None or e.level == "error"] == []


async def test_well_formed_json_still_parses_and_silent_still_gives_none() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", echo_routes())]) as test:
        ok = await request(
            "POST",
            await test.url("/api/p/echo"),
            data='\ufeff{"a": [1, "é"]}'.encode(),
            headers=_JSON,
        )
        silent = await request(
            "POST", await test.url("/api/p/silent"), data=b"[" * 100_000, headers=_JSON
        )

    assert (ok.status, ok.json()) == (200, {"got": {"a": [1, "é"]}})
    assert (silent.status, silent.json()) == (200, {"got": None})
