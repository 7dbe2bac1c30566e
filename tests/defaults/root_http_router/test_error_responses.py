"""Backstage's error JSON, through a real Hypercorn socket."""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import plugin_with_routes, request
from quart import Blueprint, abort

from backstage_runtime.api.errors import ForwardedError, InputError, NotFoundError
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


class DatabaseError(Exception):
    """Named like the pg driver's error, whose text Backstage never sends to clients."""


class TeapotError(Exception):
    status_code = 418


def failing_routes() -> Blueprint:
    routes = Blueprint("failing", __name__)

    @routes.get("/missing")
    async def missing() -> Any:
        raise NotFoundError("no such thing")

    @routes.get("/crash")
    async def crash() -> Any:
        raise RuntimeError("boom")

    @routes.get("/forwarded")
    async def forwarded() -> Any:
        raise ForwardedError("Failed to load", NotFoundError("no such thing"))

    @routes.get("/input")
    async def bad_input() -> Any:
        raise InputError("bad 'limit'")

    @routes.get("/teapot")
    async def teapot() -> Any:
        raise TeapotError("short and stout")

    @routes.get("/database")
    async def database() -> Any:
        raise DatabaseError("duplicate key value violates unique constraint 'users_secret'")

    @routes.get("/conflict")
    async def conflict() -> Any:
        abort(409)

    @routes.get("/ok")
    async def ok() -> Any:
        return {"ok": True}

    return routes


async def test_thrown_not_found_error_renders_the_backstage_body() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", failing_routes())]) as test:
        reply = await request("GET", await test.url("/api/p/missing?x=1"))

    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.json() == {
        "error": {"name": "NotFoundError", "message": "no such thing"},
        "request": {"method": "GET", "url": "/missing?x=1"},
        "response": {"statusCode": 404},
    }


async def test_unhandled_exception_is_500_without_a_traceback_and_is_logged() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", failing_routes())]) as test:
        reply = await request("GET", await test.url("/api/p/crash"))
        logged = [e for e in test.logger.entries if e.message == "Request failed with status 500"]

    assert reply.status == 500
    assert reply.json() == {
        "error": {"name": "RuntimeError", "message": "boom"},
        "request": {"method": "GET", "url": "/crash"},
        "response": {"statusCode": 500},
    }
    assert b"Traceback" not in reply.body
    assert len(logged) == 1
    assert logged[0].fields["plugin"] == "p"
    assert logged[0].fields["type"] == "errorHandler"
    assert isinstance(logged[0].error, RuntimeError)


async def test_stack_is_included_in_development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_ENV", "development")
    async with start_test_backend(features=[plugin_with_routes("p", failing_routes())]) as test:
        reply = await request("GET", await test.url("/api/p/crash"))

    assert reply.status == 500
    assert "Traceback" in reply.json()["error"]["stack"]
    assert "RuntimeError: boom" in reply.json()["error"]["stack"]


async def test_unknown_routes_answer_404_json_at_every_level() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", failing_routes())]) as test:
        in_plugin = await request("GET", await test.url("/api/p/nope"))
        no_plugin = await request("GET", await test.url("/api/nope/x"))
        root = await request("DELETE", await test.url("/nope"))

    assert (in_plugin.status, in_plugin.json()) == (
        404,
        {
            "error": {"name": "NotFoundError", "message": "No route for GET /nope"},
            "request": {"method": "GET", "url": "/nope"},
            "response": {"statusCode": 404},
        },
    )
    assert no_plugin.status == 404
    assert no_plugin.json()["request"] == {"method": "GET", "url": "/api/nope/x"}
    assert no_plugin.json()["error"]["name"] == "NotFoundError"
    assert root.status == 404
    assert root.json()["error"]["message"] == "No route for DELETE /nope"


async def test_status_mapping_follows_backstage() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", failing_routes())]) as test:
        forwarded = await request("GET", await test.url("/api/p/forwarded"))
        bad_input = await request("GET", await test.url("/api/p/input"))
        teapot = await request("GET", await test.url("/api/p/teapot"))
        conflict = await request("GET", await test.url("/api/p/conflict"))
        wrong_method = await request("POST", await test.url("/api/p/ok"))

    assert forwarded.status == 404
    assert forwarded.json()["error"] == {
        "name": "NotFoundError",
        "message": "Failed to load; caused by NotFoundError: no such thing",
        "cause": {"name": "NotFoundError", "message": "no such thing"},
    }
    assert (bad_input.status, bad_input.json()["error"]["name"]) == (400, "InputError")
    # A status on the error itself wins over its name, as in Backstage.
    assert (teapot.status, teapot.json()["error"]["name"]) == (418, "TeapotError")
    # werkzeug's HTTP errors travel under the Backstage name of their status.
    assert (conflict.status, conflict.json()["error"]["name"]) == (409, "ConflictError")
    assert (wrong_method.status, wrong_method.json()["error"]["name"]) == (405, "MethodNotAllowed")


async def test_database_errors_are_replaced_by_a_log_id() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", failing_routes())]) as test:
        reply = await request("GET", await test.url("/api/p/database"))
        entries = list(test.logger.entries)

    assert reply.status == 500
    error = reply.json()["error"]
    assert error["name"] == "Error"
    assert error["message"].startswith("An internal error occurred logId=")
    assert "users_secret" not in reply.body.decode()
    log_id = error["message"].rsplit("=", 1)[1]
    assert len(log_id) == 20
    # Backstage's words, with the id as a field too (its logger.child({ logId })).
    message = f"Filtered internal error with logId={log_id} from response"
    internal = [e for e in entries if e.message == message]
    assert len(internal) == 1
    assert isinstance(internal[0].error, DatabaseError)
    assert internal[0].fields["logId"] == log_id


async def test_client_errors_are_not_logged() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", failing_routes())]) as test:
        await request("GET", await test.url("/api/p/missing"))
        failures = [e for e in test.logger.entries if e.message.startswith("Request failed")]

    assert failures == []
