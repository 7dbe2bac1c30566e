"""The default ``core.scheduler`` service: Backstage's distributed task scheduler.

Each plugin schedules its own tasks::

    async def init(*, scheduler: SchedulerService) -> None:
        await scheduler.schedule_task(
            id="refresh",
            frequency={"minutes": 30},
            timeout={"minutes": 3},
            fn=refresh,  # async def refresh(signal) -> None, or async def refresh() -> None
        )

Global tasks (the default scope) are coordinated through the plugin's database, in Backstage's
``backstage_backend_tasks__tasks`` table: a due task is claimed with a lease (a ticket and an
expiry of start + timeout) by exactly one instance, which runs it in a cancel scope bounded by
the timeout and then releases it with the next run time. A lease whose holder died expires and
another instance takes the task over. All times come from the database clock. Local tasks run in
every instance, in-process only.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import scheduler_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._global import PollIntervals
    from ._scheduler import MIGRATIONS, VERSION_TABLE, PluginScheduler, SchedulerOptions
    from ._signal import AbortSignal
    from ._store import TABLE
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "PollIntervals": "._global",
            "MIGRATIONS": "._scheduler",
            "VERSION_TABLE": "._scheduler",
            "PluginScheduler": "._scheduler",
            "SchedulerOptions": "._scheduler",
            "AbortSignal": "._signal",
            "TABLE": "._store",
        },
    )

__all__ = [
    "MIGRATIONS",
    "TABLE",
    "VERSION_TABLE",
    "AbortSignal",
    "PluginScheduler",
    "PollIntervals",
    "SchedulerOptions",
    "scheduler_service_factory",
]
