"""Writing log lines from a thread of its own, so that a slow reader never stalls the event loop.

A process's stdout is usually a pipe (a container runtime, ``kubectl logs``, a log shipper). When
its reader falls behind the pipe fills, and a ``write`` on it blocks: written from the event
loop, one request log line would stop every request of the backend. The lines are therefore
queued (in order, from any thread) and a writer thread writes and flushes whatever has queued
up in one go. :meth:`BackgroundWriter.flush` waits until every queued line is written and stops
the thread; the root logger's service runs it at the very end of the backend's stop, and an
``atexit`` hook does it for a process that exits without stopping its backend. Lines still
queued when the process is killed (SIGKILL) are lost, as lines in a stdout buffer would be.

Handing a line over is one :meth:`queue.SimpleQueue.put` (a C call, no Python-level lock): it
happens once per request, while the thread's start and stop, which need a lock, are rare.

Woken by a line, the thread waits :data:`LINGER_SECONDS` before it takes what has queued: a
wake per line (a futex call, then the GIL handed to the thread and back, two to three context
switches a request under load) cost the serving process more than writing the line; with the
wait, the lines of a few milliseconds share one wake and one write. A flush cuts the wait
short.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from queue import Empty, SimpleQueue
from typing import TextIO

__all__ = ["LINGER_SECONDS", "BackgroundWriter"]

#: How long the writer thread, woken by a line, waits for more before it writes them.
LINGER_SECONDS = 0.005


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class _Stop:
    """Queued by :meth:`BackgroundWriter.flush`: the lines before it are written, then ``done``
    is set; ``ended`` says whether the thread ended there (it goes on when lines came after).
    """

    __slots__ = ("done", "ended")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ended = False


class BackgroundWriter:
    """Queues lines for ``stream`` and writes them from a daemon thread, started on demand."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: SimpleQueue[str | _Stop] = SimpleQueue()
        # Guards starting and ending the thread, never the hand-over of a line.
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Held except when a flush wants the lines at once: the thread's wait for more lines is
        # an acquire with a timeout, which a flush's release ends. A lock, not an Event: its
        # timed acquire is one C call, where Event.wait runs Python-level Condition code
        # (~25k instructions a wake, measured on the served request).
        self._hurry = threading.Lock()
        self._hurry.acquire()

    def write(self, line: str) -> None:
        """Queue ``line`` (its newline included); it is written soon, in order."""
        self._queue.put(line)
        if self._thread is None:
            self._ensure_thread()

    def flush(self, timeout: float | None = 5.0) -> None:
        """Wait (at most ``timeout`` seconds) until every line queued so far is written, then stop
        the thread; a later :meth:`write` starts a new one. Lines queued while this waits do not
        prolong it: the thread goes on to write them instead of stopping.
        """
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            stop = _Stop()
            with contextlib.suppress(RuntimeError):  # already released by another flush
                self._hurry.release()
            self._queue.put(stop)
        deadline = None if timeout is None else time.monotonic() + timeout
        if stop.done.wait(_remaining(deadline)) and stop.ended:
            thread.join(_remaining(deadline))
        if not thread.is_alive():
            atexit.unregister(self.flush)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="backstage-log-writer", daemon=True)
            self._thread = thread
            # A process that exits without stopping its backend still writes what it logged.
            atexit.register(self.flush)
            thread.start()

    def _run(self) -> None:
        queue = self._queue
        hurry = self._hurry
        while True:
            item = queue.get()
            if not isinstance(item, _Stop):
                # More lines, on the same wake; a flush ends the wait (and the lock is held
                # again, for the next one).
                hurry.acquire(timeout=LINGER_SECONDS)
            lines: list[str] = []
            stop: _Stop | None = None
            # Everything queued by now goes out in one write (many lines under load).
            while True:
                if isinstance(item, _Stop):
                    stop = item
                    break
                lines.append(item)
                try:
                    item = queue.get_nowait()
                except Empty:
                    break
            if lines:
                self._write("".join(lines))
            if stop is not None and self._end(stop):
                return

    def _end(self, stop: _Stop) -> bool:
        """Whether the thread ends at ``stop``: it does unless lines were queued after it."""
        with self._lock:
            # Cleared before the queue is looked at: a write() that comes later sees no thread
            # and starts one (waiting for this lock), one that came earlier is seen here.
            self._thread = None
            ending = self._queue.empty()
            if not ending:
                self._thread = threading.current_thread()
        stop.ended = ending
        stop.done.set()
        return ending

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            # A closed or broken stream must not end the writer (nor crash the caller).
            pass
