"""Requests that arrive while a plugin starts: held, then served, or refused after the pause."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from _support.http import Reply, plugin_with_routes, request
from _support.polling import eventually
from quart import Blueprint

from backstage_runtime.api import core_services
from backstage_runtime.api.errors import ServiceUnavailableError
from backstage_runtime.defaults.http_router import LifecycleGate
from backstage_runtime.defaults.root_http_router import RootHttpRouter
from backstage_runtime.runtime import Backend, create_specialized_backend
from backstage_runtime.testing import MockRootLogger, test_default_service_factories

pytestmark = pytest.mark.anyio


def hello() -> Blueprint:
    routes = Blueprint("hello", __name__)

    @routes.get("/hello")
    async def say_hello() -> Any:
        return {"hello": "world"}

    return routes


def backend_with(plugin: Any, config: dict[str, Any] | None = None) -> Backend:
    backend = create_specialized_backend(
        default_service_factories=test_default_service_factories(config, MockRootLogger())
    )
    backend.add(plugin)
    return backend


async def base_url(backend: Backend) -> tuple[str, Any]:
    router = await backend.get_service(core_services.root_http_router)
    assert isinstance(router, RootHttpRouter)
    assert router.listen_address is not None
    host, port = router.listen_address
    return f"http://{host}:{port}", router


async def test_a_request_during_startup_waits_and_then_succeeds() -> None:
    release = anyio.Event()
    backend = backend_with(plugin_with_routes("slow", hello(), before_use=lambda _: release.wait()))
    replies: list[Reply] = []
    async with anyio.create_task_group() as group:
        group.start_soon(backend.start)
        await eventually(lambda: backend.starting)
        url, router = await base_url(backend)

        async def call() -> None:
            replies.append(await request("GET", f"{url}/api/slow/hello"))

        group.start_soon(call)
        await eventually(lambda: router.asgi_app.in_flight.count == 1)
        readiness = await request("GET", f"{url}/.backstage/health/v1/readiness")
        liveness = await request("GET", f"{url}/.backstage/health/v1/liveness")
        assert replies == []  # held, not answered
        release.set()
    try:
        after = await request("GET", f"{url}/.backstage/health/v1/readiness")
    finally:
        await backend.stop()

    assert (replies[0].status, replies[0].json()) == (200, {"hello": "world"})
    assert (readiness.status, readiness.json()) == (
        503,
        {"message": "Backend has not started yet", "status": "error"},
    )
    assert (liveness.status, liveness.json()) == (200, {"status": "ok"})
    assert (after.status, after.json()) == (200, {"status": "ok"})


async def test_a_request_held_past_the_pause_timeout_gets_503() -> None:
    release = anyio.Event()
    config = {"backend": {"lifecycle": {"startupRequestPauseTimeout": {"milliseconds": 150}}}}
    backend = backend_with(
        plugin_with_routes("slow", hello(), before_use=lambda _: release.wait()), config
    )
    async with anyio.create_task_group() as group:
        group.start_soon(backend.start)
        await eventually(lambda: backend.starting)
        url, _router = await base_url(backend)
        reply = await request("GET", f"{url}/api/slow/hello")
        release.set()
    await backend.stop()

    assert reply.status == 503
    assert reply.json() == {
        "error": {"name": "ServiceUnavailableError", "message": "Service has not started up yet"},
        "request": {"method": "GET", "url": "/hello"},
        "response": {"statusCode": 503},
    }


async def test_readiness_turns_503_when_shutdown_begins() -> None:
    config = {"backend": {"lifecycle": {"serverShutdownDelay": {"milliseconds": 400}}}}
    backend = backend_with(plugin_with_routes("p", hello()), config)
    await backend.start()
    url, _router = await base_url(backend)
    before = await request("GET", f"{url}/.backstage/health/v1/readiness")
    during: list[Reply] = []

    async def shutting_down() -> bool:
        reply = await request("GET", f"{url}/.backstage/health/v1/readiness")
        if reply.status == 503:
            during.append(reply)
        return bool(during)

    async with anyio.create_task_group() as group:
        group.start_soon(backend.stop)
        await eventually(shutting_down)
        # Still serving during the grace period: plugin routes answer too.
        still_served = await request("GET", f"{url}/api/p/hello")

    assert before.status == 200
    assert during[0].json() == {"message": "Backend is shutting down", "status": "error"}
    assert still_served.status == 200


async def test_health_headers_from_config() -> None:
    config = {
        "backend": {"health": {"headers": {"X-Instance": "blue", "Cache-Control": "no-store"}}}
    }
    backend = backend_with(plugin_with_routes("p", hello()), config)
    await backend.start()
    try:
        url, _router = await base_url(backend)
        readiness = await request("GET", f"{url}/.backstage/health/v1/readiness")
        liveness = await request("GET", f"{url}/.backstage/health/v1/liveness")
        route = await request("GET", f"{url}/api/p/hello")
    finally:
        await backend.stop()

    for reply in (readiness, liveness):
        assert reply.headers["X-Instance"] == "blue"
        assert reply.headers["Cache-Control"] == "no-store"
    assert "X-Instance" not in route.headers


async def test_gate_fails_waiting_requests_when_the_plugin_shuts_down() -> None:
    gate = LifecycleGate(pause_timeout=30)
    outcome: list[BaseException] = []

    async def wait() -> None:
        try:
            await gate.pass_through()
        except ServiceUnavailableError as error:
            outcome.append(error)

    async with anyio.create_task_group() as group:
        group.start_soon(wait)
        await anyio.wait_all_tasks_blocked()
        gate.close()

    assert [str(e) for e in outcome] == ["Service is shutting down"]
    with pytest.raises(ServiceUnavailableError, match="Service is shutting down"):
        await gate.pass_through()


async def test_gate_lets_everything_through_once_open() -> None:
    gate = LifecycleGate(pause_timeout=30)
    passed: list[str] = []

    async def wait(name: str) -> None:
        await gate.pass_through()
        passed.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(wait, "a")
        group.start_soon(wait, "b")
        await anyio.wait_all_tasks_blocked()
        assert passed == []
        gate.open()
    await gate.pass_through()
    assert sorted(passed) == ["a", "b"]


def test_up_says_whether_requests_pass_at_once() -> None:
    gate = LifecycleGate(pause_timeout=30)
    seen = [gate.up]
    gate.open()
    seen.append(gate.up)
    gate.open()  # again: still up
    seen.append(gate.up)
    gate.close()
    seen.append(gate.up)
    gate.open()  # a closed gate stays closed
    seen.append(gate.up)

    assert seen == [False, True, True, False, False]
    assert [gate.up] == [gate.state == "up"]
