"""Errors that carry internals (drivers, sockets, the OS) never reach a client, and repeat
failures do not flood the log.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import anyio
import pytest
from _support.http import plugin_with_routes, request
from quart import Blueprint

from backstage_runtime.api import core_services, create_backend_plugin
from backstage_runtime.api.errors import ForwardedError, NotFoundError, ServiceUnavailableError
from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.testing import MockRootLogger, start_test_backend

pytestmark = pytest.mark.anyio

SECRET_BITS = (
    "10.0.0.5",
    "5432",
    "Errno",
    "Connect call",
    "does not exist",
    "backstage_secret",
    "/etc",
)


def driver_error(name: str, message: str) -> Exception:
    """An exception of a class defined in asyncpg's module, as the driver raises them."""
    cls = type(name, (Exception,), {"__module__": "asyncpg.exceptions"})
    return cls(message)


def refused() -> OSError:
    return ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('10.0.0.5', 5432)")


def leaky_routes() -> Blueprint:
    routes = Blueprint("leaky", __name__)

    @routes.get("/wrapped-refusal")
    async def wrapped_refusal() -> Any:
        try:
            raise refused()
        except OSError as error:
            raise RuntimeError(f"could not load entities: {error}") from error

    @routes.get("/forwarded-refusal")
    async def forwarded_refusal() -> Any:
        raise ForwardedError("Failed to connect to the database", refused())

    @routes.get("/role")
    async def role() -> Any:
        try:
            raise driver_error(
                "InvalidAuthorizationSpecificationError", 'role "backstage_secret" does not exist'
            )
        except Exception as error:
            raise RuntimeError(str(error)) from error

    @routes.get("/file")
    async def file() -> Any:
        raise PermissionError(errno.EACCES, "Permission denied", "/etc/backstage/key.pem")

    @routes.get("/not-found")
    async def not_found() -> Any:
        try:
            raise FileNotFoundError(errno.ENOENT, "No such file", "/etc/template")
        except OSError:
            raise NotFoundError("No template named 'web'") from None

    @routes.get("/not-found-while-handling")
    async def not_found_while_handling() -> Any:
        try:
            raise FileNotFoundError(errno.ENOENT, "No such file", "/etc/template")
        except OSError:
            raise NotFoundError("No template named 'web'")  # noqa: B904 - context on purpose

    @routes.get("/unreachable-on-purpose")
    async def unreachable_on_purpose() -> Any:
        try:
            raise refused()
        except OSError:
            raise ServiceUnavailableError("GitHub is unreachable")  # noqa: B904 - on purpose

    @routes.get("/hidden-context")
    async def hidden_context() -> Any:
        try:
            raise refused()
        except OSError:
            raise RuntimeError("boom") from None

    return routes


async def get_all(test: Any, *paths: str) -> dict[str, Any]:
    replies = {}
    for path in paths:
        replies[path] = await request("GET", await test.url(f"/api/p{path}"))
    return replies


async def test_errors_caused_by_internals_answer_a_log_id_only() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", leaky_routes())]) as test:
        replies = await get_all(
            test,
            "/wrapped-refusal",
            "/forwarded-refusal",
            "/role",
            "/file",
            "/not-found",
            "/not-found-while-handling",
            "/hidden-context",
            "/unreachable-on-purpose",
        )
        entries = list(test.logger.entries)

    def summary(path: str) -> tuple[int, str, str]:
        error = replies[path].json()["error"]
        return replies[path].status, error["name"], error["message"].split(" logId=")[0]

    unavailable = "A service this request needs is unavailable, try again later"
    assert summary("/wrapped-refusal") == (503, "ServiceUnavailableError", unavailable)
    assert summary("/forwarded-refusal") == (503, "ServiceUnavailableError", unavailable)
    assert summary("/role") == (500, "Error", "An internal error occurred")
    assert summary("/file") == (500, "Error", "An internal error occurred")
    # Client errors raised on purpose keep their words, whatever was being handled.
    assert summary("/not-found") == (404, "NotFoundError", "No template named 'web'")
    assert summary("/not-found-while-handling") == (404, "NotFoundError", "No template named 'web'")
    unreachable = (503, "ServiceUnavailableError", "GitHub is unreachable")
    assert summary("/unreachable-on-purpose") == unreachable
    # ``from None`` says the cause is not part of it: the message is the handler's own.
    assert summary("/hidden-context") == (500, "RuntimeError", "boom")
    for path in ("/wrapped-refusal", "/forwarded-refusal", "/role", "/file"):
        body = replies[path].body.decode()
        assert not [bit for bit in SECRET_BITS if bit in body], body
        assert "cause" not in replies[path].json()["error"]
        log_id = replies[path].json()["error"]["message"].rsplit("=", 1)[1]
        logged = [e for e in entries if e.fields.get("logId") == log_id]
        assert [e.message for e in logged] == [
            f"Filtered internal error with logId={log_id} from response"
        ]
        assert logged[0].error is not None  # the details, traceback and all, are in the log


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def database_plugin() -> Any:
    def register(env: Any) -> None:
        async def init(http: Any, database: Any) -> None:
            routes = Blueprint("db", __name__)

            @routes.get("/items")
            async def items() -> Any:
                engine = await database.get_client()
                async with engine.connect():
                    return {"items": []}

            http.use(routes)

        env.register_init(
            deps={"http": core_services.http_router, "database": core_services.database},
            init=init,
        )

    return create_backend_plugin(plugin_id="p", register=register)


async def test_a_database_that_is_down_answers_503_and_logs_once() -> None:
    # Few requests: the database service tries each connection in turn (~0.2 s apiece).
    port = closed_port()
    config = {
        "backend": {
            "database": {
                "client": "pg",
                "connection": {"host": "127.0.0.1", "port": port, "user": "postgres"},
            }
        }
    }
    async with start_test_backend(features=[database_plugin()], config=config) as test:
        url = await test.url("/api/p/items")
        replies = []
        async with anyio.create_task_group() as group:

            async def call() -> None:
                replies.append(await request("GET", url))

            for _ in range(20):
                group.start_soon(call)
        handler_entries = [e for e in test.logger.entries if e.fields.get("type") == "errorHandler"]

    assert {r.status for r in replies} == {503}
    bodies = [r.body.decode() for r in replies]
    assert not [b for b in bodies if str(port) in b or "127.0.0.1" in b]
    names = {r.json()["error"]["name"] for r in replies}
    assert names == {"ServiceUnavailableError"}
    # One failure, one story: the first is logged with its details, the rest are counted.
    log_ids = {r.json()["error"]["message"].rsplit("=", 1)[1] for r in replies}
    assert len(log_ids) == 1
    assert len(handler_entries) == 2, [e.message for e in handler_entries]
    first = handler_entries[0]
    assert first.message == f"Filtered internal error with logId={log_ids.pop()} from response"
    assert first.error is not None
    assert str(port) in str(first.error)


async def test_200_requests_failing_alike_give_two_log_entries() -> None:
    async with start_test_backend(features=[plugin_with_routes("p", leaky_routes())]) as test:
        url = await test.url("/api/p/wrapped-refusal")
        replies = []
        async with anyio.create_task_group() as group:

            async def call() -> None:
                replies.append(await request("GET", url))

            for _ in range(200):
                group.start_soon(call)
        handler_entries = [e for e in test.logger.entries if e.fields.get("type") == "errorHandler"]

    assert [r.status for r in replies] == [503] * 200
    assert [e.message.split(" with")[0] for e in handler_entries] == [
        "Filtered internal error",
        "Request failed",
    ]
    assert isinstance(handler_entries[0].error, RuntimeError)
    assert handler_entries[0].error.__traceback__ is not None


def test_repeats_are_counted_and_reported_once_per_interval() -> None:
    logger = MockRootLogger()
    now = [1000.0]
    responder = ErrorResponder(
        logger, include_stack=False, repeat_interval=60, clock=lambda: now[0]
    )

    def fail(message: str) -> dict[str, Any]:
        try:
            try:
                raise refused()
            except OSError as error:
                raise RuntimeError(message) from error
        except RuntimeError as error:
            return responder.respond(error, method="GET", url="/items")[1]

    first = [fail("load failed") for _ in range(200)]
    other = fail("save failed")
    now[0] += 61
    later = fail("load failed")
    entries = list(logger.entries)

    ids = {body["error"]["message"] for body in first}
    assert len(ids) == 1  # every response names the entry that holds the details
    assert other["error"]["message"] not in ids
    messages = [e.message for e in entries]
    assert len(messages) == 5, messages  # two for each first failure, one count
    count = entries[-1]
    assert count.error is None  # a count, not another traceback
    assert count.fields["repeated"] == 199
    assert "occurred 199 more times in the last 60s" in count.message
    assert count.fields["logId"] in later["error"]["message"]
    assert count.fields["error"] == "RuntimeError: load failed"
