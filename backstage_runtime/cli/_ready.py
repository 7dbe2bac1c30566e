"""The pipe on which a worker of ``serve --workers N`` tells its supervisor it has started.

Apart from the supervisor (``_workers``), which a backend that is not one of several workers
never loads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

__all__ = ["LOG_FLUSH_TIMEOUT", "READY_FD_ENV", "notify_ready"]

#: The environment variable holding the pipe a worker writes to once it has started.
READY_FD_ENV = "BACKSTAGE_RUNTIME_READY_FD"


#: How long a process waits for its queued log lines to be written before it signals another.
#: Only the order of the lines depends on it: a stdout that accepts nothing for this long is
#: stuck, and the signal must not wait for it.
LOG_FLUSH_TIMEOUT = 5.0


def notify_ready(
    env: Mapping[str, str] | None = None, *, flush_logs: Callable[[float], object] | None = None
) -> None:
    """Tell the supervisor (if any) that this worker's backend has started. Under a supervisor,
    ``flush_logs`` (given a timeout in seconds) is called first, so that this worker's lines
    precede the supervisor's ``All N workers started`` on the shared stdout.
    """
    value = (os.environ if env is None else env).get(READY_FD_ENV)
    if value is None:
        return
    if flush_logs is not None:
        flush_logs(LOG_FLUSH_TIMEOUT)
    try:
        descriptor = int(value)
        os.write(descriptor, b"1")
        os.close(descriptor)
    except (ValueError, OSError):
        # The supervisor is gone or the variable is stray; the worker serves either way.
        pass
