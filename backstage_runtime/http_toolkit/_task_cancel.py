"""Cancelling an asyncio task once, in a way its own code can tell from any other cancellation.

This is ``asyncio.timeout``'s bookkeeping (the task's cancel count) without its timer and its
async context manager, which per request cost more than the work they bound: a request is cut
at shutdown, a handler is cancelled when its client leaves, a response is abandoned when it
outlasts its timeout, and each of them only needs one ``Task.cancel`` and, afterwards, to know
whether it was theirs.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["TaskCancel", "current_asyncio_task"]


def current_asyncio_task() -> asyncio.Task[Any] | None:
    """The asyncio task running now; None outside one, or on another event loop (trio)."""
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


class TaskCancel:
    """One cancellation of ``task``: :meth:`cancel` sends it (once), :meth:`withdraw` takes it
    back once the cancelled code has returned or raised and says whether it was the only one.

    Cancelling from within the task itself only notes the cancellation: the task is running,
    so the code that asked for it decides what not to run.
    """

    __slots__ = ("_cancelling", "_sent", "called", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self._cancelling = task.cancelling()
        self._sent = False
        #: Whether :meth:`cancel` was called.
        self.called = False

    def cancel(self) -> None:
        """Cancel the task, once."""
        if self.called:
            return
        self.called = True
        if self.task is not current_asyncio_task():
            self._sent = True
            self.task.cancel()

    def withdraw(self) -> bool:
        """Take the cancellation back from the task's count (call it once the cancelled code
        returned or raised); True when it was sent and nothing else cancelled the task since.
        """
        if not self._sent:
            return False
        self._sent = False
        return self.task.uncancel() <= self._cancelling
