"""The pipe on which a worker of ``serve --workers N`` tells its supervisor it has started.

Apart from the supervisor (``_workers``), which a backend that is not one of several workers
never loads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["READY_FD_ENV", "notify_ready"]

#: The environment variable holding the pipe a worker writes to once it has started.
READY_FD_ENV = "BACKSTAGE_RUNTIME_READY_FD"


def notify_ready(env: Mapping[str, str] | None = None) -> None:
    """Tell the supervisor (if any) that this worker's backend has started."""
    value = (os.environ if env is None else env).get(READY_FD_ENV)
    if value is None:
        return
    try:
        descriptor = int(value)
        os.write(descriptor, b"1")
        os.close(descriptor)
    except (ValueError, OSError):
        # The supervisor is gone or the variable is stray; the worker serves either way.
        pass
