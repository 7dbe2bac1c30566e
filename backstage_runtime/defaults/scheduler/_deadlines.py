"""Run timeouts: one task per plugin watches the deadlines of all its runs."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from ._invoke import TaskRun

# Also the message of the error recorded for a run that timed out (see ``_invoke``).
TIMED_OUT = "Task timed out"

__all__ = ["Deadlines"]


class Deadlines:
    """Aborts each run when its timeout passes (its signal is set, its scope cancelled).

    A timer task per run would double the tasks a burst of runs creates; this keeps a heap
    instead, and forgets finished runs when they outnumber the live ones.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TaskRun]] = []
        self._order = itertools.count()
        self._wake = anyio.Event()
        self._live = 0

    @contextmanager
    def watching(self, run: TaskRun) -> Iterator[None]:
        """Abort ``run`` at ``run.deadline`` if the block has not ended by then."""
        heapq.heappush(self._heap, (run.deadline, next(self._order), run))
        self._live += 1
        if self._heap[0][2] is run:
            self._wake.set()  # earlier than what the loop sleeps for
        try:
            yield
        finally:
            run.done = True
            self._live -= 1
            if len(self._heap) > 2 * self._live + 64:
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)

    async def serve(self) -> None:
        """Abort runs as their deadlines pass, until cancelled."""
        while True:
            self._wake = anyio.Event()
            now = anyio.current_time()
            while self._heap and self._heap[0][0] <= now:
                run = heapq.heappop(self._heap)[2]
                if not run.done:
                    run.abort(TIMED_OUT)
            delay = self._heap[0][0] - now if self._heap else None
            with anyio.move_on_after(delay):
                await self._wake.wait()
