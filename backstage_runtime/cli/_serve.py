"""``backstage-runtime serve``: one backend in this process, or a supervisor of several.

Kept apart from the other commands so that a supervisor imports no more than it uses: it loads
config, logs and opens a socket, while the backends (Quart, SQLAlchemy, every default service)
load only in the workers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from ..api import Config, read_duration_from_config, read_shutdown_hook_timeout
from ..api.errors import ConfigError
from ..defaults.root_config import load_config
from ..defaults.root_logger import create_root_logger
from ..http_toolkit import INHERITED_SOCKET_ENV, listen_override, read_listen_options
from ._event_loop import read_event_loop

__all__ = ["read_worker_count", "run_serve", "run_workers"]


def run_serve(
    config_paths: Sequence[str] | None,
    *,
    host: str | None,
    port: int | None,
    workers: int | None = None,
    allow_per_process_state: bool = False,
) -> int:
    """Start every discovered feature and run until SIGINT/SIGTERM; 0 after a clean stop.

    ``workers`` (else ``backend.workers``, else 1) above 1 runs that many backends in child
    processes on one address (see :func:`run_workers`).
    """
    overrides: dict[str, Any] | None = None
    if host is not None or port is not None:
        # In the shape the files give backend.listen ("host:port", a port, or {host, port}):
        # the override is merged over them, and mixing shapes is a config type error.
        listen = listen_override(load_config(config_paths), host=host, port=port)
        overrides = {"backend": {"listen": listen}}
    config = load_config(config_paths, overrides=overrides)
    if INHERITED_SOCKET_ENV not in os.environ:
        count = workers if workers is not None else read_worker_count(config)
        if count > 1:
            return run_workers(
                config,
                config_paths,
                host=host,
                port=port,
                count=count,
                allow_per_process_state=allow_per_process_state,
            )
    from ._commands import serve_one_backend

    return serve_one_backend(config_paths, overrides, event_loop=read_event_loop(config))


_WORKERS_KEY = "backend.workers"


def read_worker_count(config: Config) -> int:
    """``backend.workers`` (our key): how many processes ``serve`` runs; default 1."""
    value = config.get_optional(_WORKERS_KEY)
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"Invalid config at '{_WORKERS_KEY}': expected a whole number >= 1")
    return value


def run_workers(
    config: Config,
    config_paths: Sequence[str] | None,
    *,
    host: str | None,
    port: int | None,
    count: int,
    allow_per_process_state: bool,
) -> int:
    """Supervise ``count`` workers of ``serve`` on the listen address, taken here.

    Refuses (:class:`ConfigError`) a configuration whose state lives in one process (in-memory
    SQLite, the memory cache) unless ``allow_per_process_state``: each worker would have its
    own, and plugin data, tokens and caches would silently differ from request to request.
    """
    # The supervisor's machinery: loaded only when serve runs several workers.
    from ._shared_state import per_process_state
    from ._worker_sockets import WorkerSockets
    from ._workers import WorkerPolicy, supervise

    reasons = per_process_state(config)
    if reasons and not allow_per_process_state:
        raise ConfigError(
            f"Refusing to start {count} workers: their state would silently split, because "
            + "; ".join(reasons)
            + ". Configure a shared database (PostgreSQL, MySQL, or SQLite files in "
            "backend.database.connection.directory) and a shared cache (redis, valkey, "
            "memcache), or pass --allow-per-process-state"
        )
    logger = create_root_logger(config).child({"service": "supervisor"})
    sockets = WorkerSockets(read_listen_options(config))
    command = [sys.executable, "-m", "backstage_runtime.cli", "serve"]
    for path in config_paths or ():
        command += ["--config", path]
    if host is not None:
        command += ["--host", host]
    if port is not None:
        command += ["--port", str(port)]
    # A worker's worst-case stop, then some: past it the supervisor kills what is left.
    delay_key = "backend.lifecycle.serverShutdownDelay"
    delay = (
        read_duration_from_config(config, delay_key).total_seconds()
        if config.has(delay_key)
        else 0.0
    )
    stop_timeout = delay + 3 * read_shutdown_hook_timeout(config)
    policy = WorkerPolicy(stop_timeout=stop_timeout + 10)
    return anyio.run(supervise, command, count, sockets, logger, policy)
