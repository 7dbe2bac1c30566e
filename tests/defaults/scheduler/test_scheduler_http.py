"""The scheduler endpoints under each plugin: listing, trigger and cancel."""

from __future__ import annotations

import re
from typing import Any

import anyio
import pytest
from _support.http import request
from _support.polling import eventually

from ._support import Recorder, scheduler_backend

pytestmark = pytest.mark.anyio

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
TASKS = "/api/tasks/.backstage/scheduler/v1/tasks"


async def test_the_listing_shows_each_task_with_its_state(database: dict[str, Any]) -> None:
    release = anyio.Event()
    started: list[str] = []

    async def blocked() -> None:  # no argument: the signal is not passed
        started.append("blocked")
        await release.wait()

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="refresh", frequency={"minutes": 30}, timeout={"minutes": 3}, fn=blocked
        )
        await scheduler.schedule_task(
            id="nightly",
            frequency={"cron": "0 3 * * *"},
            timeout={"hours": 1},
            initial_delay="PT1M",
            fn=Recorder(),
            scope="local",
        )

    async with scheduler_backend(schedule, database=database) as test:
        await eventually(lambda: started == ["blocked"])
        running = await request("GET", await test.url(TASKS))
        release.set()

        async def idle() -> bool:
            reply = await request("GET", await test.url(TASKS))
            return bool(reply.json()["tasks"][0]["taskState"]["status"] == "idle")

        await eventually(idle)
        done = await request("GET", await test.url(TASKS))

    assert running.status == 200
    assert running.headers["content-type"].startswith("application/json")
    refresh, nightly = running.json()["tasks"]
    assert {k: refresh[k] for k in ("taskId", "pluginId", "scope", "settings", "workerState")} == {
        "taskId": "refresh",
        "pluginId": "tasks",
        "scope": "global",
        "settings": {"version": 2, "cadence": "PT30M", "timeoutAfterDuration": "PT3M"},
        "workerState": {"status": "running"},
    }
    assert list(refresh["taskState"]) == ["status", "startedAt", "timesOutAt"]
    assert refresh["taskState"]["status"] == "running"
    assert ISO.match(refresh["taskState"]["startedAt"])
    assert ISO.match(refresh["taskState"]["timesOutAt"])
    assert {k: nightly[k] for k in ("taskId", "scope", "settings", "workerState")} == {
        "taskId": "nightly",
        "scope": "local",
        "settings": {
            "version": 2,
            "cadence": "0 3 * * *",
            "initialDelayDuration": "PT1M",
            "timeoutAfterDuration": "PT1H",
        },
        "workerState": {"status": "initial-wait"},
    }
    assert nightly["taskState"]["status"] == "idle"
    assert ISO.match(nightly["taskState"]["startsAt"])

    refresh_done = done.json()["tasks"][0]
    assert refresh_done["workerState"] == {"status": "idle"}
    assert list(refresh_done["taskState"]) == ["status", "startsAt", "lastRunEndedAt"]
    assert ISO.match(refresh_done["taskState"]["startsAt"])


async def test_trigger_and_cancel_over_http(database: dict[str, Any]) -> None:
    recorder = Recorder(duration=30)

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="manual", frequency={"trigger": "manual"}, timeout={"seconds": 60}, fn=recorder
        )

    async with scheduler_backend(schedule, database=database) as test:
        url = await test.url(TASKS)
        not_running = await request("POST", f"{url}/manual/cancel")
        triggered = await request("POST", f"{url}/manual/trigger")
        await eventually(lambda: recorder.count == 1)
        conflict = await request("POST", f"{url}/manual/trigger")
        unknown = await request("POST", f"{url}/nope/trigger")
        cancelled = await request("POST", f"{url}/manual/cancel")
        await eventually(lambda: len(recorder.ends) == 1)
        audit = [
            (e.fields["meta"]["actionType"], e.fields["meta"]["taskId"], e.fields["status"])
            for e in test.logger.entries
            if e.fields.get("isAuditEvent") and e.fields["status"] != "initiated"
        ]
        actors = {
            e.fields["actor"]["actorId"]
            for e in test.logger.entries
            if e.fields.get("isAuditEvent")
        }

    assert (triggered.status, triggered.body) == (200, b"")
    assert (cancelled.status, cancelled.body) == (200, b"")
    assert recorder.aborted == ["Task was cancelled"]
    assert conflict.status == 409
    assert conflict.json()["error"] == {
        "name": "ConflictError",
        "message": "Task manual is currently running",
    }
    assert conflict.json()["request"] == {
        "method": "POST",
        "url": "/.backstage/scheduler/v1/tasks/manual/trigger",
    }
    assert unknown.status == 404
    assert unknown.json()["error"] == {
        "name": "NotFoundError",
        "message": "Task nope does not exist",
    }
    assert not_running.status == 409
    assert not_running.json()["error"]["message"] == "Task manual is not running"
    # Every manual action is audited with its outcome and the caller (the mock user here).
    assert audit == [
        ("cancel", "manual", "failed"),
        ("trigger", "manual", "succeeded"),
        ("trigger", "manual", "failed"),
        ("trigger", "nope", "failed"),
        ("cancel", "manual", "succeeded"),
    ]
    assert actors == {"user:default/mock"}


async def test_a_plugin_serving_its_own_asgi_app_gets_the_endpoints_too() -> None:
    from backstage_runtime import core_services, create_backend_plugin
    from backstage_runtime.defaults.scheduler import scheduler_service_factory
    from backstage_runtime.testing import start_test_backend

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def register(env: Any) -> None:
        async def init(*, http: Any, scheduler: Any) -> None:
            http.use(app)
            await scheduler.schedule_task(
                id="sweep", frequency={"minutes": 5}, timeout={"minutes": 1}, fn=lambda: None
            )

        env.register_init(
            deps={"http": core_services.http_router, "scheduler": core_services.scheduler},
            init=init,
        )

    plugin = create_backend_plugin(plugin_id="asgi", register=register)
    async with start_test_backend(features=[scheduler_service_factory(), plugin]) as test:
        tasks = await request("GET", await test.url("/api/asgi/.backstage/scheduler/v1/tasks"))
        own = await request("GET", await test.url("/api/asgi/anything"))
        # A method the scheduler routes do not take falls through to the plugin's app.
        other_method = await request(
            "DELETE", await test.url("/api/asgi/.backstage/scheduler/v1/tasks")
        )
    assert tasks.status == 200
    assert [task["taskId"] for task in tasks.json()["tasks"]] == ["sweep"]
    assert (own.status, other_method.status) == (204, 204)
