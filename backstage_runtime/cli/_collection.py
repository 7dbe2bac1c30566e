"""Garbage collection while ``serve`` starts: paused, then one collection before the freeze.

Importing the web stack and starting the services allocate hundreds of thousands of objects that
live as long as the process, and the allocations trigger the collector, which rescans the
survivors again and again (about 190 collections for a backend with one plugin; pausing them
saves about 5% of its CPU time until readiness). Nothing started then is garbage that must go
early: ``serve`` collects once, freezes what survived
(:func:`~._commands.freeze_startup_objects`) and resumes collecting for the requests.
"""

from __future__ import annotations

import gc
from types import TracebackType

__all__ = ["PausedCollection"]


class PausedCollection:
    """Automatic collection off inside the ``with`` block, back on at :meth:`resume` or at the
    end of the block, whichever comes first; left off if it was off before.
    """

    def __init__(self) -> None:
        self._resume = False

    def __enter__(self) -> PausedCollection:
        self._resume = gc.isenabled()
        gc.disable()
        return self

    def resume(self) -> None:
        """Collect automatically again (if the block found it on); idempotent."""
        if self._resume:
            self._resume = False
            gc.enable()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.resume()
