"""The janitor: frees leases that outlived their timeout."""

from __future__ import annotations

import anyio

from ...api.services.logger import LoggerService
from ._store import TaskStore

__all__ = ["run_janitor"]


async def run_janitor(store: TaskStore, logger: LoggerService, interval: float) -> None:
    """Every ``interval`` seconds free the expired leases (their holder died, or overran its
    timeout without cooperating), recording ``Task timed out`` as their last error.

    Instances also take over an expired lease directly when they claim a due task; the janitor
    covers tasks that no running instance schedules any more.
    """
    while True:
        try:
            for task_id in await store.free_expired():
                logger.warn(f"Task timed out and was lost: {task_id}")
        except Exception as error:
            logger.warn(f"Error while performing janitorial tasks, {error}")
        await anyio.sleep(interval)
