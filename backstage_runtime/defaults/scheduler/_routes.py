"""Backstage's scheduler endpoints, mounted on each plugin's router (behind its auth barrier).

- ``GET  /.backstage/scheduler/v1/tasks``: the tasks scheduled in this process.
- ``POST /.backstage/scheduler/v1/tasks/<taskId>/trigger``: run now (404 unknown, 409 running).
- ``POST /.backstage/scheduler/v1/tasks/<taskId>/cancel``: abort the run (404, 409 not running).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Protocol

from quart import Blueprint, Response, request

from ...api.services._json import JsonObject
from ...api.services.auditor import AuditorService

__all__ = ["SchedulerEndpoints", "scheduler_blueprint"]

_PREFIX = "/.backstage/scheduler/v1/tasks"


class SchedulerEndpoints(Protocol):
    """What the endpoints need from the scheduler."""

    async def list_tasks(self) -> list[JsonObject]:
        """The entries of the listing."""

    async def trigger_task(self, id: str) -> None:
        """Run a task now."""

    async def cancel_task(self, id: str) -> None:
        """Abort a task's run."""


def scheduler_blueprint(
    scheduler: SchedulerEndpoints, auditor: AuditorService | None = None
) -> Blueprint:
    """A blueprint serving ``scheduler``'s endpoints; errors reach the plugin router's error
    handler, which renders them as Backstage's error JSON. Triggers and cancels are audited
    (event ``task``, severity ``medium``, ``meta.actionType`` and ``meta.taskId``) when an
    ``auditor`` is given."""
    blueprint = Blueprint("backstage-scheduler", __name__)

    @blueprint.get(_PREFIX)
    async def list_tasks() -> Response:
        # Serialised here rather than by Quart, whose JSON provider sorts keys: the listing keeps
        # Backstage's field order.
        body = json.dumps({"tasks": await scheduler.list_tasks()}, separators=(",", ":"))
        return Response(body, status=200, content_type="application/json; charset=utf-8")

    def action(
        name: str, run: Callable[[str], Awaitable[None]]
    ) -> Callable[[str], Awaitable[Response]]:
        async def handle(task_id: str) -> Response:
            if auditor is None:
                await run(task_id)
                return Response(b"", status=200)
            # Running a task on demand acts with the plugin's privileges: record who asked.
            event = await auditor.create_event(
                "task",
                severity_level="medium",
                request=request,
                meta={"actionType": name, "taskId": task_id},
            )
            try:
                await run(task_id)
            except Exception as error:
                await event.fail(error=error)
                raise
            await event.success()
            return Response(b"", status=200)

        return handle

    blueprint.add_url_rule(
        f"{_PREFIX}/<task_id>/trigger",
        "trigger",
        action("trigger", scheduler.trigger_task),
        methods=["POST"],
    )
    blueprint.add_url_rule(
        f"{_PREFIX}/<task_id>/cancel",
        "cancel",
        action("cancel", scheduler.cancel_task),
        methods=["POST"],
    )
    return blueprint
