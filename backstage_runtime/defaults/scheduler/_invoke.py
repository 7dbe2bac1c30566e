"""One run of a task: its abort signal, its timeout, its cancel scope, and how it ended."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from ...api.error_response import serialize_error
from ...api.services.logger import LoggerService
from ...http_toolkit import development_mode
from ._deadlines import TIMED_OUT, Deadlines
from ._metrics import TaskMetrics
from ._signal import AbortSignal

__all__ = [
    "CANCELLED",
    "LEASE_LOST",
    "SHUTTING_DOWN",
    "STOPPED",
    "TIMED_OUT",
    "TaskCall",
    "TaskRun",
    "error_json",
    "invoke",
]

# Why a run was aborted; also the message of the error recorded for it.
CANCELLED = "Task was cancelled"
LEASE_LOST = "Task lease was lost to another instance"
SHUTTING_DOWN = "Task was cancelled because the backend is shutting down"
STOPPED = "Task was stopped by its signal"


@dataclass(frozen=True)
class TaskCall:
    """How to call a task's function: with the abort signal, or without arguments."""

    task_id: str
    scope: str
    fn: Callable[..., Any]
    pass_signal: bool

    @classmethod
    def of(cls, task_id: str, scope: str, fn: Callable[..., Any]) -> TaskCall:
        """Inspect ``fn`` once: it gets the signal if it takes a positional argument."""
        return cls(task_id, scope, fn, _takes_an_argument(fn))

    async def __call__(self, signal: AbortSignal) -> None:
        result = self.fn(signal) if self.pass_signal else self.fn()
        if inspect.isawaitable(result):
            await result


class TaskRun:
    """A run in progress: :meth:`abort` sets its signal and cancels the scope it runs in."""

    __slots__ = ("deadline", "done", "scope", "signal", "timeout")

    def __init__(self, deadline: float = math.inf, *, timeout: float | None = None) -> None:
        #: When (``anyio.current_time()``) the run times out.
        self.deadline = deadline
        #: With a timeout, the deadline is set when the task function is called, so that time
        #: spent before (metrics, a busy loop) is not taken from the task's own time.
        self.timeout = timeout
        self.signal = AbortSignal()
        self.scope = anyio.CancelScope()
        #: Set once the run has ended.
        self.done = False

    def abort(self, reason: str) -> None:
        """Stop the run: the signal first, so that code in threads sees it, then the scope."""
        self.signal.abort(reason)
        self.scope.cancel()


async def invoke(
    call: TaskCall,
    run: TaskRun,
    deadlines: Deadlines,
    metrics: TaskMetrics,
    logger: LoggerService,
) -> str | None:
    """Run ``call`` under ``run``; the serialised error of a failed run, or None.

    A raising task is logged with its id and does not propagate: the schedule goes on. Only a
    cancellation from outside the run (the scheduler itself stopping) propagates. ``deadlines``
    aborts the run when its timeout passes.
    """
    error: BaseException | None = None
    with metrics.run(call.task_id, call.scope) as record:
        # Failed until it is known to have completed: a cancellation from outside also counts.
        record.failed = True
        with run.scope:
            if run.timeout is not None:
                run.deadline = anyio.current_time() + run.timeout
            try:
                with deadlines.watching(run):
                    await call(run.signal)
            except Exception as caught:
                error = caught
        if error is not None:
            record.error = error
            logger.error(f"Task {call.task_id} failed", error)
            return error_json(error)
        reason = run.signal.reason
        if reason is not None:
            log = logger.warn if reason == TIMED_OUT else logger.info
            log(f"Task {call.task_id} aborted: {reason}")
            return error_json(reason)
        record.failed = False
    return None


def error_json(error: BaseException | str) -> str:
    """The ``last_run_error_json`` value: Backstage's serialised error (``{name, message}``)."""
    if isinstance(error, str):
        return json.dumps({"name": "Error", "message": error})
    return json.dumps(serialize_error(error, include_stack=development_mode()))


def _takes_an_argument(fn: Callable[..., Awaitable[Any] | Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True  # builtins and some C callables: assume Backstage's calling convention
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    return any(parameter.kind in positional for parameter in parameters)
