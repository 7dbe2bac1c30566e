"""The abort signal a task function receives."""

from __future__ import annotations

import anyio

__all__ = ["AbortSignal"]


class AbortSignal:
    """Set once when the run must stop; :attr:`reason` says why (``"Task timed out"``, ...).

    Satisfies :class:`~backstage_runtime.api.services.scheduler.TaskAbortSignal`. Reading
    :meth:`is_set` is safe from a worker thread, so code in ``anyio.to_thread.run_sync`` can poll
    it; :meth:`abort` must be called in the event loop.
    """

    __slots__ = ("_event", "_reason")

    def __init__(self) -> None:
        self._event = anyio.Event()
        self._reason: str | None = None

    @property
    def reason(self) -> str | None:
        """Why the run was told to stop, or None while it may go on."""
        return self._reason

    def is_set(self) -> bool:
        """Whether the run has been told to stop."""
        return self._event.is_set()

    async def wait(self) -> None:
        """Return once the run has been told to stop."""
        await self._event.wait()

    def abort(self, reason: str) -> None:
        """Tell the run to stop; only the first reason is kept."""
        if self._reason is None:
            self._reason = reason
        self._event.set()
