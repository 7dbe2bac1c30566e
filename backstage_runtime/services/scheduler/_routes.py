"""Backstage's scheduler endpoints, mounted on each plugin's router (behind its auth barrier).

- ``GET  /.backstage/scheduler/v1/tasks``: the tasks scheduled in this process.
- ``POST /.backstage/scheduler/v1/tasks/<taskId>/trigger``: run now (404 unknown, 409 running).
- ``POST /.backstage/scheduler/v1/tasks/<taskId>/cancel``: abort the run (404, 409 not running).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Protocol

from quart import Blueprint, Response

from ...api.services._json import JsonObject

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


def scheduler_blueprint(scheduler: SchedulerEndpoints) -> Blueprint:
    """A blueprint serving ``scheduler``'s endpoints; errors reach the plugin router's error
    handler, which renders them as Backstage's error JSON."""
    blueprint = Blueprint("backstage-scheduler", __name__)

    @blueprint.get(_PREFIX)
    async def list_tasks() -> Response:
        # Serialised here rather than by Quart, whose JSON provider sorts keys: the listing keeps
        # Backstage's field order.
        body = json.dumps({"tasks": await scheduler.list_tasks()}, separators=(",", ":"))
        return Response(body, status=200, content_type="application/json; charset=utf-8")

    def action(run: Callable[[str], Awaitable[None]]) -> Callable[[str], Awaitable[Response]]:
        async def handle(task_id: str) -> Response:
            await run(task_id)
            return Response(b"", status=200)

        return handle

    blueprint.add_url_rule(
        f"{_PREFIX}/<task_id>/trigger",
        "trigger",
        action(scheduler.trigger_task),
        methods=["POST"],
    )
    blueprint.add_url_rule(
        f"{_PREFIX}/<task_id>/cancel",
        "cancel",
        action(scheduler.cancel_task),
        methods=["POST"],
    )
    return blueprint
