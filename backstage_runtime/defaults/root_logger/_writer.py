"""Writing log lines from a thread of its own, so that a slow reader never stalls the event loop.

A process's stdout is usually a pipe (a container runtime, ``kubectl logs``, a log shipper). When
its reader falls behind the pipe fills, and a ``write`` on it blocks: written from the event
loop, one request log line would stop every request of the backend. The lines are therefore
queued (in order, from any thread) and a writer thread writes and flushes whatever has queued
up in one go. :meth:`BackgroundWriter.flush` waits until every queued line is written and stops
the thread; the root logger's service runs it at the very end of the backend's stop, and an
``atexit`` hook does it for a process that exits without stopping its backend. Lines still
queued when the process is killed (SIGKILL) are lost, as lines in a stdout buffer would be.
"""

from __future__ import annotations

import atexit
import threading
from collections import deque
from typing import TextIO

__all__ = ["BackgroundWriter"]


class BackgroundWriter:
    """Queues lines for ``stream`` and writes them from a daemon thread, started on demand."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: deque[str] = deque()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._writing = False
        self._stopping = False

    def write(self, line: str) -> None:
        """Queue ``line`` (its newline included); it is written soon, in order."""
        with self._changed:
            self._lines.append(line)
            if self._thread is None:
                self._start()
            elif not self._writing:
                self._changed.notify()

    def flush(self, timeout: float | None = 5.0) -> None:
        """Wait (at most ``timeout`` seconds) until every queued line is written, then stop the
        thread; a later :meth:`write` starts a new one.
        """
        with self._changed:
            thread = self._thread
            if thread is None:
                return
            self._stopping = True
            self._changed.notify()
        thread.join(timeout)
        if not thread.is_alive():
            atexit.unregister(self.flush)

    def _start(self) -> None:
        self._stopping = False
        thread = threading.Thread(target=self._run, name="backstage-log-writer", daemon=True)
        self._thread = thread
        # A process that exits without stopping its backend still writes what it logged.
        atexit.register(self.flush)
        thread.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._lines and not self._stopping:
                    self._changed.wait()
                if not self._lines:
                    self._thread = None
                    return
                text = "".join(self._lines)
                self._lines.clear()
                self._writing = True
            try:
                self._stream.write(text)
                self._stream.flush()
            except (OSError, ValueError):
                # A closed or broken stream must not end the writer (nor crash the caller).
                pass
            finally:
                with self._changed:
                    self._writing = False
