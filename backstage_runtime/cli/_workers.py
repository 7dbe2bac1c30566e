"""``serve --workers N``: N full backends in child processes serving one address.

The supervisor takes the listen address itself and hands each worker the socket it serves (see
:mod:`._worker_sockets`: on Linux one of its own, so that the kernel spreads connections over
the workers), so a worker that dies loses only its own connections. It starts the workers,
waits until each says it started (a byte on a pipe, sent after ``Backend started``), replaces
one that dies, and on SIGINT/SIGTERM passes SIGTERM to every worker and waits for each graceful
stop.

The supervisor and its workers write their log lines to one stdout, each process from a writer
thread of its own (see the root logger). A process therefore writes out what it has queued
before it tells another to act (a worker before it says it started, the supervisor before it
passes the signal on): otherwise the other process's reaction (``Received SIGTERM, shutting
down``) could reach stdout before the line that caused it (``Received SIGTERM, stopping 2
workers``), still waiting in the writer thread of a busy machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from anyio.abc import Process

from ..api import LoggerService
from ..http_toolkit import INHERITED_SOCKET_ENV
from ._ready import LOG_FLUSH_TIMEOUT, READY_FD_ENV, notify_ready
from ._worker_sockets import WorkerSockets

__all__ = [
    "READY_FD_ENV",
    "WORKER_INDEX_ENV",
    "SupervisorLogger",
    "WorkerPolicy",
    "notify_ready",
    "supervise",
]

#: The environment variable holding a worker's number (1..N), for its logs.
WORKER_INDEX_ENV = "BACKSTAGE_RUNTIME_WORKER"


class SupervisorLogger(LoggerService, Protocol):
    """The supervisor's logger: a logger that can write out the lines it has queued (as the
    default root logger's ``flush`` does).
    """

    def flush(self, timeout: float | None = ...) -> None:
        """Return once every queued line is written, or after ``timeout`` seconds."""


@dataclass(frozen=True)
class WorkerPolicy:
    """How the supervisor treats dying workers: more than ``max_restarts`` deaths within
    ``restart_window`` seconds stops everything (a crash loop is not served around), and a
    stopping worker gets ``stop_timeout`` seconds before SIGKILL.
    """

    max_restarts: int = 5
    restart_window: float = 60.0
    stop_timeout: float = 90.0


@dataclass
class _State:
    stopping: bool = False
    failed: str | None = None
    signal: signal.Signals | None = None
    ready: int = 0
    processes: dict[int, Process] = field(default_factory=dict)
    deaths: deque[float] = field(default_factory=deque)


async def _spawn(
    index: int, command: Sequence[str], sockets: WorkerSockets
) -> tuple[Process, int]:
    sock = sockets.for_worker()
    try:
        read_end, write_end = os.pipe()
        env = {
            **os.environ,
            INHERITED_SOCKET_ENV: str(sock.fileno()),
            READY_FD_ENV: str(write_end),
            WORKER_INDEX_ENV: str(index),
        }
        try:
            process = await anyio.open_process(
                list(command),
                env=env,
                stdin=None,
                stdout=None,
                stderr=None,
                pass_fds=(sock.fileno(), write_end),
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            # Only the child keeps the write end: when it exits, the read below sees end-of-file.
            os.close(write_end)
    finally:
        # Nor does the supervisor keep a socket of the worker's own: it ends with the worker.
        sockets.handed_over(sock)
    return process, read_end


async def _wait_ready(read_end: int) -> bool:
    try:
        data = await anyio.to_thread.run_sync(os.read, read_end, 1, abandon_on_cancel=True)
    finally:
        os.close(read_end)
    return bool(data)


async def _run_slot(
    index: int,
    count: int,
    command: Sequence[str],
    sockets: WorkerSockets,
    state: _State,
    policy: WorkerPolicy,
    logger: LoggerService,
    all_ready: anyio.Event,
    stop: anyio.Event,
) -> None:
    first = True
    while not state.stopping:
        process, read_end = await _spawn(index, command, sockets)
        state.processes[index] = process
        meta = {"worker": index, "pid": process.pid, "type": "supervisor"}
        ready = await _wait_ready(read_end)
        if ready and first:
            state.ready += 1
            if state.ready == count:
                all_ready.set()
        elif ready:
            logger.info(f"Worker {index} started again", meta)
        status = await process.wait()
        if state.stopping:
            return
        if first and not ready:
            # A worker that cannot start once will not start on a second try either (a config
            # error, a port, a plugin's init): stop rather than loop.
            state.failed = f"worker {index} exited with status {status} before it started"
            stop.set()
            return
        now = time.monotonic()
        state.deaths.append(now)
        while state.deaths and now - state.deaths[0] > policy.restart_window:
            state.deaths.popleft()
        if len(state.deaths) > policy.max_restarts:
            state.failed = (
                f"{len(state.deaths)} workers died within {policy.restart_window:g}s "
                f"(the last, worker {index}, with status {status})"
            )
            stop.set()
            return
        logger.error(f"Worker {index} exited with status {status}; starting a new one", meta)
        first = False


async def _stop_all(state: _State, policy: WorkerPolicy, logger: SupervisorLogger) -> None:
    for process in list(state.processes.values()):
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    with anyio.move_on_after(policy.stop_timeout) as scope:
        for process in list(state.processes.values()):
            await process.wait()
    if scope.cancelled_caught:
        for index, process in state.processes.items():
            if process.returncode is None:
                logger.error(
                    f"Worker {index} did not stop within {policy.stop_timeout:g}s; killing it",
                    {"worker": index, "pid": process.pid, "type": "supervisor"},
                )
                process.kill()


async def supervise(
    command: Sequence[str],
    count: int,
    sockets: WorkerSockets,
    logger: SupervisorLogger,
    policy: WorkerPolicy | None = None,
) -> int:
    """Run ``count`` workers of ``command`` on ``sockets`` until SIGINT/SIGTERM; the exit
    status. ``sockets`` is closed when the workers are told to stop.
    """
    policy = policy or WorkerPolicy()
    state = _State()
    stop = anyio.Event()
    all_ready = anyio.Event()
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as slots:

            async def watch_signals() -> None:
                async for number in signals:
                    state.signal = signal.Signals(number)
                    stop.set()
                    return

            async def announce() -> None:
                await all_ready.wait()
                logger.info(
                    f"All {count} workers started; stop them with SIGINT or SIGTERM",
                    {"workers": count, "type": "supervisor"},
                )

            slots.start_soon(watch_signals)
            slots.start_soon(announce)
            for index in range(1, count + 1):
                slots.start_soon(
                    _run_slot,
                    index,
                    count,
                    command,
                    sockets,
                    state,
                    policy,
                    logger,
                    all_ready,
                    stop,
                )
            await stop.wait()
            state.stopping = True
            if state.signal is not None:
                logger.info(
                    f"Received {state.signal.name}, stopping {count} workers",
                    {"type": "supervisor"},
                )
            elif state.failed is not None:
                logger.error(f"Stopping every worker: {state.failed}", {"type": "supervisor"})
            # Written out before the workers hear of it, so their reactions follow it in the
            # shared stdout (see the module's docstring).
            logger.flush(LOG_FLUSH_TIMEOUT)
            # New connections are refused once the workers close their sockets too.
            sockets.close()
            await _stop_all(state, policy, logger)
            slots.cancel_scope.cancel()
    for process in state.processes.values():
        await process.aclose()
    if state.failed is not None:
        print(f"backstage-runtime: {state.failed}", file=sys.stderr)
        return 1
    if not all_ready.is_set() and state.signal is not None:
        return 128 + state.signal.value
    statuses = [process.returncode for process in state.processes.values()]
    return 0 if all(status == 0 for status in statuses) else 1
